"""The daily digest: what the factory did in the last 24 hours and what waits, counted from the tables.

Every figure is measured (a count over the ledger or a queue), so "none" means none happened, not that
nothing was known.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from resources.database.models import LedgerEntry, ManualQueueItem, QueuedPost
from resources.database.post_queue import OPEN

WINDOW = timedelta(hours=24)


def digest_text(session: Session, now: datetime) -> str:
    """Posts made, failed and manual-queue entries opened in the 24 hours up to `now`; what is queued and
    open right now."""
    now = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
    since = now - WINDOW
    published = _counts(
        session,
        LedgerEntry.platform,
        LedgerEntry.state == "published",
        LedgerEntry.published_at > since,
        LedgerEntry.published_at <= now,
    )
    queued = _counts(session, QueuedPost.lane, QueuedPost.state.in_(OPEN))
    failed = _counts(
        session,
        QueuedPost.platform,
        QueuedPost.state == "failed",
        QueuedPost.updated_at > since,
        QueuedPost.updated_at <= now,
    )
    still_failed = sum(_counts(session, QueuedPost.platform, QueuedPost.state == "failed").values())
    manual = _counts(session, ManualQueueItem.reason, ManualQueueItem.status == "open")
    failed_line = f"Failed in the last 24 h: {_summary(failed)}"
    older = still_failed - sum(failed.values())
    if older > 0:
        failed_line += f"; {older} earlier failed post(s) not retried yet"
    return "\n".join(
        [
            f"Pellacia daily digest, {since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC",
            f"Posts made: {_summary(published)}",
            f"Queued now: {_summary(queued)}",
            failed_line,
            f"Manual queue, open: {_summary(manual)}",
        ]
    )


def _counts(
    session: Session, column: InstrumentedAttribute[str], *conditions: ColumnElement[bool]
) -> Counter[str]:
    rows = session.execute(select(column, func.count()).where(*conditions).group_by(column)).tuples()
    return Counter({str(key): int(count) for key, count in rows})


def _summary(counts: Counter[str]) -> str:
    """`5 (tiktok 3, youtube 2)`: largest first, or `none`."""
    total = sum(counts.values())
    if total == 0:
        return "none"
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return f"{total} (" + ", ".join(f"{key} {count}" for key, count in ordered) + ")"
