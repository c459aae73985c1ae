"""The YouTube client's analytics (real google-api-python-client) against the YouTube sandbox: lifetime
statistics plus the Analytics totals the Data API lacks (shares, watch time), daily history by
reports.query, creation times, batching by 50 ids, and the shared rate budget: a 429 waited out, a 403
throttle backed off, a spent daily quota held until midnight Pacific."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database
from resources.platforms.base import CORE_METRICS
from resources.platforms.budget import snapshot, throttled
from resources.platforms.config import PlatformSettings
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.youtube import DAILY_METRICS, YouTubeClient, seconds_until_quota_reset
from sandbox.common import Fault, TokenGrant
from sandbox.youtube import QUOTA_MESSAGE, YouTubeSandbox, google_error
from tests.sandbox.test_youtube import CONTENT, upload

ACCOUNT = "channel"
DECLARATIONS = {"privacy": "private", "made_for_kids": "false", "synthetic_media": "true"}


@pytest.fixture
def now() -> dt.datetime:
    """The sandbox's clock, stopped at the real time (the client asks up to its own today)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def sandbox(tmp_path: Path, now: dt.datetime) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "sandbox")
    server.set_now(now)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: YouTubeSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def waits() -> list[float]:
    return []


def client_for(
    sandbox: YouTubeSandbox,
    grant: TokenGrant,
    waits: list[float],
    budget: sessionmaker[Session] | None = None,
) -> YouTubeClient:
    settings = PlatformSettings(
        platform="youtube",
        urls={root: sandbox.url(root) for root in ("api", "upload", "oauth", "analytics")},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        options=DECLARATIONS,
    )
    return YouTubeClient(settings, sleep=waits.append, budget=budget)


def uploaded(sandbox: YouTubeSandbox, grant: TokenGrant, seed: int) -> str:
    with httpx.Client(base_url=sandbox.url("upload"), timeout=10) as http:
        return str(upload(http, grant, CONTENT + bytes([seed]))["id"])


def calls(sandbox: YouTubeSandbox, route: str) -> int:
    return sum(1 for name, _method in sandbox.requests if name == route)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def test_lifetime_adds_youtube_analytics_shares_and_watch_time_to_the_statistics(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime
) -> None:
    old, new = uploaded(sandbox, grant, 1), uploaded(sandbox, grant, 2)
    sandbox.backdate(old, 6)
    client = client_for(sandbox, grant, waits)

    readings = client.lifetime_metrics([old, new, "notOnTheChannel"])

    assert set(readings) == {old, new}  # a video YouTube does not show is left out
    reported = days_between(now.date() - dt.timedelta(days=6), now.date() - dt.timedelta(days=2))
    daily = [sandbox.daily_report(old, day) for day in reported]
    statistics = sandbox.statistics(old)
    reading = readings[old]
    assert reading.kind == "lifetime" and reading.as_of is not None
    assert reading.values == {
        "views": statistics["viewCount"],
        "likes": statistics["likeCount"],
        "comments": statistics["commentCount"],
        "shares": sum(day["shares"] for day in daily),  # the platform's shares, never a stand-in 0
        "watch_time_s": sum(day["estimatedMinutesWatched"] for day in daily) * 60,
    }
    assert reading.values["shares"] > 0
    assert reading.raw["analytics_through"] == reported[-1].isoformat()
    assert set(reading.unavailable) == {"saves", "impressions", "reach"}
    fresh = readings[new]
    assert set(fresh.values) == {"views", "likes", "comments"}
    assert "has reported no day of this video yet" in fresh.unavailable["shares"]
    assert fresh.unavailable["watch_time_s"] == fresh.unavailable["shares"]
    assert fresh.raw["analytics_through"] is None
    for reason in {**reading.unavailable, **fresh.unavailable}.values():
        assert reason.startswith("YouTube") and "\n" not in reason


def test_daily_history_equals_the_sandbox_from_the_upload_day_to_the_reporting_delay(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime
) -> None:
    first_video, second_video = uploaded(sandbox, grant, 1), uploaded(sandbox, grant, 2)
    sandbox.backdate(first_video, 6)
    sandbox.backdate(second_video, 40)
    client = client_for(sandbox, grant, waits)
    assert client.history_window is not None
    assert (client.history_window.days, client.history_window.delay_days) == (None, 2)

    history = client.daily_metrics(
        [first_video, second_video], now.date() - dt.timedelta(days=10), now.date()
    )

    last = now.date() - dt.timedelta(days=2)
    assert list(history[first_video]) == days_between(now.date() - dt.timedelta(days=6), last)
    assert list(history[second_video]) == days_between(now.date() - dt.timedelta(days=10), last)
    for video_id, days in history.items():
        for day, reading in days.items():
            report = sandbox.daily_report(video_id, day)
            assert reading.kind == "measured"
            assert reading.raw == {name: report[name] for name in DAILY_METRICS}
            assert reading.values == {
                "views": report["views"],
                "likes": report["likes"],
                "comments": report["comments"],
                "shares": report["shares"],
                "watch_time_s": report["estimatedMinutesWatched"] * 60,
            }
            assert set(reading.values) | set(reading.unavailable) == set(CORE_METRICS)
    assert calls(sandbox, "reports_query") == 2  # one query per video over the whole range
    assert client.daily_metrics([first_video], now.date() - dt.timedelta(days=1), now.date()) == {}
    assert client.daily_metrics([first_video], now.date(), now.date() - dt.timedelta(days=1)) == {}
    assert calls(sandbox, "reports_query") == 3  # an empty range asks nothing


def test_created_times_are_the_published_at_of_each_video(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime
) -> None:
    first_video, second_video = uploaded(sandbox, grant, 1), uploaded(sandbox, grant, 2)
    sandbox.backdate(first_video, 3)
    client = client_for(sandbox, grant, waits)

    created = client.created_times([first_video, second_video, "notOnTheChannel"])

    assert created == {first_video: now - dt.timedelta(days=3), second_video: now}


def test_videos_list_names_up_to_50_ids_a_call(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float]
) -> None:
    real = [uploaded(sandbox, grant, 1), uploaded(sandbox, grant, 2)]
    ids = [*real, *(f"missing{n:04d}" for n in range(58))]
    client = client_for(sandbox, grant, waits)

    assert set(client.created_times(ids)) == set(real)
    assert set(client.lifetime_metrics(ids)) == set(real)

    assert calls(sandbox, "videos_list") == 4
    assert calls(sandbox, "reports_query") == 2  # the Analytics totals only for videos YouTube shows


def test_an_injected_429_is_waited_out_through_the_budget_and_counted(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime, tmp_path: Path
) -> None:
    video_id = uploaded(sandbox, grant, 1)
    sandbox.backdate(video_id, 4)
    budget = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, grant, waits, budget)
    sandbox.rate_limit_next("reports_query", status=429, retry_after_s=30)

    days = client.daily_metrics([video_id], now.date() - dt.timedelta(days=4), now.date())[video_id]

    assert len(days) == 3
    assert [wait for wait in waits if wait > 0.01] == [pytest.approx(30, abs=2)]  # Retry-After
    assert throttled(budget, "youtube", ACCOUNT) == 1
    assert calls(sandbox, "reports_query") == 2  # the refused query and its one retry
    assert client.gate is not None and (client.gate.calls, client.gate.throttled) == (2, 1)
    client.lifetime_metrics([video_id])
    assert client.gate.calls == 4  # videos.list and reports.query are metered too


def test_a_403_throttle_without_a_hint_backs_off_as_googles_sample_does(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime, tmp_path: Path
) -> None:
    video_id = uploaded(sandbox, grant, 1)
    sandbox.backdate(video_id, 4)
    budget = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, grant, waits, budget)
    sandbox.rate_limit_analytics_next()  # 403 rateLimitExceeded, no Retry-After

    assert len(client.daily_metrics([video_id], now.date() - dt.timedelta(days=4), now.date())[video_id]) == 3

    held = [wait for wait in waits if wait > 0.01]
    assert len(held) == 1 and held[0] <= 1.0
    assert throttled(budget, "youtube", ACCOUNT) == 0  # not a 429


def test_a_spent_daily_quota_is_held_until_midnight_pacific(
    sandbox: YouTubeSandbox, grant: TokenGrant, waits: list[float], now: dt.datetime, tmp_path: Path
) -> None:
    video_id = uploaded(sandbox, grant, 1)
    sandbox.backdate(video_id, 4)
    budget = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, grant, waits, budget)
    quota = google_error(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota")
    sandbox.inject(Fault("reports_query", status=403, body=quota.body))
    first = now.date() - dt.timedelta(days=4)

    with pytest.raises(PlatformError, match="midnight Pacific") as raised:
        client.daily_metrics([video_id], first, now.date())

    assert raised.value.kind is ErrorKind.RATE_LIMIT and calls(sandbox, "reports_query") == 1
    assert [wait for wait in waits if wait > 0.01] == []
    units = snapshot(budget, "youtube", ACCOUNT, "units")
    assert units is not None and units["blocked_until"] is not None
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_until_quota_reset())
    assert abs(units["blocked_until"] - reset) < dt.timedelta(seconds=5)
    assert len(client.daily_metrics([video_id], first, now.date())[video_id]) == 3
    assert waits[-1] == pytest.approx(seconds_until_quota_reset(), abs=5)  # the budget held it back
