"""Which queued post goes out next on each platform account, and when an account's next slot is.

Plain code over the app database: the dispatcher sensor calls `plan_dispatch` once per tick and turns
each `Dispatch` into a run of `<platform>_post`; `upload`, `schedule` and `queue status` call `next_slot`.
Everything is derived from rows on disk (the queue and the publish ledger), so a process killed at any
moment leaves the same rows due when it comes back.

In one locked transaction:
1. rows whose post the ledger already shows live are settled `published`;
2. queued rows whose time came become `due`;
then per account:
3. an account with a row `publishing` waits for it (one publication at a time per account); the row is
   offered again with the same run key, which Dagster skips when that run exists;
4. otherwise the best due row (lane `breaking > normal > backlog`, then not-before time, then age) of
   a produced story (the `video` asset marks it so once its videos exist) whose earlier parts on that
   account are live is dispatched, if the account's slot is open: breaking rows only need the
   platform's hard cap; others also the gap, the daily cap and the end of quiet hours. Nothing behind
   the best row overtakes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.policy import PostingPolicy
from resources.database.engine import locked_transaction
from resources.database.models import LedgerEntry, QueuedPost, StoryRecord, as_utc
from resources.database.post_queue import LANE_RANK, RUN_PRIORITY, make_due, rows, settle_open

DISPATCH_LOCK = "post-queue-dispatch"  # every change of a queue row's state takes it
# The tags of a dispatched run: the queue row it publishes, its lane and part (priority: `dagster/priority`).
QUEUE_ID_TAG = "pellacia/queue_id"
LANE_TAG = "pellacia/lane"
PART_TAG = "pellacia/part"
ROLLING_DAY = timedelta(days=1)
_MAX_ROUNDS = 8  # the rules below move a slot only forward; a handful of rounds settles every mix


@dataclass(frozen=True)
class Dispatch:
    """One run to request: the queue row it publishes and the run key that makes the request idempotent."""

    queue_id: int
    story_key: str
    part: int
    platform: str
    account: str
    lane: str
    run_key: str
    priority: int
    dispatches: int


@dataclass(frozen=True)
class Slot:
    """When an account may post next in a lane, and why not sooner (`reason` empty when it is now)."""

    at: datetime
    reason: str


def run_key_for(queue_id: int, dispatches: int) -> str:
    """One key per dispatch of a row: the same request after a crash, a new one after a retry."""
    return f"queue-{queue_id}-{dispatches}"


def run_key(row: QueuedPost) -> str:
    return run_key_for(row.id, row.dispatches)


def _dispatch(row: QueuedPost) -> Dispatch:
    return Dispatch(
        row.id,
        row.story_key,
        row.part,
        row.platform,
        row.account,
        row.lane,
        run_key(row),
        RUN_PRIORITY[row.lane],
        row.dispatches,
    )


def _utc(moment: datetime) -> datetime:
    """Query bounds in UTC: SQLite compares the stored UTC wall clock and drops a bound's zone."""
    return moment.astimezone(UTC)


def _published(platform: str, account: str) -> list[ColumnElement[bool]]:
    return [
        LedgerEntry.platform == platform,
        LedgerEntry.account == account,
        LedgerEntry.state == "published",
        LedgerEntry.published_at.is_not(None),
    ]


def last_publication(session: Session, platform: str, account: str) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry)
        .where(*_published(platform, account))
        .order_by(LedgerEntry.published_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    ).one_or_none()


def published_since(session: Session, platform: str, account: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(LedgerEntry.id)).where(
                *_published(platform, account), LedgerEntry.published_at >= _utc(since)
            )
        )
        or 0
    )


def published_today(
    session: Session, policy: PostingPolicy, platform: str, account: str, now: datetime
) -> int:
    """Posts on the account since midnight in PELLACIA_TIMEZONE: what the daily cap counts."""
    return published_since(session, platform, account, policy.day_start(now))


_Rule = Callable[[datetime], tuple[datetime, str] | None]


def _hard_cap_rule(session: Session, policy: PostingPolicy, platform: str, account: str) -> _Rule | None:
    """The platform's own limit over any 24 h: the slot opens when enough posts leave the window."""
    hard = policy.hard_cap(platform)
    if hard is None:
        return None

    def rule(at: datetime) -> tuple[datetime, str] | None:
        times = [
            as_utc(moment)
            for moment in session.scalars(
                select(LedgerEntry.published_at)
                .where(*_published(platform, account), LedgerEntry.published_at > _utc(at - ROLLING_DAY))
                .order_by(LedgerEntry.published_at)
            )
            if moment is not None
        ]
        if len(times) < hard:
            return None
        return times[len(times) - hard] + ROLLING_DAY, f"{platform}'s own limit of {hard} posts in 24 h"

    return rule


def _gap_rule(session: Session, policy: PostingPolicy, platform: str, account: str) -> _Rule | None:
    """The gap since the account's last publication, plus the jitter that publication's ledger row fixed."""
    if policy.gap_for(platform) <= timedelta(0):
        return None
    last = last_publication(session, platform, account)
    if last is None or last.published_at is None:
        return None
    gap_over = as_utc(last.published_at) + policy.gap_for(platform) + policy.jitter_for(platform, last.id)

    def rule(at: datetime) -> tuple[datetime, str] | None:
        return (gap_over, "spacing gap since the last post") if gap_over > at else None

    return rule


def _daily_cap_rule(session: Session, policy: PostingPolicy, platform: str, account: str) -> _Rule:
    cap = policy.daily_cap(platform)

    def rule(at: datetime) -> tuple[datetime, str] | None:
        start = policy.day_start(at)
        if published_since(session, platform, account, start) < cap:
            return None
        return _utc(policy.next_day_start(at)), f"daily cap of {cap} posts reached"

    return rule


def _quiet_rule(policy: PostingPolicy) -> _Rule | None:
    quiet = policy.quiet_hours
    if quiet is None:
        return None

    def rule(at: datetime) -> tuple[datetime, str] | None:
        local = policy.local(at)
        after = quiet.end_after(local)
        return None if after == local else (_utc(after), "quiet hours")

    return rule


def next_slot(
    session: Session, policy: PostingPolicy, platform: str, account: str, lane: str, now: datetime
) -> Slot:
    """The earliest moment at or after `now` the account may post in `lane`, by the ledger's history.

    Breaking news only waits for the platform's hard cap; other lanes also for the gap, the daily cap
    and the end of quiet hours. Each rule only moves the moment later, so they are applied in turn until
    none moves it; `reason` names the rule that set it last."""
    rules = [_hard_cap_rule(session, policy, platform, account)]
    if lane != "breaking":
        rules += [
            _gap_rule(session, policy, platform, account),
            _daily_cap_rule(session, policy, platform, account),
            _quiet_rule(policy),
        ]
    at, reason = _utc(now), ""
    for _round in range(_MAX_ROUNDS):
        moved = False
        for rule in rules:
            pushed = rule(at) if rule is not None else None
            if pushed is not None and pushed[0] > at:
                at, reason, moved = pushed[0], pushed[1], True
        if not moved:
            break
    return Slot(at, reason)


def earlier_parts_live(session: Session, row: QueuedPost) -> bool:
    """Part N goes out on an account only after parts 1..N-1 of the story are live there."""
    if row.part <= 1:
        return True
    live = session.scalar(
        select(func.count(func.distinct(LedgerEntry.part))).where(
            LedgerEntry.story_key == row.story_key,
            LedgerEntry.platform == row.platform,
            LedgerEntry.account == row.account,
            LedgerEntry.part < row.part,
            LedgerEntry.state == "published",
        )
    )
    return int(live or 0) >= row.part - 1


_LANE_ORDER = case(LANE_RANK, value=QueuedPost.lane, else_=len(LANE_RANK))
_PAGE = 50


def first_ready(session: Session, platform: str, account: str, now: datetime) -> QueuedPost | None:
    """The account's best row that may go out once its slot opens: due (or queued with its time come),
    its story produced, its earlier parts live; lane `breaking > normal > backlog`, then not-before
    time, then age. Read a page at a time: a long queue costs only what is looked at."""
    statement = (
        select(QueuedPost)
        .join(StoryRecord, StoryRecord.key == QueuedPost.story_key)
        .where(
            QueuedPost.platform == platform,
            QueuedPost.account == account,
            StoryRecord.status == "produced",
            or_(
                QueuedPost.state == "due",
                and_(QueuedPost.state == "queued", QueuedPost.not_before <= _utc(now)),
            ),
        )
        .order_by(_LANE_ORDER, QueuedPost.not_before, QueuedPost.created_at, QueuedPost.id)
        .limit(_PAGE)
    )
    offset = 0
    while page := list(session.scalars(statement.offset(offset))):
        for row in page:
            if earlier_parts_live(session, row):
                return row
        offset += _PAGE
    return None


def plan_dispatch(
    factory: sessionmaker[Session], policy: PostingPolicy, now: datetime | None = None
) -> list[Dispatch]:
    """The runs to request now: at most one per platform account (see the module's docstring)."""
    moment = _utc(now or datetime.now(UTC))
    planned: list[Dispatch] = []
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        settle_open(session)
        make_due(session, moment)
        in_flight = rows(session, ("publishing",))
        planned += [_dispatch(row) for row in in_flight]
        busy = {(row.platform, row.account) for row in in_flight}
        waiting = session.execute(
            select(QueuedPost.platform, QueuedPost.account).where(QueuedPost.state == "due").distinct()
        ).all()
        for platform, account in sorted({(p, a) for p, a in waiting} - busy):
            row = first_ready(session, platform, account, moment)
            if row is None or next_slot(session, policy, platform, account, row.lane, moment).at > moment:
                continue  # nothing behind the best row may overtake it
            row.state, row.dispatches, row.last_error = "publishing", row.dispatches + 1, None
            planned.append(_dispatch(row))
    return sorted(planned, key=lambda dispatch: (dispatch.platform, dispatch.account, dispatch.queue_id))
