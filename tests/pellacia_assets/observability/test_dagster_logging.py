"""A run's log lines in the factory's JSON format, with its run id, step and story (partition)."""

# no `from __future__ import annotations`: Dagster reads the `context` annotation at definition time
import json
from typing import Any

import dagster as dg
import pytest

from pellacia_assets.observability.dagster_logging import dagster_loggers, pellacia_json_logger
from pellacia_assets.observability.logs import correlation

stories = dg.DynamicPartitionsDefinition(name="story")


@dg.asset(partitions_def=stories)
def narrated(context: dg.AssetExecutionContext) -> None:
    with correlation(platform="youtube"):
        context.log.info("narrating the story")
    context.log.debug("below the threshold")


def test_the_json_logger_is_chosen_only_for_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "json")
    assert dagster_loggers() == {"console": pellacia_json_logger}
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "text")
    assert dagster_loggers() == {}


def test_run_lines_carry_the_run_and_its_story(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "json")
    defs = dg.Definitions(assets=[narrated], loggers=dagster_loggers())
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("story", ["flood"])
        result = job.execute_in_process(
            partition_key="flood",
            instance=instance,
            # as `pellacia-dist produce` runs its jobs: the console logger named, so ours replaces it
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    assert result.success
    records: list[dict[str, Any]] = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    [line] = [record for record in records if record["message"] == "narrating the story"]
    assert line["run_id"] == result.run_id
    assert (line["story_key"], line["step"], line["platform"], line["level"]) == (
        "flood",
        "narrated",
        "youtube",
        "INFO",
    )
    assert not [record for record in records if record["message"] == "below the threshold"]
    assert {record["run_id"] for record in records} == {result.run_id}
