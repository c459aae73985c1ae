"""Webhook subscriptions and their outbox: an event becomes one delivery row per subscribed hook, written
in the transaction that caused it, so an event is never lost to a crash between the change and the POST.

A delivery is `pending` until a deliverer claims it: the claim moves it to `sending`, counts the attempt
and sets `next_attempt_at` to the end of a lease, in one UPDATE that only lands while the row still has
the attempt count the deliverer read. Two deliverers reading the same due row therefore send it once; a
deliverer that died mid-send leaves a `sending` row that is due again when its lease ends. An attempt's
outcome lands only while the row still carries that attempt (`record_attempt`), so a deliverer whose
lease ran out cannot overwrite the one that took the row over. Delivery is at least once: receivers
dedupe by the event id (`X-Pellacia-Delivery`).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from resources.database.models import LedgerEntry, ManualQueueItem, Webhook, WebhookDelivery, as_utc

EVENTS = ("story.pending", "post.published", "post.failed", "manual.created")
PING = "webhook.ping"  # what `queue_ping` sends: never subscribed to, only asked for
STATES = ("pending", "sending", "delivered", "failed", "cancelled")
DUE_STATES = ("pending", "sending")  # `sending` is due again once its lease has run out


class WebhookError(ValueError):
    """A webhook request that cannot apply; `code` is `not_found` or `invalid`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DueDelivery:
    """A delivery to attempt, with what the deliverer needs of its webhook (read in the same query)."""

    id: int
    webhook_id: int
    url: str
    secret: str
    event: str
    event_id: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def emit(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Queue `event` for every active webhook that subscribed to it; returns how many deliveries."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    event_id = uuid.uuid4().hex
    hooks = session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    queued = 0
    for hook in hooks:
        if event in hook.events:
            session.add(WebhookDelivery(webhook_id=hook.id, event=event, event_id=event_id, payload=payload))
            queued += 1
    return queued


def post_payload(entry: LedgerEntry) -> dict[str, Any]:
    """What `post.published` and `post.failed` say about a ledger row."""
    published_at = as_utc(entry.published_at)
    return {
        "story_key": entry.story_key,
        "part": entry.part,
        "platform": entry.platform,
        "account": entry.account,
        "state": entry.state,
        "post_id": entry.post_id,
        "url": entry.url,
        "error": entry.last_error,
        "published_at": published_at.isoformat() if published_at else None,
    }


def manual_payload(entry: ManualQueueItem) -> dict[str, Any]:
    """What `manual.created` says about a new manual-queue entry."""
    return {
        "id": entry.id,
        "story_key": entry.story_key,
        "part": entry.part,
        "platform": entry.platform,
        "account": entry.account,
        "reason": entry.reason,
        "detail": entry.detail,
        "source_path": entry.source_path,
        "queue_id": entry.queue_id,
    }


# --- subscriptions --------------------------------------------------------------------------------------


def checked_hook_url(url: str) -> str:
    """`url` if it is an http(s) address with a host (and no credentials, which would end up in logs)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError as error:
        raise WebhookError("invalid", f"{url!r} is not a URL: {error}") from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise WebhookError(
            "invalid", f"{url!r} is not a webhook URL: it must be http:// or https:// with a host"
        )
    if parts.username or parts.password:
        raise WebhookError(
            "invalid", "a webhook URL may not carry a user or password; the signature authenticates"
        )
    return text


def checked_events(events: list[str] | tuple[str, ...]) -> list[str]:
    """The events named, deduplicated in order; refuses an empty list and unknown names."""
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise WebhookError(
            "invalid", f"unknown event(s) {', '.join(unknown)}; choose from {', '.join(EVENTS)}"
        )
    if not events:
        raise WebhookError("invalid", f"name at least one event: {', '.join(EVENTS)}")
    return list(dict.fromkeys(events))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def register(session: Session, url: str, events: list[str] | tuple[str, ...]) -> Webhook:
    """A new active webhook with a fresh secret; the caller shows the secret once and never again."""
    hook = Webhook(url=checked_hook_url(url), events=checked_events(events), secret=new_secret(), active=True)
    session.add(hook)
    session.flush()
    return hook


def get_hook(session: Session, hook_id: int) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None:
        raise WebhookError("not_found", f"no webhook with id {hook_id}")
    return hook


def list_hooks(
    session: Session, *, include_inactive: bool = False, limit: int | None = None, offset: int = 0
) -> tuple[list[Webhook], int]:
    """Webhooks oldest first (active ones unless `include_inactive`), and how many there are in all."""
    where = () if include_inactive else (Webhook.active.is_(True),)
    total = int(session.scalar(select(func.count(Webhook.id)).where(*where)) or 0)
    statement = select(Webhook).where(*where).order_by(Webhook.id).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement)), total


def deactivate(session: Session, hook_id: int) -> Webhook:
    """Stop a webhook: it hears of no new event and its deliveries not yet made are cancelled. The row
    and its delivery log stay, so what was sent remains on record."""
    hook = get_hook(session, hook_id)
    hook.active = False
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook_id, WebhookDelivery.state.in_(DUE_STATES))
        .values(state="cancelled", last_error="webhook deleted")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return hook


def queue_ping(session: Session, hook_id: int) -> WebhookDelivery:
    """A `webhook.ping` delivery to one active webhook, so its owner can check the receiver end to end."""
    hook = get_hook(session, hook_id)
    if not hook.active:
        raise WebhookError("not_found", f"webhook {hook_id} was deleted")
    delivery = WebhookDelivery(
        webhook_id=hook.id, event=PING, event_id=uuid.uuid4().hex, payload={"webhook_id": hook.id}
    )
    session.add(delivery)
    session.flush()
    return delivery


def deliveries(
    session: Session, hook_id: int, *, state: str | None = None, limit: int | None = None, offset: int = 0
) -> tuple[list[WebhookDelivery], int]:
    """A webhook's delivery log, newest first, and its length."""
    get_hook(session, hook_id)
    if state is not None and state not in STATES:
        raise WebhookError("invalid", f"unknown delivery state {state!r}; choose from {', '.join(STATES)}")
    where = [WebhookDelivery.webhook_id == hook_id]
    if state is not None:
        where.append(WebhookDelivery.state == state)
    total = int(session.scalar(select(func.count(WebhookDelivery.id)).where(*where)) or 0)
    statement = select(WebhookDelivery).where(*where).order_by(WebhookDelivery.id.desc()).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement)), total


# --- delivering -----------------------------------------------------------------------------------------


def due_deliveries(session: Session, now: datetime, limit: int) -> list[DueDelivery]:
    """Deliveries of active webhooks whose next attempt (or lease end) has come, oldest due first."""
    rows = session.execute(
        select(WebhookDelivery, Webhook.url, Webhook.secret)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            Webhook.active.is_(True),
            WebhookDelivery.state.in_(DUE_STATES),
            WebhookDelivery.next_attempt_at <= now.astimezone(UTC),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    return [
        DueDelivery(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            url=url,
            secret=secret,
            event=delivery.event,
            event_id=delivery.event_id,
            payload=dict(delivery.payload),
            attempts=delivery.attempts,
            created_at=as_utc(delivery.created_at),
        )
        for delivery, url, secret in rows
    ]


def claim(session: Session, due: DueDelivery, now: datetime, lease_s: float) -> bool:
    """Take `due` for one attempt (see the module's docstring); False when another deliverer has it."""
    moment = now.astimezone(UTC)
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == due.id,
            WebhookDelivery.attempts == due.attempts,
            WebhookDelivery.state.in_(DUE_STATES),
            WebhookDelivery.next_attempt_at <= moment,
        )
        .values(
            state="sending",
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=moment + timedelta(seconds=lease_s),
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def record_attempt(
    session: Session,
    delivery_id: int,
    attempt: int,
    *,
    state: str,
    status: int | None,
    error: str | None,
    next_attempt_at: datetime | None = None,
    now: datetime,
) -> bool:
    """Write the outcome of attempt number `attempt`: `delivered`, `pending` again at `next_attempt_at`,
    or `failed` for good. False when the row has moved on (another deliverer took it over)."""
    if state not in ("delivered", "pending", "failed"):
        raise ValueError(f"an attempt ends delivered, pending or failed, not {state!r}")
    values: dict[str, Any] = {"state": state, "last_status": status, "last_error": error}
    if state == "delivered":
        values["delivered_at"] = now.astimezone(UTC)
    if state == "pending":
        if next_attempt_at is None:
            raise ValueError("a delivery retried needs its next attempt time")
        values["next_attempt_at"] = next_attempt_at.astimezone(UTC)
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == attempt,
            WebhookDelivery.state == "sending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def give_up(session: Session, due: DueDelivery, error: str) -> bool:
    """Fail `due` for good without another attempt (its attempts are used up); False when the row has
    moved on."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == due.id,
            WebhookDelivery.attempts == due.attempts,
            WebhookDelivery.state.in_(DUE_STATES),
        )
        .values(state="failed", last_error=error)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
