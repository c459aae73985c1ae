"""The run-failure sensor on real failed runs: a post run goes to the manual queue, others alert once.

Runs are real (`dg.materialize` of small assets named like ours, with the tags our runs carry) on a test
instance; the alerts go through the real Telegram channel to the local Bot API sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from pellacia_assets.stories.loading import SourceRecord
from resources.alerts.resource import AlertsResource
from resources.database.engine import transaction
from resources.database.models import AlertIncident, ManualQueueItem, QueuedPost
from resources.database.post_queue import enqueue
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from sensors.run_failures import run_failures, run_recoveries

STORY = "harbour-lights"


@dg.asset(name="youtube_post")
def failing_post() -> None:
    raise dg.Failure(description="youtube: HTTP 503 backendError: try later", allow_retries=False)


@dg.asset(name="video")
def failing_video() -> None:
    raise RuntimeError("ffmpeg exited with status 1: moov atom not found")


@dg.asset(name="video", check_specs=[dg.AssetCheckSpec("video_format", asset="video", blocking=True)])
def unchecked_video() -> Iterator[dg.Output[int] | dg.AssetCheckResult]:
    yield dg.Output(1)
    yield dg.AssetCheckResult(
        check_name="video_format",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": dg.MetadataValue.md("- part 1 is 1920x1080, not 1080x1920")},
    )


@dg.asset(name="video")
def good_video() -> int:
    return 1


@pytest.fixture
def telegram() -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def resources(tmp_path: Path, telegram: TelegramSandbox) -> dict[str, object]:
    database = DatabaseResource(url=f"sqlite:///{tmp_path / 'app.db'}")
    with database.session() as session:
        save_source(session, SourceRecord(key=STORY, source_kind="file", source_ref="", title="t", body="b"))
    alerts = AlertsResource(
        telegram_bot_token=telegram.token,
        telegram_chat_id=telegram.chat_id,
        telegram_api_url=telegram.url,
        ui_url="http://factory.example:3000",
    )
    return {"database": database, "alerts": alerts}


def queue_row(database: DatabaseResource, state: str) -> int:
    with database.session() as session:
        [row] = enqueue(session, STORY, 1, [("youtube", "main")])
        row.state = state
        session.flush()
        return row.id


def evaluate_failure(
    instance: dg.DagsterInstance,
    resources: dict[str, object],
    asset: dg.AssetsDefinition,
    tags: dict[str, str],
) -> str:
    """Run `asset` until it fails, then let the sensor see that failure; the run's id."""
    result = dg.materialize([asset], instance=instance, tags=tags, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failures.name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources=resources,
    ).for_run_failure()
    run_failures(context)
    return result.run_id


def texts(telegram: TelegramSandbox) -> list[str]:
    return [str(message["text"]) for message in telegram.messages]


def test_a_post_run_that_failed_for_good_goes_to_the_manual_queue_with_one_alert(
    resources: dict[str, object], telegram: TelegramSandbox
) -> None:
    database = resources["database"]
    assert isinstance(database, DatabaseResource)
    queue_id = queue_row(database, "publishing")
    tags = {"pellacia/queue_id": str(queue_id), "dagster/partition": STORY}
    with dg.instance_for_test() as instance:
        run_id = evaluate_failure(instance, resources, failing_post, tags)
        evaluate_failure(instance, resources, failing_post, tags)  # the sensor sees the row settled now
    with database.session() as session:
        row = session.get_one(QueuedPost, queue_id)
        entry = session.scalars(select(ManualQueueItem)).one()
        assert row.state == "manual" and "HTTP 503 backendError" in str(row.last_error)
        assert (entry.reason, entry.queue_id, entry.run_id, entry.platform) == (
            "retries_exhausted", queue_id, run_id, "youtube"
        )  # fmt: skip
    [text] = texts(telegram)
    assert text.startswith("Pellacia: manual retries exhausted (harbour-lights on youtube)")
    assert f"http://factory.example:3000/runs/{run_id}" in text


def test_a_post_run_the_post_asset_settled_or_dagster_retries_is_left_alone(
    resources: dict[str, object], telegram: TelegramSandbox
) -> None:
    database = resources["database"]
    assert isinstance(database, DatabaseResource)
    settled = queue_row(database, "manual")  # the post asset sent it to the manual queue itself
    with dg.instance_for_test() as instance:
        evaluate_failure(instance, resources, failing_post, {"pellacia/queue_id": str(settled)})
        retried = {"pellacia/queue_id": str(settled), "dagster/will_retry": "true"}
        evaluate_failure(instance, resources, failing_video, {**retried, "dagster/partition": STORY})
    assert telegram.messages == []
    with database.session() as session:
        assert session.scalars(select(ManualQueueItem)).all() == []


def test_a_failed_production_run_alerts_once_and_its_success_resolves_it(
    resources: dict[str, object], telegram: TelegramSandbox
) -> None:
    tags = {"dagster/partition": STORY}
    with dg.instance_for_test() as instance:
        run_id = evaluate_failure(instance, resources, failing_video, tags)
        evaluate_failure(instance, resources, failing_video, tags)  # the same incident: counted, not sent
        [text] = texts(telegram)
        assert text.splitlines()[0] == "Pellacia: run failed (harbour-lights)"
        assert "step video failed: ffmpeg exited with status 1: moov atom not found" in text
        assert f"http://factory.example:3000/runs/{run_id}" in text

        success = dg.materialize([good_video], instance=instance, tags=tags)
        run_recoveries(
            dg.build_run_status_sensor_context(
                sensor_name=run_recoveries.name,
                dagster_event=success.get_run_success_event(),
                dagster_instance=instance,
                dagster_run=success.dagster_run,
                resources=resources,
            )
        )
    assert texts(telegram)[-1].startswith("Pellacia: resolved run failed (harbour-lights)")
    database = resources["database"]
    assert isinstance(database, DatabaseResource)
    with transaction(database.session_factory()) as session:
        incident = session.scalars(select(AlertIncident)).one()
        assert (incident.status, incident.occurrences) == ("resolved", 2)


def test_a_failed_blocking_check_alerts_as_check_failed_with_its_problems(
    resources: dict[str, object], telegram: TelegramSandbox
) -> None:
    with dg.instance_for_test() as instance:
        evaluate_failure(instance, resources, unchecked_video, {"dagster/partition": STORY})
    [text] = texts(telegram)
    assert text.splitlines()[0] == "Pellacia: check failed (harbour-lights)"
    assert "video_format on video: - part 1 is 1920x1080, not 1080x1920" in text
