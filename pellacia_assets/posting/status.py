"""Where each platform account stands (`pellacia-dist queue status`): next slot and why, what waits in
which lane, what went out today against the cap, and the last error; and, for the dispatcher's skip
reason, why nothing goes out now. Counted in the database, so a long queue costs a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pellacia_assets.posting.dispatch import first_ready, next_slot, published_today
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.producers import targets_for
from resources.database.models import QueuedPost, as_utc
from resources.database.post_queue import LANES, OPEN, WAITING


@dataclass(frozen=True)
class AccountStatus:
    """One platform account. `next_slot` is for the normal lane (breaking news only waits for the
    platform's hard cap: `breaking_slot`); `publishing` is the queue id being published now, if any."""

    platform: str
    account: str
    next_slot: datetime
    next_slot_reason: str
    breaking_slot: datetime
    queued: dict[str, int]
    publishing: int | None
    published_today: int
    daily_cap: int
    hard_cap: int | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "account": self.account,
            "next_slot": self.next_slot.isoformat(),
            "next_slot_reason": self.next_slot_reason,
            "breaking_slot": self.breaking_slot.isoformat(),
            "queued": dict(self.queued),
            "publishing": self.publishing,
            "published_today": self.published_today,
            "daily_cap": self.daily_cap,
            "hard_cap": self.hard_cap,
            "last_error": self.last_error,
        }


def _counts(
    session: Session, states: tuple[str, ...]
) -> dict[tuple[str, str, str, str], tuple[int, datetime]]:
    """(platform, account, state, lane) -> (rows, earliest not-before) over the rows in `states`."""
    found = session.execute(
        select(
            QueuedPost.platform,
            QueuedPost.account,
            QueuedPost.state,
            QueuedPost.lane,
            func.count(QueuedPost.id),
            func.min(QueuedPost.not_before),
        )
        .where(QueuedPost.state.in_(states))
        .group_by(QueuedPost.platform, QueuedPost.account, QueuedPost.state, QueuedPost.lane)
    ).all()
    return {(p, a, state, lane): (int(n), as_utc(first)) for p, a, state, lane, n, first in found}


def _publishing(session: Session, platform: str, account: str) -> int | None:
    return session.scalar(
        select(QueuedPost.id)
        .where(
            QueuedPost.platform == platform, QueuedPost.account == account, QueuedPost.state == "publishing"
        )
        .order_by(QueuedPost.id)
        .limit(1)
    )


def _last_error(session: Session, platform: str, account: str) -> str | None:
    return session.scalar(
        select(QueuedPost.last_error)
        .where(
            QueuedPost.platform == platform, QueuedPost.account == account, QueuedPost.last_error.is_not(None)
        )
        .order_by(QueuedPost.updated_at.desc(), QueuedPost.id.desc())
        .limit(1)
    )


def waiting_summary(session: Session, policy: PostingPolicy, now: datetime) -> list[str]:
    """Why nothing goes out now, one line per account with open posts (the dispatcher's skip reason)."""
    counts = _counts(session, OPEN)
    lines = []
    for platform, account in sorted({(p, a) for p, a, _state, _lane in counts}):
        where = f"{platform}/{account}"
        mine = {
            (state, lane): value
            for (p, a, state, lane), value in counts.items()
            if (p, a) == (platform, account)
        }
        publishing = _publishing(session, platform, account)
        if publishing is not None:
            lines.append(f"{where}: publishing queued post {publishing}")
            continue
        ready = first_ready(session, platform, account, now)
        if ready is not None:
            slot = next_slot(session, policy, platform, account, ready.lane, now)
            lines.append(
                f"{where}: queued post {ready.id} goes out at {_clock(policy, slot.at)}"
                + (f" ({slot.reason})" if slot.reason else "")
            )
            continue
        first = min(earliest for (_state, _lane), (_n, earliest) in mine.items())
        if first > now:
            lines.append(f"{where}: next post not before {_clock(policy, first)}")
        else:
            lines.append(f"{where}: posts due, waiting for their video or an earlier part")
    return lines


def _clock(policy: PostingPolicy, moment: datetime) -> str:
    return policy.local(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def account_status(session: Session, policy: PostingPolicy, now: datetime) -> list[AccountStatus]:
    """Every configured account (the policy's platforms) and every account that has queue rows."""
    counts = _counts(session, WAITING)
    known = session.execute(select(QueuedPost.platform, QueuedPost.account).distinct()).all()
    accounts = set(targets_for(policy.platforms)) | {(p, a) for p, a in known}
    statuses = []
    for platform, account in sorted(accounts):
        slot = next_slot(session, policy, platform, account, "normal", now)
        breaking = next_slot(session, policy, platform, account, "breaking", now)
        statuses.append(
            AccountStatus(
                platform=platform,
                account=account,
                next_slot=slot.at,
                next_slot_reason=slot.reason,
                breaking_slot=breaking.at,
                queued={
                    lane: sum(counts.get((platform, account, state, lane), (0, now))[0] for state in WAITING)
                    for lane in LANES
                },
                publishing=_publishing(session, platform, account),
                published_today=published_today(session, policy, platform, account, now),
                daily_cap=policy.daily_cap(platform),
                hard_cap=policy.hard_cap(platform),
                last_error=_last_error(session, platform, account),
            )
        )
    return statuses
