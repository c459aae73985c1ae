"""The dispatch rules over the real tables: spacing from the ledger, caps, quiet hours, lanes, breaking
news, part order, and the same answer after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.dispatch import next_slot, plan_dispatch
from pellacia_assets.posting.policy import PostingPolicy, QuietHours
from resources.database.engine import transaction
from resources.database.models import QueuedPost
from resources.database.post_queue import mark_outcome, release, retry
from tests.pellacia_assets.posting.history import published, queued

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
NO_GAP = PostingPolicy(gap_s=0, jitter_s=0)


def row(factory: sessionmaker[Session], queue_id: int) -> QueuedPost:
    with transaction(factory) as session:
        return session.get_one(QueuedPost, queue_id)


def go_live(factory: sessionmaker[Session], queue_id: int, at: datetime) -> None:
    """What the post asset does: the ledger row goes live, then the queue row hears of it."""
    with transaction(factory) as session:
        target = session.get_one(QueuedPost, queue_id)
        published(session, target.story_key, at, target.platform, target.account, target.part)
        mark_outcome(session, queue_id, "published")


def test_the_gap_and_its_jitter_come_from_the_ledger(factory: sessionmaker[Session]) -> None:
    policy = PostingPolicy(gap_s=1800, jitter_s=900)
    with transaction(factory) as session:
        last = published(session, "earlier", T0)
        waiting = queued(session, "next", not_before=T0)[0].id
        slot = next_slot(session, policy, "youtube", "main", "normal", T0 + timedelta(minutes=5))
        jitter = policy.jitter_for("youtube", last.id)
    assert jitter > timedelta(0)
    assert slot.at == T0 + timedelta(seconds=1800) + jitter
    assert slot.reason == "spacing gap since the last post"
    assert plan_dispatch(factory, policy, slot.at - timedelta(seconds=1)) == []
    assert row(factory, waiting).state == "due"
    # a restart re-reads the same ledger row: the same jitter, the same slot
    with transaction(factory) as session:
        again = next_slot(session, PostingPolicy(gap_s=1800, jitter_s=900), "youtube", "main", "normal", T0)
    assert again.at == slot.at
    [dispatch] = plan_dispatch(factory, policy, slot.at)
    assert (dispatch.queue_id, dispatch.run_key, dispatch.priority) == (waiting, f"queue-{waiting}-1", 0)


def test_a_platform_gap_overrides_the_general_one_and_other_accounts_are_free(
    factory: sessionmaker[Session],
) -> None:
    policy = PostingPolicy(gap_s=60, jitter_s=0, platform_gaps={"tiktok": 3600})
    with transaction(factory) as session:
        published(session, "a", T0, "tiktok", "main")
        published(session, "b", T0, "youtube", "main")
        assert next_slot(session, policy, "tiktok", "main", "normal", T0).at == T0 + timedelta(hours=1)
        assert next_slot(session, policy, "youtube", "main", "normal", T0).at == T0 + timedelta(minutes=1)
        assert next_slot(session, policy, "tiktok", "second", "normal", T0).at == T0


def test_the_daily_cap_counts_the_day_in_the_configured_zone(factory: sessionmaker[Session]) -> None:
    new_york = ZoneInfo("America/New_York")
    policy = PostingPolicy(gap_s=0, jitter_s=0, daily_caps={"youtube": 2}, timezone=new_york)
    with transaction(factory) as session:
        # 23:30 on June 9th in New York is already June 10th in UTC: yesterday, for the cap
        published(session, "late", datetime(2026, 6, 9, 23, 30, tzinfo=new_york))
        published(session, "morning", datetime(2026, 6, 10, 9, 0, tzinfo=new_york))
        afternoon = datetime(2026, 6, 10, 15, 0, tzinfo=new_york)
        assert next_slot(session, policy, "youtube", "main", "normal", afternoon).at == afternoon
        published(session, "noon", datetime(2026, 6, 10, 12, 0, tzinfo=new_york))
        slot = next_slot(session, policy, "youtube", "main", "normal", afternoon)
        assert slot.at == datetime(2026, 6, 11, 0, 0, tzinfo=new_york)
        assert slot.reason == "daily cap of 2 posts reached"
        utc_policy = PostingPolicy(gap_s=0, jitter_s=0, daily_caps={"youtube": 3})
        assert next_slot(session, utc_policy, "youtube", "main", "normal", afternoon).at > afternoon


def test_quiet_hours_across_midnight_in_the_configured_zone(factory: sessionmaker[Session]) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    policy = PostingPolicy(gap_s=0, jitter_s=0, quiet_hours=QuietHours.parse("23:00-07:00"), timezone=berlin)
    with transaction(factory) as session:
        before = datetime(2026, 6, 10, 20, 30, tzinfo=UTC)  # 22:30 in Berlin
        assert next_slot(session, policy, "youtube", "main", "normal", before).at == before
        night = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)  # 00:30 in Berlin
        slot = next_slot(session, policy, "youtube", "main", "normal", night)
        assert (slot.at, slot.reason) == (datetime(2026, 6, 11, 5, 0, tzinfo=UTC), "quiet hours")
        assert next_slot(session, policy, "youtube", "main", "breaking", night).at == night
        queued(session, "overnight", not_before=night - timedelta(hours=1))
        queued(session, "flood", "x", lane="breaking", not_before=night - timedelta(hours=1))
    [dispatch] = plan_dispatch(factory, policy, night)
    assert (dispatch.story_key, dispatch.lane, dispatch.priority) == ("flood", "breaking", 10)
    morning = plan_dispatch(factory, policy, datetime(2026, 6, 11, 5, 0, tzinfo=UTC))
    assert [d.story_key for d in morning] == ["flood", "overnight"]  # flood: still publishing, same key
    assert morning[0] == dispatch


def test_a_capped_day_that_ends_in_quiet_hours_opens_when_they_end(factory: sessionmaker[Session]) -> None:
    policy = PostingPolicy(
        gap_s=0, jitter_s=0, daily_caps={"youtube": 1}, quiet_hours=QuietHours.parse("22:00-06:30")
    )
    with transaction(factory) as session:
        published(session, "today", T0)
        slot = next_slot(session, policy, "youtube", "main", "normal", T0 + timedelta(hours=1))
    assert (slot.at, slot.reason) == (datetime(2026, 6, 11, 6, 30, tzinfo=UTC), "quiet hours")


def test_lanes_then_not_before_then_age(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        backlog = queued(session, "old", lane="backlog", not_before=T0 - timedelta(days=2))[0].id
        normal_late = queued(session, "late", not_before=T0 - timedelta(minutes=5))[0].id
        normal_early = queued(session, "early", not_before=T0 - timedelta(hours=1))[0].id
        breaking = queued(session, "flood", lane="breaking", not_before=T0)[0].id
    order = []
    moment = T0
    for _ in range(4):
        [dispatch] = plan_dispatch(factory, NO_GAP, moment)
        assert plan_dispatch(factory, NO_GAP, moment) == [dispatch]  # one at a time per account
        order.append(dispatch.queue_id)
        moment += timedelta(minutes=1)
        go_live(factory, dispatch.queue_id, moment)
    assert order == [breaking, normal_early, normal_late, backlog]
    assert plan_dispatch(factory, NO_GAP, moment + timedelta(minutes=1)) == []


def test_breaking_news_skips_the_gap_and_the_daily_cap_but_not_the_platform_limit(
    factory: sessionmaker[Session],
) -> None:
    policy = PostingPolicy(gap_s=1800, jitter_s=900, daily_caps={"tiktok": 1})
    hard = policy.hard_cap("tiktok")
    assert hard == 15
    first = T0 - timedelta(hours=20)
    with transaction(factory) as session:
        for n in range(hard - 1):
            published(session, f"earlier-{n}", first + timedelta(minutes=n), "tiktok")
        normal = queued(session, "routine", "tiktok", not_before=T0)[0].id
        flood = queued(session, "flood", "tiktok", lane="breaking", not_before=T0)[0].id
        fire = queued(session, "fire", "tiktok", lane="breaking", not_before=T0)[0].id
    [dispatch] = plan_dispatch(factory, policy, T0)
    assert dispatch.queue_id == flood
    go_live(factory, flood, T0)
    assert plan_dispatch(factory, policy, T0 + timedelta(minutes=1)) == []  # 15 in 24 h: TikTok's limit
    with transaction(factory) as session:
        slot = next_slot(session, policy, "tiktok", "main", "breaking", T0)
    assert slot.at == first + timedelta(days=1)  # when the oldest of the fifteen leaves the window
    assert slot.reason == "tiktok's own limit of 15 posts in 24 h"
    [later] = plan_dispatch(factory, policy, slot.at)
    assert later.queue_id == fire
    assert row(factory, normal).state == "due"


def test_the_platform_limit_holds_over_any_24_hours_even_across_midnight(
    factory: sessionmaker[Session],
) -> None:
    policy = PostingPolicy(gap_s=0, jitter_s=0, daily_caps={"tiktok": 15})
    evening = datetime(2026, 6, 9, 22, 0, tzinfo=UTC)
    with transaction(factory) as session:
        for n in range(10):
            published(session, f"evening-{n}", evening + timedelta(minutes=5 * n), "tiktok")
        for n in range(5):
            published(session, f"night-{n}", T0 - timedelta(hours=11, minutes=-n), "tiktok")
        slot = next_slot(session, policy, "tiktok", "main", "normal", T0)
    assert slot.at == evening + timedelta(days=1)


def test_part_two_never_goes_before_part_one_on_the_account(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        part_one, part_two = queued(session, "serial", parts=2, not_before=T0 - timedelta(hours=1))
        part_one.not_before = T0 + timedelta(hours=1)  # rescheduled: part one now goes later
        other = queued(session, "other", not_before=T0)[0].id
        x_one, _x_two = queued(session, "serial", "x", parts=2, not_before=T0 - timedelta(hours=1))

    def on_youtube(moment: datetime) -> list[int]:
        return [d.queue_id for d in plan_dispatch(factory, NO_GAP, moment) if d.platform == "youtube"]

    assert [d.queue_id for d in plan_dispatch(factory, NO_GAP, T0)] == [x_one.id, other]
    go_live(factory, other, T0)
    assert on_youtube(T0 + timedelta(minutes=1)) == []  # part two is due, but part one is not live
    assert on_youtube(T0 + timedelta(hours=1)) == [part_one.id]
    go_live(factory, part_one.id, T0 + timedelta(hours=1))
    assert on_youtube(T0 + timedelta(hours=1, minutes=1)) == [part_two.id]


def test_a_post_waits_for_its_video_and_does_not_block_the_others(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        queued(session, "in-production", not_before=T0 - timedelta(hours=1), produced=False)
        ready = queued(session, "ready", not_before=T0)[0].id
        future = queued(session, "tomorrow", not_before=T0 + timedelta(days=1))[0].id
    [dispatch] = plan_dispatch(factory, NO_GAP, T0)
    assert dispatch.queue_id == ready
    assert row(factory, future).state == "queued"


def test_a_repeated_plan_after_a_crash_asks_for_the_same_run(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        waiting = queued(session, "story", not_before=T0)[0].id
        queued(session, "story", "x", not_before=T0)
    first = plan_dispatch(factory, NO_GAP, T0)
    # the sensor died before its runs were requested: the next tick offers exactly the same ones
    assert plan_dispatch(factory, NO_GAP, T0 + timedelta(seconds=3)) == first
    assert {d.run_key for d in first} == {f"queue-{d.queue_id}-1" for d in first}
    # the run ended without an outcome: the row goes back and its next run has a new key
    with transaction(factory) as session:
        release(session, waiting, 1, "run ended canceled")
    again = [d for d in plan_dispatch(factory, NO_GAP, T0 + timedelta(seconds=6)) if d.queue_id == waiting]
    assert [d.run_key for d in again] == [f"queue-{waiting}-2"]
    with transaction(factory) as session:
        mark_outcome(session, waiting, "failed", "refused")
        retry(session, waiting)
    retried = [d for d in plan_dispatch(factory, NO_GAP, datetime.now(UTC)) if d.queue_id == waiting]
    assert [d.run_key for d in retried] == [f"queue-{waiting}-3"]


def test_rows_the_ledger_shows_live_are_settled_not_dispatched(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        uploaded = queued(session, "by-hand", not_before=T0)[0].id
        in_flight = queued(session, "in-flight", "x", not_before=T0)[0].id
        session.get_one(QueuedPost, in_flight).state = "publishing"
        published(session, "by-hand", T0 - timedelta(days=1))
        entry = published(session, "in-flight", T0 - timedelta(minutes=1), "x")
    assert plan_dispatch(factory, NO_GAP, T0) == []
    assert row(factory, uploaded).state == "published"
    settled = row(factory, in_flight)
    assert (settled.state, settled.ledger_id) == ("published", entry.id)


def test_the_best_ready_row_is_found_past_a_page_of_rows_that_must_wait(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        for n in range(60):  # second parts whose first parts are not live: they cannot go
            queued(session, f"serial-{n}", parts=2, lane="breaking", not_before=T0)[0].state = "cancelled"
        ready = queued(session, "ready", lane="backlog", not_before=T0)[0].id
    [dispatch] = plan_dispatch(factory, NO_GAP, T0)
    assert dispatch.queue_id == ready
