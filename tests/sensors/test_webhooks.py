"""The webhook sensor: a tick POSTs what is due to the receiver and skips when nothing is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select, update

from resources.database.engine import open_database, transaction
from resources.database.models import WebhookDelivery
from resources.database.resource import DatabaseResource
from resources.database.webhooks import emit, register
from sensors.webhooks import webhook_deliveries
from tests.pellacia_assets.webhooks.receiver import Answer, Receiver, running_receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def database(tmp_path: Path, receiver: Receiver) -> DatabaseResource:
    receiver.reset()
    resource = DatabaseResource(url=f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(resource.session_factory()) as session:
        register(session, receiver.url, ["post.published"])
    return resource


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as made:
        yield made


def tick(instance: dg.DagsterInstance, database: DatabaseResource) -> dg.SensorResult | dg.SkipReason:
    result = webhook_deliveries(dg.build_sensor_context(instance=instance, resources={"database": database}))
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    return result


def test_nothing_due_is_a_skip(
    instance: dg.DagsterInstance, database: DatabaseResource, receiver: Receiver
) -> None:
    result = tick(instance, database)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "no webhook delivery due"
    assert receiver.received == []


def test_a_tick_delivers_and_the_next_retries(
    instance: dg.DagsterInstance, database: DatabaseResource, receiver: Receiver
) -> None:
    factory = open_database(database.url)
    with transaction(factory) as session:
        emit(session, "post.published", {"story_key": "flood"})
        emit(session, "post.published", {"story_key": "fire"})
    receiver.answer(Answer(500))
    result = tick(instance, database)
    assert isinstance(result, dg.SensorResult) and not result.run_requests
    assert len(receiver.received) == 2
    with transaction(factory) as session:
        assert sorted(session.scalars(select(WebhookDelivery.state))) == ["delivered", "pending"]
    assert isinstance(tick(instance, database), dg.SkipReason)  # the retry waits for its backoff
    with transaction(factory) as session:
        session.execute(
            update(WebhookDelivery).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert isinstance(tick(instance, database), dg.SensorResult)
    assert len(receiver.received) == 3
    with transaction(factory) as session:
        assert sorted(session.scalars(select(WebhookDelivery.state))) == ["delivered", "delivered"]


def test_the_sensor_runs_by_default_every_30_seconds() -> None:
    assert webhook_deliveries.default_status == dg.DefaultSensorStatus.RUNNING
    assert webhook_deliveries.minimum_interval_seconds == 30
