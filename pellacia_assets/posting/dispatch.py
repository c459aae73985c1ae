"""Which queued post goes out next on each platform account, and when an account's next slot is.

Plain code over the app database: the dispatcher sensor calls `plan_dispatch` once per tick and turns
each `Dispatch` into a run of `<platform>_post`; `upload`, `schedule` and `queue status` call `next_slot`.
Everything is derived from rows on disk (the queue and the publish ledger), so a process killed at any
moment leaves the same rows due when it comes back.

Per account, in one locked transaction:
1. rows whose post the ledger already shows live are settled `published`;
2. queued rows whose time came become `due`;
3. an account with a row `publishing` waits for it (one publication at a time per account); the row is
   offered again with the same run key, which Dagster skips when that run exists;
4. otherwise the best due row of a produced story (lane `breaking > normal > backlog`, then not-before
   time, then age) whose earlier parts on that account are live is dispatched, if the account's slot is
   open: breaking rows only need the platform's hard cap; others also the gap, the daily cap and the end
   of quiet hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.policy import PostingPolicy
from resources.database.engine import locked_transaction
from resources.database.models import LedgerEntry, QueuedPost, StoryRecord, as_utc
from resources.database.post_queue import LANE_RANK, RUN_PRIORITY, WAITING, settle_from_ledger

DISPATCH_LOCK = "post-queue-dispatch"


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


@dataclass(frozen=True)
class Slot:
    """When an account may post next in a lane, and why not sooner (`reason` empty when it is now)."""

    at: datetime
    reason: str


def run_key(row: QueuedPost) -> str:
    return f"queue-{row.id}-{row.dispatches}"


def _dispatch(row: QueuedPost) -> Dispatch:
    priority = RUN_PRIORITY[row.lane]
    return Dispatch(
        row.id, row.story_key, row.part, row.platform, row.account, row.lane, run_key(row), priority
    )


def last_publication(session: Session, platform: str, account: str) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.platform == platform,
            LedgerEntry.account == account,
            LedgerEntry.state == "published",
            LedgerEntry.published_at.is_not(None),
        )
        .order_by(LedgerEntry.published_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    ).one_or_none()


def published_since(session: Session, platform: str, account: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(LedgerEntry.id)).where(
                LedgerEntry.platform == platform,
                LedgerEntry.account == account,
                LedgerEntry.state == "published",
                LedgerEntry.published_at >= since,
            )
        )
        or 0
    )


def next_slot(
    session: Session, policy: PostingPolicy, platform: str, account: str, lane: str, now: datetime
) -> Slot:
    """The earliest moment at or after `now` the account may post in `lane`, by the ledger's history."""
    hard = policy.hard_cap(platform)
    if hard is not None and published_since(session, platform, account, now - timedelta(days=1)) >= hard:
        return Slot(now + timedelta(days=1), f"{platform}'s own limit of {hard} posts in 24 h is reached")
    if lane == "breaking":
        return Slot(now, "")
    at, reason = now, ""
    last = last_publication(session, platform, account)
    if last is not None and last.published_at is not None:
        gap_over = as_utc(last.published_at) + policy.gap_for(platform) + policy.jitter_for(platform, last.id)
        if gap_over > at:
            at, reason = gap_over, "spacing gap since the last post"
    cap = policy.daily_cap(platform)
    if published_since(session, platform, account, policy.day_start(at)) >= cap:
        at, reason = policy.day_start(at) + timedelta(days=1), f"daily cap of {cap} reached"
    if policy.quiet_hours is not None:
        local = policy.local(at)
        after = policy.quiet_hours.end_after(local)
        if after != local:
            at, reason = after.astimezone(UTC), "quiet hours"
    return Slot(at, reason)


def _earlier_parts_live(session: Session, row: QueuedPost) -> bool:
    """Part N goes out on an account only after parts 1..N-1 of the story are live there."""
    if row.part <= 1:
        return True
    live = session.scalar(
        select(func.count(LedgerEntry.id)).where(
            LedgerEntry.story_key == row.story_key,
            LedgerEntry.platform == row.platform,
            LedgerEntry.account == row.account,
            LedgerEntry.part < row.part,
            LedgerEntry.state == "published",
        )
    )
    return int(live or 0) >= row.part - 1


def _produced(session: Session, row: QueuedPost) -> bool:
    """A post waits until its story's videos exist (the `video` asset marks the story `produced`)."""
    story = session.get(StoryRecord, row.story_key)
    return story is not None and story.status == "produced"


def _order(row: QueuedPost) -> tuple[int, datetime, datetime, int]:
    return (LANE_RANK[row.lane], as_utc(row.not_before), as_utc(row.created_at), row.id)


def plan_dispatch(
    factory: sessionmaker[Session], policy: PostingPolicy, now: datetime | None = None
) -> list[Dispatch]:
    """The runs to request now: at most one per platform account (see the module's docstring)."""
    moment = now or datetime.now(UTC)
    planned: list[Dispatch] = []
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        by_account: dict[tuple[str, str], list[QueuedPost]] = defaultdict(list)
        for row in session.scalars(select(QueuedPost).where(QueuedPost.state.in_((*WAITING, "publishing")))):
            if settle_from_ledger(session, row):
                continue
            if row.state == "queued" and as_utc(row.not_before) <= moment:
                row.state = "due"
            by_account[(row.platform, row.account)].append(row)
        for (platform, account), waiting in sorted(by_account.items()):
            in_flight = [row for row in waiting if row.state == "publishing"]
            if in_flight:
                planned += [_dispatch(row) for row in in_flight]
                continue
            candidates = sorted((row for row in waiting if row.state == "due"), key=_order)
            for row in candidates:
                if not _produced(session, row) or not _earlier_parts_live(session, row):
                    continue
                if next_slot(session, policy, platform, account, row.lane, moment).at > moment:
                    break  # the best row cannot go yet, so nothing behind it may overtake it
                row.state, row.dispatches, row.last_error = "publishing", row.dispatches + 1, None
                planned.append(_dispatch(row))
                break
    return planned
