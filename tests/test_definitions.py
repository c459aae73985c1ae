"""The code location loads: a broken definition fails here in seconds, not in the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pellacia_assets.definitions import defs
from resources.platforms import PLATFORMS

PRODUCTION = ["story", "script", "voiceover", "captions", "video"]
POSTS = [f"{platform}_post" for platform in PLATFORMS]


def test_the_code_location_is_loadable(pellacia_home: Path) -> None:
    dg.Definitions.validate_loadable(defs())


def test_lineage_declares_every_upstream_read(pellacia_home: Path) -> None:
    """What each asset reads from the media store is a declared dependency, so the UI's lineage is true."""
    graph = defs().resolve_asset_graph()

    def upstream(name: str) -> set[str]:
        return {key.to_user_string() for key in graph.get(dg.AssetKey(name)).parent_keys}

    assert upstream("script") == {"story"}
    assert upstream("voiceover") == {"script"}
    assert upstream("captions") == {"story", "script", "voiceover"}
    assert upstream("video") == {"script", "voiceover", "captions"}
    for post in POSTS:
        assert upstream(post) == {"script", "video"}
    assert upstream("post_metrics") == set(POSTS)


def test_every_platform_resource_shares_the_one_database(pellacia_home: Path) -> None:
    resources = defs().resources
    assert resources is not None
    database = resources["database"]
    for platform in PLATFORMS:
        assert resources[platform].database == database


def test_the_unattended_sensors_and_schedules_run_by_default(pellacia_home: Path) -> None:
    """`serve` must need no click in the UI: drops, approved stories, dispatching, failures, webhook
    deliveries, cleanup and the digest run (the story sources wait until an operator switches them on)."""
    definitions = defs()
    running = {
        sensor.name
        for sensor in definitions.sensors or []
        if sensor.default_status == dg.DefaultSensorStatus.RUNNING
    }
    assert running == {
        "phase05_drops",
        "phase05_breaking",
        "post_dispatcher",
        "run_failures",
        "run_recoveries",
        "approved_stories",
        "webhook_deliveries",
    }
    schedules = {schedule.name: schedule for schedule in definitions.schedules or []}
    assert set(schedules) == {"nightly_cleanup", "daily_digest", "daily_analytics"}
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in schedules.values())
    assert {job.name for job in definitions.jobs or []} >= {
        "production",
        "delivery",
        "cleanup_job",
        "digest_job",
    }
