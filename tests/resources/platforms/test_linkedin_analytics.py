"""The LinkedIn client's analytics against the LinkedIn sandbox over real HTTP: an organization's share
statistics (lifetime, and by DAY within the rolling 12 months, many posts a call), a member's creator
post analytics (TOTAL and DAILY per metric type), creation times, and the shared rate budget waiting out
an injected 429 until LinkedIn's daily counters reset."""

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
from resources.platforms.linkedin import DEFAULT_VERSION, LinkedInClient
from sandbox.common import running
from sandbox.linkedin import DEFAULT_AUTHOR, LinkedInSandbox
from tests.sandbox.test_linkedin import _available_video, _post_body

ACCOUNT = "brand"
MEMBER = "urn:li:person:8675309"


@pytest.fixture
def now() -> dt.datetime:
    """The sandbox's clock, stopped at the real time: the client clamps to the 12 months by the real time."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def started(tmp_path: Path, now: dt.datetime, author: str = DEFAULT_AUTHOR) -> Iterator[LinkedInSandbox]:
    server = LinkedInSandbox(
        tmp_path / "sandbox",
        author=author,
        part_size=1000,
        current_version=DEFAULT_VERSION,
        processing_polls=0,
    )
    server.set_now(now)
    with running(server):
        yield server


@pytest.fixture
def sandbox(tmp_path: Path, now: dt.datetime) -> Iterator[LinkedInSandbox]:
    yield from started(tmp_path, now)


@pytest.fixture
def member(tmp_path: Path, now: dt.datetime) -> Iterator[LinkedInSandbox]:
    yield from started(tmp_path, now, MEMBER)


@pytest.fixture
def waits() -> list[float]:
    return []


def client_for(
    sandbox: LinkedInSandbox, waits: list[float], budget: sessionmaker[Session] | None = None
) -> LinkedInClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="linkedin",
        urls={"api": sandbox.url("api"), "oauth": sandbox.url("oauth")},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.author,
    )
    return LinkedInClient(settings, sleep=waits.append, budget=budget)


def posted(sandbox: LinkedInSandbox, seed: int) -> str:
    headers = {
        "Authorization": f"Bearer {sandbox.issue_tokens().access_token}",
        "LinkedIn-Version": DEFAULT_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
        video = _available_video(http, sandbox, bytes([seed]) * 10)
        body = _post_body(sandbox.author, video, f"Post number {seed}")
        return str(http.post("/rest/posts", json=body).headers["x-restli-id"])


def calls(sandbox: LinkedInSandbox, route: str) -> int:
    return sum(1 for name, _method in sandbox.requests if name == route)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def core_of(statistics: dict[str, object]) -> dict[str, object]:
    """What the core holds of LinkedIn's share statistics: impressions stay impressions, never views."""
    return {
        "likes": statistics["likeCount"],
        "comments": statistics["commentCount"],
        "shares": statistics["shareCount"],
        "impressions": statistics["impressionCount"],
        "reach": statistics["uniqueImpressionsCount"],
    }


def assert_honest_gaps(unavailable: dict[str, str]) -> None:
    assert set(unavailable) == {"views", "saves", "watch_time_s"}
    assert all(reason.startswith("LinkedIn") and "\n" not in reason for reason in unavailable.values())


def test_organization_lifetime_statistics_are_the_sandboxs_own(
    sandbox: LinkedInSandbox, waits: list[float]
) -> None:
    young, old = posted(sandbox, 1), posted(sandbox, 2)
    sandbox.backdate(old, 9)
    client = client_for(sandbox, waits)

    readings = client.lifetime_metrics([young, old, "urn:li:share:1"])

    assert set(readings) == {young, old}  # a post LinkedIn does not show is left out
    for urn, reading in readings.items():
        statistics = sandbox.metrics_for(urn)
        assert reading.kind == "lifetime" and reading.as_of is not None
        assert reading.values == core_of(statistics) and reading.raw == statistics
        assert_honest_gaps(reading.unavailable)
    assert calls(sandbox, "share_statistics") == 1  # every post in one call


def test_organization_history_equals_the_sandbox_from_the_creation_day(
    sandbox: LinkedInSandbox, waits: list[float], now: dt.datetime
) -> None:
    first_post, second_post = posted(sandbox, 1), posted(sandbox, 2)
    sandbox.backdate(first_post, 5)
    sandbox.backdate(second_post, 2)
    client = client_for(sandbox, waits)

    history = client.daily_metrics([first_post, second_post], now.date() - dt.timedelta(days=10), now.date())

    assert list(history[first_post]) == days_between(now.date() - dt.timedelta(days=5), now.date())
    assert list(history[second_post]) == days_between(now.date() - dt.timedelta(days=2), now.date())
    for urn, days in history.items():
        expected = sandbox.daily_statistics(urn, min(days), max(days))
        for day, reading in days.items():
            assert reading.kind == "measured" and reading.raw == expected[day]
            assert reading.values == core_of(expected[day])
            assert set(reading.values) | set(reading.unavailable) == set(CORE_METRICS)
    assert calls(sandbox, "share_statistics") == 1


def test_history_is_clamped_to_the_rolling_12_months(
    sandbox: LinkedInSandbox, waits: list[float], now: dt.datetime
) -> None:
    urn = posted(sandbox, 1)
    sandbox.backdate(urn, 400)
    client = client_for(sandbox, waits)
    assert client.history_window is not None and client.history_window.days == 364
    assert "12 months" in client.history_window.beyond

    days = client.daily_metrics([urn], now.date() - dt.timedelta(days=400), now.date())[urn]

    assert list(days) == days_between(now.date() - dt.timedelta(days=364), now.date())
    asked = calls(sandbox, "share_statistics")
    too_old = now.date() - dt.timedelta(days=380)
    assert client.daily_metrics([urn], too_old, too_old + dt.timedelta(days=10)) == {}
    assert client.daily_metrics([], now.date(), now.date()) == {}
    assert calls(sandbox, "share_statistics") == asked  # nothing LinkedIn would refuse, nothing empty


def test_member_posts_are_read_one_metric_type_at_a_time(
    member: LinkedInSandbox, waits: list[float], now: dt.datetime
) -> None:
    urn = posted(member, 1)
    member.backdate(urn, 3)
    client = client_for(member, waits)

    lifetime = client.lifetime_metrics([urn, "urn:li:share:1"])
    history = client.daily_metrics([urn], now.date() - dt.timedelta(days=10), now.date())

    assert set(lifetime) == {urn}
    assert lifetime[urn].values == core_of(member.metrics_for(urn))
    assert lifetime[urn].raw == {
        "IMPRESSION": member.metrics_for(urn)["impressionCount"],
        "MEMBERS_REACHED": member.metrics_for(urn)["uniqueImpressionsCount"],
        "REACTION": member.metrics_for(urn)["likeCount"],
        "COMMENT": member.metrics_for(urn)["commentCount"],
        "RESHARE": member.metrics_for(urn)["shareCount"],
    }
    assert_honest_gaps(lifetime[urn].unavailable)
    days = history[urn]
    assert list(days) == days_between(now.date() - dt.timedelta(days=3), now.date())
    expected = member.daily_statistics(urn, min(days), max(days))
    for day, reading in days.items():
        assert reading.kind == "measured" and reading.values == core_of(expected[day])
    assert calls(member, "member_analytics") == 5 + 1 + 5  # the unknown post stops at its first 404


def test_created_times_are_the_posts_published_at(
    sandbox: LinkedInSandbox, waits: list[float], now: dt.datetime
) -> None:
    first_post, second_post = posted(sandbox, 1), posted(sandbox, 2)
    sandbox.backdate(first_post, 2.5)
    client = client_for(sandbox, waits)

    created = client.created_times([first_post, second_post, "urn:li:share:1"])

    assert created == {first_post: now - dt.timedelta(days=2.5), second_post: now}


def test_share_statistics_name_up_to_20_posts_a_call(
    sandbox: LinkedInSandbox, waits: list[float], now: dt.datetime
) -> None:
    real = [posted(sandbox, 1), posted(sandbox, 2)]
    urns = [*real, *(f"urn:li:share:{n}" for n in range(20)), "urn:li:ugcPost:7", "urn:li:ugcPost:8"]
    client = client_for(sandbox, waits)

    assert set(client.lifetime_metrics(urns)) == set(real)
    assert set(client.daily_metrics(urns, now.date() - dt.timedelta(days=1), now.date())) == set(real)

    assert calls(sandbox, "share_statistics") == 4


def test_an_injected_429_is_waited_out_through_the_budget_until_midnight_utc(
    sandbox: LinkedInSandbox, waits: list[float], now: dt.datetime, tmp_path: Path
) -> None:
    urn = posted(sandbox, 1)
    sandbox.backdate(urn, 2)
    budget = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    client = client_for(sandbox, waits, budget)
    sandbox.rate_limit_analytics_next()

    days = client.daily_metrics([urn], now.date() - dt.timedelta(days=2), now.date())[urn]

    assert len(days) == 3
    current = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(current.date() + dt.timedelta(days=1), dt.time.min, dt.UTC)
    held = [wait for wait in waits if wait > 0.01]
    assert held == [pytest.approx((midnight - current).total_seconds(), abs=5)]  # no header: the day
    assert throttled(budget, "linkedin", ACCOUNT) == 1
    assert calls(sandbox, "share_statistics") == 2  # the refused call and its one retry: no other 429
    client.lifetime_metrics([urn])
    client.created_times([urn])
    assert client.gate is not None and (client.gate.calls, client.gate.throttled) == (4, 1)
