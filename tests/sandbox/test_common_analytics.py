"""The metrics model every platform sandbox shares: deterministic days, lifetime totals that grow with a
post's age, and a clock tests can stop and move."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from sandbox.common import ACTIVITY, activity_between, daily_activity, lifetime_activity
from sandbox.youtube import YouTubeSandbox

PUBLISHED = dt.datetime(2026, 10, 1, 18, 0, tzinfo=dt.UTC)


def test_a_day_is_a_function_of_the_post_the_day_and_its_age() -> None:
    day = dt.date(2026, 10, 5)
    assert daily_activity("post-1", day, 4) == daily_activity("post-1", day, 4)
    assert daily_activity("post-1", day, 4) != daily_activity("post-2", day, 4)
    assert set(daily_activity("post-1", day, 4)) == set(ACTIVITY)
    old = daily_activity("post-1", day, 400)  # attention fades but never stops
    assert old["views"] > 0 and min(old.values()) >= 0


def test_lifetime_is_the_sum_of_the_days_and_grows_with_age() -> None:
    before = lifetime_activity("post-1", PUBLISHED, PUBLISHED - dt.timedelta(hours=1))
    assert set(before.values()) == {0}
    totals = [lifetime_activity("post-1", PUBLISHED, PUBLISHED + dt.timedelta(days=n)) for n in range(5)]
    assert all(later["views"] > earlier["views"] for earlier, later in itertools.pairwise(totals))
    days = activity_between("post-1", PUBLISHED, dt.date(2026, 9, 1), dt.date(2026, 10, 5))
    assert min(days) == PUBLISHED.date() and max(days) == dt.date(2026, 10, 5)
    assert totals[4]["likes"] == sum(values["likes"] for values in days.values())


def test_the_clock_can_be_stopped_moved_and_released(tmp_path: Path) -> None:
    sandbox = YouTubeSandbox(tmp_path / "youtube")
    sandbox.set_now(PUBLISHED)
    assert sandbox.now() == PUBLISHED
    sandbox.advance_clock(3600)
    assert sandbox.now() == PUBLISHED + dt.timedelta(hours=1)
    sandbox.set_now(None)
    assert abs(sandbox.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
