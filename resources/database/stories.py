"""The stories table: what sources delivered and how far each story got."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Byline
from resources.database.models import StoryRecord, as_utc


def save_source(session: Session, record: SourceRecord) -> StoryRecord:
    """Insert or refresh a story's source record; its production status starts over."""
    row = session.get(StoryRecord, record.key)
    if row is None:
        row = StoryRecord(key=record.key)
        session.add(row)
    row.source_kind = record.source_kind
    row.source_ref = record.source_ref
    row.title = record.title
    row.body = record.body
    row.url = record.url
    row.language = record.language
    row.priority = record.priority
    row.tags = list(record.tags)
    row.platforms = list(record.platforms) or None
    row.publish_after = record.publish_after
    row.byline = asdict(record.byline) if record.byline is not None else None
    row.status = "new"
    row.error = None
    return row


def load_source(session: Session, key: str) -> SourceRecord | None:
    row = session.get(StoryRecord, key)
    if row is None:
        return None
    return SourceRecord(
        key=row.key,
        source_kind=row.source_kind,
        source_ref=row.source_ref,
        title=row.title,
        body=row.body,
        url=row.url,
        language=row.language,
        priority=row.priority,
        tags=tuple(row.tags or ()),
        platforms=tuple(row.platforms or ()),
        publish_after=as_utc(row.publish_after),
        byline=Byline(**row.byline) if row.byline else None,
    )


def set_status(session: Session, key: str, status: str, error: str | None = None) -> None:
    row = session.get(StoryRecord, key)
    if row is not None:
        row.status = status
        row.error = error


def list_stories(session: Session) -> list[StoryRecord]:
    return list(session.scalars(select(StoryRecord).order_by(StoryRecord.created_at)))


def approval_of(session: Session, key: str) -> str | None:
    """The story's approval state (pending, approved, rejected), None for an unknown story."""
    row = session.get(StoryRecord, key)
    return row.approval if row is not None else None


def approval_refusal(key: str, approval: str | None) -> str:
    """Why a story that is not approved is not produced, and what the editor can do about it."""
    if approval == "pending":
        return f"story '{key}' is waiting for approval: `pellacia-dist story approve {key}` (or the /ui page)"
    return f"story '{key}' was rejected by an editor; it is never produced"
