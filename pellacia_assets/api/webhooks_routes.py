"""Webhooks: subscribe a URL to the factory's events, see what was delivered to it, stop it.

Admin only: a webhook sends story and post data to any URL. The signing secret is shown once, in the
answer to the POST that creates the webhook; nothing shows it again (create a new webhook to rotate it).
DELETE stops a webhook and cancels what it has not been sent yet, but keeps its delivery log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import DEFAULT_LIMIT, Factory, IdPath, Limit, Offset
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import ErrorResponse, Line, Model, Page, RequestBody
from resources.database.engine import transaction
from resources.database.models import Webhook as WebhookRow
from resources.database.models import WebhookDelivery, as_utc
from resources.database.webhooks import (
    WebhookError,
    deactivate,
    deliveries,
    get_hook,
    list_hooks,
    queue_ping,
    register,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require_role("admin"))]
Event = Literal["story.pending", "post.published", "post.failed", "manual.created"]  # webhooks.EVENTS
DeliveryState = Literal["pending", "sending", "delivered", "failed", "cancelled"]  # webhooks.STATES
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "no such webhook"}}


class WebhookRequest(RequestBody):
    url: Line = Field(min_length=1, description="where to POST the events (http or https)")
    events: list[Event] = Field(min_length=1, description="the events to send")


class Webhook(Model):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(
        description="the HMAC-SHA256 signing key of X-Pellacia-Signature; shown this once, store it now"
    )


class Delivery(Model):
    """One event sent (or to send) to one webhook, with the outcome of its last attempt."""

    id: int
    webhook_id: int
    event: str
    event_id: str = Field(
        description="the X-Pellacia-Delivery header: the same for every webhook of an event"
    )
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime | None = Field(description="the next attempt, while the delivery is pending")
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def webhook_of(row: WebhookRow) -> Webhook:
    return Webhook(
        id=row.id, url=row.url, events=list(row.events), active=row.active, created_at=as_utc(row.created_at)
    )


def delivery_of(row: WebhookDelivery) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event=row.event,
        event_id=row.event_id,
        payload=dict(row.payload),
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=as_utc(row.next_attempt_at) if row.state in ("pending", "sending") else None,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=as_utc(row.created_at),
        delivered_at=as_utc(row.delivered_at),
    )


def _api_error(error: WebhookError) -> ApiError:
    if error.code == "not_found":
        return ApiError(404, "not_found", f"{error}; GET /webhooks lists them")
    return ApiError(422, "invalid_request", str(error))


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses={422: {"model": ErrorResponse, "description": "a URL that is not http(s), an unknown event"}},
    summary="Subscribe a URL to events",
)
def create_webhook(body: WebhookRequest, _caller: Admin, factory: Factory) -> WebhookCreated:
    try:
        with transaction(factory) as session:
            row = register(session, body.url, list(body.events))
            return WebhookCreated(**webhook_of(row).model_dump(), secret=row.secret)
    except WebhookError as error:
        raise _api_error(error) from None


@router.get("", response_model=Page[Webhook], summary="List webhooks, oldest first (without their secrets)")
def list_webhooks(
    _caller: Admin,
    factory: Factory,
    include_deleted: Annotated[bool, Query(description="also the deleted (inactive) ones")] = False,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Webhook]:
    with transaction(factory) as session:
        rows, total = list_hooks(session, include_inactive=include_deleted, limit=limit, offset=offset)
        return Page[Webhook](items=[webhook_of(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/{webhook}", response_model=Webhook, responses=NOT_FOUND, summary="One webhook")
def get_webhook(webhook: IdPath, _caller: Admin, factory: Factory) -> Webhook:
    try:
        with transaction(factory) as session:
            return webhook_of(get_hook(session, webhook))
    except WebhookError as error:
        raise _api_error(error) from None


@router.delete(
    "/{webhook}", status_code=204, response_class=Response, responses=NOT_FOUND, summary="Stop a webhook"
)
def delete_webhook(webhook: IdPath, _caller: Admin, factory: Factory) -> Response:
    try:
        with transaction(factory) as session:
            deactivate(session, webhook)
    except WebhookError as error:
        raise _api_error(error) from None
    return Response(status_code=204)


@router.get(
    "/{webhook}/deliveries",
    response_model=Page[Delivery],
    responses=NOT_FOUND,
    summary="A webhook's delivery log, newest first",
)
def list_deliveries(
    webhook: IdPath,
    _caller: Admin,
    factory: Factory,
    state: Annotated[DeliveryState | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Delivery]:
    try:
        with transaction(factory) as session:
            rows, total = deliveries(session, webhook, state=state, limit=limit, offset=offset)
            return Page[Delivery](
                items=[delivery_of(row) for row in rows], total=total, limit=limit, offset=offset
            )
    except WebhookError as error:
        raise _api_error(error) from None


@router.post(
    "/{webhook}/test",
    status_code=202,
    response_model=Delivery,
    responses=NOT_FOUND,
    summary="Queue a webhook.ping delivery",
    description="The ping goes out with the next deliveries (within about 30 s while the Dagster daemon "
    "runs); its outcome shows in the delivery log.",
)
def test_webhook(webhook: IdPath, _caller: Admin, factory: Factory) -> Delivery:
    try:
        with transaction(factory) as session:
            return delivery_of(queue_ping(session, webhook))
    except WebhookError as error:
        raise _api_error(error) from None
