"""The six `<platform>_post` assets on the sandboxes: parts in order, exactly once, failures contained."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from pellacia_assets.assets.posts import POST_ASSETS
from pellacia_assets.definitions import build_resources
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.manifests import (
    SCRIPT_FILE,
    VIDEO_MANIFEST,
    VideoManifest,
    VideoPart,
    part_video_name,
    write_manifest,
)
from pellacia_assets.scripting.template_writer import TemplateScriptWriter
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Story
from resources.database.engine import open_database, transaction
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.platforms import PLATFORMS
from sandbox.platforms import SandboxSuite

BODY = (
    "The bakery on Rowan Street opened at midnight. Nobody knew why. Every night a woman named Ines baked "
    "whatever the first customer asked for. I asked for cinnamon rolls. A nurse asked for rye bread. "
    "By the third week there were twelve of us waiting for bread in the dark. When the building was sold, "
    "Ines gave each of us a jar of her starter dough. Now I bake two loaves every Friday at midnight."
)


def stage_story(key: str, settings: Settings, make_video: Callable[..., Path]) -> list[Path]:
    """A produced story without producing it: source row, a two-part script, and two real videos."""
    with transaction(open_database(settings.database_url)) as session:
        save_source(
            session, SourceRecord(key=key, source_kind="test", source_ref="t", title="Bakery", body=BODY)
        )
    story = Story(key=key, source_kind="test", title="The midnight bakery", body=BODY, tags=("storytime",))
    script = TemplateScriptWriter().write(story, words_per_minute=180, max_part_seconds=20)
    assert len(script.parts) >= 2
    store = MediaStore(settings.media_dir)
    with store.stage(key, "script") as folder:
        (folder / SCRIPT_FILE).write_text(script.to_json())
    with store.stage(key, "video") as folder:
        parts = []
        for part in script.parts:
            name = part_video_name(part.number)
            video = make_video(folder / name, seconds=3, tone=300 + 100 * part.number)
            parts.append(VideoPart(part.number, name, "", 3.0, video.stat().st_size, 0.0))
        write_manifest(folder, VIDEO_MANIFEST, VideoManifest(tuple(parts)))
    return [store.asset_dir(key, "video") / part.file for part in parts]


def publish(key: str, settings: Settings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("story", [key])
    return dg.materialize(
        POST_ASSETS,
        partition_key=key,
        instance=instance,
        resources=build_resources(settings),
        raise_on_error=False,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def instance(sandboxes: SandboxSuite) -> dg.DagsterInstance:
    prepare_dagster_home(Settings.from_env())
    return dg.DagsterInstance.get()


def test_parts_go_out_in_order_to_every_platform_exactly_once(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    videos = stage_story("bakery", settings, make_video)
    result = publish("bakery", settings, instance)
    assert result.success
    for platform in PLATFORMS:
        posts = sandboxes.servers[platform].posts
        assert [post["sha256"] for post in posts] == [digest(video) for video in videos], platform
        [materialization] = result.asset_materializations_for_node(f"{platform}_post")
        assert len(materialization.metadata["post_ids"].value) == len(videos)  # type: ignore[arg-type]
    again = publish("bakery", settings, instance)
    assert again.success
    assert all(len(sandboxes.servers[p].posts) == len(videos) for p in PLATFORMS)


def test_a_part_refused_in_processing_stops_later_parts_on_that_platform_only(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    videos = stage_story("refused", settings, make_video)
    sandboxes.servers["x"].reject_next_processing("Unsupported video format")
    result = publish("refused", settings, instance)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["x_post"]
    message = failures[0].step_failure_data.error.message  # type: ignore[union-attr]
    assert "Unsupported video format" in message
    assert sandboxes.servers["x"].posts == []
    assert len(sandboxes.servers["linkedin"].posts) == len(videos)


def test_the_same_video_under_another_story_is_refused(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    stage_story("first", settings, make_video)
    assert publish("first", settings, instance).success
    stage_story("copy", settings, make_video)
    result = publish("copy", settings, instance)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert len(failures) == len(PLATFORMS)
    assert all("already went to" in e.step_failure_data.error.message for e in failures)  # type: ignore[union-attr]
