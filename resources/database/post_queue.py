"""The posting queue's rows (DESIGN.md 3a): what each producer adds and each command changes.

Rows are (story, part, platform, account); the rules that pick the next one are in
`pellacia_assets/posting/dispatch.py`. A row's outcome is settled from the publish ledger, so the queue
can never say "not posted" about a video the ledger knows is live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from resources.database.models import LedgerEntry, QueuedPost, as_utc

LANES = ("breaking", "normal", "backlog")
LANE_RANK = {lane: rank for rank, lane in enumerate(LANES)}
RUN_PRIORITY = {"breaking": 10, "normal": 0, "backlog": -1}  # the runs' `dagster/priority` tag
STATES = ("queued", "due", "publishing", "published", "failed", "manual", "cancelled")
WAITING = ("queued", "due")
OPEN = ("queued", "due", "publishing")
FINAL = ("published", "failed", "manual", "cancelled")
# A row whose run ended this many times without saying what became of it (killed, cancelled, crashed
# before publishing) is failed instead of dispatched once more.
MAX_DISPATCHES = 3


class QueueError(ValueError):
    """A queue command that cannot apply (unknown id, a row in the wrong state); the message says why."""


def lane_named(lane: str) -> str:
    if lane not in LANES:
        raise QueueError(f"unknown priority {lane!r}; choose from {', '.join(LANES)}")
    return lane


def enqueue(
    session: Session,
    story_key: str,
    parts: int,
    targets: Iterable[tuple[str, str]],
    lane: str = "normal",
    not_before: datetime | None = None,
) -> list[QueuedPost]:
    """Queue every part of a story for each (platform, account). Idempotent: a row that exists keeps its
    state (a published post is never queued again) and is only ever raised to a faster lane."""
    lane = lane_named(lane)
    # in UTC: SQLite keeps a datetime's wall clock and drops its zone
    when = as_utc(not_before).astimezone(UTC) if not_before is not None else datetime.now(UTC)
    rows = []
    for platform, account in targets:
        for part in range(1, parts + 1):
            row = session.scalars(
                select(QueuedPost).where(
                    QueuedPost.story_key == story_key,
                    QueuedPost.part == part,
                    QueuedPost.platform == platform,
                    QueuedPost.account == account,
                )
            ).one_or_none()
            if row is None:
                row = QueuedPost(
                    story_key=story_key,
                    part=part,
                    parts=parts,
                    platform=platform,
                    account=account,
                    lane=lane,
                    not_before=when,
                    state="queued",
                    dispatches=0,
                )
                session.add(row)
            elif row.state in WAITING and LANE_RANK[lane] < LANE_RANK[row.lane]:
                row.lane = lane
            rows.append(row)
    session.flush()
    return rows


def raise_to_breaking(session: Session, story_key: str) -> list[QueuedPost]:
    """Move a story's waiting posts to the breaking lane (a `NAME.breaking` flag, `story flag`)."""
    rows = list(
        session.scalars(
            select(QueuedPost).where(QueuedPost.story_key == story_key, QueuedPost.state.in_(WAITING))
        )
    )
    for row in rows:
        row.lane = "breaking"
    return rows


def get_row(session: Session, queue_id: int) -> QueuedPost:
    row = session.get(QueuedPost, queue_id)
    if row is None:
        raise QueueError(f"no queued post with id {queue_id}; `pellacia-dist schedule list` shows them")
    return row


def cancel(session: Session, queue_id: int) -> QueuedPost:
    row = get_row(session, queue_id)
    if row.state not in WAITING:
        raise QueueError(f"queued post {queue_id} is {row.state}; only queued or due posts can be cancelled")
    row.state = "cancelled"
    return row


def retry(session: Session, queue_id: int) -> QueuedPost:
    """Queue a failed, manual or cancelled post again for the next free slot."""
    row = get_row(session, queue_id)
    if row.state not in ("failed", "manual", "cancelled"):
        raise QueueError(
            f"queued post {queue_id} is {row.state}; only failed, manual or cancelled posts can be retried"
        )
    row.state = "queued"
    row.not_before = datetime.now(UTC)
    row.last_error = None
    return row


def clear(session: Session, state: str) -> int:
    """Delete the rows in one final state (`queue clear --status failed`); open rows are never cleared."""
    if state not in FINAL:
        raise QueueError(f"cannot clear {state!r} posts; choose from {', '.join(FINAL)}")
    result = session.execute(delete(QueuedPost).where(QueuedPost.state == state))
    return int(getattr(result, "rowcount", 0) or 0)


def rows(session: Session, states: Sequence[str] = (), story_key: str | None = None) -> list[QueuedPost]:
    statement = select(QueuedPost).order_by(QueuedPost.not_before, QueuedPost.id)
    if states:
        statement = statement.where(QueuedPost.state.in_(states))
    if story_key is not None:
        statement = statement.where(QueuedPost.story_key == story_key)
    return list(session.scalars(statement))


def ledger_row(session: Session, row: QueuedPost) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.story_key == row.story_key,
            LedgerEntry.part == row.part,
            LedgerEntry.platform == row.platform,
            LedgerEntry.account == row.account,
        )
    ).one_or_none()


def settle_from_ledger(session: Session, row: QueuedPost) -> bool:
    """Mark the row published when the ledger says its post is live; True when it is."""
    entry = ledger_row(session, row)
    if entry is None or entry.state != "published":
        return False
    row.state, row.ledger_id, row.last_error = "published", entry.id, None
    return True


def release(session: Session, queue_id: int, dispatches: int, reason: str) -> QueuedPost | None:
    """Give a `publishing` row back to the queue when the run of its dispatch number `dispatches` ended
    without an outcome; after MAX_DISPATCHES such runs it is failed. None when the row has moved on
    (another dispatch, or an outcome recorded meanwhile): nothing to do."""
    row = session.get(QueuedPost, queue_id)
    if row is None or row.state != "publishing" or row.dispatches != dispatches:
        return None
    if settle_from_ledger(session, row):
        return row
    if row.dispatches >= MAX_DISPATCHES:
        row.state, row.last_error = "failed", f"{reason} ({row.dispatches} runs ended without a post)"
    else:
        row.state, row.last_error = "due", reason
    return row


def settle_open(session: Session) -> list[QueuedPost]:
    """`settle_from_ledger` for every open row at once: one query, however long the queue."""
    found = session.execute(
        select(QueuedPost, LedgerEntry.id)
        .join(
            LedgerEntry,
            and_(
                LedgerEntry.story_key == QueuedPost.story_key,
                LedgerEntry.part == QueuedPost.part,
                LedgerEntry.platform == QueuedPost.platform,
                LedgerEntry.account == QueuedPost.account,
            ),
        )
        .where(QueuedPost.state.in_(OPEN), LedgerEntry.state == "published")
    ).all()
    for row, ledger_id in found:
        row.state, row.ledger_id, row.last_error = "published", ledger_id, None
    return [row for row, _ledger_id in found]


def make_due(session: Session, now: datetime) -> None:
    """Queued rows whose not-before time has come are `due`."""
    session.execute(
        update(QueuedPost)
        .where(QueuedPost.state == "queued", QueuedPost.not_before <= as_utc(now).astimezone(UTC))
        .values(state="due")
    )


def mark_outcome(session: Session, queue_id: int, state: str, error: str | None = None) -> QueuedPost:
    """What became of a dispatched row: `published` (ledger id from the ledger), `failed` or `manual`."""
    if state not in FINAL:
        raise QueueError(f"{state!r} is not an outcome")
    row = get_row(session, queue_id)
    entry = ledger_row(session, row)
    row.ledger_id = entry.id if entry is not None else row.ledger_id
    if state != "published" and entry is not None and entry.state == "published":
        state, error = "published", None  # the ledger knows better: the post is live
    row.state, row.last_error = state, error
    return row
