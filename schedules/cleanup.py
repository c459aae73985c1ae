"""The nightly cleanup: temporary and orphaned media after the retention time, old published videos."""

from datetime import timedelta

import dagster as dg

from pellacia_assets.cleanup import clean_media
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.posting.policy import timezone_name
from pellacia_assets.settings import Settings
from resources.database.resource import DatabaseResource
from resources.media_store.resource import MediaStoreResource
from schedules.timing import LOW_PRIORITY


@dg.op(description="Remove temporary and orphaned media and the rendered files of long-published stories.")
def clean_media_files(
    context: dg.OpExecutionContext, database: DatabaseResource, media: MediaStoreResource
) -> dg.Output[int]:
    settings = Settings.from_env()
    report = clean_media(
        media.get_store(),
        database.session_factory(),
        retention=timedelta(hours=settings.retention_hours),
        keep_published=timedelta(days=settings.keep_published_days),
        exports_dir=settings.home / "manual",
    )
    for path in report.removed:
        context.log.info(f"removed {path}")
    return dg.Output(
        report.bytes_freed,
        metadata={
            "removed": len(report.removed),
            "freed_mb": round(report.bytes_freed / 1e6, 1),
            "retention_hours": settings.retention_hours,
            "keep_published_days": settings.keep_published_days,
        },
    )


@dg.job(
    tags={"dagster/priority": LOW_PRIORITY}, description="Media cleanup (see pellacia_assets/cleanup.py)."
)
def cleanup_job() -> None:
    clean_media_files()


cleanup_schedule = dg.ScheduleDefinition(
    run_config=run_logging_config(),
    name="nightly_cleanup",
    job=cleanup_job,
    cron_schedule="30 3 * * *",
    execution_timezone=timezone_name(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
