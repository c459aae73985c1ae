"""The publish ledger (DESIGN.md section 3): intent before every create call, every id the moment it exists.

Each publication of a story part to a platform account is one row. Clients write through a
`LedgerJournal`, whose every `put` commits on its own, so a crash after any platform call leaves the ids
needed to resume (or to ask the platform what happened) on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import transaction
from resources.database.models import LedgerEntry, StoryRecord

IN_FLIGHT = ("uploading", "processing", "unknown")
STATES = ("planned", "uploading", "processing", "published", "failed", "manual", "unknown")


class DuplicateVideoError(RuntimeError):
    """The same video file already went (or is going) to this account under another story or part."""


@dataclass(frozen=True)
class LedgerTarget:
    story_key: str
    part: int
    platform: str
    account: str
    video_sha256: str


class LedgerJournal:
    """One ledger row, as a platform client's journal; every write is its own committed transaction."""

    def __init__(self, factory: sessionmaker[Session], entry_id: int) -> None:
        self.factory = factory
        self.entry_id = entry_id

    def _update(self, **changes: Any) -> LedgerEntry:
        with transaction(self.factory) as session:
            entry = session.get_one(LedgerEntry, self.entry_id)
            for name, value in changes.items():
                setattr(entry, name, value)
            return entry

    def snapshot(self) -> LedgerEntry:
        with transaction(self.factory) as session:
            return session.get_one(LedgerEntry, self.entry_id)

    @property
    def state(self) -> str:
        return self.snapshot().state

    def get(self, name: str) -> str | None:
        value = self.snapshot().platform_ids.get(name)
        return None if value is None else str(value)

    def put(self, name: str, value: str) -> None:
        with transaction(self.factory) as session:
            entry = session.get_one(LedgerEntry, self.entry_id)
            entry.platform_ids = {**entry.platform_ids, name: value}

    def ids(self) -> dict[str, Any]:
        return dict(self.snapshot().platform_ids)

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        self._update(state=state)

    def mark_published(self, post_id: str, url: str) -> None:
        self._update(
            state="published", post_id=post_id, url=url, last_error=None, published_at=datetime.now(UTC)
        )

    def mark_failed(self, error: str, state: str = "failed") -> None:
        self._update(state=state, last_error=error)


def open_entry(
    factory: sessionmaker[Session], target: LedgerTarget, allow_duplicate: bool = False
) -> LedgerJournal:
    """The row for `target`, created as `planned` if new; refuses a video already sent to the account."""
    with transaction(factory) as session:
        if session.get(StoryRecord, target.story_key) is None:
            raise ValueError(f"story '{target.story_key}' is not in the stories table")
        entry = session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.story_key == target.story_key,
                LedgerEntry.part == target.part,
                LedgerEntry.platform == target.platform,
                LedgerEntry.account == target.account,
            )
        )
        if not allow_duplicate:
            _refuse_duplicate(session, target)
        if entry is None:
            entry = LedgerEntry(
                story_key=target.story_key,
                part=target.part,
                platform=target.platform,
                account=target.account,
                video_sha256=target.video_sha256,
                state="planned",
                platform_ids={},
                allow_duplicate=allow_duplicate,
                attempts=0,
            )
            session.add(entry)
        elif entry.video_sha256 != target.video_sha256 and entry.state in ("planned", "failed"):
            entry.video_sha256 = target.video_sha256
            entry.platform_ids = {}
        entry.attempts += 1
        session.flush()
        return LedgerJournal(factory, entry.id)


def _refuse_duplicate(session: Session, target: LedgerTarget) -> None:
    other = session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.platform == target.platform,
            LedgerEntry.account == target.account,
            LedgerEntry.video_sha256 == target.video_sha256,
            LedgerEntry.state.in_(("published", *IN_FLIGHT)),
            (LedgerEntry.story_key != target.story_key) | (LedgerEntry.part != target.part),
        )
    )
    if other is not None:
        where = f"as {other.url or other.post_id}" if other.state == "published" else f"(state {other.state})"
        raise DuplicateVideoError(
            f"this video (sha256 {target.video_sha256[:12]}…) already went to {target.platform} account "
            f"'{target.account}' {where} for story '{other.story_key}' part {other.part}; "
            "allow duplicates explicitly to post it again"
        )


def entries_for(factory: sessionmaker[Session], story_key: str, platform: str) -> list[LedgerEntry]:
    with transaction(factory) as session:
        return list(
            session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.story_key == story_key, LedgerEntry.platform == platform)
                .order_by(LedgerEntry.part)
            )
        )
