"""The X client's analytics against the X sandbox over real HTTP: lifetime counters from GET /2/tweets,
daily history from GET /2/tweets/analytics within its 30 days, creation times, batching by 100 ids, and
the shared rate budget waiting out an injected 429."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database
from resources.platforms.base import CORE_METRICS
from resources.platforms.budget import throttled
from resources.platforms.config import PlatformSettings
from resources.platforms.x import XClient
from sandbox.common import running
from sandbox.x import XSandbox
from tests.sandbox.test_x import tweet, uploaded, video_bytes

ACCOUNT = "main"


@pytest.fixture
def now() -> dt.datetime:
    """The sandbox's clock, stopped at the real time: the client clamps to X's window by the real time."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def sandbox(tmp_path: Path, now: dt.datetime) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "x", max_segment_bytes=64 * 1024)
    server.set_now(now)
    with running(server):
        yield server


@pytest.fixture
def api(sandbox: XSandbox) -> Iterator[httpx.Client]:
    token = sandbox.issue_tokens().access_token
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def waits() -> list[float]:
    return []


def client_for(sandbox: XSandbox, waits: list[float], budget: sessionmaker[Session] | None = None) -> XClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="x",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    )
    return XClient(settings, sleep=waits.append, budget=budget)


def posted(api: httpx.Client, seed: int) -> str:
    response = tweet(api, f"measured post {seed}", uploaded(api, video_bytes(300, seed)))
    return str(response.json()["data"]["id"])


def calls(sandbox: XSandbox, route: str) -> int:
    return sum(1 for name, _method in sandbox.requests if name == route)


def days_back(now: dt.datetime, *backs: int) -> list[dt.date]:
    return [now.date() - dt.timedelta(days=back) for back in backs]


def test_lifetime_counters_are_the_sandboxs_own_and_name_what_x_does_not_report(
    sandbox: XSandbox, api: httpx.Client, waits: list[float], now: dt.datetime
) -> None:
    young, old = posted(api, 1), posted(api, 2)
    sandbox.backdate(old, 12)
    client = client_for(sandbox, waits)

    readings = client.lifetime_metrics([young, old, "1"])

    assert set(readings) == {young, old}  # a post X does not show is left out
    for post_id, reading in readings.items():
        counters = sandbox.public_metrics(post_id)
        assert reading.kind == "lifetime"
        assert reading.as_of is not None and abs(reading.as_of - dt.datetime.now(dt.UTC)) < dt.timedelta(
            seconds=30
        )
        assert reading.values == {
            "views": counters["view_count"],
            "likes": counters["like_count"],
            "comments": counters["reply_count"],
            "shares": counters["retweet_count"] + counters["quote_count"],
            "saves": counters["bookmark_count"],
            "impressions": counters["impression_count"],
        }
        assert set(reading.unavailable) == {"reach", "watch_time_s"}
        assert all(reason.startswith("X ") and "\n" not in reason for reason in reading.unavailable.values())
        assert reading.raw["public_metrics"]["like_count"] == counters["like_count"]
    assert readings[old].values["views"] > readings[young].values["views"]


def test_daily_history_equals_the_sandbox_and_starts_on_the_creation_day(
    sandbox: XSandbox, api: httpx.Client, waits: list[float], now: dt.datetime
) -> None:
    post_id = posted(api, 1)
    sandbox.backdate(post_id, 5)
    client = client_for(sandbox, waits)

    history = client.daily_metrics([post_id], now.date() - dt.timedelta(days=10), now.date())

    days = history[post_id]
    assert list(days) == days_back(now, 5, 4, 3, 2, 1, 0)
    expected = sandbox.daily_analytics(post_id, min(days), max(days))
    for day, reading in days.items():
        fields = expected[day]
        assert reading.kind == "measured" and reading.raw == fields
        assert reading.values == {
            "views": fields["media_views"],
            "likes": fields["likes"],
            "comments": fields["replies"],
            "shares": fields["retweets"] + fields["quote_tweets"],
            "saves": fields["bookmarks"],
            "impressions": fields["impressions"],
        }
        assert set(reading.values) | set(reading.unavailable) == set(CORE_METRICS)
    assert client.daily_metrics([post_id], now.date() - dt.timedelta(days=10), now.date()) == history


def test_history_is_clamped_to_the_30_days_x_serves(
    sandbox: XSandbox, api: httpx.Client, waits: list[float], now: dt.datetime
) -> None:
    post_id = posted(api, 1)
    sandbox.backdate(post_id, 45)
    client = client_for(sandbox, waits)
    assert client.history_window is not None and client.history_window.days == 29
    assert client.history_window.delay_days == 1 and "X" in client.history_window.beyond

    days = client.daily_metrics([post_id], now.date() - dt.timedelta(days=45), now.date())[post_id]

    assert list(days) == days_back(now, *range(29, -1, -1))  # 30 days ago would be cut short
    middle = client.daily_metrics([post_id], now.date() - dt.timedelta(days=10), now.date() - dt.timedelta(8))
    assert list(middle[post_id]) == days_back(now, 10, 9, 8)
    asked = calls(sandbox, "tweets_analytics")
    too_old = now.date() - dt.timedelta(days=40)
    assert client.daily_metrics([post_id], too_old, too_old + dt.timedelta(days=5)) == {}
    assert client.daily_metrics([], now.date(), now.date()) == {}
    assert calls(sandbox, "tweets_analytics") == asked  # no request X would refuse, nor an empty one


def test_created_times_are_xs_created_at(sandbox: XSandbox, api: httpx.Client, waits: list[float]) -> None:
    first, second = posted(api, 1), posted(api, 2)
    sandbox.backdate(first, 3.5)
    client = client_for(sandbox, waits)

    created = client.created_times([first, second, "1"])

    stored = {post["id"]: post["created_at"] for post in sandbox.posts}
    assert created == {
        post_id: dt.datetime.fromisoformat(stored[post_id].replace("Z", "+00:00"))
        for post_id in (first, second)
    }


def test_every_call_names_up_to_100_ids(
    sandbox: XSandbox, api: httpx.Client, waits: list[float], now: dt.datetime
) -> None:
    real = [posted(api, 1), posted(api, 2)]
    ids = [*real, *(str(10_000 + n) for n in range(148))]
    client = client_for(sandbox, waits)

    assert set(client.lifetime_metrics(ids)) == set(real)
    assert set(client.daily_metrics(ids, now.date(), now.date())) == set(real)
    assert set(client.created_times(ids)) == set(real)

    assert calls(sandbox, "tweets_lookup") == 4 and calls(sandbox, "tweets_analytics") == 2


def test_an_injected_429_is_waited_out_through_the_budget_and_counted(
    sandbox: XSandbox, api: httpx.Client, waits: list[float], now: dt.datetime, tmp_path: Path
) -> None:
    post_id = posted(api, 1)
    sandbox.backdate(post_id, 3)
    budget = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, waits, budget)
    sandbox.rate_limit_analytics_next(wait_s=40)

    days = client.daily_metrics([post_id], now.date() - dt.timedelta(days=3), now.date())[post_id]

    assert list(days) == days_back(now, 3, 2, 1, 0)
    held = [wait for wait in waits if wait > 0.01]  # (a fresh window's start may round a hair ahead)
    assert held == [pytest.approx(40, abs=3)]  # until x-rate-limit-reset
    assert throttled(budget, "x", ACCOUNT) == 1
    assert calls(sandbox, "tweets_analytics") == 2  # the refused call and its one retry: no other 429
    assert client.gate is not None and (client.gate.calls, client.gate.throttled) == (2, 1)
    client.lifetime_metrics([post_id])
    client.created_times([post_id])
    assert client.gate.calls == 4  # every analytics call is metered
    assert [wait for wait in waits if wait > 0.01] == held  # within the budget: nothing more to wait
