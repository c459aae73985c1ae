"""Schedules: work that happens at set times (media cleanup, the daily digest, daily analytics)."""

import dagster as dg

from schedules.analytics import analytics_job, daily_analytics
from schedules.cleanup import cleanup_job, cleanup_schedule
from schedules.digest import digest_job, digest_schedule


def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[cleanup_job, digest_job, analytics_job],
        schedules=[cleanup_schedule, digest_schedule, daily_analytics],
    )
