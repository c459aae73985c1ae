"""Schedules: work that happens at set times (media cleanup, the daily digest)."""

import dagster as dg

from schedules.cleanup import cleanup_job, cleanup_schedule
from schedules.digest import digest_job, digest_schedule


def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[cleanup_job, digest_job], schedules=[cleanup_schedule, digest_schedule])
