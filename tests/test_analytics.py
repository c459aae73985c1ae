"""Analytics end to end on the six sandboxes, through `pellacia-dist analytics`: a 30-day backfill matches
each platform's own numbers where it keeps history and says lifetime or unavailable (with the reason) where
it does not; the shared rate budget is obeyed (one injected 429, waited out and counted, no other); a
re-run changes nothing; a measured day is not overwritten by a later snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pellacia_assets.analytics.collect import LIFETIME_GRACE
from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry
from resources.platforms import PLATFORMS, Platform
from resources.platforms.budget import throttled
from resources.platforms.clients import CLIENT_CLASSES
from sandbox.platforms import SandboxSuite

pytestmark = pytest.mark.e2e

AGE_DAYS = 40  # every post is backdated this far: older than X's window, younger than the range's start
RANGE_DAYS = 45


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def post_ids() -> dict[str, str]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.state == "published")).all()
        return {entry.platform: str(entry.post_id) for entry in entries}


def days_of(report: dict[str, Any]) -> dict[date, dict[str, Any]]:
    return {date.fromisoformat(day["date"]): day for day in report["days"]}


@pytest.fixture
def live(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> dict[str, str]:
    """One short published on all six, then backdated AGE_DAYS on every platform."""
    video = make_video(tmp_path / "short.mp4")
    results = cli_json(capsys, "upload", "--platforms", "all", "--file", str(video), "--title", "Backfilled")
    assert [r["status"] for r in results["results"]] == ["published"] * len(PLATFORMS), results
    ids = post_ids()
    for platform, post_id in ids.items():
        sandboxes.servers[platform].backdate(post_id, AGE_DAYS)
    return ids


def test_a_backfill_on_six_platforms_is_exact_honest_paced_and_idempotent(
    live: dict[str, str], sandboxes: SandboxSuite, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).date()
    first = today - timedelta(days=RANGE_DAYS - 1)
    created = today - timedelta(days=AGE_DAYS)
    servers: Any = sandboxes.servers
    servers["x"].rate_limit_analytics_next(wait_s=2)

    reports = cli_json(
        capsys, "analytics", "backfill", "--platform", "all",
        "--start-date", first.isoformat(), "--end-date", today.isoformat(),
    )  # fmt: skip
    factory = open_database(Settings.from_env().database_url)
    assert {platform: report["throttled"] for platform, report in reports.items()} == {
        platform: int(platform == "x") for platform in PLATFORMS
    }
    assert throttled(factory, "x") == 1 and sum(throttled(factory, p) for p in PLATFORMS) == 1

    history: dict[str, dict[date, dict[str, Any]]] = {}
    for platform, post_id in live.items():
        report = cli_json(capsys, "analytics", "history", "--platform", platform, "--post-id", post_id)
        assert report["platform"] == platform and report["post_id"] == post_id
        history[platform] = days_of(report)
        # the post's first day is the platform's creation time (backdated), not the ledger's publication
        assert min(history[platform]) == created, platform
        assert max(history[platform]) == today, platform

    # YouTube: measured days up to its 2-day reporting delay, exactly the sandbox's; then not reported yet;
    # today the lifetime counters (shares from Analytics, not a 0 from the Data API)
    youtube, video_id = history["youtube"], live["youtube"]
    for day in (created + timedelta(days=n) for n in range((today - created).days - 1)):
        expected = servers["youtube"].daily_report(video_id, day)
        entry = youtube[day]
        assert entry["provenance"]["views"] == "measured" and not entry["provisional"], day
        assert entry["metrics"]["views"] == expected["views"]
        assert entry["metrics"]["shares"] == expected["shares"]
        assert entry["metrics"]["watch_time_s"] == expected["estimatedMinutesWatched"] * 60
        assert entry["provenance"]["saves"] == "unavailable" and "YouTube" in entry["reasons"]["saves"]
    yesterday = youtube[today - timedelta(days=1)]
    # yesterday is not reported yet; until 06:00 UTC it takes the lifetime reading (collect.LIFETIME_GRACE)
    early = datetime.now(UTC) < datetime.combine(today, time(), UTC) + LIFETIME_GRACE
    assert yesterday["provisional"] and yesterday["provenance"]["views"] == (
        "lifetime" if early else "unavailable"
    )
    assert youtube[today]["provenance"]["views"] == "lifetime" and youtube[today]["provisional"]
    assert youtube[today]["metrics"]["views"] == servers["youtube"].statistics(video_id)["viewCount"]

    # X: daily analytics inside its 30-day window, exactly the sandbox's; older days unavailable, said why
    x, tweet = history["x"], live["x"]
    window = CLIENT_CLASSES["x"].history_window
    assert window is not None and window.days is not None
    oldest = today - timedelta(days=window.days)
    daily = servers["x"].daily_analytics(tweet, oldest, today - timedelta(days=1))
    assert len(daily) == window.days
    for day, fields in daily.items():
        assert x[day]["provenance"]["views"] == "measured"
        assert x[day]["metrics"]["views"] == fields["media_views"]
        assert x[day]["metrics"]["likes"] == fields["likes"]
        assert x[day]["metrics"]["impressions"] == fields["impressions"]
    for day in (created + timedelta(days=n) for n in range((oldest - created).days)):
        assert x[day]["provenance"]["views"] == "unavailable"
        assert x[day]["reasons"]["views"] == window.beyond

    # LinkedIn: daily statistics, the sandbox's own numbers
    linkedin, urn = history["linkedin"], live["linkedin"]
    statistics = servers["linkedin"].daily_statistics(urn, created, today - timedelta(days=1))
    assert len(statistics) == AGE_DAYS
    for day, values in statistics.items():
        total = values.get("totalShareStatistics", values)
        assert linkedin[day]["provenance"]["impressions"] == "measured"
        assert linkedin[day]["metrics"]["impressions"] == total["impressionCount"]
        assert linkedin[day]["provenance"]["views"] == "unavailable"

    # TikTok, Instagram, Facebook: lifetime today, equal to the platform's counters; past days unavailable
    lifetime_views: dict[Platform, int] = {
        "tiktok": servers["tiktok"].video_object(live["tiktok"])["view_count"],
        "instagram": servers["instagram"].metrics_for(live["instagram"])["views"],
        "facebook": servers["facebook"].metrics(live["facebook"])["blue_reels_play_count"],
    }
    for platform, views in lifetime_views.items():
        days = history[platform]
        assert days[today]["provenance"]["views"] == "lifetime" and days[today]["metrics"]["views"] == views
        past = days[today - timedelta(days=3)]
        assert past["provenance"]["views"] == "unavailable" and past["metrics"]["views"] is None
        assert CLIENT_CLASSES[platform].no_history_reason in past["reasons"]["views"]

    # the same backfill again: the same rows, the same values
    again = cli_json(
        capsys, "analytics", "backfill", "--platform", "all",
        "--start-date", first.isoformat(), "--end-date", today.isoformat(),
    )  # fmt: skip
    assert all(report["written"] == 0 for report in again.values()), again
    for platform, post_id in live.items():
        report = cli_json(capsys, "analytics", "history", "--platform", platform, "--post-id", post_id)
        assert days_of(report) == history[platform], platform

    # a later snapshot of X today (fetch) leaves its measured days as they were
    cli_json(capsys, "analytics", "fetch", "--platform", "x", "--post-id", tweet)
    after = days_of(cli_json(capsys, "analytics", "history", "--platform", "x", "--post-id", tweet))
    assert {day: after[day] for day in daily} == {day: x[day] for day in daily}


def test_summary_prints_a_table_and_writes_a_chart(
    live: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=6)).isoformat()
    assert main(["analytics", "fetch", "--platform", "all", "--days", "7"]) == 0
    capsys.readouterr()
    chart = tmp_path / "views.png"
    assert main(["analytics", "summary", "--start-date", start, "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    for platform in PLATFORMS:
        assert platform in out
    assert f"chart: {chart}" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    summary = cli_json(capsys, "analytics", "summary", "--start-date", start)
    assert Path(summary["chart"]).is_file()
