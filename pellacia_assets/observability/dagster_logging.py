"""Dagster's run logs in the factory's JSON log format, when `PELLACIA_LOG_FORMAT=json`.

Dagster hands its loggers records that carry the run's context (`dagster_meta`): the lines this logger
writes have the same fields as the rest of the factory's (logs.py) plus the run id, the job, the step,
the event type and, from the run's tags, the story key (the partition) and the posting queue row, so a
log search on a story key finds its runs' lines too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import dagster as dg

from pellacia_assets.observability.logs import JsonFormatter, log_format, log_level

PARTITION_TAG = "dagster/partition"
QUEUE_ID_TAG = "pellacia/queue_id"  # the posting queue row a dispatched run publishes (posting/dispatch.py)
_META = "dagster_meta"  # the attribute Dagster's log manager sets on every record it hands a logger


class DagsterJsonFormatter(JsonFormatter):
    """JsonFormatter with the run's context taken from the record's `dagster_meta`."""

    def message(self, record: logging.LogRecord) -> str:
        meta = getattr(record, _META, None)
        original = meta.get("orig_message") if isinstance(meta, dict) else None
        return str(original) if original else record.getMessage()

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields = super().fields(record)
        meta = getattr(record, _META, None)
        if not isinstance(meta, dict):
            return fields
        tags = meta.get("job_tags") or {}
        event = meta.get("dagster_event")
        found = {
            "run_id": meta.get("run_id"),
            "job": meta.get("job_name"),
            "step": meta.get("step_key"),
            "story_key": tags.get(PARTITION_TAG),
            "queue_id": tags.get(QUEUE_ID_TAG),
            "event_type": getattr(event, "event_type_value", None),
        }
        return {**{name: value for name, value in found.items() if value is not None}, **fields}


@dg.logger(
    config_schema={
        "log_level": dg.Field(
            str, is_required=False, description="The threshold (default: PELLACIA_LOG_LEVEL, else INFO)."
        )
    },
    description="Run logs as JSON lines on stderr, with the factory's correlation fields.",
)
def pellacia_json_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    level = log_level(init_context.logger_config.get("log_level"))
    logger = logging.Logger("pellacia.dagster", level=level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(DagsterJsonFormatter())
    logger.addHandler(handler)
    return logger


def dagster_loggers() -> dict[str, dg.LoggerDefinition]:
    """The loggers for `Definitions(loggers=...)`: ours in place of Dagster's console logger when
    PELLACIA_LOG_FORMAT=json, none (Dagster's default) otherwise."""
    return {"console": pellacia_json_logger} if log_format() == "json" else {}


def run_logging_config() -> dict[str, Any]:
    """The run config that starts the `console` logger, for the runs sensors, schedules and `serve`
    submissions launch: Dagster starts only the loggers a run's config names, so without it those runs
    would log with its default logger rather than ours."""
    return {"loggers": {"console": {}}} if log_format() == "json" else {}
