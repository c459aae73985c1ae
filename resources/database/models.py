"""The app's own tables: stories, the publish ledger, the posting queue, the manual queue, alert incidents,
analytics, the platforms' rate budgets and credentials.

Tables carry no schema: on PostgreSQL the engine maps them into the `pellacia` schema (see engine.py),
so the same server can hold Dagster's tables and ours side by side.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, overload

from sqlalchemy import (
    JSON,
    BigInteger,
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


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; ours are all stored in UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class StoryRecord(Base):
    """A story as a source delivered it, and what became of it."""

    __tablename__ = "stories"
    # Lists are pages of the newest stories, all or only those waiting for an editor.
    __table_args__ = (
        Index("ix_stories_created", "created_at", "key"),
        Index("ix_stories_approval_created", "approval", "created_at"),
    )

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # The approval gate (DESIGN.md 3c): `pending` stories wait for an editor; only `approved` ones are
    # produced. `approval_note` is a rejection's reason, `approval_by` who decided (cli, an API token's name).
    approval: Mapped[str] = mapped_column(String(16), default="approved")
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    approval_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approval_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # What a source's dedupe compares besides the key: the canonical URL and a hash of the normalised text.
    canonical_url: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The platforms to post on (None: every configured one) and the earliest time to post, when the
    # source asked for them (a phase-05 sidecar, `schedule`).
    platforms: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    publish_after: Mapped[datetime | None] = mapped_column(nullable=True)
    # where the story was first posted (stories.model.Byline as a dict), for its hook card
    byline: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
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
    # The size of the file this row sends (None on rows written before the ledger kept it).
    video_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
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


class MetricSnapshot(Base):
    """One live post's metrics on one day, each core value with where it came from (DESIGN.md, analytics).

    `metric_values` holds the core metrics known for the day: `provenance` says per metric whether it was
    measured for that day (a history API), a lifetime total as of `as_of`, or unavailable (with its
    reason in `reasons`). `lifetime` keeps the lifetime totals read that day, also when a measured value
    later took the day's place, so daily deltas can be derived from consecutive snapshots. `raw` keeps
    every field the platform returned. A provisional row (inside the platform's reporting delay) is
    collected again once the day is final; a measured value is never replaced by anything but a measured
    one."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (
        UniqueConstraint("platform", "account", "post_id", "day", name="uq_metric_snapshot"),
        Index("ix_metric_snapshot_day", "platform", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    story_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    part: Mapped[int] = mapped_column(Integer, default=1)
    metric_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lifetime: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime | None] = mapped_column(nullable=True)
    post_created_at: Mapped[datetime | None] = mapped_column(nullable=True)
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueuedPost(Base):
    """One post to make: a story part on a platform account, waiting for its slot (DESIGN.md 3a).

    State `queued -> due -> publishing -> published | failed | manual | cancelled`; `dispatches` counts the
    runs requested for it, so each request has its own run key (`queue-<id>-<dispatches>`) and a tick
    repeated after a crash asks for the same run again, which Dagster then skips."""

    __tablename__ = "post_queue"
    __table_args__ = (
        UniqueConstraint("story_key", "part", "platform", "account", name="uq_queue_target"),
        Index("ix_queue_state", "state", "platform", "account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    story_key: Mapped[str] = mapped_column(ForeignKey("stories.key"))
    part: Mapped[int] = mapped_column(Integer, default=1)
    parts: Mapped[int] = mapped_column(Integer, default=1)
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(16), default="normal")
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    dispatches: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("publish_ledger.id"), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ManualQueueItem(Base):
    """A post (or a dropped file) that automation could not finish: everything a person needs to do it.

    `reason` is one of `manual.REASONS` (reauth, policy, media_rejected, retries_exhausted, quarantined,
    captcha, all_paths_failed); `detail` says what happened in words. A quarantined file has no story yet
    (`story_key` None, `source_path` the file)."""

    __tablename__ = "manual_queue"
    __table_args__ = (Index("ix_manual_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    story_key: Mapped[str | None] = mapped_column(ForeignKey("stories.key"), nullable=True)
    part: Mapped[int] = mapped_column(Integer, default=1)
    platform: Mapped[str | None] = mapped_column(String(24), nullable=True)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("post_queue.id"), nullable=True)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("publish_ledger.id"), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    export_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # folders a failed browser attempt kept (screenshot, page HTML, Playwright trace), exported with it
    artifacts: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AlertIncident(Base):
    """One incident (story, platform, cause) that alerted a person once, and whether it has cleared.

    A retry of the same failure finds the open row and sends nothing; `occurrences` counts them. The
    resolved message goes out when the row is closed."""

    __tablename__ = "alert_incidents"
    __table_args__ = (Index("ix_incident_open", "incident_key", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_key: Mapped[str] = mapped_column(String(400))
    story_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    platform: Mapped[str | None] = mapped_column(String(24), nullable=True)
    cause: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    delivered: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
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


class RateBudget(Base):
    """One rate bucket of one platform account (or of the app, account `*`), shared by every process.

    A windowed bucket spends `used` of `capacity` units in the window that began at `window_start` and lasts
    `window_s` seconds (a calendar day where the platform resets at midnight); a paced bucket (a sliding
    window) keeps in `window_start` the moment its next unit is free. `capacity` starts at the documented
    limit and is tightened by the platform's headers; `blocked_until` holds a wait the platform asked for,
    `throttled` counts its 429s. See resources/platforms/budget.py."""

    __tablename__ = "rate_budgets"
    __table_args__ = (UniqueConstraint("platform", "account", "bucket", name="uq_rate_budget"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(24))
    account: Mapped[str] = mapped_column(String(200))
    bucket: Mapped[str] = mapped_column(String(80))
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    window_s: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float] = mapped_column(Float)
    used: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    throttled: Mapped[int] = mapped_column(Integer, default=0)
    last_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourceCursor(Base):
    """How far a source has read (a Reddit fullname, feed ETags, a links file's offset), shared by its
    sensor and `sources poll`, and written only once what it read is admitted."""

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourceSkip(Base):
    """One item a source could not take (not a story, too short, a link that cannot be downloaded), with
    the reason, so a bad item is skipped on record instead of stalling its source."""

    __tablename__ = "source_skips"
    __table_args__ = (UniqueConstraint("source", "item_ref", name="uq_source_skip"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    item_ref: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    """A URL that wants to hear about events (`story.pending`, `post.published`, `post.failed`,
    `manual.created`); each delivery is signed with its own secret (HMAC-SHA256)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, written in the transaction that caused it (an outbox), then POSTed
    and retried with backoff until delivered or out of attempts; the rows are the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
