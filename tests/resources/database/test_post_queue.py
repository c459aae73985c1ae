"""The posting queue's rows: idempotent producers, lanes only ever raised, commands that refuse what they
cannot do, and outcomes that defer to the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, QueuedPost
from resources.database.post_queue import (
    MAX_DISPATCHES,
    QueueError,
    cancel,
    clear,
    enqueue,
    make_due,
    mark_outcome,
    raise_to_breaking,
    release,
    retry,
    rows,
    settle_from_ledger,
    settle_open,
)
from resources.database.stories import save_source

TARGETS = [("youtube", "main"), ("x", "main")]


@pytest.fixture
def factory(database_url: str) -> sessionmaker[Session]:
    sessions = open_database(database_url)
    with transaction(sessions) as session:
        for key in ("s1", "s2"):
            save_source(session, SourceRecord(key=key, source_kind="t", source_ref="t", title="T", body="B"))
    return sessions


def live(session: Session, story: str, part: int, platform: str, account: str = "main") -> LedgerEntry:
    entry = LedgerEntry(
        story_key=story,
        part=part,
        platform=platform,
        account=account,
        video_sha256=f"{story}{part}".ljust(64, "0"),
        state="published",
        post_id="p1",
        url="https://example.test/p1",
        published_at=datetime.now(UTC),
    )
    session.add(entry)
    session.flush()
    return entry


def test_enqueue_makes_one_row_per_part_and_account_and_is_idempotent(factory: sessionmaker[Session]) -> None:
    later = datetime(2030, 1, 1, 12, tzinfo=UTC)
    with transaction(factory) as session:
        first = enqueue(session, "s1", 2, TARGETS, "normal", later)
        assert [(r.platform, r.part, r.parts, r.state, r.lane) for r in first] == [
            ("youtube", 1, 2, "queued", "normal"),
            ("youtube", 2, 2, "queued", "normal"),
            ("x", 1, 2, "queued", "normal"),
            ("x", 2, 2, "queued", "normal"),
        ]
        first[0].state = "published"
    with transaction(factory) as session:
        again = enqueue(session, "s1", 2, TARGETS, "backlog")
        assert [row.id for row in again] == [row.id for row in first]
        assert {row.lane for row in again} == {"normal"}  # a slower lane never lowers a row
        assert again[0].state == "published"  # a published post is never queued again
        assert all(row.not_before.replace(tzinfo=UTC) == later for row in again)
        raised = enqueue(session, "s1", 2, TARGETS, "breaking")
        assert [row.lane for row in raised] == ["normal", "breaking", "breaking", "breaking"]
        assert len(rows(session)) == 4


def test_an_unknown_lane_is_refused(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session, pytest.raises(QueueError, match="unknown priority 'urgent'"):
        enqueue(session, "s1", 1, TARGETS, "urgent")


def test_raise_to_breaking_moves_only_waiting_posts_of_that_story(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        one = enqueue(session, "s1", 2, TARGETS, "backlog")
        other = enqueue(session, "s2", 1, TARGETS)
        one[0].state = "publishing"
        moved = raise_to_breaking(session, "s1")
        assert sorted(row.id for row in moved) == sorted(row.id for row in one[1:])
        assert one[0].lane == "backlog"
        assert {row.lane for row in other} == {"normal"}


def test_cancel_retry_and_clear_refuse_rows_in_the_wrong_state(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        row = enqueue(session, "s1", 1, TARGETS[:1])[0]
        with pytest.raises(QueueError, match=r"queued post \d+ is queued; only failed"):
            retry(session, row.id)
        assert cancel(session, row.id).state == "cancelled"
        with pytest.raises(QueueError, match="only queued or due posts can be cancelled"):
            cancel(session, row.id)
        with pytest.raises(QueueError, match="no queued post with id 999"):
            cancel(session, 999)
        row.last_error, row.not_before = "boom", datetime(2020, 1, 1, tzinfo=UTC)
        retried = retry(session, row.id)
        assert (retried.state, retried.last_error) == ("queued", None)
        assert retried.not_before.replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=1)
        with pytest.raises(QueueError, match="cannot clear 'queued' posts"):
            clear(session, "queued")
        row.state = "failed"
        enqueue(session, "s2", 1, TARGETS[:1])
    with transaction(factory) as session:
        assert clear(session, "failed") == 1
        assert [r.story_key for r in rows(session)] == ["s2"]


def test_outcomes_defer_to_the_ledger(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        row = enqueue(session, "s1", 1, TARGETS[:1])[0]
        assert not settle_from_ledger(session, row)
        failed = mark_outcome(session, row.id, "failed", "timeout")
        assert (failed.state, failed.last_error, failed.ledger_id) == ("failed", "timeout", None)
        entry = live(session, "s1", 1, "youtube")
        # the ledger knows better: a post it says is live is never reported failed
        settled = mark_outcome(session, row.id, "manual", "reauth")
        assert (settled.state, settled.last_error, settled.ledger_id) == ("published", None, entry.id)
        with pytest.raises(QueueError, match="'due' is not an outcome"):
            mark_outcome(session, row.id, "due")


def test_release_gives_a_row_back_until_it_has_run_too_often(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        row = enqueue(session, "s1", 1, TARGETS[:1])[0]
        row.state, row.dispatches = "publishing", 1
        assert release(session, row.id, 2, "killed") is None  # another dispatch: not ours to release
        released = release(session, row.id, 1, "run r1 ended canceled")
        assert released is not None and (released.state, released.last_error) == (
            "due",
            "run r1 ended canceled",
        )
        assert release(session, row.id, 1, "again") is None  # no longer publishing
        row.state, row.dispatches = "publishing", MAX_DISPATCHES
        failed = release(session, row.id, MAX_DISPATCHES, "run r3 ended failure")
        assert failed is not None and failed.state == "failed"
        assert failed.last_error == f"run r3 ended failure ({MAX_DISPATCHES} runs ended without a post)"
        row.state = "publishing"
        live(session, "s1", 1, "youtube")
        published = release(session, row.id, MAX_DISPATCHES, "killed")
        assert published is not None and published.state == "published"


def test_rows_filter_by_state_and_story_in_time_order(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        late = enqueue(session, "s1", 1, TARGETS[:1], not_before=datetime(2030, 1, 2, tzinfo=UTC))[0]
        early = enqueue(session, "s2", 1, TARGETS[:1], not_before=datetime(2030, 1, 1, tzinfo=UTC))[0]
        early.state = "due"
        assert [row.id for row in rows(session)] == [early.id, late.id]
        assert [row.id for row in rows(session, ("queued",))] == [late.id]
        assert [row.id for row in rows(session, story_key="s2")] == [early.id]
        assert isinstance(rows(session)[0], QueuedPost)


def test_open_rows_are_settled_and_made_due_in_one_go(factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        live_row, waiting = enqueue(session, "s1", 2, TARGETS[:1], not_before=now - timedelta(minutes=1))
        later = enqueue(session, "s2", 1, TARGETS[:1], not_before=now + timedelta(hours=1))[0]
        entry = live(session, "s1", 1, "youtube")
        assert [row.id for row in settle_open(session)] == [live_row.id]
        make_due(session, now)
        assert (live_row.state, live_row.ledger_id) == ("published", entry.id)
        assert (waiting.state, later.state) == ("due", "queued")
