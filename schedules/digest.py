"""The daily digest: what was posted, queued, failed and left for a person, sent on every alert channel."""

from datetime import UTC, datetime

import dagster as dg

from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.posting.policy import timezone_name
from resources.alerts.digest import digest_text
from resources.alerts.resource import AlertsResource
from resources.database.resource import DatabaseResource
from schedules.timing import LOW_PRIORITY


@dg.op(description="Send the last 24 hours' posts, queue, failures and manual entries to the alert channels.")
def send_daily_digest(
    context: dg.OpExecutionContext, database: DatabaseResource, alerts: AlertsResource
) -> dg.Output[str]:
    with database.session() as session:
        text = digest_text(session, datetime.now(UTC))
    delivered = alerts.get_alerter().send(text)
    for channel, problem in delivered.items():
        context.log.info(f"{channel}: {'delivered' if problem is None else f'failed ({problem})'}")
    if delivered and all(problem is not None for problem in delivered.values()):
        raise dg.Failure(description="the digest reached no alert channel", allow_retries=True)
    return dg.Output(
        text, metadata={"digest": dg.MetadataValue.md(f"```\n{text}\n```"), "channels": len(delivered)}
    )


@dg.job(tags={"dagster/priority": LOW_PRIORITY}, description="The daily digest to the alert channels.")
def digest_job() -> None:
    send_daily_digest()


digest_schedule = dg.ScheduleDefinition(
    run_config=run_logging_config(),
    name="daily_digest",
    job=digest_job,
    cron_schedule="0 8 * * *",
    execution_timezone=timezone_name(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
