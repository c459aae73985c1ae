"""The TikTok client's analytics against the sandbox's Display API: lifetime counters only, 20 ids a
video/query, TikTok's own creation times, and a 429 waited out through the shared rate budget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database
from resources.platforms import budget
from resources.platforms.base import CORE_METRICS
from resources.platforms.config import PlatformSettings
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.tiktok import METRIC_FIELDS, TikTokClient
from sandbox.common import running
from sandbox.tiktok import TikTokSandbox
from tests.sandbox.test_tiktok_analytics import clip, published

__all__ = ["clip"]  # the module-scoped fixture of a small video, shared with the sandbox's tests

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
UNKNOWN = "7380000000000009999"
FIELDS = METRIC_FIELDS.split(",")  # what the client asks video/query for


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[TikTokSandbox]:
    server = TikTokSandbox(tmp_path / "sandbox", processing_polls=0)
    server.set_now(NOW)
    with running(server):
        yield server


@pytest.fixture
def token(sandbox: TikTokSandbox) -> str:
    return sandbox.issue_tokens().access_token


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def client_for(
    sandbox: TikTokSandbox, waits: list[float], factory: sessionmaker[Session] | None = None
) -> TikTokClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="tiktok",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_key,
        client_secret=sandbox.client_secret,
    )
    return TikTokClient(settings, sleep=waits.append, budget=factory)


@pytest.fixture
def client(sandbox: TikTokSandbox, waits: list[float]) -> Iterator[TikTokClient]:
    tiktok = client_for(sandbox, waits)
    yield tiktok
    tiktok.close()


def queries(sandbox: TikTokSandbox) -> int:
    return sum(route == "video_query" for route, _method in sandbox.requests)


def test_lifetime_counters_equal_the_sandboxs_and_the_rest_say_why(
    sandbox: TikTokSandbox, token: str, clip: Path, client: TikTokClient
) -> None:
    first, second = published(sandbox, token, clip), published(sandbox, token, clip)
    sandbox.backdate(second, 12)

    readings = client.lifetime_metrics([first, second])

    assert list(readings) == [first, second]
    for video_id, reading in readings.items():
        video = sandbox.video_object(video_id)
        assert reading.kind == "lifetime"
        assert reading.values == {
            "views": video["view_count"],
            "likes": video["like_count"],
            "comments": video["comment_count"],
            "shares": video["share_count"],
        }
        assert reading.raw == {name: video[name] for name in FIELDS}
        assert set(reading.unavailable) == {"saves", "impressions", "reach", "watch_time_s"}
        assert all(why.startswith("TikTok's Display API reports no") for why in reading.unavailable.values())
        assert reading.as_of is not None and reading.as_of.tzinfo is not None
    assert readings[second].values["views"] > readings[first].values["views"]  # twelve days older
    assert queries(sandbox) == 1


def test_ids_go_twenty_to_a_request_and_a_video_not_shown_is_left_out(
    sandbox: TikTokSandbox, token: str, clip: Path, client: TikTokClient
) -> None:
    ids = [published(sandbox, token, clip) for _ in range(21)]
    before = queries(sandbox)

    readings = client.lifetime_metrics([*ids, UNKNOWN, ids[0]])

    assert list(readings) == ids
    assert queries(sandbox) - before == 2  # 20 + 2 ids (one unknown), each id asked once
    assert all(set(r.values) | set(r.unavailable) == set(CORE_METRICS) for r in readings.values())
    assert client.lifetime_metrics([]) == {} and client.created_times([]) == {}
    assert queries(sandbox) - before == 2  # nothing to ask, nothing sent


def test_created_times_are_tiktoks_create_time(
    sandbox: TikTokSandbox, token: str, clip: Path, client: TikTokClient
) -> None:
    fresh, old = published(sandbox, token, clip), published(sandbox, token, clip)
    sandbox.backdate(old, 40.5)

    created = client.created_times([fresh, old, UNKNOWN])

    assert created == {
        fresh: NOW.replace(microsecond=0),
        old: NOW.replace(microsecond=0) - dt.timedelta(days=40.5),
    }
    assert all(moment.tzinfo == dt.UTC for moment in created.values())


def test_tiktok_keeps_no_daily_history(client: TikTokClient) -> None:
    assert client.history_window is None
    with pytest.raises(PlatformError) as raised:
        client.daily_metrics(["1"], NOW.date(), NOW.date())
    assert raised.value.kind is ErrorKind.POLICY
    assert "TikTok" in str(raised.value) and "lifetime" in client.no_history_reason


def test_a_429_is_waited_out_through_the_shared_budget_and_counted(
    sandbox: TikTokSandbox,
    token: str,
    clip: Path,
    waits: list[float],
    factory: sessionmaker[Session],
) -> None:
    video_id = published(sandbox, token, clip)
    client = client_for(sandbox, waits, factory)
    sandbox.rate_limit_analytics_next()
    try:
        readings = client.lifetime_metrics([video_id])
    finally:
        client.close()

    assert readings[video_id].values["views"] == sandbox.video_object(video_id)["view_count"]
    # TikTok's 429 says nothing about how long: the gate holds the Display API bucket for its minute
    assert 59 <= max(waits) <= 60 and sum(waits) < 61  # (the rest: the bucket's even pacing)
    assert client.gate is not None
    assert (client.gate.calls, client.gate.throttled) == (2, 1)
    assert budget.throttled(factory, "tiktok") == 1
    assert queries(sandbox) == 2  # the throttled request and its one repetition, no other 429
