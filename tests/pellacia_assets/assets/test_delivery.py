"""A delivered video through `story`, `script` and `video`: copy from its sidecar, the file taken as it is or
normalised once where a platform needs it, and its posts queued once the check passes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from pellacia_assets.assets.captions import captions
from pellacia_assets.assets.script import script
from pellacia_assets.assets.story import story
from pellacia_assets.assets.video import video
from pellacia_assets.assets.voiceover import voiceover
from pellacia_assets.definitions import build_resources
from pellacia_assets.delivery.sidecar import Delivery
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.manifests import load_script, load_story, load_video
from pellacia_assets.rendering.probe import probe
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.models import QueuedPost, StoryRecord, as_utc
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.platforms import PLATFORMS

MakeVideo = Callable[..., Path]


class Factory:
    def __init__(self, settings: Settings, instance: dg.DagsterInstance) -> None:
        self.settings = settings
        self.instance = instance
        self.store = MediaStore(settings.media_dir)
        self.database = open_database(settings.database_url)

    def deliver(self, key: str, video_file: Path, delivery: Delivery) -> None:
        with transaction(self.database) as session:
            save_source(session, delivery.source_record(key, "phase05", video_file))
        self.instance.add_dynamic_partitions("story", [key])

    def run(self, key: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [story, script, video],
            partition_key=key,
            instance=self.instance,
            resources=build_resources(self.settings),
            raise_on_error=False,
        )

    def queue(self, key: str) -> list[QueuedPost]:
        with transaction(self.database) as session:
            rows = list(session.scalars(select(QueuedPost).where(QueuedPost.story_key == key)))
            session.expunge_all()
            return rows

    def status(self, key: str) -> str:
        with transaction(self.database) as session:
            record = session.get(StoryRecord, key)
            assert record is not None
            return record.status


@pytest.fixture
def factory(pellacia_home: Path) -> Iterator[Factory]:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:
        yield Factory(settings, instance)


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}


def problems(result: dg.ExecuteInProcessResult, check: str) -> str:
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == check)
    return str(evaluation.metadata["problems"].value)


def test_a_video_every_platform_takes_is_linked_as_it_is_and_queued(
    factory: Factory, make_video: MakeVideo, tmp_path: Path
) -> None:
    delivered = make_video(tmp_path / "flood.mp4", seconds=3.5, size="540x960")
    when = datetime(2026, 12, 27, 19, 0, tzinfo=UTC)
    factory.deliver(
        "phase05-flood",
        delivered,
        Delivery(
            title="Flood in the valley",
            description="The river rose overnight.",
            hashtags=("#flood", "#Valencia"),
            priority="breaking",
            publish_after=when,
        ),
    )
    result = factory.run("phase05-flood")
    assert result.success
    assert checks(result) == {"script_ready": True, "video_format": True, "video_layout": True}
    assert load_story(factory.store, "phase05-flood").body == "The river rose overnight."
    [part] = load_script(factory.store, "phase05-flood").parts
    assert part.copy["youtube"].title == "Flood in the valley"
    assert part.copy["youtube"].caption == "The river rose overnight.\n\n#flood #Valencia"
    assert part.copy["tiktok"].caption.startswith("Flood in the valley\n\nThe river rose overnight.")
    [made] = load_video(factory.store, "phase05-flood").parts
    output = factory.store.asset_dir("phase05-flood", "video") / made.file
    assert output.stat().st_ino == delivered.stat().st_ino  # taken as it is: a hard link, not a copy
    assert (output.parent / made.poster).stat().st_size > 1_000
    assert factory.status("phase05-flood") == "produced"
    rows = factory.queue("phase05-flood")
    assert sorted(row.platform for row in rows) == sorted(PLATFORMS)
    assert {(row.part, row.parts, row.lane, row.state) for row in rows} == {(1, 1, "breaking", "queued")}
    assert {as_utc(row.not_before) for row in rows} == {when}


def test_a_video_a_platform_refuses_is_normalised_once(factory: Factory, tmp_path: Path) -> None:
    delivered = tmp_path / "wide.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=600x1000:r=30", "-f", "lavfi",
         "-i", "sine=f=330:r=44100", "-t", "3.5", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv444p", "-c:a", "aac", str(delivered)],
        check=True,
    )  # fmt: skip
    factory.deliver("phase05-wide", delivered, Delivery(title="Wide", platforms=("youtube", "x")))
    result = factory.run("phase05-wide")
    assert result.success
    assert checks(result) == {"script_ready": True, "video_format": True, "video_layout": True}
    materialization = result.asset_materializations_for_node("video")[0]
    assert "x: pixel format yuv444p is not YUV 4:2:0" in str(materialization.metadata["delivery"].value)
    output = factory.store.asset_dir("phase05-wide", "video") / "part-1.mp4"
    assert output.stat().st_ino != delivered.stat().st_ino
    info = probe(output)
    assert (info.width, info.height, info.video_codec, info.pix_fmt) == (600, 1000, "h264", "yuv420p")
    assert (info.audio_codec, info.audio_sample_rate, info.faststart) == ("aac", 48_000, True)
    assert sorted(row.platform for row in factory.queue("phase05-wide")) == ["x", "youtube"]
    assert factory.status("phase05-wide") == "produced"


def test_a_video_too_short_for_its_platform_fails_the_check_and_queues_nothing(
    factory: Factory, make_video: MakeVideo, tmp_path: Path
) -> None:
    delivered = make_video(tmp_path / "blink.mp4", seconds=2.0, size="540x960")
    factory.deliver("phase05-blink", delivered, Delivery(title="Blink", platforms=("instagram",)))
    result = factory.run("phase05-blink")
    assert checks(result)["video_format"] is False
    assert "instagram: 2.0 s is outside 3-900 s" in problems(result, "video_format")
    assert factory.queue("phase05-blink") == []
    assert factory.status("phase05-blink") != "produced"


def test_a_missing_delivered_file_fails_clearly(factory: Factory, tmp_path: Path) -> None:
    factory.deliver("phase05-gone", tmp_path / "gone.mp4", Delivery(title="Gone"))
    result = factory.run("phase05-gone")
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert failure.step_failure_data is not None and failure.step_failure_data.error is not None
    assert "the delivered video" in failure.step_failure_data.error.message
    assert "does not exist" in failure.step_failure_data.error.message


@pytest.mark.e2e
def test_a_rendered_story_is_produced_and_queued_too(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end of `video` is the same for every story: produced, then its posts in the queue."""
    monkeypatch.setenv("PELLACIA_PLATFORMS", "youtube,linkedin")
    record = SourceRecord(
        key="note",
        source_kind="file",
        source_ref="test",
        title="The note in the library book",
        body="Inside an old library book was a note from 1987 that said: plant something today. So I did.",
    )
    with transaction(factory.database) as session:
        save_source(session, record)
    factory.instance.add_dynamic_partitions("story", ["note"])
    result = dg.materialize(
        [story, script, voiceover, captions, video],
        partition_key="note",
        instance=factory.instance,
        resources=build_resources(factory.settings),
        raise_on_error=False,
    )
    assert result.success and checks(result)["video_format"] is True
    assert factory.status("note") == "produced"
    assert sorted((row.platform, row.lane) for row in factory.queue("note")) == [
        ("linkedin", "normal"),
        ("youtube", "normal"),
    ]
