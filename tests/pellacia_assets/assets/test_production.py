"""The production line as Dagster runs it: the real chain, and the gates stopping bad media."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pellacia_assets.assets.captions import captions
from pellacia_assets.assets.script import script
from pellacia_assets.assets.story import story
from pellacia_assets.assets.video import video
from pellacia_assets.assets.voiceover import voiceover
from pellacia_assets.cli import SAMPLES_DIR
from pellacia_assets.definitions import build_resources
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.manifests import load_voiceover
from pellacia_assets.rendering.probe import probe
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.models import StoryRecord
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.renderer.resource import RendererResource
from resources.script_writer.resource import ScriptWriterResource

ASSETS = [story, script, voiceover, captions, video]
SHORT_STORY = SourceRecord(
    key="short",
    source_kind="file",
    source_ref="test",
    title="The note in the library book",
    body=(
        "I borrowed an old library book about gardening. Inside the cover was a note from 1987 that said: "
        "whoever reads this, plant something today. So I did. Three tomato plants are now growing on my "
        "balcony, and I left a new note in the book for the next reader."
    ),
)

LONG_STORY = SourceRecord(
    key="long",
    source_kind="file",
    source_ref="test",
    title="The library that only opens at 3 a.m.",
    body=json.loads((SAMPLES_DIR / "night-shift-library.json").read_text())["body"],
)


class Factory:
    def __init__(self, settings: Settings, instance: dg.DagsterInstance) -> None:
        self.settings = settings
        self.instance = instance

    def add(self, record: SourceRecord) -> None:
        with transaction(open_database(self.settings.database_url)) as session:
            save_source(session, record)
        self.instance.add_dynamic_partitions("story", [record.key])

    def run(self, key: str, names: list[str], **overrides: Any) -> dg.ExecuteInProcessResult:
        resources = {**build_resources(self.settings), **overrides}
        return dg.materialize(
            ASSETS,
            selection=dg.AssetSelection.assets(*names),
            partition_key=key,
            instance=self.instance,
            resources=resources,
            raise_on_error=False,
        )

    def folder(self, key: str, asset: str) -> Path:
        return self.settings.media_dir / key / asset


@pytest.fixture
def factory(pellacia_home: Path) -> Iterator[Factory]:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:
        yield Factory(settings, instance)


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return event.step_failure_data.error.message
    return ""


@pytest.mark.e2e
def test_real_chain_turns_a_short_story_into_a_checked_short(factory: Factory) -> None:
    """Default stack: hibari voice, faster-whisper base, ffmpeg; verified with ffprobe."""
    factory.add(SHORT_STORY)
    result = factory.run("short", ["story", "script", "voiceover", "captions", "video"])
    assert result.success, failure_message(result)
    assert checks(result) == {
        "script_ready": True,
        "voiceover_loudness": True,
        "voiceover_part_length": True,
        "caption_alignment": True,
        "video_format": True,
        "video_layout": True,
    }
    audio_seconds = load_voiceover(MediaStore(factory.settings.media_dir), "short").part(1).duration_s
    mp4 = factory.folder("short", "video") / "part-1.mp4"
    info = probe(mp4)
    assert (info.width, info.height, info.fps) == (1080, 1920, 30.0)
    assert (info.video_codec, info.pix_fmt, info.audio_codec, info.audio_sample_rate) == (
        "h264",
        "yuv420p",
        "aac",
        48_000,
    )
    assert info.faststart
    assert abs(info.duration_s - audio_seconds) < 0.1
    assert (factory.folder("short", "video") / "part-1.png").stat().st_size > 10_000
    thumbnail = factory.folder("short", "video") / "part-1-thumbnail.jpg"
    assert thumbnail.stat().st_size > 10_000 and probe(thumbnail).width == 1280
    [video] = result.asset_materializations_for_node("video")
    assert "data:image/jpeg;base64," in str(video.metadata["contact_sheets"].value)
    subtitles = (factory.folder("short", "captions") / "part-1.ass").read_text()
    assert "tomato" in subtitles
    materialization = result.asset_materializations_for_node("script")[0]
    assert "Part 1" in str(materialization.metadata["script"].value)
    with transaction(open_database(factory.settings.database_url)) as session:
        assert session.get(StoryRecord, "short") is not None


def test_overrunning_parts_fail_the_length_check_and_stop_production(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A voice pace that is wrong (here: recorded as twice the real one) makes parts run over."""
    monkeypatch.setenv("PELLACIA_TTS_ENGINE", "espeak")
    factory.settings = Settings.from_env()
    tts = build_resources(factory.settings)["tts"]
    real_pace = tts.words_per_minute()
    [cached] = factory.settings.cache_dir.glob("wpm-espeak-*.json")
    record = json.loads(cached.read_text())
    record["words_per_minute"] = real_pace * 2
    cached.write_text(json.dumps(record))
    factory.add(LONG_STORY)
    result = factory.run("long", ["story", "script", "voiceover", "captions"])
    assert not result.success
    assert checks(result) == {
        "script_ready": True,
        "voiceover_loudness": True,
        "voiceover_part_length": False,
    }
    assert not factory.folder("long", "captions").exists()


def test_hook_longer_than_a_part_fails_the_script_clearly(factory: Factory) -> None:
    factory.add(SHORT_STORY)
    strict = ScriptWriterResource(
        writer="template", max_part_seconds=3, llm=build_resources(factory.settings)["script_writer"].llm
    )
    result = factory.run("short", ["story", "script"], script_writer=strict)
    assert not result.success
    assert "hook and call to action alone take" in failure_message(result)
    assert not factory.folder("short", "script").exists()


@pytest.mark.e2e
def test_silent_voiceover_fails_the_caption_alignment_check(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_TTS_ENGINE", "espeak")
    factory.settings = Settings.from_env()
    factory.add(SHORT_STORY)
    assert factory.run("short", ["story", "script", "voiceover"]).success
    wav = factory.folder("short", "voiceover") / "part-1.wav"
    silent = wav.with_name("silent.wav")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-af", "volume=0", str(silent)], check=True
    )
    silent.replace(wav)
    result = factory.run("short", ["captions", "video"])
    assert checks(result) == {"caption_alignment": False}
    assert not factory.folder("short", "video").exists()


@pytest.mark.e2e
def test_wrong_resolution_fails_the_video_check(factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_WHISPER_MODEL", "tiny.en")
    factory.settings = Settings.from_env()
    factory.add(SHORT_STORY)
    landscape = RendererResource(width=1280, height=720)
    result = factory.run("short", ["story", "script", "voiceover", "captions", "video"], renderer=landscape)
    assert checks(result)["video_format"] is False
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "video_format")
    assert "1280x720, expected 1080x1920" in str(evaluation.metadata["problems"].value)


def test_story_in_another_language_fails_clearly_and_writes_nothing(factory: Factory) -> None:
    german = SourceRecord(
        key="german",
        source_kind="file",
        source_ref="test",
        title="Ein Abend",
        body=(
            "Gestern Abend bin ich mit meiner Schwester in die Stadt gefahren, weil wir im neuen Restaurant "
            "am Marktplatz essen wollten. Leider war es geschlossen, also haben wir zu Hause gekocht."
        ),
    )
    factory.add(german)
    result = factory.run("german", ["story", "script"])
    assert not result.success
    assert "written in German (de)" in failure_message(result)
    assert not (factory.settings.media_dir / "german").exists()
    with transaction(open_database(factory.settings.database_url)) as session:
        row = session.get(StoryRecord, "german")
        assert row is not None and row.status == "rejected" and "German" in (row.error or "")


def test_partition_without_a_source_record_says_how_to_add_one(factory: Factory) -> None:
    factory.instance.add_dynamic_partitions("story", ["ghost"])
    result = factory.run("ghost", ["story"])
    assert "pellacia-dist story add" in failure_message(result)
