"""The approval sensor produces fetched stories once approved; the source sensors skip an unconfigured
source with its reason. (Each source's own sensor poll is tested against its sandbox in tests/pellacia_assets/
sources.)"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import transaction
from resources.database.intake import admit, approve
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source, set_status
from sensors.sources import approved_stories, reddit_stories


def _record(key: str, kind: str, priority: str = "normal") -> SourceRecord:
    return SourceRecord(key=key, source_kind=kind, source_ref=key, title=key, body="Body.", priority=priority)


def test_approved_fetched_stories_are_produced_once_and_pending_ones_wait(pellacia_home: Path) -> None:
    database = DatabaseResource(url=Settings.from_env().database_url)
    with transaction(database.session_factory()) as session:
        admit(session, _record("reddit-t3_wait", "reddit"), approval="pending")
        admit(session, _record("reddit-t3_ok", "reddit", "breaking"), approval="pending")
        admit(session, _record("article-auto", "article"), approval="approved")
        save_source(session, _record("file-typed", "file"))  # a file someone added: produced by its command
    with transaction(database.session_factory()) as session:
        approve(session, "reddit-t3_ok", by="editor")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("story", ["article-auto"])
        context = dg.build_sensor_context(instance=instance, resources={"database": database})
        result = approved_stories(context)
        assert isinstance(result, dg.SensorResult)
        requests = {str(r.partition_key): r for r in result.run_requests or []}
        assert sorted(requests) == ["article-auto", "reddit-t3_ok"]
        assert requests["reddit-t3_ok"].run_key == "produce:reddit-t3_ok"
        assert requests["reddit-t3_ok"].tags["dagster/priority"] == "10"
        [added] = result.dynamic_partitions_requests or []
        assert list(added.partition_keys or []) == ["reddit-t3_ok"]  # article-auto was registered already
        with transaction(database.session_factory()) as session:
            set_status(session, "reddit-t3_ok", "story")
            set_status(session, "article-auto", "produced")
        again = approved_stories(dg.build_sensor_context(instance=instance, resources={"database": database}))
        assert isinstance(again, dg.SkipReason)


def test_an_unconfigured_source_sensor_says_which_variable_is_missing(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PELLACIA_REDDIT_SUBREDDITS", raising=False)
    monkeypatch.delenv("PELLACIA_REDDIT_CLIENT_ID", raising=False)
    database = DatabaseResource(url=Settings.from_env().database_url)
    with dg.instance_for_test() as instance:
        tick = reddit_stories.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources={"database": database})
        )
    assert tick.run_requests == [] and tick.skip_message is not None
    assert (
        tick.skip_message.startswith("reddit is not configured: ") and "PELLACIA_REDDIT_" in tick.skip_message
    )


def test_with_json_logs_the_runs_a_sensor_launches_start_the_json_logger(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster starts only the loggers a run's config names: a sensor's run request names ours when
    PELLACIA_LOG_FORMAT=json, and that config is valid for the job it launches."""
    from pellacia_assets.definitions import defs

    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "json")
    database = DatabaseResource(url=Settings.from_env().database_url)
    with transaction(database.session_factory()) as session:
        admit(session, _record("article-auto", "article"), approval="approved")
    with dg.instance_for_test() as instance:
        result = approved_stories(
            dg.build_sensor_context(instance=instance, resources={"database": database})
        )
    assert isinstance(result, dg.SensorResult)
    [request] = result.run_requests or []
    assert request.run_config == {"loggers": {"console": {}}}
    job = defs().resolve_job_def("production")
    assert job.loggers["console"].description is not None and "JSON" in job.loggers["console"].description
    assert dg.validate_run_config(job, request.run_config)
