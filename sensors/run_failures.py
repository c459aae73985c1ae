"""Failed runs reach a person within seconds: a post run goes to the manual queue, any other run alerts.

A run that carries `pellacia/queue_id` published one queued post. If its queue row is still `publishing`
(the post asset did not settle it itself, e.g. its retries ran out or its worker died), the row goes to
the manual queue as `retries_exhausted`, which raises that entry's one alert. Any other failed run
(production, delivery, a whole-story publishing run) raises one `run_failed` alert, or `check_failed`
when a blocking asset check stopped it, naming the story, the step, the error and the run's page. A run
that Dagster's run retries will launch again (`dagster/will_retry`) alerts only if its retry fails too.

`run_recoveries` closes those incidents when a later run of the same story (and platform) succeeds.
"""

from __future__ import annotations

import dagster as dg

from pellacia_assets.manual_queue import send_to_manual
from pellacia_assets.posting.dispatch import run_key_for
from resources.alerts.incidents import Incident
from resources.alerts.resource import AlertsResource
from resources.database.models import QueuedPost
from resources.database.resource import DatabaseResource
from resources.platforms import PLATFORMS

QUEUE_TAG = "pellacia/queue_id"
# Set by Dagster on a failed run when `run_retries` will launch it again ("true") or not ("false").
WILL_RETRY_TAG = "dagster/will_retry"
RUN_KEY_TAG = "dagster/run_key"
PARTITION_TAG = "dagster/partition"
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"
RUN_CAUSES = ("run_failed", "check_failed")


def platform_of_step(step_key: str | None) -> str | None:
    """`youtube` for the `youtube_post` step; None for a production step."""
    name = (step_key or "").removesuffix("_post")
    return name if step_key and step_key.endswith("_post") and name in PLATFORMS else None


def _error_text(event: dg.DagsterEvent) -> str:
    """What a failed step said: a `dg.Failure`'s description, else the exception's first line."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    if error is None:
        return event.message or "failed"
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause  # Dagster's wrapper ("Error occurred while executing op"): what it wraps
    first = (error.message.strip().splitlines() or [error.cls_name or "failed"])[0]
    name, _, said = first.partition(": ")
    return said if said and error.cls_name and name.endswith(error.cls_name) else first


def _failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Each blocking check that failed in the run, with the problems it listed."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    found = []
    for record in records.records:
        event = record.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event is not None else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        if evaluation.severity != dg.AssetCheckSeverity.ERROR or evaluation.blocking is False:
            continue
        problems = evaluation.metadata.get("problems")
        said = str(problems.value).replace("\n", " ") if problems is not None else ""
        said = said or evaluation.description or "did not pass"
        found.append(f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}: {said}")
    return found


def _run_incident(context: dg.RunFailureSensorContext, link: str) -> Incident:
    run = context.dagster_run
    story = run.tags.get(PARTITION_TAG)
    failures = context.get_step_failure_events()
    first = failures[0] if failures else None
    checks = (
        _failed_checks(context.instance, run.run_id)
        if any(
            f.step_failure_data.error is not None and f.step_failure_data.error.cls_name == CHECK_FAILED_ERROR
            for f in failures
        )
        else []
    )
    if checks:
        message = f"{run.job_name}: blocking check failed at step {first.step_key if first else '?'}: "
        message += "; ".join(checks)
        cause = "check_failed"
    elif first is not None:
        message = f"{run.job_name}: step {first.step_key} failed: {_error_text(first)}"
        cause = "run_failed"
    else:
        message = f"{run.job_name}: {context.failure_event.message or 'the run failed'}"
        cause = "run_failed"
    if len(failures) > 1:
        message += f" (steps failed: {', '.join(str(f.step_key) for f in failures)})"
    platform = platform_of_step(first.step_key if first else None)
    return Incident(cause=cause, message=message, story_key=story, platform=platform, link=link)


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="A failed post run goes to the manual queue; any other failed run raises one alert.",
)
def run_failures(
    context: dg.RunFailureSensorContext, database: DatabaseResource, alerts: AlertsResource
) -> None:
    run = context.dagster_run
    if run.tags.get(WILL_RETRY_TAG, "").lower() == "true":
        context.log.info(f"run {run.run_id} will be retried; its retry alerts if it fails too")
        return
    factory = database.session_factory()
    link = alerts.run_link(run.run_id)
    queue_tag = run.tags.get(QUEUE_TAG)
    if queue_tag is None:
        incident = _run_incident(context, link)
        sent = alerts.raise_alert(factory, incident)
        context.log.info(
            f"{incident.cause} for {incident.story_key}: {'alerted' if sent else 'already open'}"
        )
        return
    with database.session() as session:
        row = session.get(QueuedPost, int(queue_tag))
        state = row.state if row is not None else None
        current_key = run_key_for(row.id, row.dispatches) if row is not None else None
    if state != "publishing":
        context.log.info(f"queue row {queue_tag} is {state}; its post run settled it already")
        return
    if run.tags.get(RUN_KEY_TAG, current_key) != current_key:
        context.log.info(f"queue row {queue_tag} was dispatched again since this run ({current_key})")
        return
    failures = context.get_step_failure_events()
    error = _error_text(failures[0]) if failures else context.failure_event.message or "the run failed"
    entry = send_to_manual(
        factory,
        alerts.get_alerter(),
        "retries_exhausted",
        f"the post run failed and will not be retried: {error}",
        queue_id=int(queue_tag),
        run_id=run.run_id,
        link=link,
    )
    context.log.info(f"queue row {queue_tag} went to the manual queue as entry {entry.id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="A story's run that succeeds closes the run-failure alerts of its story and platforms.",
)
def run_recoveries(
    context: dg.RunStatusSensorContext, database: DatabaseResource, alerts: AlertsResource
) -> None:
    run = context.dagster_run
    story = run.tags.get(PARTITION_TAG)
    if story is None:
        return
    steps = context.instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    platforms = {platform_of_step(record.event_log_entry.step_key) for record in steps.records} or {None}
    factory = database.session_factory()
    for platform in sorted(platforms, key=str):
        for cause in RUN_CAUSES:
            message = f"{run.job_name} succeeded for {story}: {alerts.run_link(run.run_id)}"
            if alerts.resolve_alert(factory, cause, story, platform, message):
                context.log.info(f"closed the {cause} alert of {story} ({platform or 'production'})")
