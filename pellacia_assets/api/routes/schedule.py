"""The posting queue: schedule a story's posts, list what waits, cancel one, and each account's status.

Scheduling does what `pellacia-dist schedule` does for a file, for a story already in the factory: one
queue row per part and platform account, not before the asked time nor the account's next free slot (the
gap, the caps, quiet hours; breaking news only the hard cap), under the dispatcher's lock. A story not
produced yet keeps the platforms and time on its record, and its posts are queued with them when its
video is made (pellacia_assets/posting/producers.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import DEFAULT_LIMIT, Factory, IdPath, Limit, Offset, Policy, Store
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import (
    ErrorResponse,
    Page,
    QueuedPost,
    QueueStatus,
    ScheduleRequest,
    ScheduleResult,
    StoryKey,
)
from pellacia_assets.delivery.sidecar import DeliveryError, schedule_time, zone_named
from pellacia_assets.manifests import ManifestError, load_video
from pellacia_assets.posting.dispatch import DISPATCH_LOCK, next_slot
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.producers import targets_for
from pellacia_assets.posting.status import account_status
from resources.database.engine import locked_transaction, transaction
from resources.database.models import QueuedPost as QueueRow
from resources.database.models import StoryRecord, as_utc
from resources.database.post_queue import LANES, WAITING, QueueError, cancel, enqueue, settle_from_ledger

router = APIRouter(tags=["schedule"])
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Editor = Annotated[Principal, Depends(require_role("editor"))]
QueueState = Literal["queued", "due", "publishing", "published", "failed", "manual", "cancelled"]
LISTED = ("queued", "due", "publishing", "failed", "manual")  # what `schedule list` shows
PAST_TOLERANCE = timedelta(minutes=1)
HORIZON = timedelta(days=366)


def queued_of(row: QueueRow) -> QueuedPost:
    return QueuedPost(
        id=row.id,
        story_key=row.story_key,
        part=row.part,
        parts=row.parts,
        platform=row.platform,
        account=row.account,
        lane=row.lane,
        not_before=as_utc(row.not_before),
        state=row.state,
        dispatches=row.dispatches,
        ledger_id=row.ledger_id,
        last_error=row.last_error,
    )


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def requested_time(body: ScheduleRequest, policy: PostingPolicy, now: datetime) -> datetime:
    """`at` read as `schedule --at` reads it (in `timezone`, default PELLACIA_TIMEZONE, unless it carries
    an offset); a time more than a minute past, or more than a year ahead, is refused."""
    try:
        zone = zone_named(body.timezone, "schedule", field="timezone") if body.timezone else policy.timezone
        if body.at is None:
            return now
        if len(body.at.strip()) <= len("2026-12-27"):
            raise _invalid(f"at {body.at!r}: expected a date and a time, e.g. '2026-12-27 14:00'")
        moment = schedule_time(body.at, zone, "schedule", field="at")
    except DeliveryError as error:
        raise _invalid(str(error)) from None
    except OverflowError:
        raise _invalid(f"at {body.at!r} is out of range") from None
    if moment < now - PAST_TOLERANCE:
        raise _invalid(
            f"at {body.at!r} is in the past (it is {now.astimezone(zone):%Y-%m-%d %H:%M} there now)"
        )
    if moment > now + HORIZON:
        raise _invalid(f"at {body.at!r} is more than a year ahead")
    return max(moment, now)


@router.post(
    "/schedule",
    status_code=201,
    response_model=ScheduleResult,
    responses={
        202: {"model": ScheduleResult, "description": "the story is not produced yet: queued once it is"},
        404: {"model": ErrorResponse, "description": "no such story"},
        409: {"model": ErrorResponse, "description": "the story is rejected, or its videos cannot be read"},
    },
    summary="Schedule a story's posts",
)
def schedule(body: ScheduleRequest, _caller: Editor, factory: Factory, store: Store, policy: Policy) -> Any:
    now = datetime.now(UTC)
    at = requested_time(body, policy, now)
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        record = session.get(StoryRecord, body.story)
        if record is None:
            raise ApiError(404, "not_found", f"no story {body.story!r}; GET /stories lists them")
        if record.approval == "rejected":
            raise ApiError(409, "conflict", f"story {body.story!r} is rejected; it will never be produced")
        lane = body.priority or (record.priority if record.priority in LANES else "normal")
        platforms = list(body.platforms or record.platforms or policy.platforms)
        if record.status != "produced":
            if body.platforms:
                record.platforms = platforms
            if body.at is not None:
                record.publish_after = at
            if body.priority:
                record.priority = body.priority
            result = ScheduleResult(story=record.key, lane=lane, not_before=at, deferred=True, queued=[])
            return JSONResponse(result.model_dump(mode="json"), status_code=202)
        try:
            parts = len(load_video(store, record.key).parts)
        except (ManifestError, OSError) as error:
            raise ApiError(
                409, "conflict", f"the videos of {record.key!r} cannot be read ({error})"
            ) from None
        queued = []
        for platform, account in targets_for(platforms):
            slot = next_slot(session, policy, platform, account, lane, at)
            for row in enqueue(session, record.key, parts, [(platform, account)], lane, slot.at):
                if not settle_from_ledger(session, row):
                    if row.state in ("failed", "manual", "cancelled"):
                        row.state, row.last_error = "queued", None
                    if row.state in WAITING:
                        row.not_before = slot.at
                queued.append(row)
        session.flush()
        return ScheduleResult(
            story=record.key, lane=lane, not_before=at, deferred=False, queued=[queued_of(r) for r in queued]
        )


@router.get("/schedule", response_model=Page[QueuedPost], summary="Posts in the queue, soonest first")
def list_schedule(
    _caller: Viewer,
    factory: Factory,
    state: Annotated[
        QueueState | None, Query(description="default: every state but published, cancelled")
    ] = None,
    story: Annotated[StoryKey | None, Query(description="a story key")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[QueuedPost]:
    query = select(QueueRow).where(QueueRow.state.in_([state] if state else LISTED))
    if story is not None:
        query = query.where(QueueRow.story_key == story)
    with transaction(factory) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(QueueRow.not_before, QueueRow.id).limit(limit).offset(offset))
        items = [queued_of(row) for row in rows]
    return Page[QueuedPost](items=items, total=total, limit=limit, offset=offset)


@router.delete(
    "/schedule/{queue_id}",
    response_model=QueuedPost,
    responses={
        404: {"model": ErrorResponse, "description": "no such queued post"},
        409: {"model": ErrorResponse, "description": "it is no longer waiting"},
    },
    summary="Cancel a queued post",
)
def cancel_post(queue_id: IdPath, _caller: Editor, factory: Factory) -> QueuedPost:
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        if session.get(QueueRow, queue_id) is None:
            raise ApiError(404, "not_found", f"no queued post with id {queue_id}; GET /schedule lists them")
        try:
            return queued_of(cancel(session, queue_id))
        except QueueError as error:
            raise ApiError(409, "conflict", str(error)) from None


@router.get("/queue", response_model=QueueStatus, summary="Each platform account's queue and next slot")
def queue_status(_caller: Viewer, factory: Factory, policy: Policy) -> QueueStatus:
    with transaction(factory) as session:
        statuses = account_status(session, policy, datetime.now(UTC))
    quiet = policy.quiet_hours
    return QueueStatus(
        timezone=str(policy.timezone),
        gap_s=policy.gap_s,
        jitter_s=policy.jitter_s,
        quiet_hours=f"{quiet.start:%H:%M}-{quiet.end:%H:%M}" if quiet else None,
        accounts=list(statuses),
    )
