"""Facebook's /{video-id}/video_insights in the sandbox: lifetime totals only, deterministic, growing
with the video's age as of the sandbox's clock, nothing past the 2-year window, Meta's usage headers and
its throttling (raw HTTP)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.common import TokenGrant
from sandbox.facebook import FacebookSandbox
from tests.sandbox.test_facebook import V, error_of, finish_reel, rupload, start_reel, status

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)


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


def published_reel(http: httpx.Client, sandbox: FacebookSandbox) -> str:
    video_id, url = start_reel(http, sandbox.page_id)
    rupload(http, url, b"m" * 64)
    finish_reel(http, sandbox.page_id, video_id)
    status(http, video_id)
    status(http, video_id)
    return video_id


def insights(http: httpx.Client, video_id: str) -> dict[str, Any]:
    response = http.get(f"{V}/{video_id}/video_insights")
    assert response.status_code == 200, response.text
    return {row["name"]: row["values"][0]["value"] for row in response.json()["data"]}


def test_lifetime_insights_are_deterministic_and_grow_with_age(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    video_id = published_reel(http, sandbox)
    first = insights(http, video_id)
    assert insights(http, video_id) == first == sandbox.metrics(video_id)
    assert first["blue_reels_play_count"] > 0
    sandbox.advance_clock(86_400)
    later = insights(http, video_id)
    assert later["blue_reels_play_count"] > first["blue_reels_play_count"]
    assert later["post_video_view_time"] >= first["post_video_view_time"]
    sandbox.backdate(video_id, 30)
    older = insights(http, video_id)
    assert older["blue_reels_play_count"] > later["blue_reels_play_count"]
    likes = older["post_video_likes_by_reaction_type"]["REACTION_LIKE"]
    assert likes >= later["post_video_likes_by_reaction_type"]["REACTION_LIKE"]
    created = http.get(f"{V}/{video_id}", params={"fields": "created_time"}).json()["created_time"]
    assert created == (NOW - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def test_insights_stop_after_two_years(sandbox: FacebookSandbox, http: httpx.Client) -> None:
    video_id = published_reel(http, sandbox)
    sandbox.backdate(video_id, 729)
    assert insights(http, video_id)
    sandbox.advance_clock(2 * 86_400)
    assert insights(http, video_id) == {}


def test_insights_carry_metas_usage_headers_and_throttle_as_meta(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    video_id = published_reel(http, sandbox)
    response = http.get(f"{V}/{video_id}/video_insights")
    assert set(json.loads(response.headers["x-app-usage"])) == {"call_count", "total_cputime", "total_time"}
    business = json.loads(response.headers["x-business-use-case-usage"])
    assert business[sandbox.page_id][0]["type"] == "pages"
    sandbox.rate_limit_analytics_next(wait_s=300)
    throttled = http.get(f"{V}/{video_id}/video_insights")
    assert throttled.status_code == 400 and error_of(throttled)["code"] in (4, 17, 32, 613, 80001)
    usage = json.loads(throttled.headers["x-business-use-case-usage"])[sandbox.page_id][0]
    assert usage["estimated_time_to_regain_access"] == 5
    assert http.get(f"{V}/{video_id}/video_insights").status_code == 200
