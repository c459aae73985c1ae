"""Queue and ledger rows written the way the factory writes them, at chosen times, for the posting tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from pellacia_assets.stories.loading import SourceRecord
from resources.database.models import LedgerEntry, QueuedPost, StoryRecord
from resources.database.post_queue import enqueue
from resources.database.stories import save_source, set_status


def story(session: Session, key: str, status: str = "produced", priority: str = "normal") -> None:
    save_source(
        session,
        SourceRecord(key=key, source_kind="t", source_ref="t", title=key, body="B", priority=priority),
    )
    set_status(session, key, status)
    session.flush()


def queued(
    session: Session,
    key: str,
    platform: str = "youtube",
    account: str = "main",
    *,
    parts: int = 1,
    lane: str = "normal",
    not_before: datetime,
    produced: bool = True,
) -> list[QueuedPost]:
    story(session, key, "produced" if produced else "script")
    return enqueue(session, key, parts, [(platform, account)], lane, not_before)


def published(
    session: Session, key: str, at: datetime, platform: str = "youtube", account: str = "main", part: int = 1
) -> LedgerEntry:
    """A live post in the ledger, published at `at` (the spacing rules read this time)."""
    if session.get(StoryRecord, key) is None:
        story(session, key)
    entry = LedgerEntry(
        story_key=key,
        part=part,
        platform=platform,
        account=account,
        video_sha256=hashlib.sha256(f"{key}/{part}/{platform}".encode()).hexdigest(),
        state="published",
        post_id=f"{key}-{part}",
        url=f"https://{platform}.test/{key}-{part}",
        published_at=at.astimezone(UTC),  # as the ledger writes it
    )
    session.add(entry)
    session.flush()
    return entry
