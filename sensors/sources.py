"""The story sources as sensors (Reddit, feeds, the links file), and the sensor that produces approved
stories.

A source sensor polls its source (its cursor lives in the app database, shared with `pellacia-dist sources
poll`) and registers each admitted story's partition; it launches nothing itself. `approved_stories`
launches production for every fetched story that is approved and not yet started, whether it was
approved on arrival (`PELLACIA_APPROVAL=auto`) or later by an editor, with the story as run key, so a
story is produced once however many ticks see it.
"""

from __future__ import annotations

import json

import dagster as dg

from pellacia_assets.jobs import production_job
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.partitions import story_partitions
from pellacia_assets.sources.base import SourceConfigError, poll
from pellacia_assets.sources.registry import SOURCE_KINDS, source_named
from resources.database.intake import approved_unproduced, read_cursor
from resources.database.resource import DatabaseResource
from sensors.story_inbox import PRIORITY_TAGS

POLL_INTERVAL_S = {"reddit": 600, "feeds": 900, "links": 60}


def source_sensor(name: str) -> dg.SensorDefinition:
    """The sensor of source `name`: one poll per tick, stopped until an operator switches it on."""

    @dg.sensor(
        name=f"{name}_stories",
        minimum_interval_seconds=POLL_INTERVAL_S[name],
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Poll the {name} source for new stories (see docs/sources.md).",
    )
    def _poll(
        context: dg.SensorEvaluationContext, database: DatabaseResource
    ) -> dg.SensorResult | dg.SkipReason:
        try:
            source = source_named(name)
        except SourceConfigError as error:
            return dg.SkipReason(f"{name} is not configured: {error}")
        factory = database.session_factory()
        report = poll(source, factory)
        if report.error:
            context.log.warning(f"{name}: the poll failed: {report.error}")
            return dg.SkipReason(f"the {name} poll failed: {report.error}")
        for skip in report.skipped:
            context.log.info(f"{name}: skipped {skip.ref}: {skip.reason}")
        with database.session() as session:
            cursor = json.dumps(read_cursor(session, name), sort_keys=True, default=str)
        keys = [admission.key for admission in report.added]
        if not keys:
            return dg.SensorResult(
                skip_reason=f"nothing new: {len(report.duplicates)} known, {len(report.skipped)} skipped",
                cursor=cursor,
            )
        return dg.SensorResult(
            dynamic_partitions_requests=[story_partitions.build_add_request(keys)], cursor=cursor
        )

    return _poll


reddit_stories = source_sensor("reddit")
feed_stories = source_sensor("feeds")
link_stories = source_sensor("links")


@dg.sensor(
    job=production_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Produce fetched stories once they are approved (on arrival, or by an editor).",
)
def approved_stories(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    with database.session() as session:
        ready = [
            (row.key, row.priority)
            for row in approved_unproduced(session)
            if row.source_kind in SOURCE_KINDS.values()
        ]
    if not ready:
        return dg.SkipReason("no approved story waits for production")
    known = set(context.instance.get_dynamic_partitions(story_partitions.name or "story"))
    missing = [key for key, _ in ready if key not in known]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=key,
                run_key=f"produce:{key}",
                run_config=run_logging_config(),
                tags={"dagster/priority": PRIORITY_TAGS.get(priority, "0")},
            )
            for key, priority in ready
        ],
        dynamic_partitions_requests=[story_partitions.build_add_request(missing)] if missing else [],
    )
