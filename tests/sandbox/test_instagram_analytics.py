"""Instagram's /{media-id}/insights in the sandbox: lifetime totals only, deterministic, growing with the
media's age as of the sandbox's clock, with Meta's usage headers and its throttling (raw HTTP)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.instagram import InstagramSandbox
from tests.sandbox.test_instagram import graph_error, published

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
METRICS = "views,reach,likes,comments,shares,saved,total_interactions"


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


def insights(graph: httpx.Client, media_id: str) -> dict[str, int]:
    response = graph.get(f"/{media_id}/insights", params={"metric": METRICS})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {entry["period"] for entry in data} == {"lifetime"}
    return {entry["name"]: entry["values"][0]["value"] for entry in data}


def test_lifetime_insights_are_deterministic_and_grow_with_age(
    sandbox: InstagramSandbox, graph: httpx.Client, token: str
) -> None:
    media_id = published(graph, sandbox, token)
    first = insights(graph, media_id)
    assert insights(graph, media_id) == first
    assert first["views"] > 0
    sandbox.advance_clock(86_400)
    later = insights(graph, media_id)
    assert later["views"] > first["views"]
    assert all(later[name] >= first[name] for name in first)
    sandbox.backdate(media_id, 10)
    older = insights(graph, media_id)
    assert older["views"] > later["views"]
    assert older == {name: sandbox.metrics_for(media_id)[name] for name in METRICS.split(",")}
    assert older["total_interactions"] == sum(older[n] for n in ("likes", "comments", "shares", "saved"))
    timestamp = graph.get(f"/{media_id}", params={"fields": "timestamp"}).json()["timestamp"]
    assert timestamp == (NOW - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def test_insights_carry_metas_usage_headers_and_throttle_as_meta(
    sandbox: InstagramSandbox, graph: httpx.Client, token: str
) -> None:
    media_id = published(graph, sandbox, token)
    response = graph.get(f"/{media_id}/insights", params={"metric": "views"})
    app_usage = json.loads(response.headers["x-app-usage"])
    assert set(app_usage) == {"call_count", "total_cputime", "total_time"}
    business = json.loads(response.headers["x-business-use-case-usage"])
    assert "estimated_time_to_regain_access" in next(iter(business.values()))[0]
    sandbox.rate_limit_analytics_next(wait_s=120)
    throttled = graph.get(f"/{media_id}/insights", params={"metric": "views"})
    assert graph_error(throttled)["code"] in (4, 17, 32, 613, 80001)
    usage = next(iter(json.loads(throttled.headers["x-business-use-case-usage"]).values()))[0]
    assert usage["call_count"] == 100
    assert graph.get(f"/{media_id}/insights", params={"metric": "views"}).status_code == 200
