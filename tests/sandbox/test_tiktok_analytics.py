"""TikTok's Display API video/query in the sandbox: lifetime counters only (no history), deterministic,
growing with the video's age as of the sandbox's clock; 600 requests a minute; 429 rate_limit_exceeded
with no rate-limit headers, as documented (raw HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.common import TokenGrant, running
from sandbox.tiktok import TikTokSandbox
from tests.sandbox.test_tiktok import INIT, STATUS, call, clip, init_body, put

__all__ = ["clip"]  # the module-scoped fixture, shared with test_tiktok

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
FIELDS = "id,create_time,view_count,like_count,comment_count,share_count"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[TikTokSandbox]:
    server = TikTokSandbox(tmp_path / "sandbox", processing_polls=0)
    server.set_now(NOW)
    with running(server):
        yield server


@pytest.fixture
def grant(sandbox: TikTokSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


def published(sandbox: TikTokSandbox, token: str, clip: Path) -> str:
    size = clip.stat().st_size
    init = call(sandbox, INIT, token, init_body(size, size, 1, privacy_level="PUBLIC_TO_EVERYONE")).json()[
        "data"
    ]
    assert put(init["upload_url"], clip.read_bytes(), 0, size).status_code == 201
    for _ in range(5):
        status = call(sandbox, STATUS, token, {"publish_id": init["publish_id"]}).json()["data"]
        if status["status"] == "PUBLISH_COMPLETE":
            return str(status["publicaly_available_post_id"][0])
    raise AssertionError(status)


def query(sandbox: TikTokSandbox, token: str, video_id: str) -> dict[str, Any]:
    response = call(
        sandbox, "/v2/video/query/", token, {"filters": {"video_ids": [video_id]}}, params={"fields": FIELDS}
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["videos"][0])


def test_counters_are_lifetime_deterministic_and_grow_with_age(
    sandbox: TikTokSandbox, grant: TokenGrant, clip: Path
) -> None:
    video_id = published(sandbox, grant.access_token, clip)
    first = query(sandbox, grant.access_token, video_id)
    assert first["create_time"] == int(NOW.timestamp())
    assert query(sandbox, grant.access_token, video_id) == first
    assert first["view_count"] > 0
    sandbox.advance_clock(86_400)
    next_day = query(sandbox, grant.access_token, video_id)
    assert next_day["view_count"] > first["view_count"]
    assert all(next_day[name] >= first[name] for name in ("like_count", "comment_count", "share_count"))
    sandbox.backdate(video_id, 30)
    older = query(sandbox, grant.access_token, video_id)
    assert older["create_time"] == first["create_time"] - 30 * 86_400
    assert older["view_count"] > next_day["view_count"]
    assert older == {name: sandbox.video_object(video_id)[name] for name in FIELDS.split(",")}


def test_the_per_minute_limit_and_an_injected_429(
    sandbox: TikTokSandbox, grant: TokenGrant, clip: Path
) -> None:
    video_id = published(sandbox, grant.access_token, clip)
    sandbox.rate_limit_analytics_next()
    body = {"filters": {"video_ids": [video_id]}}
    throttled = call(sandbox, "/v2/video/query/", grant.access_token, body, params={"fields": "id"})
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limit_exceeded"
    assert not [name for name in throttled.headers if "rate" in name or name == "retry-after"]
    sandbox.video_query_per_minute = 3
    answers = [
        call(sandbox, "/v2/video/query/", grant.access_token, body, params={"fields": "id"}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
