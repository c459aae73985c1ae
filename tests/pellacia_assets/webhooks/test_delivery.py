"""Delivering the outbox to a real HTTP receiver: delivered once, retried with backoff, Retry-After
honoured, given up after the last attempt, and never sent twice at once by two deliverers."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.webhooks.delivery import DeliveryResult, deliver_due, retry_after_s
from pellacia_assets.webhooks.signing import verify
from resources.database.engine import transaction
from resources.database.models import Webhook, WebhookDelivery
from resources.database.webhooks import claim, deactivate, due_deliveries, emit, record_attempt, register
from tests.pellacia_assets.webhooks.receiver import Answer, Receiver

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PAYLOAD = {"story_key": "flood", "part": 1, "platform": "youtube", "url": "https://youtube.test/v/1"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as made:
        yield made


def subscribe(
    factory: sessionmaker[Session], url: str, events: tuple[str, ...] = ("post.published",)
) -> Webhook:
    with transaction(factory) as session:
        return register(session, url, list(events))


def publish_event(factory: sessionmaker[Session], created: datetime = T0) -> None:
    with transaction(factory) as session:
        emit(session, "post.published", PAYLOAD)
        session.flush()
        for row in session.scalars(select(WebhookDelivery)):
            row.created_at = row.next_attempt_at = created


def delivery(factory: sessionmaker[Session]) -> WebhookDelivery:
    with transaction(factory) as session:
        return session.scalars(select(WebhookDelivery)).one()


def deliver(
    factory: sessionmaker[Session], client: httpx.Client, at: datetime, **options: float
) -> list[DeliveryResult]:
    return deliver_due(factory, client, now=at, rng=random.Random(7), **options)  # type: ignore[arg-type]


def test_a_due_delivery_is_posted_signed_and_marked_delivered(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    hook = subscribe(factory, receiver.url)
    publish_event(factory)
    [result] = deliver(factory, client, T0)
    assert (result.state, result.status, result.attempt) == ("delivered", 200, 1)
    [request] = receiver.received
    body = json.loads(request.body)
    row = delivery(factory)
    assert body == {
        "id": row.event_id,
        "event": "post.published",
        "created_at": T0.isoformat(),
        "data": PAYLOAD,
    }
    assert request.headers["X-Pellacia-Event"] == "post.published"
    assert request.headers["X-Pellacia-Delivery"] == row.event_id
    assert verify(hook.secret, request.headers, request.body)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 1, 200)
    assert row.delivered_at is not None
    assert deliver(factory, client, T0 + timedelta(hours=1)) == []
    assert len(receiver.received) == 1


def test_a_server_error_is_retried_after_a_jittered_backoff(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    subscribe(factory, receiver.url)
    publish_event(factory)
    receiver.answer(Answer(500, body=b"database on fire"))
    [first] = deliver(factory, client, T0)
    assert (first.state, first.status) == ("pending", 500)
    assert first.error == "HTTP 500: database on fire"
    assert first.next_attempt_at is not None
    assert T0 + timedelta(seconds=8) <= first.next_attempt_at <= T0 + timedelta(seconds=12)
    assert deliver(factory, client, T0 + timedelta(seconds=7)) == []  # not due yet
    [second] = deliver(factory, client, first.next_attempt_at)
    assert (second.state, second.attempt) == ("delivered", 2)
    ids = {request.headers["X-Pellacia-Delivery"] for request in receiver.received}
    assert len(receiver.received) == 2 and len(ids) == 1  # the same event, so the receiver can dedupe
    row = delivery(factory)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 2, 200, None)


def test_retry_after_is_honoured_on_429_and_503(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    subscribe(factory, receiver.url)
    publish_event(factory)
    receiver.answer(Answer(429, {"Retry-After": "120"}))
    [first] = deliver(factory, client, T0)
    assert first.next_attempt_at == T0 + timedelta(seconds=120)
    assert deliver(factory, client, T0 + timedelta(seconds=119)) == []
    later = T0 + timedelta(seconds=120)
    receiver.answer(Answer(503, {"Retry-After": format_datetime(later + timedelta(minutes=5), usegmt=True)}))
    [second] = deliver(factory, client, later)
    assert (second.state, second.status) == ("pending", 503)
    assert second.next_attempt_at == later + timedelta(minutes=5)
    [third] = deliver(factory, client, later + timedelta(minutes=5))
    assert third.state == "delivered"


def test_retry_after_values() -> None:
    assert retry_after_s("30", T0) == 30
    assert retry_after_s(format_datetime(T0 + timedelta(seconds=90), usegmt=True), T0) == 90
    assert retry_after_s(format_datetime(T0 - timedelta(seconds=90), usegmt=True), T0) == 0
    assert retry_after_s("9999999", T0) == 24 * 3600
    assert retry_after_s("soon", T0) is None
    assert retry_after_s(None, T0) is None


def test_the_delivery_fails_for_good_after_the_last_attempt(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    subscribe(factory, receiver.url)
    publish_event(factory)
    receiver.default = Answer(502)
    moment, waits = T0, []
    for attempt in (1, 2, 3):
        [result] = deliver(factory, client, moment, max_attempts=3)
        assert result.attempt == attempt
        if result.next_attempt_at is not None:
            waits.append((result.next_attempt_at - moment).total_seconds())
            moment = result.next_attempt_at
    assert result.state == "failed"
    assert 8 <= waits[0] <= 12 and 24 <= waits[1] <= 36  # 10 s, then 30 s, each +-20 %
    row = delivery(factory)
    assert (row.state, row.attempts, row.last_status) == ("failed", 3, 502)
    assert deliver(factory, client, moment + timedelta(days=2), max_attempts=3) == []
    assert len(receiver.received) == 3


def test_a_timeout_and_unreachable_urls_are_recorded_not_raised(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    subscribe(factory, receiver.url)
    subscribe(factory, "http://127.0.0.1:9/closed")  # discard port: nothing listens
    with transaction(factory) as session:  # a row written before URLs were checked, or by hand
        session.add(Webhook(url="http://[::1", secret="s", events=["post.published"], active=True))
    publish_event(factory)
    receiver.answer(Answer(200, delay_s=1.5))
    results = {result.webhook_id: result for result in deliver(factory, client, T0, timeout_s=0.3)}
    assert {result.state for result in results.values()} == {"pending"}
    errors = sorted(str(result.error) for result in results.values())
    assert any(error.startswith("timed out after 0.3 s") for error in errors)
    assert any("ConnectError" in error for error in errors)
    assert any("InvalidURL" in error for error in errors)


def test_a_redirect_is_not_followed(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    subscribe(factory, receiver.url)
    publish_event(factory)
    receiver.answer(Answer(302, {"Location": "http://127.0.0.1:9/elsewhere"}))
    [result] = deliver(factory, client, T0)
    assert (result.state, result.status) == ("pending", 302)
    assert len(receiver.received) == 1


def test_a_deleted_webhook_gets_nothing_more(
    factory: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    hook = subscribe(factory, receiver.url)
    publish_event(factory)
    with transaction(factory) as session:
        deactivate(session, hook.id)
        assert emit(session, "post.published", PAYLOAD) == 0
    assert deliver(factory, client, T0) == []
    assert delivery(factory).state == "cancelled"
    assert receiver.received == []


def test_a_claim_is_taken_once_and_a_lost_lease_cannot_record(factory: sessionmaker[Session]) -> None:
    subscribe(factory, "http://127.0.0.1:9/")
    publish_event(factory)
    with transaction(factory) as session:
        [due] = due_deliveries(session, T0, 10)
    with transaction(factory) as session:
        assert claim(session, due, T0, lease_s=60)
    with transaction(factory) as session:
        assert not claim(session, due, T0, lease_s=60)  # what a second deliverer that read it too gets
        assert due_deliveries(session, T0 + timedelta(seconds=59), 10) == []
        [again] = due_deliveries(session, T0 + timedelta(seconds=61), 10)  # the first one died mid-send
        assert claim(session, again, T0 + timedelta(seconds=61), lease_s=60)
    with transaction(factory) as session:  # the first deliverer wakes up: its outcome no longer lands
        assert not record_attempt(session, due.id, 1, state="delivered", status=200, error=None, now=T0)
        assert record_attempt(session, due.id, 2, state="delivered", status=200, error=None, now=T0)


def test_a_delivery_whose_last_attempt_never_reported_is_given_up(
    factory: sessionmaker[Session], client: httpx.Client
) -> None:
    subscribe(factory, "http://127.0.0.1:9/")
    publish_event(factory)
    with transaction(factory) as session:
        [due] = due_deliveries(session, T0, 10)
        assert claim(session, due, T0, lease_s=60)
    [result] = deliver(factory, client, T0 + timedelta(minutes=2), max_attempts=1)
    assert result.state == "failed"
    assert "never reported back" in str(result.error)
    assert delivery(factory).state == "failed"


def test_two_deliverers_at_once_send_each_delivery_once(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    subscribe(factory, receiver.url)
    for _ in range(6):
        publish_event(factory)
    receiver.default = Answer(200, delay_s=0.2)
    start = threading.Barrier(2)
    results: list[DeliveryResult] = []

    def deliverer() -> None:
        with httpx.Client() as own:
            start.wait()
            results.extend(deliver_due(factory, own, now=T0, workers=3))

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = Counter(request.headers["X-Pellacia-Delivery"] for request in receiver.received)
    assert len(sent) == 6 and set(sent.values()) == {1}
    assert sorted(result.delivery_id for result in results) == sorted({r.delivery_id for r in results})
    assert len(results) == 6 and {result.state for result in results} == {"delivered"}
