"""The app's own tables: stories, the publish ledger, analytics, schedules, manual queue, credentials.

Tables carry no schema: on PostgreSQL the engine maps them into the `pellacia` schema (see engine.py),
so the same server can hold Dagster's tables and ours side by side.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class StoryRecord(Base):
    """A story as a source delivered it, and what became of it."""

    __tablename__ = "stories"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24), default="new")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LedgerEntry(Base):
    """One publication of one story part to one platform account (DESIGN.md section 3)."""

    __tablename__ = "publish_ledger"
    __table_args__ = (
        UniqueConstraint("story_key", "part", "platform", "account", name="uq_ledger_target"),
        Index("ix_ledger_video", "platform", "account", "video_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    story_key: Mapped[str] = mapped_column(ForeignKey("stories.key"))
    part: Mapped[int] = mapped_column(Integer, default=1)
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    video_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="planned")
    platform_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    post_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    allow_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The process publishing this row right now (see ledger.claim_entry), and until when its lease holds;
    # both empty when nobody is.
    claim_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AnalyticsSnapshot(Base):
    """A day's metrics of one live post; re-collecting the same day replaces the row."""

    __tablename__ = "analytics_snapshots"
    __table_args__ = (UniqueConstraint("platform", "post_id", "day", name="uq_snapshot_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(24))
    post_id: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    watch_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledPost(Base):
    """A post waiting for its slot: lanes order the queue, the spacing rule picks the time."""

    __tablename__ = "scheduled_posts"
    __table_args__ = (Index("ix_scheduled_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    story_key: Mapped[str] = mapped_column(ForeignKey("stories.key"))
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(16), default="normal")
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ManualQueueItem(Base):
    """A post the API and the browser could not make: exported for a person to upload."""

    __tablename__ = "manual_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    story_key: Mapped[str] = mapped_column(ForeignKey("stories.key"))
    part: Mapped[int] = mapped_column(Integer, default=1)
    platform: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    export_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PlatformCredential(Base):
    """OAuth tokens of one account, stored only as ciphertext (see crypto.py)."""

    __tablename__ = "platform_credentials"
    __table_args__ = (UniqueConstraint("platform", "account", name="uq_credential_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
