"""`pellacia-dist analytics`: collect, backfill, read and summarise post metrics.

Every command collects through the same function as the `post_metrics` asset (`collect_and_store`), in
this process, through the platforms' shared rate budget; what it collects is recorded in the Dagster
instance as `post_metrics` materialisations of its partitions, so the UI shows it as if a run had done it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pellacia_assets.cli.progress import ProgressBar, duration
from pellacia_assets.settings import Settings

if TYPE_CHECKING:
    from pellacia_assets.analytics.collect import CollectReport, CollectStep
    from pellacia_assets.analytics.summary import Summary


class AnalyticsArgumentError(ValueError):
    """A date or range the operator gave that cannot be collected."""


def register(commands: Any) -> None:
    analytics = commands.add_parser("analytics", help="collect, backfill, read and summarise post metrics")
    sub = analytics.add_subparsers(dest="analytics_command", required=True)

    daily = sub.add_parser(
        "collect-daily",
        help="collect one day on every platform (default today, UTC) and refill provisional days now final",
    )
    daily.add_argument("--date", type=_day, help="YYYY-MM-DD (the schedule collects yesterday at 00:30 UTC)")
    daily.add_argument("--platform", default="all", help="a platform, a comma-separated list, or all")
    daily.add_argument("--json", action="store_true")
    daily.set_defaults(handler=cmd_collect_daily)

    fetch = sub.add_parser("fetch", help="fetch and store one post's metrics now, or every post's last days")
    fetch.add_argument("--platform", required=True, help="a platform (or all, with --days)")
    target = fetch.add_mutually_exclusive_group(required=True)
    target.add_argument("--post-id", help="the post id; write --post-id=ID when it starts with -")
    target.add_argument("--days", type=_positive, help="the last N days (today included) of every live post")
    fetch.add_argument("--json", action="store_true")
    fetch.set_defaults(handler=cmd_fetch)

    backfill = sub.add_parser("backfill", help="collect a range of days, paced by the platforms' rate budget")
    backfill.add_argument("--platform", required=True, help="a platform, a comma-separated list, or all")
    backfill.add_argument("--start-date", type=_day, required=True)
    backfill.add_argument("--end-date", type=_day, required=True)
    backfill.add_argument("--json", action="store_true")
    backfill.set_defaults(handler=cmd_backfill)

    history = sub.add_parser("history", help="one post's stored days, each value with its provenance")
    history.add_argument("--platform", required=True)
    history.add_argument("--post-id", required=True, help="write --post-id=ID when it starts with -")
    history.add_argument("--start-date", type=_day)
    history.add_argument("--end-date", type=_day)
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=cmd_history)

    summary = sub.add_parser("summary", help="per platform and per story, with a PNG chart of views per day")
    summary.add_argument("--platform", default="all", help="a platform, a comma-separated list, or all")
    summary.add_argument("--start-date", type=_day, required=True)
    summary.add_argument("--end-date", type=_day, help="default today (UTC)")
    summary.add_argument("--chart", type=Path, help="where to write the PNG (default under $PELLACIA_HOME)")
    summary.add_argument("--json", action="store_true")
    summary.set_defaults(handler=cmd_summary)


def errors() -> tuple[type[Exception], ...]:
    return (AnalyticsArgumentError,)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of days from 1 to 3660")
    return value


def _today() -> date:
    return datetime.now(UTC).date()


def _range(first: date, last: date) -> list[date]:
    if max(first, last) > _today():
        raise AnalyticsArgumentError(f"{max(first, last)} is in the future (today is {_today()} UTC)")
    if last < first:
        raise AnalyticsArgumentError(f"the range ends ({last}) before it starts ({first})")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


# --- collecting ---------------------------------------------------------------------------------------


def collect_days(
    settings: Settings,
    platforms: Sequence[str],
    days_for: Callable[[str], list[date]],
    *,
    post_ids: Sequence[str] | None = None,
    bar: bool = False,
    log: Callable[[str], None],
) -> dict[str, CollectReport | str]:
    """Collect each platform's days through the shared budget; a platform with no live post is skipped
    (its reason instead of a report). The partitions collected are recorded in the Dagster instance."""
    from pellacia_assets.analytics.collect import collect_and_store
    from resources.database.engine import open_database
    from resources.database.metrics import live_posts
    from resources.platforms.clients import client_from_env

    factory = open_database(settings.database_url)
    outcome: dict[str, CollectReport | str] = {}
    for platform in platforms:
        days = days_for(platform)
        if not live_posts(factory, platform, post_ids=post_ids):
            outcome[platform] = "no live post in the ledger"
            log(f"{platform}: skipped, no live post in the ledger")
            continue
        progress = ProgressBar(f"{platform} {days[0]}..{days[-1]}") if bar else None

        def step(state: CollectStep, progress: ProgressBar | None = progress) -> None:
            if progress is not None:
                waited, eta = duration(state.waited_s), duration(state.eta_s)
                note = (
                    f"batches, {state.requests} requests, {state.throttled} 429s, waited {waited}, eta {eta}"
                )
                progress.update(state.done, state.total, note)

        client = client_from_env(platform, settings.database_url)
        try:
            report = collect_and_store(factory, client, days, post_ids=post_ids, on_step=step)
        finally:
            client.close()
        if progress is not None:
            progress.finish(f"{report.snapshots} rows, {report.requests} requests, {report.throttled} 429s")
        _record(settings, platform, days, report)
        outcome[platform] = report
    return outcome


def _record(settings: Settings, platform: str, days: Sequence[date], report: CollectReport) -> None:
    """The partitions just collected, as runless `post_metrics` materialisations in the instance."""
    import dagster as dg

    from pellacia_assets.instance import prepare_dagster_home

    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:
        for day in days:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    asset_key="post_metrics",
                    partition=dg.MultiPartitionKey({"day": day.isoformat(), "platform": platform}),
                    metadata={
                        "collected_by": "pellacia-dist analytics",
                        "rows_in_collection": report.snapshots,  # all its days, this platform
                    },
                )
            )


def _report_dict(outcome: dict[str, CollectReport | str]) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        platform: ({"skipped": value} if isinstance(value, str) else asdict(value))
        for platform, value in outcome.items()
    }


def _print_outcome(outcome: dict[str, CollectReport | str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(_report_dict(outcome), indent=2))
        return
    for platform, report in outcome.items():
        if isinstance(report, str):
            print(f"{platform:10} skipped: {report}")
            continue
        print(
            f"{platform:10} {report.posts} posts, {report.snapshots} rows ({report.written} written, "
            f"{report.unchanged} unchanged, {report.provisional} provisional, {report.unavailable} "
            f"unavailable), {report.requests} requests, {report.throttled} 429s, "
            f"waited {duration(report.waited_s)}"
        )


def _log(as_json: bool) -> Callable[[str], None]:
    return lambda line: print(line, file=sys.stderr if as_json else sys.stdout)


def cmd_collect_daily(settings: Settings, args: argparse.Namespace) -> int:
    """What the daily schedule does, for one day: the day itself, then each platform's provisional days
    that are final now."""
    from pellacia_assets.analytics.collect import refill_days
    from resources.database.engine import open_database
    from resources.platforms import parse_platforms

    day = args.date or _today()
    _range(day, day)
    factory = open_database(settings.database_url)

    def days_for(platform: str) -> list[date]:
        return sorted({day, *refill_days(factory, platform, _today())})

    outcome = collect_days(settings, parse_platforms(args.platform), days_for, log=_log(args.json))
    _print_outcome(outcome, args.json)
    return 0


def cmd_fetch(settings: Settings, args: argparse.Namespace) -> int:
    from resources.platforms import parse_platforms, platform_named

    if args.post_id is not None:
        return _fetch_post(settings, platform_named(args.platform), args.post_id, args.json)
    days = _range(_today() - timedelta(days=args.days - 1), _today())
    outcome = collect_days(settings, parse_platforms(args.platform), lambda _p: days, log=_log(args.json))
    _print_outcome(outcome, args.json)
    return 0


def _fetch_post(settings: Settings, platform: str, post_id: str, as_json: bool) -> int:
    """Today's snapshot of one post, stored (a post the ledger does not know is stored without a story)."""
    from pellacia_assets.analytics.collect import collect
    from pellacia_assets.analytics.series import history
    from pellacia_assets.analytics.snapshot import LivePost
    from resources.database.engine import open_database
    from resources.database.metrics import known_created, live_posts, save_snapshots
    from resources.platforms.clients import client_from_env

    factory = open_database(settings.database_url)
    client = client_from_env(platform, settings.database_url)
    try:
        posts = live_posts(factory, platform, client.account, post_ids=[post_id]) or [
            LivePost(platform, client.account, post_id, None, 1, None, None)
        ]
        created = known_created(factory, platform, client.account)
        if post_id not in created:
            created.update(client.created_times([post_id]))
        if post_id not in created:
            raise AnalyticsArgumentError(
                f"{platform} does not show post {post_id} to this account (deleted, private or another "
                "account's)"
            )
        now = datetime.now(UTC)
        rows = collect(client, posts, [now.date()], now=now, created=created)
    finally:
        client.close()
    save_snapshots(factory, rows)
    report = history(rows, platform, post_id)
    today = report["days"][-1] if report["days"] else {}
    answer = {"platform": platform, "post_id": post_id, **today, "raw": rows[-1].raw if rows else {}}
    if as_json:
        print(json.dumps(answer, indent=2, default=str))
        return 0
    _print_day(today)
    return 0


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    from resources.platforms import parse_platforms

    days = _range(args.start_date, args.end_date)
    outcome = collect_days(
        settings, parse_platforms(args.platform), lambda _p: days, bar=True, log=_log(args.json)
    )
    _print_outcome(outcome, args.json)
    return 0


# --- reading ------------------------------------------------------------------------------------------


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.analytics.series import history
    from resources.database.engine import open_database
    from resources.database.metrics import snapshots
    from resources.platforms import platform_named

    platform = platform_named(args.platform)
    rows = snapshots(
        open_database(settings.database_url),
        platform=platform,
        post_id=args.post_id,
        first=args.start_date,
        last=args.end_date,
    )
    report = history(rows, platform, args.post_id)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    if not report["days"]:
        print(f"no stored metrics for {platform} post {args.post_id} (collect them with `analytics fetch`)")
        return 0
    for day in report["days"]:
        print(f"== {day['date']}{' (provisional)' if day.get('provisional') else ''}")
        _print_day(day)
    return 0


def _print_day(day: dict[str, Any]) -> None:
    for name, value in day.get("metrics", {}).items():
        provenance = day.get("provenance", {}).get(name, "")
        shown = "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        reason = day.get("reasons", {}).get(name)
        print(f"  {name:14} {shown:>10}  {provenance}{f': {reason}' if reason else ''}")


def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.analytics.summary import summary_json, summary_table
    from resources.platforms import parse_platforms

    last = args.end_date or _today()
    _range(args.start_date, last)
    summary, chart = summarise_range(
        settings, parse_platforms(args.platform), args.start_date, last, args.chart
    )
    if args.json:
        print(json.dumps({**summary_json(summary), "chart": str(chart)}, indent=2, default=str))
        return 0
    print(summary_table(summary))
    print(f"chart: {chart}")
    return 0


def summarise_range(
    settings: Settings, platforms: Sequence[str], first: date, last: date, chart: Path | None = None
) -> tuple[Summary, Path]:
    """The stored days `first`..`last` of `platforms`, summarised, and their chart written (by default
    under $PELLACIA_HOME/analytics)."""
    from pellacia_assets.analytics.report import stored_summary
    from resources.database.engine import open_database

    days = set(_range(first, last))
    path = chart or settings.home / "analytics" / f"summary-{first}-{last}.png"
    return stored_summary(open_database(settings.database_url), dict.fromkeys(platforms, days), path)
