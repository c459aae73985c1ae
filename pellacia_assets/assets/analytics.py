"""`post_metrics`: every live post's metrics, one partition per day and platform.

A run collects its days for its platforms (pellacia_assets/analytics/collect.py): history APIs give the
day's measured values, lifetime-only platforms a snapshot on the day itself, and every other value is
stored as unavailable with its reason. Backfills come in chunks (`multi_run`) and share the platforms'
rate budget with every other run, so a year of days paces itself instead of tripping a limit; the
`analytics` pool keeps them to one at a time, beside publishing's own pools.
"""

import base64
import warnings
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from pellacia_assets.analytics.collect import CollectReport, CollectStep, collect_and_store
from pellacia_assets.analytics.report import stored_summary
from pellacia_assets.analytics.summary import summary_markdown
from pellacia_assets.assets.posts import post_asset_name
from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.partitions import analytics_partitions
from resources.database.metrics import live_posts
from resources.database.resource import DatabaseResource
from resources.media_store.resource import MediaStoreResource
from resources.platforms import PLATFORMS
from resources.platforms.resource import PlatformResource

__all__ = ["days_by_platform", "post_metrics"]


def days_by_platform(keys: list[str] | list[dg.MultiPartitionKey]) -> dict[str, list[date]]:
    """The run's partitions as {platform: sorted days}."""
    grouped: dict[str, set[date]] = defaultdict(set)
    for key in keys:
        dimensions = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else _split(key)
        grouped[dimensions["platform"]].add(date.fromisoformat(dimensions["day"]))
    return {platform: sorted(days) for platform, days in sorted(grouped.items())}


def _split(key: str) -> dict[str, str]:
    """A multi-partition key's string form: its dimensions sorted by name ("day|platform")."""
    day, platform = key.split("|")
    return {"day": day, "platform": platform}


# `backfill_policy` on @asset is beta in Dagster 1.13 and says so on every load: on the CLI's stderr too.
warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*", category=dg.BetaWarning)


@dg.asset(
    partitions_def=analytics_partitions,
    deps=[
        dg.AssetDep(post_asset_name(platform), partition_mapping=dg.AllPartitionMapping())
        for platform in PLATFORMS
    ],
    group_name="analytics",
    kinds={"api"},
    owners=["team:distribution"],
    pool="analytics",
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    required_resource_keys={"database", "media", *PLATFORMS},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL),
    description="Each live post's metrics for the day on the platform, with where every value came from "
    "(measured for that day, lifetime as of the snapshot, or unavailable and why).",
)
def post_metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    database: DatabaseResource = context.resources.database
    media: MediaStoreResource = context.resources.media
    factory = database.session_factory()
    wanted = days_by_platform(list(context.partition_keys))
    reports: dict[str, CollectReport] = {}
    for platform, days in wanted.items():
        if not live_posts(factory, platform):
            # nothing to ask: an unused platform (maybe without credentials) is not a failed run
            context.log.info(f"{platform}: no live post in the ledger; nothing to collect")
            continue
        resource: PlatformResource = getattr(context.resources, platform)
        client = resource.get_client()
        try:
            reports[platform] = collect_and_store(factory, client, days, on_step=_logger(context, platform))
        finally:
            client.close()
    first = min(day for days in wanted.values() for day in days)
    last = max(day for days in wanted.values() for day in days)
    summary, chart = stored_summary(
        factory,
        {platform: set(days) for platform, days in wanted.items()},
        Path(media.root) / "analytics" / f"post_metrics-{first}-{last}-{'-'.join(wanted)}.png",
    )
    totals = summary.totals
    return dg.MaterializeResult(
        metadata={
            "runs": dg.MetadataValue.md(_report_table(reports)),
            "top_posts": dg.MetadataValue.md(summary_markdown(summary)),
            "chart": dg.MetadataValue.md(_inline_png(chart)),
            "chart_file": dg.MetadataValue.path(str(chart)),
            "snapshots": dg.MetadataValue.int(sum(report.snapshots for report in reports.values())),
            "requests": dg.MetadataValue.int(sum(report.requests for report in reports.values())),
            "throttled": dg.MetadataValue.int(sum(report.throttled for report in reports.values())),
            **({"views": dg.MetadataValue.float(float(totals.views))} if totals.views is not None else {}),
            **(
                {"engagement_rate": dg.MetadataValue.float(float(totals.engagement_rate))}
                if totals.engagement_rate is not None
                else {}
            ),
            "collected_at": dg.MetadataValue.timestamp(datetime.now(UTC)),
        }
    )


def _logger(context: dg.AssetExecutionContext, platform: str) -> Callable[[CollectStep], None]:
    def log(step: CollectStep) -> None:
        context.log.info(
            f"{platform}: {step.done}/{step.total} batches, {step.requests} requests, {step.throttled} "
            f"throttled, {step.waited_s:.0f} s waited, about {step.eta_s:.0f} s to go"
        )

    return log


def _report_table(reports: dict[str, CollectReport]) -> str:
    rows = [
        [
            platform,
            str(report.posts),
            str(report.snapshots),
            str(report.written),
            str(report.unchanged),
            str(report.provisional),
            str(report.unavailable),
            str(report.requests),
            str(report.throttled),
            f"{report.waited_s:.0f} s",
        ]
        for platform, report in reports.items()
    ]
    header = ["platform", "posts", "rows", "written", "unchanged", "provisional", "unavailable"]
    return markdown_table([*header, "requests", "429s", "waited"], rows)


def _inline_png(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{path.name}](data:image/png;base64,{encoded})"
