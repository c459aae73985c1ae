"""YouTube Analytics reports.query by day in the sandbox: deterministic daily rows from the video's
publish day, the reporting delay, the documented date checks, and lifetime Data API statistics that grow
with the video's age (raw HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.common import TokenGrant
from sandbox.youtube import YouTubeSandbox
from tests.sandbox.test_youtube import reason, upload

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
METRICS = "views,likes,comments,shares,estimatedMinutesWatched,averageViewDuration"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "sandbox")
    server.set_now(NOW)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: YouTubeSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def http(sandbox: YouTubeSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("upload"), timeout=10) as client:
        yield client


@pytest.fixture
def analytics(sandbox: YouTubeSandbox, grant: TokenGrant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    with httpx.Client(base_url=sandbox.url("analytics"), headers=headers, timeout=10) as client:
        yield client


def report(
    analytics: httpx.Client, video_id: str, start: dt.date, end: dt.date, **extra: str
) -> httpx.Response:
    params = {
        "ids": "channel==MINE",
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "metrics": METRICS,
        "dimensions": "day",
        "filters": f"video=={video_id}",
        **extra,
    }
    return analytics.get("/v2/reports", params=params)


def rows(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    return list(response.json().get("rows", []))


def test_rows_start_on_the_publish_day_and_stop_before_the_reporting_delay(
    sandbox: YouTubeSandbox, http: httpx.Client, analytics: httpx.Client, grant: TokenGrant
) -> None:
    video_id = upload(http, grant)["id"]
    sandbox.backdate(video_id, 6)
    today = NOW.date()
    table = rows(report(analytics, video_id, today - dt.timedelta(days=30), today))
    # published 6 days ago; the last 2 days are still inside the data delay
    assert [row[0] for row in table] == [
        (today - dt.timedelta(days=back)).isoformat() for back in (6, 5, 4, 3, 2)
    ]
    for row in table:
        expected = sandbox.daily_report(video_id, dt.date.fromisoformat(row[0]))
        assert row[1:] == [expected[name] for name in METRICS.split(",")]
    assert rows(report(analytics, video_id, today - dt.timedelta(days=30), today)) == table
    assert report(analytics, video_id, today - dt.timedelta(days=1), today).json().get("rows") is None


def test_a_later_day_adds_rows_and_lifetime_statistics_grow(
    sandbox: YouTubeSandbox, http: httpx.Client, analytics: httpx.Client, grant: TokenGrant
) -> None:
    video_id = upload(http, grant)["id"]
    sandbox.backdate(video_id, 3)
    today = NOW.date()
    before_rows = rows(
        report(analytics, video_id, today - dt.timedelta(days=10), today + dt.timedelta(days=5))
    )
    before = sandbox.statistics(video_id)
    sandbox.advance_clock(2 * 86_400)
    after_rows = rows(
        report(analytics, video_id, today - dt.timedelta(days=10), today + dt.timedelta(days=5))
    )
    after = sandbox.statistics(video_id)
    assert after_rows[: len(before_rows)] == before_rows  # a measured day never changes
    assert len(after_rows) == len(before_rows) + 2
    assert after["viewCount"] > before["viewCount"] and after["likeCount"] >= before["likeCount"]
    with httpx.Client(base_url=sandbox.url("api"), timeout=10) as api:
        listed = api.get(
            "/youtube/v3/videos",
            params={"part": "statistics", "id": video_id},
            headers={"Authorization": f"Bearer {grant.access_token}"},
        ).json()
    assert listed["items"][0]["statistics"]["viewCount"] == str(after["viewCount"])
    uploaded = sandbox.now().date() - dt.timedelta(days=5)
    daily_views = sum(
        sandbox.daily_report(video_id, uploaded + dt.timedelta(days=n))["views"] for n in range(6)
    )
    assert after["viewCount"] == daily_views  # lifetime = every day so far, today included


def test_dates_are_checked_as_documented(
    sandbox: YouTubeSandbox, http: httpx.Client, analytics: httpx.Client, grant: TokenGrant
) -> None:
    video_id = upload(http, grant)["id"]
    today = NOW.date()
    for start, end in (("2026-1-01", "2026-01-31"), ("20260101", "2026-01-31"), ("2026-01-01", "yesterday")):
        refused = analytics.get(
            "/v2/reports",
            params={"ids": "channel==MINE", "startDate": start, "endDate": end, "metrics": "views"},
        )
        assert refused.status_code == 400 and reason(refused) == "invalid"
    backwards = report(analytics, video_id, today, today - dt.timedelta(days=1))
    assert (
        backwards.status_code == 400 and "startDate is after endDate" in backwards.json()["error"]["message"]
    )
    missing = analytics.get("/v2/reports", params={"ids": "channel==MINE", "metrics": "views"})
    assert missing.status_code == 400 and reason(missing) == "required"
    assert report(analytics, video_id, today, today, metrics="clicks").status_code == 400


def test_an_injected_throttle_on_reports(
    sandbox: YouTubeSandbox, http: httpx.Client, analytics: httpx.Client, grant: TokenGrant
) -> None:
    video_id = upload(http, grant)["id"]
    sandbox.rate_limit_next("reports_query", status=429, retry_after_s=30)
    throttled = report(analytics, video_id, NOW.date(), NOW.date())
    assert throttled.status_code == 429 and reason(throttled) == "rateLimitExceeded"
    assert throttled.headers["retry-after"] == "30"
    sandbox.rate_limit_analytics_next()
    assert reason(report(analytics, video_id, NOW.date(), NOW.date())) == "rateLimitExceeded"
    assert report(analytics, video_id, NOW.date(), NOW.date()).status_code == 200
