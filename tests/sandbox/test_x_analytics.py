"""X's GET /2/tweets/analytics in the sandbox: deterministic daily metrics that grow with a post's age,
the 30-day window, the documented parameters, and the 15-minute rate-limit window (raw HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.x import XSandbox
from tests.sandbox.test_x import invalid_message, tweet, uploaded, video_bytes

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
FIELDS = "impressions,likes,retweets,replies,engagements"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "x", max_segment_bytes=64 * 1024)
    server.set_now(NOW)
    with running(server):
        yield server


@pytest.fixture
def api(sandbox: XSandbox) -> Iterator[httpx.Client]:
    token = sandbox.issue_tokens().access_token
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def posted(api: httpx.Client, text: str = "measured") -> str:
    response = tweet(api, text, uploaded(api, video_bytes(300)))
    return str(response.json()["data"]["id"])


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def analytics(
    api: httpx.Client, ids: str, start: dt.datetime, end: dt.datetime, **extra: str
) -> httpx.Response:
    params = {
        "ids": ids,
        "start_time": stamp(start),
        "end_time": stamp(end),
        "granularity": "daily",
        "analytics.fields": FIELDS,
        **extra,
    }
    return api.get("/2/tweets/analytics", params=params)


def test_daily_metrics_start_on_the_post_day_and_are_the_same_on_every_call(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    post_id = posted(api)
    sandbox.backdate(post_id, 5)
    start = NOW - dt.timedelta(days=10)
    first = analytics(api, post_id, start, NOW)
    assert first.status_code == 200
    series = first.json()["data"][0]["timestamped_metrics"]
    days = [(NOW - dt.timedelta(days=back)).date() for back in (5, 4, 3, 2, 1, 0)]
    assert [entry["timestamp"] for entry in series] == [f"{day.isoformat()}T00:00:00.000Z" for day in days]
    expected = sandbox.daily_analytics(post_id, days[0], days[-1])
    assert [entry["metrics"] for entry in series] == [
        {name: expected[day][name] for name in FIELDS.split(",")} for day in days
    ]
    assert analytics(api, post_id, start, NOW).json() == first.json()
    assert all(entry["metrics"]["impressions"] > 0 for entry in series)


def test_lifetime_counters_grow_with_the_post_age_and_match_the_daily_sums(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    post_id = posted(api)
    sandbox.backdate(post_id, 3)
    before = sandbox.public_metrics(post_id)
    sandbox.advance_clock(86_400)
    after = sandbox.public_metrics(post_id)
    assert after["impression_count"] > before["impression_count"]
    assert all(after[name] >= before[name] for name in before)
    created = dt.datetime.fromisoformat(sandbox.posts[0]["created_at"].replace("Z", "+00:00"))
    daily = sandbox.daily_analytics(post_id, created.date(), sandbox.now().date())
    assert after["impression_count"] == sum(day["impressions"] for day in daily.values())
    assert after["like_count"] == sum(day["likes"] for day in daily.values())
    body = api.get("/2/tweets", params={"ids": post_id, "tweet.fields": "public_metrics"}).json()
    assert body["data"][0]["public_metrics"]["impression_count"] == after["impression_count"]


def test_hourly_and_total_add_up_to_the_days(sandbox: XSandbox, api: httpx.Client) -> None:
    post_id = posted(api)
    sandbox.backdate(post_id, 2)
    start = dt.datetime.combine(NOW.date() - dt.timedelta(days=2), dt.time(), dt.UTC)
    end = start + dt.timedelta(days=2)
    daily = analytics(api, post_id, start, end).json()["data"][0]["timestamped_metrics"]
    hourly = analytics(api, post_id, start, end, granularity="hourly").json()["data"][0][
        "timestamped_metrics"
    ]
    total = analytics(api, post_id, start, end, granularity="total").json()["data"][0]["timestamped_metrics"]
    assert len(daily) == 2 and len(hourly) == 48 and len(total) == 1
    for name in FIELDS.split(","):
        assert sum(entry["metrics"][name] for entry in hourly) == sum(
            entry["metrics"][name] for entry in daily
        )
        assert total[0]["metrics"][name] == sum(entry["metrics"][name] for entry in daily)


def test_the_window_is_thirty_days_and_the_parameters_are_checked(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    post_id = posted(api)
    sandbox.backdate(post_id, 60)
    inside = analytics(api, post_id, NOW - dt.timedelta(days=29), NOW)
    assert inside.status_code == 200
    assert len(inside.json()["data"][0]["timestamped_metrics"]) == 30
    too_old = analytics(api, post_id, NOW - dt.timedelta(days=31), NOW)
    assert too_old.status_code == 400 and "within the last 30 days" in invalid_message(too_old)
    reversed_range = analytics(api, post_id, NOW, NOW - dt.timedelta(days=1))
    assert reversed_range.status_code == 400
    assert "granularity" in invalid_message(
        analytics(api, post_id, NOW - dt.timedelta(days=1), NOW, granularity="yearly")
    )
    assert "analytics.fields" in invalid_message(
        analytics(api, post_id, NOW - dt.timedelta(days=1), NOW, **{"analytics.fields": "views"})
    )
    bad_time = api.get(
        "/2/tweets/analytics",
        params={
            "ids": post_id,
            "start_time": "yesterday",
            "end_time": stamp(NOW),
            "granularity": "daily",
            "analytics.fields": "likes",
        },
    )
    assert "RFC 3339" in invalid_message(bad_time)
    unknown = analytics(api, f"{post_id},123", NOW - dt.timedelta(days=1), NOW)
    assert [item["id"] for item in unknown.json()["data"]] == [post_id]
    assert unknown.json()["errors"][0]["resource_id"] == "123"
    assert api.get("/2/tweets/analytics", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_rate_limit_window_counts_down_and_answers_429_when_spent(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    sandbox.rate_limits["tweets_analytics"] = 5  # the documented 300 / 15 min, made small
    post_id = posted(api)
    remaining = []
    for _ in range(5):
        response = analytics(api, post_id, NOW - dt.timedelta(days=1), NOW)
        assert response.status_code == 200
        assert response.headers["x-rate-limit-limit"] == "5"
        remaining.append(int(response.headers["x-rate-limit-remaining"]))
        assert int(response.headers["x-rate-limit-reset"]) > 0
    assert remaining == [4, 3, 2, 1, 0]
    spent = analytics(api, post_id, NOW - dt.timedelta(days=1), NOW)
    assert spent.status_code == 429 and spent.json()["status"] == 429
    assert spent.headers["x-rate-limit-remaining"] == "0"
    assert api.get("/2/tweets", params={"ids": post_id}).status_code == 200  # another endpoint's window


def test_an_injected_429_on_the_analytics_endpoint(sandbox: XSandbox, api: httpx.Client) -> None:
    post_id = posted(api)
    sandbox.rate_limit_analytics_next(wait_s=60)
    throttled = analytics(api, post_id, NOW - dt.timedelta(days=1), NOW)
    assert throttled.status_code == 429
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(throttled.headers)
    assert analytics(api, post_id, NOW - dt.timedelta(days=1), NOW).status_code == 200
