"""The shared rate budget on SQLite and PostgreSQL: windows, reservations across processes, the platforms'
headers, 429s, and how long the rest will take."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database
from resources.platforms.budget import (
    BUCKETS,
    COSTS,
    BudgetError,
    bucket,
    eta,
    exhaust,
    observe,
    reserve,
    reserve_call,
    snapshot,
    throttled,
    window_bounds,
)
from tests.resources.database.concurrently import run_together

# 2026-12-06 12:00 in Los Angeles (PST, UTC-8): 12 hours before YouTube's quota resets.
NOON_PT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC).timestamp()
NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def factory(database_url: str) -> sessionmaker[Session]:
    return open_database(database_url)


def test_every_call_kind_spends_known_buckets() -> None:
    for platform, calls in COSTS.items():
        for costs in calls.values():
            for name in costs:
                assert name in BUCKETS[platform]
    assert set(BUCKETS) == {"youtube", "tiktok", "instagram", "facebook", "x", "linkedin"}
    assert bucket("youtube", "units").limit == 10_000
    assert COSTS["youtube"]["reports.query"] == {"units": 1}
    with pytest.raises(BudgetError, match="known"):
        bucket("youtube", "nope")


def test_daily_windows_follow_pacific_and_utc_midnights() -> None:
    start, end = window_bounds(bucket("youtube", "units"), NOON_PT)
    assert start == NOON_PT - 12 * 3600 and end == NOON_PT + 12 * 3600
    # the day summer time ends in Los Angeles has 25 hours
    start, end = window_bounds(bucket("youtube", "units"), datetime(2026, 11, 1, 20, tzinfo=UTC).timestamp())
    assert end - start == 25 * 3600
    start, end = window_bounds(bucket("linkedin", "member"), NOON_PT)
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 12, 6, tzinfo=UTC)
    assert end - start == 86400


def test_youtube_quota_rolls_over_at_midnight_pacific(factory: sessionmaker[Session]) -> None:
    assert reserve(factory, "youtube", "main", "units", cost=6_000, now=NOON_PT) == 0
    assert reserve(factory, "youtube", "brand", "units", cost=4_000, now=NOON_PT) == 0  # one project quota
    assert reserve_call(factory, "youtube", "main", "reports.query", now=NOON_PT + 60) == 12 * 3600 - 60
    after_midnight = NOON_PT + 12 * 3600 + 1
    assert reserve_call(factory, "youtube", "main", "videos.list", now=after_midnight) == 0
    row = snapshot(factory, "youtube", "main", "units")
    assert row is not None and row["used"] == 2  # the reserved call and this one, in the new day


def test_fixed_windows_roll_over_and_reservations_never_exceed_the_limit(
    factory: sessionmaker[Session],
) -> None:
    waits = [reserve(factory, "x", "main", "POST /2/tweets", now=NOW) for _ in range(250)]
    assert Counter(waits) == {0.0: 100, 900.0: 100, 1800.0: 50}
    # once the queued windows have passed, a new one starts where the next call is
    later = NOW + 5000
    assert reserve(factory, "x", "main", "POST /2/tweets", now=later) == 0
    row = snapshot(factory, "x", "main", "POST /2/tweets")
    assert row is not None and row["used"] == 1 and row["window_start"].timestamp() == later


def test_sliding_windows_are_paced_so_no_minute_holds_more_than_the_limit(
    factory: sessionmaker[Session],
) -> None:
    goes = [NOW + reserve(factory, "tiktok", "main", "video/init", now=NOW) for _ in range(20)]
    assert goes[:3] == [NOW, NOW + 10, NOW + 20]
    for go in goes:
        assert sum(1 for other in goes if go <= other < go + 60) <= 6


def test_two_processes_reserving_at_once_never_exceed_the_limit_together(
    factory: sessionmaker[Session], database_url: str
) -> None:
    finished = run_together(
        "import json\nfrom resources.database.engine import open_database\n"
        "from resources.platforms.budget import reserve",
        "factory = open_database(sys.argv[1])\n"
        "print(json.dumps([reserve(factory, 'x', 'main', 'GET /2/tweets/analytics', now=float(sys.argv[2]))"
        " for _ in range(200)]))",
        [[database_url, str(NOW)]] * 2,
    )
    assert [f.returncode for f in finished] == [0, 0], [f.stderr[-2000:] for f in finished]
    waits = [wait for f in finished for wait in json.loads(f.stdout.strip().splitlines()[-1])]
    assert Counter(waits) == {0.0: 300, 900.0: 100}


def test_x_headers_tighten_the_window(factory: sessionmaker[Session]) -> None:
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "3",
        "x-rate-limit-reset": str(int(NOW + 300)),
    }
    assert observe(factory, "x", "main", headers, now=NOW, bucket_name="GET /2/tweets/analytics") == 0
    waits = [reserve(factory, "x", "main", "GET /2/tweets/analytics", now=NOW) for _ in range(4)]
    assert waits == [0, 0, 0, 300]
    row = snapshot(factory, "x", "main", "GET /2/tweets/analytics")
    assert row is not None and row["last_headers"]["x-rate-limit-remaining"] == "3"
    # nothing left: blocked until the reset
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(NOW + 120)),
    }
    assert observe(factory, "x", "other", headers, now=NOW, bucket_name="POST /2/tweets") == 120
    assert reserve(factory, "x", "other", "POST /2/tweets", now=NOW + 1) == 119
    assert throttled(factory, "x") == 0


def test_an_x_429_whose_reset_has_passed_waits_nothing_more(factory: sessionmaker[Session]) -> None:
    """X gives its reset in whole seconds: read a moment late it may lie in the past. That is still X's
    answer (try again now), not a 429 without a hint that holds the whole 15-minute window."""
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(NOW)),
    }
    name = "GET /2/tweets/analytics"
    assert observe(factory, "x", "main", headers, now=NOW + 0.9, bucket_name=name, status=429) == 0
    assert reserve(factory, "x", "main", name, now=NOW + 1) == 0
    assert throttled(factory, "x") == 1


def test_meta_usage_headers_tighten_and_block(factory: sessionmaker[Session]) -> None:
    app_usage = {"X-App-Usage": json.dumps({"call_count": 95, "total_time": 20, "total_cputime": 10})}
    assert observe(factory, "instagram", "main", app_usage, now=NOW) == 0
    waits = [reserve(factory, "instagram", "main", "app", now=NOW) for _ in range(11)]
    assert waits == [0] * 10 + [3600]
    buc = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "123": [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_time": 25,
                        "estimated_time_to_regain_access": 19,
                    }
                ]
            }
        )
    }
    assert observe(factory, "facebook", "main", buc, now=NOW) == 19 * 60
    assert reserve(factory, "facebook", "main", "business", now=NOW + 60) == 18 * 60
    assert reserve(factory, "facebook", "main", "app", now=NOW + 60) == 0  # the platform limit is not spent


def test_a_meta_throttle_waits_the_regain_time_it_states_not_the_whole_hour(
    factory: sessionmaker[Session],
) -> None:
    """A throttled answer with the app at 100 % and a 2-minute regain in the business header: every bucket
    at 100 % comes back after 2 minutes, as Meta said."""
    headers = {
        "X-App-Usage": json.dumps({"call_count": 100, "total_time": 4, "total_cputime": 2}),
        "X-Business-Use-Case-Usage": json.dumps(
            {"17841": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 2}]}
        ),
    }
    assert observe(factory, "instagram", "main", headers, now=NOW, bucket_name="app", status=429) == 120
    assert reserve(factory, "instagram", "main", "app", now=NOW) == 120
    assert throttled(factory, "instagram") == 1


def test_a_429_with_retry_after_blocks_until_then_and_is_counted(factory: sessionmaker[Session]) -> None:
    wait = observe(
        factory, "x", "main", {"Retry-After": "120"}, now=NOW, bucket_name="GET /2/tweets", status=429
    )
    assert wait == 120
    assert reserve(factory, "x", "main", "GET /2/tweets", now=NOW + 20) == 100
    assert reserve(factory, "x", "main", "GET /2/tweets/:id", now=NOW + 20) == 0  # another endpoint
    assert reserve(factory, "x", "main", "GET /2/tweets", now=NOW + 200) == 0
    # a 429 naming no bucket holds every bucket of the account, an HTTP date as its Retry-After
    stamp = "Fri, 15 Jan 2027 08:02:00 GMT"
    until = datetime(2027, 1, 15, 8, 2, tzinfo=UTC).timestamp()
    assert observe(factory, "tiktok", "main", {"retry-after": stamp}, now=until - 30, status=429) == 30
    assert reserve(factory, "tiktok", "main", "status/fetch", now=until - 30) == 30
    assert reserve(factory, "tiktok", "main", "video/query", now=until - 30) == 30  # app bucket, same account
    assert reserve(factory, "tiktok", "other", "status/fetch", now=until - 30) == 0
    # a LinkedIn 429 says nothing: wait for midnight UTC
    assert observe(factory, "linkedin", "main", {}, now=NOON_PT, status=429) == 4 * 3600
    assert throttled(factory, "x") == 1
    assert throttled(factory, "tiktok", "main") == 1
    assert throttled(factory, "linkedin") == 1
    assert throttled(factory, "youtube") == 0


def test_eta_says_how_long_the_rest_takes(factory: sessionmaker[Session]) -> None:
    name = "GET /2/tweets/analytics"
    assert eta(factory, "x", "main", name, 300, now=NOW) == 0
    assert eta(factory, "x", "main", name, 301, now=NOW) == 900
    assert eta(factory, "x", "main", name, 900, now=NOW) == 1800
    for _ in range(100):
        reserve(factory, "x", "main", name, now=NOW)
    assert eta(factory, "x", "main", name, 200, now=NOW + 10) == 0
    assert eta(factory, "x", "main", name, 201, now=NOW + 10) == 890
    row = snapshot(factory, "x", "main", name)
    assert row is not None and row["used"] == 100  # eta reserves nothing
    assert eta(factory, "tiktok", "main", "video/init", 6, now=NOW) == 50
    # 365 days x 50 posts of YouTube Analytics: today's 10,000 units, then the next day's
    assert eta(factory, "youtube", "main", "units", 10_000, now=NOON_PT) == 0
    assert eta(factory, "youtube", "main", "units", 18_250, now=NOON_PT) == 12 * 3600


def test_a_spent_quota_holds_until_its_window_ends(factory: sessionmaker[Session]) -> None:
    assert exhaust(factory, "youtube", "main", "units", now=NOON_PT) == 12 * 3600
    assert reserve_call(factory, "youtube", "brand", "reports.query", now=NOON_PT + 3600) == 11 * 3600
    assert reserve_call(factory, "youtube", "main", "reports.query", now=NOON_PT + 12 * 3600) == 0
    assert throttled(factory, "youtube") == 0
