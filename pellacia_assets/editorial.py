"""What an editor does to stories, the same from the CLI, the REST API and the editorial page: list them,
approve or reject a pending one, flag one as breaking news, add a video link.

Every function takes the app database's session factory and returns plain values (`StoryView`), so no ORM
object outlives its transaction. An approved story is produced by the `approved_stories` sensor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manifests import SCRIPT_FILE
from pellacia_assets.posting.dispatch import DISPATCH_LOCK
from resources.database.engine import locked_transaction, transaction
from resources.database.intake import Admission, ApprovalError, admit, approve, reject
from resources.database.models import StoryRecord, as_utc
from resources.database.post_queue import raise_to_breaking
from resources.media_store.store import MediaStore


@dataclass(frozen=True)
class StoryView:
    """A story as the interfaces show it."""

    key: str
    source_kind: str
    source_ref: str
    title: str
    body: str
    url: str | None
    language: str | None
    priority: str
    tags: tuple[str, ...]
    approval: str
    approval_note: str | None
    approval_by: str | None
    approval_at: datetime | None
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime
    byline: dict[str, Any] | None

    @classmethod
    def of(cls, row: StoryRecord) -> StoryView:
        return cls(
            key=row.key,
            source_kind=row.source_kind,
            source_ref=row.source_ref,
            title=row.title,
            body=row.body,
            url=row.url,
            language=row.language,
            priority=row.priority,
            tags=tuple(row.tags or ()),
            approval=row.approval,
            approval_note=row.approval_note,
            approval_by=row.approval_by,
            approval_at=as_utc(row.approval_at),
            status=row.status,
            error=row.error,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            byline=dict(row.byline) if row.byline else None,
        )


def list_stories(
    factory: sessionmaker[Session],
    *,
    approval: str | None = None,
    status: str | None = None,
    source: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StoryView], int]:
    """One page of stories, newest first, and how many match in all."""
    query = select(StoryRecord)
    if approval:
        query = query.where(StoryRecord.approval == approval)
    if status:
        query = query.where(StoryRecord.status == status)
    if source:
        query = query.where(StoryRecord.source_kind == source)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(StoryRecord.title).like(pattern), func.lower(StoryRecord.key).like(pattern))
        )
    with transaction(factory) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = session.scalars(
            query.order_by(StoryRecord.created_at.desc(), StoryRecord.key.desc()).limit(limit).offset(offset)
        )
        return [StoryView.of(row) for row in page], total


def _row(session: Session, key: str) -> StoryRecord:
    row = session.get(StoryRecord, key)
    if row is None:
        raise ApprovalError(f"no story {key!r}; `pellacia-dist story list` shows the keys", "not_found")
    return row


def get_story(factory: sessionmaker[Session], key: str) -> StoryView:
    with transaction(factory) as session:
        return StoryView.of(_row(session, key))


def approve_story(factory: sessionmaker[Session], key: str, by: str) -> StoryView:
    with transaction(factory) as session:
        return StoryView.of(approve(session, key, by))


def reject_story(factory: sessionmaker[Session], key: str, reason: str, by: str) -> StoryView:
    with transaction(factory) as session:
        return StoryView.of(reject(session, key, reason, by))


def flag_breaking(factory: sessionmaker[Session], key: str, by: str) -> tuple[StoryView, list[int]]:
    """Breaking news: the story's waiting posts move to the breaking lane and later ones start there.
    Returns the story and the ids of the queued posts moved. Taken under the dispatcher's lock, so a
    dispatch tick never sees half of it."""
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        row = _row(session, key)
        row.priority = "breaking"
        moved = [queued.id for queued in raise_to_breaking(session, key)]
        session.flush()
        return StoryView.of(row), moved


def add_link(factory: sessionmaker[Session], url: str, by: str) -> Admission:
    """A video link made into a story (`link-<platform>-<id>`), pending or approved as the links
    source's approval mode says; raises `LinkError` for a URL that cannot be one, or that points inside
    the factory's own network."""
    from pellacia_assets.sources.base import approval_mode
    from pellacia_assets.sources.links import link_candidate, require_public_host

    require_public_host(url)
    candidate = link_candidate(url)
    approval = "pending" if approval_mode("links") == "required" else "approved"
    with transaction(factory) as session:
        admission = admit(
            session,
            candidate.record,
            approval=approval,
            canonical_url=candidate.canonical_url,
            content_hash=candidate.content_hash,
        )
        if admission.outcome == "added" and approval == "approved":
            _row(session, admission.key).approval_by = by  # whoever added the link chose it
        return admission


def story_outputs(store: MediaStore, key: str) -> dict[str, Any]:
    """What production made of a story so far: its script (as JSON) and its videos (paths under the
    media store's root)."""
    script_path = store.asset_dir(key, "script") / SCRIPT_FILE
    script = json.loads(script_path.read_text(encoding="utf-8")) if script_path.is_file() else None
    video_dir = store.asset_dir(key, "video")
    videos = (
        sorted(str(p.relative_to(store.root)) for p in video_dir.glob("part-*.mp4"))
        if video_dir.is_dir()
        else []
    )
    return {"script": script, "videos": videos}
