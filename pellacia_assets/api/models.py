"""The API's request and response bodies, so /openapi.json states exactly what goes in and comes out.

Text coming in is checked before it reaches a database: no NUL or other control characters where a line
is meant (PostgreSQL refuses NUL outright) and bounded lengths; pydantic itself refuses lone surrogates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pellacia_assets.analytics.summary import GroupFigures, PostFigures
from pellacia_assets.posting.status import AccountStatus
from resources.platforms import Platform

T = TypeVar("T")

Approval = Literal["pending", "approved", "rejected"]
Lane = Literal["breaking", "normal", "backlog"]
STORY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
MAX_ID = 2_147_483_647  # the ids are 32-bit integers on PostgreSQL
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


Line = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""One line of text: a filter, a URL, a name."""

Paragraph = Annotated[str, StringConstraints(max_length=5000, pattern=r"^[^\x00]*$")]
"""Free text that may span lines (a rejection's reason)."""

StoryKey = Annotated[str, StringConstraints(pattern=STORY_KEY_PATTERN)]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- errors and pages ---------------------------------------------------------------------------------


class ErrorDetail(Model):
    loc: list[str | int]
    msg: str
    type: str


class ErrorInfo(Model):
    code: str = Field(description="stable, for programs: not_found, conflict, invalid_request, ...")
    message: str = Field(description="for people: what went wrong and what to do")
    details: list[ErrorDetail] | None = Field(None, description="validation errors, one per field")


class ErrorResponse(Model):
    error: ErrorInfo


class Page(Model, Generic[T]):
    """One page of a list: `total` counts every match, `items` holds at most `limit` from `offset`."""

    items: list[T]
    total: int
    limit: int
    offset: int


# --- stories --------------------------------------------------------------------------------------------


class Story(Model):
    key: str
    source_kind: str
    source_ref: str
    title: str
    body: str
    url: str | None
    language: str | None
    priority: str
    tags: list[str]
    approval: str
    approval_note: str | None
    approval_by: str | None
    approval_at: datetime | None
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime
    byline: dict[str, Any] | None


class StoryDetail(Story):
    script: dict[str, Any] | None = Field(description="the script as the script asset wrote it, once made")
    videos: list[str] = Field(description="the rendered parts, as paths under the media store's root")


class BreakingResult(Model):
    story: Story
    moved: list[int] = Field(description="the queued posts moved to the breaking lane")


class RejectRequest(RequestBody):
    reason: Paragraph = Field(min_length=1, description="why it is rejected (kept as the approval note)")


class LinkRequest(RequestBody):
    url: Line = Field(min_length=1, description="a video link (http or https)")


class LinkAdmission(Model):
    key: str
    outcome: Literal["added"]
    approval: str | None


# --- posts and the queue --------------------------------------------------------------------------------


class Post(Model):
    """One publication of one story part to one platform account (the publish ledger)."""

    id: int
    story_key: str
    part: int
    platform: str
    account: str
    state: str
    post_id: str | None
    url: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class QueuedPost(Model):
    """One post waiting for (or past) its slot in the posting queue."""

    id: int
    story_key: str
    part: int
    parts: int
    platform: str
    account: str
    lane: str
    not_before: datetime
    state: str
    dispatches: int
    ledger_id: int | None
    last_error: str | None


class ScheduleRequest(RequestBody):
    story: StoryKey = Field(description="the story key")
    platforms: list[Platform] | None = Field(
        None, min_length=1, description="default: the story's own platforms, else every configured one"
    )
    at: Line | None = Field(
        None,
        description="not before this time: ISO 8601, e.g. '2026-12-27 14:00' (read in `timezone`) or with "
        "an offset; default now. Each account's gap, caps and quiet hours still apply.",
    )
    timezone: Line | None = Field(None, description="an IANA zone for `at` (default PELLACIA_TIMEZONE)")
    priority: Lane | None = Field(None, description="the lane (default the story's priority)")


class ScheduleResult(Model):
    story: str
    lane: str
    not_before: datetime
    deferred: bool = Field(
        description="the story is not produced yet: its platforms and time are kept on the story, and its "
        "posts are queued when its video is made"
    )
    queued: list[QueuedPost]


class QueueStatus(Model):
    timezone: str
    gap_s: float
    jitter_s: float
    quiet_hours: str | None
    accounts: list[AccountStatus]


# --- analytics ------------------------------------------------------------------------------------------


class AnalyticsSummary(Model):
    first: date | None
    last: date | None
    totals: GroupFigures
    platforms: list[GroupFigures]
    stories: list[GroupFigures]
    posts: list[PostFigures]


class MetricDay(Model):
    date: date
    metrics: dict[str, float | None]
    provenance: dict[str, str]
    reasons: dict[str, str]
    lifetime: dict[str, float] | None = None
    provisional: bool


class PostHistory(Model):
    post: int = Field(description="the ledger id")
    platform: str
    post_id: str | None = Field(description="the platform's id; none until published")
    days: list[MetricDay]


# --- the manual queue -----------------------------------------------------------------------------------


class ManualEntry(Model):
    id: int
    reason: str
    status: str
    story_key: str | None
    part: int
    platform: str | None
    account: str | None
    detail: str
    queue_id: int | None
    ledger_id: int | None
    run_id: str | None
    source_path: str | None
    export_path: str | None
    resolved_url: str | None
    created_at: datetime
    resolved_at: datetime | None


class ResolveRequest(RequestBody):
    url: Line | None = Field(
        None, description="the address of the post made by hand (required for a post, not for a file)"
    )


# --- health ---------------------------------------------------------------------------------------------


class Check(Model):
    ok: bool
    detail: str


class Health(Model):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check]
