"""The Facebook client's analytics against the sandbox's Graph API: the lifetime video insights of Reels and
other Page videos (one request a video), the 2-year limit said as such, Facebook's own creation times, and
Meta's throttling waited out through the shared rate budget."""

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
from resources.platforms.facebook import FacebookClient
from sandbox.common import TokenGrant
from sandbox.facebook import FacebookSandbox
from tests.sandbox.test_facebook import V, status, transfer
from tests.sandbox.test_facebook_analytics import published_reel

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
UNKNOWN = "900000000000001"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[FacebookSandbox]:
    server = FacebookSandbox(tmp_path / "facebook", processing_polls=1, transfer_chunk_bytes=1000)
    server.set_now(NOW)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: FacebookSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def http(sandbox: FacebookSandbox, grant: TokenGrant) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"OAuth {grant.access_token}"}
    ) as client:
        yield client


@pytest.fixture
def waits() -> list[float]:
    return []


def client_for(
    sandbox: FacebookSandbox, waits: list[float], factory: sessionmaker[Session] | None = None
) -> FacebookClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="facebook",
        urls={root: sandbox.url(root) for root in ("api", "oauth", "video")},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.page_id,
    )
    return FacebookClient(settings, sleep=waits.append, budget=factory)


@pytest.fixture
def client(sandbox: FacebookSandbox, waits: list[float]) -> Iterator[FacebookClient]:
    facebook = client_for(sandbox, waits)
    yield facebook
    facebook.close()


def published_page_video(sandbox: FacebookSandbox, http: httpx.Client, grant: TokenGrant) -> str:
    """A landscape Page video through graph-video's chunked start / transfer / finish."""
    data = b"w" * 900
    with httpx.Client(
        base_url=sandbox.url("video"), headers={"Authorization": f"OAuth {grant.access_token}"}
    ) as video:
        started = video.post(
            f"{V}/{sandbox.page_id}/videos", data={"upload_phase": "start", "file_size": str(len(data))}
        ).json()
        transfer(video, sandbox.page_id, started["upload_session_id"], 0, data)
        finish = {"upload_phase": "finish", "upload_session_id": started["upload_session_id"]}
        assert video.post(f"{V}/{sandbox.page_id}/videos", data=finish).json() == {"success": True}
    for _ in range(3):
        status(http, started["video_id"])
    return str(started["video_id"])


def insight_requests(sandbox: FacebookSandbox) -> int:
    return sum(route == "insights" for route, _method in sandbox.requests)


def test_a_reels_lifetime_insights_equal_the_sandboxs_and_the_rest_say_why(
    sandbox: FacebookSandbox, http: httpx.Client, client: FacebookClient
) -> None:
    reel = published_reel(http, sandbox)
    sandbox.backdate(reel, 20)
    before = insight_requests(sandbox)

    readings = client.lifetime_metrics([reel, UNKNOWN, reel])

    assert list(readings) == [reel]  # a video Graph does not show is left out
    assert insight_requests(sandbox) - before == 2  # one a video, each asked once
    reading, expected = readings[reel], sandbox.metrics(reel)
    reactions = expected["post_video_likes_by_reaction_type"]
    assert reading.kind == "lifetime"
    assert reading.values == {
        "views": expected["blue_reels_play_count"],
        "likes": reactions["REACTION_LIKE"] + reactions["REACTION_LOVE"],
        "comments": expected["post_video_social_actions"]["COMMENT"],
        "shares": expected["post_video_social_actions"]["SHARE"],
        "reach": expected["post_impressions_unique"],
        "watch_time_s": expected["post_video_view_time"] / 1000,
    }
    assert reading.raw == expected
    assert reading.unavailable == {
        "saves": "Facebook's video insights report no saves",
        "impressions": "Facebook's Reels insights report reach (post_impressions_unique), not impressions",
    }
    assert reading.as_of is not None and reading.as_of.tzinfo is not None


def test_a_page_videos_insights_name_their_metrics_otherwise(
    sandbox: FacebookSandbox, http: httpx.Client, grant: TokenGrant, client: FacebookClient
) -> None:
    video_id = published_page_video(sandbox, http, grant)

    reading = client.lifetime_metrics([video_id])[video_id]

    expected = sandbox.metrics(video_id)
    stories = expected["total_video_stories_by_action_type"]
    assert reading.values == {
        "views": expected["total_video_views"],
        "likes": sum(expected["total_video_reactions_by_type_total"].values()),
        "comments": stories["comment"],
        "shares": stories["share"],
        "impressions": expected["total_video_impressions"],
    }
    assert reading.unavailable == {
        "saves": "Facebook's video insights report no saves",
        "reach": "Facebook's video insights for this video held no reach",
        "watch_time_s": "Facebook's video insights for this video gave only an average watch time, no total",
    }


def test_a_video_past_the_two_year_window_says_so(
    sandbox: FacebookSandbox, http: httpx.Client, client: FacebookClient
) -> None:
    inside, past = published_reel(http, sandbox), published_reel(http, sandbox)
    sandbox.backdate(inside, 729)
    sandbox.backdate(past, 731)

    readings = client.lifetime_metrics([inside, past])

    assert readings[inside].values["views"] == sandbox.metrics(inside)["blue_reels_play_count"]
    assert readings[past].values == {} and readings[past].raw == {}
    created = (NOW - dt.timedelta(days=731)).date().isoformat()
    assert readings[past].unavailable == dict.fromkeys(
        CORE_METRICS, f"Facebook keeps video insights for 2 years only; this video was created on {created}"
    )


def test_created_times_are_the_videos_created_time(
    sandbox: FacebookSandbox, http: httpx.Client, grant: TokenGrant, client: FacebookClient
) -> None:
    reel, page_video = published_reel(http, sandbox), published_page_video(sandbox, http, grant)
    sandbox.backdate(reel, 45)

    created = client.created_times([reel, page_video, UNKNOWN])

    assert created == {reel: NOW - dt.timedelta(days=45), page_video: NOW}
    assert all(moment.tzinfo == dt.UTC for moment in created.values())


def test_facebook_keeps_no_daily_history(client: FacebookClient) -> None:
    assert client.history_window is None
    with pytest.raises(PlatformError) as raised:
        client.daily_metrics(["1"], NOW.date(), NOW.date())
    assert raised.value.kind is ErrorKind.POLICY
    assert "Facebook" in client.no_history_reason and "lifetime" in client.no_history_reason


def test_metas_throttle_is_waited_out_through_the_shared_budget(
    sandbox: FacebookSandbox, http: httpx.Client, waits: list[float], tmp_path: Path
) -> None:
    reel = published_reel(http, sandbox)
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, waits, factory)
    sandbox.rate_limit_analytics_next(wait_s=300)
    before = insight_requests(sandbox)
    try:
        readings = client.lifetime_metrics([reel])
    finally:
        client.close()

    assert readings[reel].values["views"] == sandbox.metrics(reel)["blue_reels_play_count"]
    # the throttle said 5 minutes (estimated_time_to_regain_access): the gate held the next try
    # back that long (not the app bucket's whole hour, not a backoff), and counted the throttle
    assert 295 <= max(waits) <= 300
    assert client.gate is not None and client.gate.throttled == 1
    assert throttled(factory, "facebook") == 1
    assert client.gate is not None and client.gate.calls == 2
    assert insight_requests(sandbox) - before == 2  # the throttled request and its one repetition
