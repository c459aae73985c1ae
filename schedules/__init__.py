"""Schedules: work that happens at set times (analytics, posting slots, cleanup) as it arrives."""

import dagster as dg


def defs() -> dg.Definitions:
    return dg.Definitions()
