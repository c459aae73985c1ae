"""The dispatcher sensor: due posts become runs of `<platform>_post`, a repeated tick asks for the same
runs (and for none that exist), and a row whose run ended without an outcome goes back to the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import QueuedPost
from resources.database.resource import DatabaseResource
from sensors.dispatcher import FAILURE_GRACE_S, post_dispatcher, release_ended_runs
from tests.pellacia_assets.posting.history import published, queued


@pytest.fixture
def database(pellacia_home: Path, monkeypatch: pytest.MonkeyPatch) -> DatabaseResource:
    for name in ("PELLACIA_QUIET_HOURS", "PELLACIA_TIMEZONE", "PELLACIA_PLATFORMS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "0")
    return DatabaseResource(url=Settings.from_env().database_url)


@pytest.fixture
def factory(database: DatabaseResource) -> sessionmaker[Session]:
    return open_database(database.url)


def tick(instance: dg.DagsterInstance, database: DatabaseResource) -> dg.SensorResult | dg.SkipReason:
    result = post_dispatcher(dg.build_sensor_context(instance=instance, resources={"database": database}))
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    return result


def launched(instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus) -> str:
    """What the daemon does with a request: a run carrying its tags and run key."""
    run = create_run_for_test(
        instance,
        job_name="__ASSET_JOB",
        status=status,
        tags={
            **request.tags,
            "dagster/run_key": str(request.run_key),
            "dagster/sensor_name": "post_dispatcher",
        },
    )
    return str(run.run_id)


def state(factory: sessionmaker[Session], queue_id: int) -> tuple[str, int, str | None]:
    with transaction(factory) as session:
        row = session.get_one(QueuedPost, queue_id)
        return row.state, row.dispatches, row.last_error


def test_due_posts_become_runs_with_their_partition_priority_and_tags(
    database: DatabaseResource, factory: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        flood = queued(session, "flood", "x", lane="breaking", not_before=now)[0].id
        serial = queued(session, "serial", "youtube", parts=2, not_before=now)[0].id
        queued(session, "later", "tiktok", not_before=now + timedelta(hours=1))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("story", ["serial"])
        result = tick(instance, database)
        assert isinstance(result, dg.SensorResult)
        requests = {request.tags["pellacia/queue_id"]: request for request in result.run_requests or []}
        assert sorted(requests) == sorted([str(flood), str(serial)])
        breaking = requests[str(flood)]
        assert breaking.asset_selection == [dg.AssetKey("x_post")]
        assert (breaking.partition_key, breaking.run_key) == ("flood", f"queue-{flood}-1")
        assert breaking.tags == {
            "dagster/priority": "10",
            "pellacia/queue_id": str(flood),
            "pellacia/lane": "breaking",
            "pellacia/part": "1",
        }
        assert requests[str(serial)].tags["dagster/priority"] == "0"
        [added] = result.dynamic_partitions_requests or []
        assert list(added.partition_keys or []) == ["flood"]  # `serial` is known to the instance already


def test_a_repeated_tick_launches_nothing_twice(
    database: DatabaseResource, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        queue_id = queued(session, "story", not_before=datetime.now(UTC))[0].id
    with dg.instance_for_test() as instance:
        first = tick(instance, database)
        assert isinstance(first, dg.SensorResult)
        [request] = first.run_requests or []
        # the daemon died before it created the run: the next tick asks for the very same run
        again = tick(instance, database)
        assert isinstance(again, dg.SensorResult)
        assert [r.run_key for r in again.run_requests or []] == [request.run_key]
        launched(instance, request, dg.DagsterRunStatus.STARTED)
        busy = tick(instance, database)
        assert isinstance(busy, dg.SkipReason)
        assert busy.skip_message == f"youtube/main: publishing queued post {queue_id}"
        assert state(factory, queue_id) == ("publishing", 1, None)


def test_a_run_that_ended_without_an_outcome_gives_the_post_back(
    database: DatabaseResource, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        queue_id = queued(session, "story", not_before=datetime.now(UTC))[0].id
    with dg.instance_for_test() as instance:
        first = tick(instance, database)
        assert isinstance(first, dg.SensorResult)
        [request] = first.run_requests or []
        retrying = create_run_for_test(
            instance,
            job_name="__ASSET_JOB",
            status=dg.DagsterRunStatus.FAILURE,
            tags={**request.tags, "dagster/run_key": str(request.run_key), "dagster/will_retry": "true"},
        )
        assert isinstance(tick(instance, database), dg.SkipReason)  # the daemon will retry it: wait
        assert state(factory, queue_id)[0] == "publishing"
        instance.add_run_tags(retrying.run_id, {"dagster/auto_retry_run_id": "gone"})
        launched(instance, request, dg.DagsterRunStatus.CANCELED)  # the retry, cancelled by a person
        retried = tick(instance, database)
        assert isinstance(retried, dg.SensorResult)
        assert [r.run_key for r in retried.run_requests or []] == [f"queue-{queue_id}-2"]
        assert state(factory, queue_id) == ("publishing", 2, None)


def test_a_failed_run_is_left_to_the_run_failure_sensor_for_a_while(
    database: DatabaseResource, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        queue_id = queued(session, "story", not_before=datetime.now(UTC))[0].id
    with dg.instance_for_test() as instance:
        first = tick(instance, database)
        assert isinstance(first, dg.SensorResult)
        [request] = first.run_requests or []
        launched(instance, request, dg.DagsterRunStatus.FAILURE)
        now = datetime.now(UTC)
        assert release_ended_runs(instance, factory, now) == []
        assert state(factory, queue_id)[0] == "publishing"
        later = now + timedelta(seconds=FAILURE_GRACE_S + 1)
        assert release_ended_runs(instance, factory, later) == [queue_id]
        row = state(factory, queue_id)
        assert row[0] == "due" and "ended failure before recording the post's outcome" in str(row[2])


def test_the_skip_reason_says_when_each_account_posts_next(
    database: DatabaseResource, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with dg.instance_for_test() as instance:
        nothing = tick(instance, database)
        assert isinstance(nothing, dg.SkipReason) and nothing.skip_message == "nothing queued"
        monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "3600")
        monkeypatch.setenv("PELLACIA_POST_JITTER_SECONDS", "0")
        now = datetime.now(UTC)
        with transaction(factory) as session:
            entry = published(session, "earlier", now, account="default")
            queue_id = queued(session, "next", account="default", not_before=now)[0].id
            assert entry.published_at is not None
        waiting = tick(instance, database)
        assert isinstance(waiting, dg.SkipReason)
        slot = (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert waiting.skip_message == (
            f"youtube/default: queued post {queue_id} goes out at {slot} (spacing gap since the last post)"
        )
