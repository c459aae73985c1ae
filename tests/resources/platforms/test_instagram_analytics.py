"""The Instagram client's analytics against the sandbox's Graph API: a Reel's lifetime insights (one request
a media), Instagram's own creation times, and Meta's throttling waited out through the shared rate budget."""

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
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.instagram import InstagramClient
from sandbox.instagram import InstagramSandbox
from tests.sandbox.test_instagram import published

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
UNKNOWN = "17920238429999999"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[InstagramSandbox]:
    server = InstagramSandbox(tmp_path / "instagram", processing_polls=0)
    server.set_now(NOW)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def token(sandbox: InstagramSandbox) -> str:
    return sandbox.issue_tokens().access_token


@pytest.fixture
def graph(sandbox: InstagramSandbox, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sandbox.base_url}/v25.0", headers={"Authorization": f"OAuth {token}"}
    ) as client:
        yield client


@pytest.fixture
def waits() -> list[float]:
    return []


def client_for(
    sandbox: InstagramSandbox, waits: list[float], factory: sessionmaker[Session] | None = None
) -> InstagramClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="instagram",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.user_id,
    )
    return InstagramClient(settings, sleep=waits.append, budget=factory)


@pytest.fixture
def client(sandbox: InstagramSandbox, waits: list[float]) -> Iterator[InstagramClient]:
    instagram = client_for(sandbox, waits)
    yield instagram
    instagram.close()


def insight_requests(sandbox: InstagramSandbox) -> int:
    return sum(route == "insights" for route, _method in sandbox.requests)


def test_lifetime_insights_equal_the_sandboxs_and_impressions_say_why(
    sandbox: InstagramSandbox, graph: httpx.Client, token: str, client: InstagramClient
) -> None:
    first, second = published(graph, sandbox, token), published(graph, sandbox, token)
    sandbox.backdate(second, 9)
    before = insight_requests(sandbox)

    readings = client.lifetime_metrics([first, second, UNKNOWN, first])

    assert list(readings) == [first, second]  # a media Graph does not show is left out
    assert insight_requests(sandbox) - before == 3  # one a media, each asked once
    for media_id, reading in readings.items():
        expected = sandbox.metrics_for(media_id)
        assert reading.kind == "lifetime"
        assert reading.values == {
            "views": expected["views"],
            "likes": expected["likes"],
            "comments": expected["comments"],
            "shares": expected["shares"],
            "saves": expected["saved"],
            "reach": expected["reach"],
            "watch_time_s": expected["ig_reels_video_view_total_time"] / 1000,
        }
        assert reading.raw == expected  # every insight asked for, under Instagram's names
        assert reading.unavailable == {
            "impressions": "Instagram deprecated impressions for media in April 2025 (views replaced them)"
        }
        assert reading.as_of is not None and reading.as_of.tzinfo is not None
    assert readings[second].values["views"] > readings[first].values["views"]
    assert client.lifetime_metrics([]) == {} and client.created_times([]) == {}
    assert insight_requests(sandbox) - before == 3


def test_created_times_are_the_media_timestamps(
    sandbox: InstagramSandbox, graph: httpx.Client, token: str, client: InstagramClient
) -> None:
    fresh, old = published(graph, sandbox, token), published(graph, sandbox, token)
    sandbox.backdate(old, 100)

    created = client.created_times([fresh, old, UNKNOWN])

    assert created == {fresh: NOW, old: NOW - dt.timedelta(days=100)}
    assert all(moment.tzinfo == dt.UTC for moment in created.values())


def test_instagram_keeps_no_daily_history(client: InstagramClient) -> None:
    assert client.history_window is None
    with pytest.raises(PlatformError) as raised:
        client.daily_metrics(["1"], NOW.date(), NOW.date())
    assert raised.value.kind is ErrorKind.POLICY
    assert "Instagram" in client.no_history_reason and "lifetime" in client.no_history_reason


def test_metas_throttle_is_waited_out_through_the_shared_budget(
    sandbox: InstagramSandbox, graph: httpx.Client, token: str, waits: list[float], tmp_path: Path
) -> None:
    media_id = published(graph, sandbox, token)
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, waits, factory)
    sandbox.rate_limit_analytics_next(wait_s=120)
    before = insight_requests(sandbox)
    try:
        readings = client.lifetime_metrics([media_id])
    finally:
        client.close()

    assert set(readings[media_id].values) | set(readings[media_id].unavailable) == set(CORE_METRICS)
    assert readings[media_id].values["views"] == sandbox.metrics_for(media_id)["views"]
    # the throttle said 2 minutes (estimated_time_to_regain_access): the gate held the next try
    # back that long (not the app bucket's whole hour, not a backoff), and counted the throttle
    assert 115 <= max(waits) <= 120
    assert client.gate is not None and client.gate.throttled == 1
    assert throttled(factory, "instagram") == 1
    assert client.gate is not None and client.gate.calls == 2
    assert insight_requests(sandbox) - before == 2  # the throttled request and its one repetition
