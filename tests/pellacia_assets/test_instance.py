"""The Dagster instance on its embedded SQLite default and on PostgreSQL, with the app tables beside it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from pellacia_assets.assets.story import story
from pellacia_assets.definitions import build_resources
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.stories import save_source

RECORD = SourceRecord(
    key="s1", source_kind="file", source_ref="t.md", title="A title", body="A short story about a lamp."
)


def materialise_story(settings: Settings) -> dg.DagsterInstance:
    with transaction(open_database(settings.database_url)) as session:
        save_source(session, RECORD)
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("story", ["s1"])
    result = dg.materialize(
        [story], partition_key="s1", instance=instance, resources=build_resources(settings)
    )
    assert result.success
    return instance


def test_sqlite_instance_under_pellacia_home(pellacia_home: Path) -> None:
    settings = Settings.from_env()
    dagster_home = prepare_dagster_home(settings)
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert "storage" not in config
    assert config["telemetry"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] is True
    with materialise_story(settings) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        event = instance.get_latest_materialization_event(dg.AssetKey("story"))
        assert event is not None and event.asset_materialization is not None
        assert event.asset_materialization.partition == "s1"
    assert (dagster_home / "storage").is_dir()
    assert (pellacia_home / "pellacia.db").is_file()


@pytest.mark.postgres
def test_postgres_instance_and_app_tables(
    pellacia_home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_POSTGRES_URL", postgres_url)
    settings = Settings.from_env()
    assert settings.database_url == postgres_url
    dagster_home = prepare_dagster_home(settings)
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "PELLACIA_POSTGRES_URL"}}}
    with materialise_story(settings) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
        assert cursor.fetchone() == (1,)
        cursor.execute("select status from pellacia.stories where key = 's1'")
        assert cursor.fetchone() == ("story",)
    assert not (pellacia_home / "pellacia.db").exists()
