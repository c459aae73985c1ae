"""The posting queue's one dispatcher (DESIGN.md 3a): each due post becomes a run of `<platform>_post`.

The rules live in `pellacia_assets/posting/dispatch.py`; this sensor only turns their answer into runs.
A run's key is its queue row and dispatch number, so a tick repeated after a crash asks for the same
runs and Dagster launches none of them twice. A row whose run ended without saying what became of the
post goes back to the queue, its next run with a new key: at once when the run was cancelled; when it
failed (its retries, and the daemon's re-execution of a crashed run, used up) only if the run-failure
sensor, which sends such a row to the manual queue with an alert, has not taken it within
FAILURE_GRACE_S, so that no account waits forever behind a row nobody settles.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.assets.posts import post_asset_name
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.partitions import story_partitions
from pellacia_assets.posting.dispatch import (
    DISPATCH_LOCK,
    LANE_TAG,
    PART_TAG,
    QUEUE_ID_TAG,
    Dispatch,
    plan_dispatch,
    run_key_for,
)
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.status import waiting_summary
from resources.database.engine import locked_transaction, transaction
from resources.database.post_queue import release, rows
from resources.database.resource import DatabaseResource
from resources.platforms import PLATFORMS

STORY_PARTITIONS = str(story_partitions.name)
RUN_KEY_TAG = "dagster/run_key"  # Dagster tags every sensor run with its run key (and its retries too)


FAILURE_GRACE_S = 600.0


def _runs_of(instance: dg.DagsterInstance, queue_id: int, run_key: str) -> list[dg.RunRecord]:
    """The runs of one dispatch, the daemon's re-executions of it included; newest first."""
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(tags={QUEUE_ID_TAG: str(queue_id), RUN_KEY_TAG: run_key})
        )
    )


def _still_running(run: dg.DagsterRun) -> bool:
    return not run.is_finished or run.is_complete_and_waiting_to_retry


def _ended_at(record: dg.RunRecord) -> float:
    return record.end_time or record.update_timestamp.timestamp()


def release_ended_runs(
    instance: dg.DagsterInstance, factory: sessionmaker[Session], now: datetime
) -> list[int]:
    """Give back to the queue each `publishing` row whose runs all ended while the row still says
    `publishing` (see the module's docstring); the ids released."""
    with transaction(factory) as session:
        publishing = [(row.id, row.dispatches) for row in rows(session, ("publishing",))]
    released = []
    for queue_id, dispatches in publishing:
        records = _runs_of(instance, queue_id, run_key_for(queue_id, dispatches))
        if not records or any(_still_running(record.dagster_run) for record in records):
            continue  # not launched yet (the next request creates it) or still at work
        last = records[0].dagster_run
        if (
            last.status == dg.DagsterRunStatus.FAILURE
            and now.timestamp() - _ended_at(records[0]) < FAILURE_GRACE_S
        ):
            continue  # the run-failure sensor's to settle
        reason = f"run {last.run_id} ended {last.status.value.lower()} before recording the post's outcome"
        with locked_transaction(factory, DISPATCH_LOCK) as session:
            if release(session, queue_id, dispatches, reason) is not None:
                released.append(queue_id)
    return released


def run_request(dispatch: Dispatch) -> dg.RunRequest:
    return dg.RunRequest(
        asset_selection=[dg.AssetKey(post_asset_name(dispatch.platform))],
        run_config=run_logging_config(),
        partition_key=dispatch.story_key,
        run_key=dispatch.run_key,
        tags={
            "dagster/priority": str(dispatch.priority),
            QUEUE_ID_TAG: str(dispatch.queue_id),
            LANE_TAG: dispatch.lane,
            PART_TAG: str(dispatch.part),
        },
    )


@dg.sensor(
    name="post_dispatcher",
    asset_selection=[dg.AssetKey(post_asset_name(platform)) for platform in PLATFORMS],
    minimum_interval_seconds=3,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Due posts of the posting queue, spaced per account, as runs of the <platform>_post assets.",
)
def post_dispatcher(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """Request a run for the best due post of every account whose slot is open."""
    factory = database.session_factory()
    policy = PostingPolicy.from_env()
    now = datetime.now(UTC)
    for queue_id in release_ended_runs(context.instance, factory, now):
        context.log.warning(f"queued post {queue_id}: its run ended without an outcome; queued again")
    requests = [
        run_request(dispatch)
        for dispatch in plan_dispatch(factory, policy, now)
        if not _runs_of(context.instance, dispatch.queue_id, dispatch.run_key)
    ]
    if not requests:
        with transaction(factory) as session:
            waiting = waiting_summary(session, policy, now)
        return dg.SkipReason("; ".join(waiting) if waiting else "nothing queued")
    stories = sorted({str(request.partition_key) for request in requests})
    missing = [key for key in stories if not context.instance.has_dynamic_partition(STORY_PARTITIONS, key)]
    for request in requests:
        context.log.info(
            f"dispatching queued post {request.tags[QUEUE_ID_TAG]} ({request.partition_key}, "
            f"part {request.tags[PART_TAG]}, lane {request.tags[LANE_TAG]}) as {request.run_key}"
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[story_partitions.build_add_request(missing)] if missing else [],
    )
