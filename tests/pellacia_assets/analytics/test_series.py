"""A post's days as the operator reads them: measured where measured, deltas of consecutive lifetime
snapshots marked derived, the lifetime total where no delta can be had, and unavailable with the reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from pellacia_assets.analytics.series import daily_views, history
from tests.pellacia_assets.analytics.days import day_of

D1, D2, D3, D5 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 5)
REASON = "TikTok's Display API reports no saves"


def at(day: date, hour: int = 23) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_consecutive_lifetime_snapshots_give_derived_daily_deltas() -> None:
    rows = [
        day_of(day=day, platform="tiktok", post_id="v1", lifetime={"views": views, "likes": likes},
               as_of=at(day), reason=REASON)
        for day, views, likes in [(D1, 100, 10), (D2, 160, 12), (D3, 175, 12), (D5, 200, 15)]
    ]  # fmt: skip
    days = history(list(reversed(rows)), "tiktok", "v1")["days"]
    assert [day["date"] for day in days] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-05"]
    # the first snapshot has no day before it (and is not the creation day): only its total is known
    assert days[0]["metrics"]["views"] == 100 and days[0]["provenance"]["views"] == "lifetime"
    assert days[1]["metrics"]["views"] == 60 and days[1]["provenance"]["views"] == "derived"
    assert (
        days[2]["metrics"]["likes"] == 0 and days[2]["provenance"]["likes"] == "derived"
    )  # a zero, measured
    # 2026-03-04 was not snapshotted: the 5th's total cannot be split, it stays a lifetime figure
    assert days[3]["metrics"]["views"] == 200 and days[3]["provenance"]["views"] == "lifetime"
    assert days[1]["lifetime"] == {"views": 160, "likes": 12}
    for day in days:
        assert day["metrics"]["saves"] is None and day["provenance"]["saves"] == "unavailable"
        unknown = ("comments", "shares", "saves", "impressions", "reach", "watch_time_s")
        assert day["reasons"] == dict.fromkeys(unknown, REASON)
        assert day["provisional"] is False


def test_one_reading_stored_for_two_days_is_no_delta() -> None:
    """Read at 00:30, a lifetime total counts for the day before and for today: both days hold the same
    reading, and today's difference (0) was never measured; today keeps the total as a lifetime figure."""
    reading = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    rows = [
        day_of(day=D1 - timedelta(days=1), platform="tiktok", post_id="v1", lifetime={"views": 90},
               as_of=at(D1 - timedelta(days=1), 12)),
        day_of(day=D1, platform="tiktok", post_id="v1", lifetime={"views": 100}, as_of=reading),
        day_of(day=D2, platform="tiktok", post_id="v1", lifetime={"views": 100}, as_of=reading),
    ]  # fmt: skip
    days = history(rows, "tiktok", "v1")["days"]
    assert [(day["metrics"]["views"], day["provenance"]["views"]) for day in days] == [
        (90, "lifetime"),
        (10, "derived"),
        (100, "lifetime"),
    ]


def test_the_creation_day_s_total_is_that_day_s_delta() -> None:
    created = datetime(2026, 3, 1, 9, tzinfo=UTC)
    rows = [
        day_of(day=D1, post_id="v1", lifetime={"views": 40}, as_of=at(D1), created=created),
        day_of(day=D2, post_id="v1", lifetime={"views": 90}, as_of=at(D2), created=created),
    ]
    days = history(rows, "x", "v1")["days"]
    assert [(d["metrics"]["views"], d["provenance"]["views"]) for d in days] == [
        (40, "derived"),
        (50, "derived"),
    ]


def test_measured_values_win_over_deltas_and_reasons_are_only_for_unavailable_metrics() -> None:
    rows = [
        day_of(day=D1, measured={"views": 30}, totals={"views": 100}, as_of=at(D1)),
        day_of(day=D2, measured={"views": 55, "likes": 4}, totals={"views": 170, "likes": 20},
               as_of=at(D2), provisional=True, reason="X reports no reach"),
        day_of(day=D3, reason="X keeps daily post analytics for 30 days"),
    ]  # fmt: skip
    days = history(rows, "x", "p1")["days"]
    assert days[1]["metrics"]["views"] == 55 and days[1]["provenance"]["views"] == "measured"
    assert days[1]["metrics"]["likes"] == 4 and days[1]["provenance"]["likes"] == "measured"
    assert days[1]["provisional"] is True
    assert "views" not in days[1]["reasons"] and days[1]["reasons"]["reach"] == "X reports no reach"
    assert days[2]["metrics"] == dict.fromkeys(days[2]["metrics"])
    assert set(days[2]["reasons"].values()) == {"X keeps daily post analytics for 30 days"}
    assert "lifetime" not in days[2]  # nothing was read that day
    json.dumps(days)  # plain JSON values
    assert history(rows, "x", "other")["days"] == []
    assert history(rows, "tiktok", "p1") == {"platform": "tiktok", "post_id": "p1", "days": []}


def test_daily_views_sum_each_platform_s_measured_and_derived_days() -> None:
    rows = [
        day_of(day=D1, post_id="a", measured={"views": 10}),
        day_of(day=D2, post_id="a", measured={"views": 12}),
        day_of(day=D1, post_id="b", measured={"views": 5}),
        day_of(day=D2, post_id="b", reason="X keeps daily post analytics for 30 days"),
        day_of(day=D1, platform="tiktok", post_id="v", lifetime={"views": 100}, as_of=at(D1)),
        day_of(day=D2, platform="tiktok", post_id="v", lifetime={"views": 130}, as_of=at(D2)),
        day_of(day=D2 + timedelta(days=1), platform="tiktok", post_id="w", lifetime={"views": 7}),
    ]
    assert daily_views(rows) == {"tiktok": {D2: 30}, "x": {D1: 15, D2: 12}}
    assert daily_views([]) == {}
