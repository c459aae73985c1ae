"""The daily analytics schedule: yesterday on every platform at low priority, and provisional days refilled
once final (read from the app database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from pellacia_assets.analytics.snapshot import DaySnapshot
from resources.database.engine import open_database
from resources.database.metrics import save_snapshots
from resources.database.resource import DatabaseResource
from resources.platforms import PLATFORMS
from resources.platforms.base import CORE_METRICS
from schedules.analytics import ANALYTICS_TAGS, analytics_requests, daily_analytics

TICK = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
YESTERDAY = date(2026, 12, 5)


def _keys(requests: list[dg.RunRequest]) -> list[tuple[str, str]]:
    keys = []
    for request in requests:
        partition = request.partition_key
        assert isinstance(partition, dg.MultiPartitionKey)
        keys.append((partition.keys_by_dimension["day"], partition.keys_by_dimension["platform"]))
    return keys


def test_yesterday_on_every_platform_at_low_priority_under_the_analytics_limit() -> None:
    requests = analytics_requests(TICK, {})
    assert _keys(requests) == [(YESTERDAY.isoformat(), platform) for platform in PLATFORMS]
    assert all(request.tags == ANALYTICS_TAGS for request in requests)
    assert ANALYTICS_TAGS == {"dagster/priority": "-5", "pellacia/work": "analytics"}
    assert len({request.run_key for request in requests}) == len(PLATFORMS)
    assert analytics_requests(TICK, {}) == requests  # a repeated tick asks for the same runs


def test_refilled_days_follow_and_yesterday_is_not_asked_twice() -> None:
    refills = {"youtube": [date(2026, 12, 3), YESTERDAY], "x": [date(2026, 12, 4)]}
    keys = _keys(analytics_requests(TICK, refills))
    assert keys[len(PLATFORMS) :] == [("2026-12-03", "youtube"), ("2026-12-04", "x")]
    assert keys.count((YESTERDAY.isoformat(), "youtube")) == 1


def _provisional(platform: str, day: date) -> DaySnapshot:
    reason = "not reported yet"
    return DaySnapshot(
        platform=platform, account="main", post_id="p1", day=day, story_key=None, part=1, values={},
        provenance=dict.fromkeys(CORE_METRICS, "unavailable"), reasons=dict.fromkeys(CORE_METRICS, reason),
        lifetime={}, raw={}, provisional=True, as_of=None, post_created_at=None,
    )  # fmt: skip


def test_the_schedule_refills_provisional_days_once_the_platform_reports_them(tmp_path: Path) -> None:
    """YouTube reports a day after 2 days: on the 6th its provisional 3rd and 4th are final, the 5th not."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    today = TICK.date()
    save_snapshots(
        open_database(url), [_provisional("youtube", today - timedelta(days=n)) for n in (3, 2, 1)]
    )
    context = dg.build_schedule_context(
        scheduled_execution_time=TICK, resources={"database": DatabaseResource(url=url)}
    )
    requests = daily_analytics(context)
    assert isinstance(requests, list)
    assert _keys(requests)[len(PLATFORMS) :] == [("2026-12-03", "youtube"), ("2026-12-04", "youtube")]
