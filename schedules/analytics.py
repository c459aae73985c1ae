"""The daily analytics collection: yesterday's partition on every platform, and the days whose rows were
provisional and are now final.

It runs at 00:30 UTC, while a lifetime snapshot still counts for the day that just ended
(collect.LIFETIME_GRACE); history platforms report a day only after their reporting delay, so their
provisional days are collected again once final (`refill_days`). Runs go at low priority, one at a time
(the `pellacia/work=analytics` run limit and the `analytics` pool), so they never hold up publishing.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import dagster as dg

from pellacia_assets.analytics.collect import refill_days
from pellacia_assets.assets.analytics import post_metrics
from pellacia_assets.observability.dagster_logging import run_logging_config
from resources.database.resource import DatabaseResource
from resources.platforms import PLATFORMS
from schedules.timing import LOW_PRIORITY

ANALYTICS_TAGS = {"dagster/priority": LOW_PRIORITY, "pellacia/work": "analytics"}

analytics_job = dg.define_asset_job(
    name="analytics",
    selection=dg.AssetSelection.assets(post_metrics),
    tags=ANALYTICS_TAGS,
    description="Post metrics for days and platforms; launch backfills of post_metrics from here so they "
    "run at low priority under the analytics run limit.",
)


def partition(day: date, platform: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"day": day.isoformat(), "platform": platform})


def analytics_requests(scheduled: datetime, refills: Mapping[str, Sequence[date]]) -> list[dg.RunRequest]:
    """Yesterday's (the scheduled time's previous UTC day) partition of every platform, then each
    platform's refilled days; run keys name the tick, so a repeated tick asks for the same runs."""
    day = scheduled.date() - timedelta(days=1)
    requests = [
        dg.RunRequest(
            run_key=f"post_metrics-{day}-{platform}",
            partition_key=partition(day, platform),
            run_config=run_logging_config(),
            tags=ANALYTICS_TAGS,
        )
        for platform in PLATFORMS
    ]
    for platform in PLATFORMS:
        for refill in refills.get(platform, ()):
            if refill == day:
                continue
            requests.append(
                dg.RunRequest(
                    run_key=f"post_metrics-refill-{refill}-{platform}-{scheduled.date()}",
                    partition_key=partition(refill, platform),
                    run_config=run_logging_config(),
                    tags=ANALYTICS_TAGS,
                )
            )
    return requests


@dg.schedule(
    name="daily_analytics",
    job=analytics_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Yesterday's metrics on every platform, and provisional days now final.",
)
def daily_analytics(context: dg.ScheduleEvaluationContext, database: DatabaseResource) -> list[dg.RunRequest]:
    scheduled = context.scheduled_execution_time
    factory = database.session_factory()
    today = scheduled.date()
    return analytics_requests(
        scheduled, {platform: refill_days(factory, platform, today) for platform in PLATFORMS}
    )
