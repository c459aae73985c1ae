"""Merging a new reading of a day into the stored one: the best value a day ever had stays, and merging
the same reading again changes nothing."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pellacia_assets.analytics.snapshot import DaySnapshot, merge
from resources.platforms.base import CORE_METRICS
from tests.pellacia_assets.analytics.days import day_of

MORNING = datetime(2026, 3, 10, 8, tzinfo=UTC)
EVENING = datetime(2026, 3, 10, 22, tzinfo=UTC)

MEASURED = day_of(measured={"views": 100, "likes": 7}, raw={"measured": {"impression_count": 150}})
PROVISIONAL = day_of(measured={"views": 80, "likes": 5}, provisional=True, raw={"measured": {"v": 80}})
LIFETIME = day_of(lifetime={"views": 900, "likes": 70, "saves": 3}, as_of=MORNING, raw={"lifetime": {"n": 1}})
LATER_LIFETIME = day_of(lifetime={"views": 950, "likes": 71}, as_of=EVENING, raw={"lifetime": {"n": 2}})
UNAVAILABLE = day_of(reason="X keeps daily post analytics for 30 days")


def test_a_first_reading_is_taken_as_it_is_and_merging_it_again_changes_nothing() -> None:
    for snapshot in (MEASURED, PROVISIONAL, LIFETIME, LATER_LIFETIME, UNAVAILABLE):
        assert merge(None, snapshot) == snapshot
        assert merge(snapshot, snapshot) == snapshot


def test_a_measured_day_is_never_overwritten_by_a_later_lifetime_figure_or_unavailable() -> None:
    for later in (LIFETIME, LATER_LIFETIME, UNAVAILABLE):
        merged = merge(MEASURED, later)
        assert merged.values["views"] == 100 and merged.provenance["views"] == "measured"
        assert merged.values["likes"] == 7 and merged.provenance["likes"] == "measured"
        assert "views" not in merged.reasons
        assert merged.raw["measured"] == {"impression_count": 150}
    after_snapshot = merge(MEASURED, LIFETIME)
    # what the measured row lacked is filled from the snapshot, and its totals are kept for the deltas
    assert after_snapshot.values["saves"] == 3 and after_snapshot.provenance["saves"] == "lifetime"
    assert after_snapshot.lifetime == {"views": 900, "likes": 70, "saves": 3}
    assert after_snapshot.as_of == MORNING
    assert after_snapshot.provenance["reach"] == "unavailable"


def test_a_final_measured_row_replaces_a_provisional_one_never_the_reverse() -> None:
    refilled = merge(PROVISIONAL, MEASURED)
    assert refilled.values == {"views": 100, "likes": 7}
    assert refilled.provisional is False
    assert refilled.raw["measured"] == {"impression_count": 150}
    kept = merge(MEASURED, PROVISIONAL)
    assert kept.values == {"views": 100, "likes": 7}
    assert kept.provisional is False
    assert kept.raw["measured"] == {"impression_count": 150}
    # two provisional readings: the newer one stands (the platform still revises the day)
    newer = replace(PROVISIONAL, values={"views": 90, "likes": 6})
    assert merge(PROVISIONAL, newer).values == {"views": 90, "likes": 6}
    assert merge(PROVISIONAL, newer).provisional is True


def test_a_lifetime_value_gives_way_to_measured_and_a_later_total_never_to_unavailable() -> None:
    measured = merge(LIFETIME, MEASURED)
    assert measured.values["views"] == 100 and measured.provenance["views"] == "measured"
    assert measured.lifetime == LIFETIME.lifetime  # still there to derive deltas from

    kept = merge(LIFETIME, UNAVAILABLE)
    assert kept.values == LIFETIME.values
    assert kept.provenance == LIFETIME.provenance

    later = merge(LIFETIME, LATER_LIFETIME)
    assert later.values["views"] == 950 and later.values["likes"] == 71
    assert later.values["saves"] == 3  # the later reading lacked saves: the earlier total stays
    assert later.lifetime == {"views": 950, "likes": 71, "saves": 3}
    assert later.as_of == EVENING and later.raw["lifetime"] == {"n": 2}

    earlier = merge(LATER_LIFETIME, LIFETIME)  # an older reading arriving last does not win
    assert earlier.values["views"] == 950
    assert earlier.lifetime == {"views": 950, "likes": 71, "saves": 3}
    assert earlier.as_of == EVENING and earlier.raw["lifetime"] == {"n": 2}


def test_unavailable_gives_way_to_anything_including_a_newer_reason() -> None:
    assert merge(UNAVAILABLE, LIFETIME).values == LIFETIME.values
    assert merge(UNAVAILABLE, MEASURED).provenance["views"] == "measured"
    renamed = merge(UNAVAILABLE, day_of(reason="TikTok's Display API reports no saves"))
    assert set(renamed.reasons.values()) == {"TikTok's Display API reports no saves"}
    assert set(renamed.reasons) == set(CORE_METRICS)


def test_a_provisional_lifetime_snapshot_is_settled_by_the_final_measured_row() -> None:
    snapshot = day_of(lifetime={"views": 900, "likes": 70, "saves": 3}, provisional=True, as_of=EVENING)
    final = merge(snapshot, MEASURED)
    assert final.provisional is False
    assert final.provenance["views"] == "measured" and final.values["views"] == 100
    assert final.provenance["saves"] == "lifetime"  # the history API has no saves: the total stays
    assert final.lifetime == {"views": 900, "likes": 70, "saves": 3}


def test_merging_is_idempotent_for_every_pair_of_readings() -> None:
    readings: list[DaySnapshot] = [
        MEASURED,
        PROVISIONAL,
        LIFETIME,
        LATER_LIFETIME,
        UNAVAILABLE,
        replace(LIFETIME, provisional=True),
        merge(MEASURED, LATER_LIFETIME),
    ]
    for first, second in itertools.product(readings, repeat=2):
        once = merge(first, second)
        assert merge(once, second) == once
        assert merge(once, once) == once
        assert set(once.provenance) == set(CORE_METRICS)
        assert set(once.values) | set(once.reasons) == set(CORE_METRICS)
        assert not set(once.values) & set(once.reasons)


def test_only_the_same_post_day_merges() -> None:
    with pytest.raises(ValueError, match="different post days"):
        merge(MEASURED, replace(MEASURED, post_id="p2"))


def test_the_same_totals_read_again_later_leave_the_day_as_it_was() -> None:
    again = replace(LIFETIME, as_of=EVENING)
    assert merge(LIFETIME, again) == LIFETIME  # a rerun finds nothing new: the row stays, first time kept
    grown = replace(
        again, lifetime={**LIFETIME.lifetime, "views": 901}, values={**LIFETIME.values, "views": 901}
    )
    assert merge(LIFETIME, grown) == grown
