"""Admitting stories from sources: dedupe, the approval gate, source cursors and skipped items.

A story is the same story when its key, its canonical URL or the hash of its normalised text matches one
already admitted; the first admission wins and later ones are reported as duplicates, never re-produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pellacia_assets.stories.loading import SourceRecord
from resources.database import webhooks
from resources.database.models import SourceCursor, SourceSkip, StoryRecord
from resources.database.stories import save_source

APPROVAL_STATES = ("pending", "approved", "rejected")


class ApprovalError(ValueError):
    """An approval that cannot be done as asked (an unknown story, a story already decided)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code  # not_found | conflict


@dataclass(frozen=True)
class Admission:
    """What became of one candidate: `added` (with its approval state) or `duplicate` of `same_as`."""

    key: str
    outcome: str  # added | duplicate
    approval: str | None = None
    same_as: str | None = None
    reason: str | None = None


def find_duplicate(
    session: Session, key: str, canonical_url: str | None, content_hash: str | None
) -> tuple[str, str] | None:
    """(the admitted story's key, what matched) when this candidate is a story already admitted."""
    if session.get(StoryRecord, key) is not None:
        return key, "the same key"
    clauses = []
    if canonical_url:
        clauses.append(StoryRecord.canonical_url == canonical_url)
    if content_hash:
        clauses.append(StoryRecord.content_hash == content_hash)
    if not clauses:
        return None
    row = session.scalars(select(StoryRecord).where(or_(*clauses)).limit(1)).first()
    if row is None:
        return None
    what = "the same URL" if canonical_url and row.canonical_url == canonical_url else "the same text"
    return row.key, what


def admit(
    session: Session,
    record: SourceRecord,
    *,
    approval: str,
    canonical_url: str | None = None,
    content_hash: str | None = None,
) -> Admission:
    """Save a new story in its approval state (`pending` or `approved`), or report the one it duplicates.
    A pending story announces itself to webhooks (`story.pending`) in the same transaction."""
    if approval not in ("pending", "approved"):
        raise ValueError(f"a new story is pending or approved, not {approval!r}")
    duplicate = find_duplicate(session, record.key, canonical_url, content_hash)
    if duplicate is not None:
        same_as, what = duplicate
        return Admission(record.key, "duplicate", same_as=same_as, reason=f"{what} as story {same_as!r}")
    row = save_source(session, record)
    row.approval = approval
    if approval == "approved":  # approved on arrival (`PELLACIA_APPROVAL=auto`): the source decided
        row.approval_by, row.approval_at = "auto", datetime.now(UTC)
    row.canonical_url = canonical_url
    row.content_hash = content_hash
    session.flush()
    if approval == "pending":
        webhooks.emit(session, "story.pending", story_event(row))
    return Admission(record.key, "added", approval=approval)


def story_event(row: StoryRecord) -> dict[str, Any]:
    """A story as webhook events describe it."""
    return {
        "key": row.key,
        "title": row.title,
        "source": row.source_kind,
        "url": row.url,
        "priority": row.priority,
        "approval": row.approval,
    }


def _decidable(session: Session, key: str) -> StoryRecord:
    row = session.get(StoryRecord, key)
    if row is None:
        raise ApprovalError(f"no story {key!r}; `pellacia-dist story list` shows the keys", "not_found")
    return row


def approve(session: Session, key: str, by: str) -> StoryRecord:
    """Approve a pending story, so it is produced. Approving it again, or a rejected one, is refused."""
    row = _decidable(session, key)
    if row.approval != "pending":
        raise ApprovalError(f"story {key!r} is already {row.approval}; nothing was changed", "conflict")
    row.approval, row.approval_by, row.approval_at = "approved", by, datetime.now(UTC)
    row.approval_note = None
    return row


def reject(session: Session, key: str, reason: str, by: str) -> StoryRecord:
    """Reject a pending story with a reason; it is never produced."""
    if not reason.strip():
        raise ApprovalError("a rejection needs a reason (--reason)", "invalid")
    row = _decidable(session, key)
    if row.approval != "pending":
        raise ApprovalError(f"story {key!r} is already {row.approval}; nothing was changed", "conflict")
    row.approval, row.approval_by, row.approval_at = "rejected", by, datetime.now(UTC)
    row.approval_note = reason.strip()
    return row


def record_text(session: Session, key: str, body: str, text_hash: str) -> str | None:
    """Keep the text a story turned out to have once its words are known (a link's transcript), with its
    hash for dedupe; or, when another story already has that text, leave this one as it is and return the
    other's key."""
    same = session.scalars(
        select(StoryRecord.key).where(StoryRecord.content_hash == text_hash, StoryRecord.key != key).limit(1)
    ).first()
    if same is not None:
        return same
    row = session.get(StoryRecord, key)
    if row is not None:
        row.body, row.content_hash = body, text_hash
    return None


def approved_unproduced(session: Session, limit: int = 100) -> list[StoryRecord]:
    """Approved stories no run has started on yet (status `new`): what the approval sensor produces."""
    query = (
        select(StoryRecord)
        .where(StoryRecord.approval == "approved", StoryRecord.status == "new")
        .order_by(StoryRecord.approval_at, StoryRecord.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def read_cursor(session: Session, source: str) -> dict[str, Any]:
    row = session.get(SourceCursor, source)
    return dict(row.cursor) if row is not None else {}


def write_cursor(session: Session, source: str, cursor: dict[str, Any]) -> None:
    row = session.get(SourceCursor, source)
    if row is None:
        session.add(SourceCursor(source=source, cursor=cursor))
    else:
        row.cursor = cursor


def record_skip(session: Session, source: str, item_ref: str, reason: str) -> None:
    """Note an item the source could not take; a repeat of the same item counts, it adds no row."""
    ref = item_ref[:500]
    row = session.scalars(
        select(SourceSkip).where(SourceSkip.source == source, SourceSkip.item_ref == ref)
    ).first()
    if row is None:
        session.add(SourceSkip(source=source, item_ref=ref, reason=reason))
    else:
        row.reason, row.occurrences, row.last_seen_at = reason, row.occurrences + 1, datetime.now(UTC)
