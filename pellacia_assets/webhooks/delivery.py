"""Delivering the webhook outbox: POST each due delivery, signed, and plan the retry of those that fail.

A 2xx answer delivers. Anything else (another status, a timeout, a refused connection, a URL that cannot
be reached at all) is retried after an exponential backoff with jitter (BACKOFF_S), or after the wait a
429 or 503 asks for in `Retry-After`; after `max_attempts` attempts the delivery is `failed` for good and
stays in the log. Redirects are not followed: a receiver that moved is told so by its failures.

Deliverers may run side by side (the sensor, a CLI, two daemons): each delivery is claimed before it is
sent (resources/database/webhooks.py), so one delivery is never in flight twice.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.webhooks.signing import sign
from resources.database.engine import transaction
from resources.database.webhooks import DueDelivery, claim, due_deliveries, give_up, record_attempt

BACKOFF_S = (10, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600)  # after attempt 1, 2, ... (then the last)
JITTER = 0.2  # each wait is its step times a random factor in [1 - JITTER, 1 + JITTER]
MAX_ATTEMPTS = 9  # the last attempt comes about a day after the first
MAX_RETRY_AFTER_S = 24 * 3600.0  # a longer Retry-After is cut to this
TIMEOUT_S = 10.0
LEASE_S = 60.0  # a claim outlives the slowest attempt (the timeout applies per connect, read, write)
BATCH = 20
WORKERS = 4
BUDGET_S = 40.0  # no new attempt starts after this, so one call fits a sensor tick
RESPONSE_EXCERPT = 300  # characters of a refusing answer kept in the log
log = logging.getLogger("pellacia.webhooks")


@dataclass(frozen=True)
class DeliveryResult:
    """One attempt: `state` is `delivered`, `pending` (retried at `next_attempt_at`), `failed` (given up),
    or `lost` (the attempt outlived its lease and another deliverer took the delivery over)."""

    delivery_id: int
    webhook_id: int
    event: str
    attempt: int
    state: str
    status: int | None
    error: str | None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class _Answer:
    status: int | None
    error: str | None
    retry_after_s: float | None


def body_of(due: DueDelivery) -> bytes:
    """The JSON body a receiver gets: the event id (also in `X-Pellacia-Delivery`), event, time, data."""
    document = {
        "id": due.event_id,
        "event": due.event,
        "created_at": due.created_at.astimezone(UTC).isoformat(),
        "data": due.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def retry_delay_s(attempt: int, rng: random.Random) -> float:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    step = BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1]
    return step * rng.uniform(1 - JITTER, 1 + JITTER)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header as seconds from `now`: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _post(client: httpx.Client, due: DueDelivery, timeout_s: float, now: datetime) -> _Answer:
    """Send one delivery; every failure comes back as an answer, never as an exception, so one broken
    webhook cannot stop the others."""
    body = body_of(due)
    headers = sign(due.secret, due.event, due.event_id, body)
    try:
        with client.stream(
            "POST", due.url, content=body, headers=headers, timeout=timeout_s, follow_redirects=False
        ) as response:
            if response.is_success:
                return _Answer(response.status_code, None, None)
            excerpt = _excerpt(response)
            wait = None
            if response.status_code in (429, 503):
                wait = retry_after_s(response.headers.get("Retry-After"), now)
            return _Answer(response.status_code, f"HTTP {response.status_code}{excerpt}", wait)
    except httpx.TimeoutException as error:
        return _Answer(None, f"timed out after {timeout_s:g} s ({type(error).__name__})", None)
    except Exception as error:  # a refused connection, a bad URL, TLS: the receiver's problem, on record
        return _Answer(None, f"{type(error).__name__}: {error}", None)


def _excerpt(response: httpx.Response) -> str:
    """The start of a refusing answer's body (read no further: a receiver may send anything)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_EXCERPT:
            break
    text = b"".join(chunks)[:RESPONSE_EXCERPT].decode("utf-8", errors="replace").strip()
    return f": {' '.join(text.split())}" if text else ""


def _attempt(
    factory: sessionmaker[Session],
    client: httpx.Client,
    due: DueDelivery,
    now: datetime,
    *,
    max_attempts: int,
    lease_s: float,
    timeout_s: float,
    rng: random.Random,
) -> DeliveryResult | None:
    """Claim, send and record one delivery; None when another deliverer claimed it first."""
    if due.attempts >= max_attempts:  # its last attempt's deliverer died before recording the outcome
        error = f"gave up after {due.attempts} attempts (the last one never reported back)"
        with transaction(factory) as session:
            if not give_up(session, due, error):
                return None
        return DeliveryResult(due.id, due.webhook_id, due.event, due.attempts, "failed", None, error)
    with transaction(factory) as session:
        if not claim(session, due, now, lease_s):
            return None
    attempt = due.attempts + 1
    answer = _post(client, due, timeout_s, now)
    next_at: datetime | None = None
    if answer.error is None:
        state = "delivered"
    elif attempt >= max_attempts:
        state = "failed"
    else:
        state = "pending"
        wait = answer.retry_after_s if answer.retry_after_s is not None else retry_delay_s(attempt, rng)
        next_at = now + timedelta(seconds=wait)
    with transaction(factory) as session:
        recorded = record_attempt(
            session,
            due.id,
            attempt,
            state=state,
            status=answer.status,
            error=answer.error,
            next_attempt_at=next_at,
            now=now,
        )
    if not recorded:
        log.warning(
            "webhook delivery %s: attempt %s outlived its lease; another deliverer has it", due.id, attempt
        )
        state = "lost"
    elif state != "delivered":
        log.warning(
            "webhook delivery %s (%s to webhook %s): attempt %s %s: %s",
            due.id,
            due.event,
            due.webhook_id,
            attempt,
            "failed for good" if state == "failed" else f"failed, retry at {next_at:%H:%M:%S}",
            answer.error,
        )
    return DeliveryResult(
        due.id, due.webhook_id, due.event, attempt, state, answer.status, answer.error, next_at
    )


def deliver_due(
    factory: sessionmaker[Session],
    client: httpx.Client,
    now: datetime | None = None,
    limit: int = BATCH,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    lease_s: float = LEASE_S,
    timeout_s: float = TIMEOUT_S,
    budget_s: float = BUDGET_S,
    workers: int = WORKERS,
    rng: random.Random | None = None,
) -> list[DeliveryResult]:
    """Attempt up to `limit` due deliveries, `workers` at a time, and return what became of each one
    attempted (those another deliverer claimed first are left out). `now` (tests: a moment to pretend it
    is) fixes the clock the attempts are judged and planned by; no attempt starts once `budget_s` has
    passed."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    chance = rng or random.Random()
    deadline = time.monotonic() + budget_s
    with transaction(factory) as session:
        due = due_deliveries(session, moment, limit)

    def one(item: DueDelivery) -> DeliveryResult | None:
        if time.monotonic() > deadline:
            return None
        return _attempt(
            factory,
            client,
            item,
            moment if now is not None else datetime.now(UTC),
            max_attempts=max_attempts,
            lease_s=lease_s,
            timeout_s=timeout_s,
            rng=chance,
        )

    if not due:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(due))), thread_name_prefix="webhook") as pool:
        outcomes: Sequence[DeliveryResult | None] = list(pool.map(one, due))
    return [outcome for outcome in outcomes if outcome is not None]
