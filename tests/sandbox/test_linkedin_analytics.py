"""LinkedIn's share statistics in the sandbox: organizationalEntityShareStatistics lifetime and by day
(timeIntervals in Rest.li 2.0 syntax, 12 rolling months), memberCreatorPostAnalytics DAILY, all
deterministic and growing with the post's age as of the sandbox's clock; 429 with no headers (raw HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sandbox.common import running
from sandbox.linkedin import LinkedInSandbox
from tests.sandbox.test_linkedin import PART, VERSION, _available_video, _post_body

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
DAY_MS = 86_400_000


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LinkedInSandbox]:
    server = LinkedInSandbox(tmp_path / "data", part_size=PART, current_version=VERSION, processing_polls=0)
    server.set_now(NOW)
    with running(server):
        yield server


@pytest.fixture
def http(sandbox: LinkedInSandbox) -> Iterator[httpx.Client]:
    token = sandbox.issue_tokens().access_token
    headers = {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client


def posted(http: httpx.Client, sandbox: LinkedInSandbox) -> str:
    video = _available_video(http, sandbox, b"s" * 10)
    return str(http.post("/rest/posts", json=_post_body(sandbox.author, video)).headers["x-restli-id"])


def statistics(http: httpx.Client, sandbox: LinkedInSandbox, urn: str, intervals: str = "") -> httpx.Response:
    query = (
        f"q=organizationalEntity&organizationalEntity={quote(sandbox.author, safe='')}"
        f"&shares=List({quote(urn, safe='')}){intervals}"
    )
    return http.get(f"/rest/organizationalEntityShareStatistics?{query}")


def day_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def by_day(start: int, end: int, granularity: str = "DAY") -> str:
    return f"&timeIntervals=(timeRange:(start:{start},end:{end}),timeGranularityType:{granularity})"


def elements(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["elements"])


def test_daily_statistics_from_the_post_day_deterministic_and_summing_to_lifetime(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    urn = posted(http, sandbox)
    sandbox.backdate(urn, 4)
    today = NOW.date()
    start, end = day_ms(today - dt.timedelta(days=10)), day_ms(today + dt.timedelta(days=1))
    days = elements(statistics(http, sandbox, urn, by_day(start, end)))
    assert [element["timeRange"] for element in days] == [
        {"start": day_ms(today - dt.timedelta(days=back)), "end": day_ms(today - dt.timedelta(days=back - 1))}
        for back in (4, 3, 2, 1, 0)
    ]
    assert elements(statistics(http, sandbox, urn, by_day(start, end))) == days
    lifetime = elements(statistics(http, sandbox, urn))[0]["totalShareStatistics"]
    assert lifetime == sandbox.metrics_for(urn)
    for name in ("impressionCount", "likeCount", "commentCount", "shareCount", "clickCount"):
        assert lifetime[name] == sum(element["totalShareStatistics"][name] for element in days)
    dotted = (
        "&timeIntervals.timeGranularityType=DAY"
        f"&timeIntervals.timeRange.start={start}&timeIntervals.timeRange.end={end}"
    )
    assert elements(statistics(http, sandbox, urn, dotted)) == days
    months = elements(statistics(http, sandbox, urn, by_day(start, end, "MONTH")))
    assert sum(m["totalShareStatistics"]["impressionCount"] for m in months) == lifetime["impressionCount"]


def test_lifetime_grows_with_age_and_measured_days_stay(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    urn = posted(http, sandbox)
    sandbox.backdate(urn, 2)
    before = elements(statistics(http, sandbox, urn))[0]["totalShareStatistics"]
    first_day = day_ms(NOW.date() - dt.timedelta(days=2))
    measured = elements(statistics(http, sandbox, urn, by_day(first_day, first_day + DAY_MS)))
    sandbox.advance_clock(3 * 86_400)
    after = elements(statistics(http, sandbox, urn))[0]["totalShareStatistics"]
    assert after["impressionCount"] > before["impressionCount"] and after["likeCount"] >= before["likeCount"]
    assert elements(statistics(http, sandbox, urn, by_day(first_day, first_day + DAY_MS))) == measured


def test_the_twelve_month_window_and_the_interval_syntax(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    urn = posted(http, sandbox)
    sandbox.backdate(urn, 400)
    now_ms = int(NOW.timestamp() * 1000)
    inside = elements(statistics(http, sandbox, urn, by_day(now_ms - 364 * DAY_MS, now_ms)))
    assert len(inside) == 365
    too_old = statistics(http, sandbox, urn, by_day(now_ms - 366 * DAY_MS, now_ms))
    assert too_old.status_code == 400 and "12 months" in too_old.json()["message"]
    for broken in (
        "&timeIntervals=(timeRange:(start:1,end:2))",
        by_day(now_ms, now_ms - DAY_MS),
        by_day(now_ms - DAY_MS, now_ms, "WEEK"),
    ):
        assert statistics(http, sandbox, urn, broken).status_code == 400


def test_member_daily_analytics_and_an_injected_429(tmp_path: Path) -> None:
    sandbox = LinkedInSandbox(
        tmp_path / "member", author="urn:li:person:abc", current_version=VERSION, processing_polls=0
    )
    sandbox.set_now(NOW)
    with running(sandbox):
        token = sandbox.issue_tokens().access_token
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
            urn = posted(http, sandbox)
            sandbox.backdate(urn, 3)
            entity = f"(share:{quote(urn, safe='')})"
            path = f"/rest/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType=IMPRESSION"
            daily = elements(http.get(f"{path}&aggregation=DAILY"))
            total = elements(http.get(f"{path}&aggregation=TOTAL"))
            sandbox.rate_limit_analytics_next()
            throttled = http.get(f"{path}&aggregation=TOTAL")
    assert [element["dateRange"]["start"]["day"] for element in daily] == [
        (NOW.date() - dt.timedelta(days=back)).day for back in (3, 2, 1, 0)
    ]
    assert (
        total[0]["count"]
        == sum(element["count"] for element in daily)
        == sandbox.metrics_for(urn)["impressionCount"]
    )
    assert throttled.status_code == 429
    assert not [name for name in throttled.headers if "rate" in name or name == "retry-after"]
