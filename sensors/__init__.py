"""Sensors: what reacts to the outside world (new story files, and later feeds and failures)."""

import dagster as dg

from sensors.story_inbox import story_inbox


def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[story_inbox])
