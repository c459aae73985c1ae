"""A video link made into a new short by the real chain: the link admitted from the links file, downloaded
from the local video site, transcribed by Whisper, rewritten, voiced, captioned and rendered over the
linked clip itself with the brand's watermark, and credited in every caption."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from pellacia_assets.assets.captions import captions
from pellacia_assets.assets.script import script
from pellacia_assets.assets.story import story
from pellacia_assets.assets.video import video
from pellacia_assets.assets.voiceover import voiceover
from pellacia_assets.definitions import build_resources
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.rendering.cards import SafeZone
from pellacia_assets.rendering.probe import probe
from pellacia_assets.settings import Settings
from pellacia_assets.sources.base import poll
from pellacia_assets.sources.links import from_env, link_candidate
from resources.database.engine import open_database, transaction
from resources.database.intake import admit
from resources.database.models import StoryRecord
from sandbox.videos import VideoSite, speech_video, video_site

SPEECH = (
    "Last winter a lighthouse keeper found a letter in a bottle on the rocks. It was addressed to him, "
    "and it had been written fifty years ago by his own grandfather."
)
GREEN = "0x00ff00"  # no generated background has a pure green: a green frame is the linked clip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoSite]:
    clip = speech_video(tmp_path_factory.mktemp("clips") / "keeper.mp4", SPEECH, colour=GREEN)
    with video_site() as running:
        running.add_video("keeper", clip, "The letter from my grandfather", width=640, height=360)
        yield running


def frame(video_file: Path, at_s: float, width: int = 1080, height: int = 1920) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{at_s:.2f}", "-i", str(video_file), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).astype(np.int16)


@pytest.mark.e2e
def test_a_video_link_becomes_a_new_short_over_its_own_clip(
    site: VideoSite, pellacia_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (400, 200), (255, 0, 255, 255)).save(logo)
    monkeypatch.setenv("PELLACIA_BRAND_LOGO", str(logo))
    monkeypatch.delenv("PELLACIA_LINKS_APPROVAL", raising=False)
    monkeypatch.delenv("PELLACIA_APPROVAL", raising=False)
    (pellacia_home / "links.txt").parent.mkdir(parents=True, exist_ok=True)
    (pellacia_home / "links.txt").write_text(f"{site.watch_url('keeper')}\n", encoding="utf-8")
    settings = Settings.from_env()
    prepare_dagster_home(settings)

    report = poll(from_env(), open_database(settings.database_url))
    assert [(a.key, a.approval) for a in report.added] == [("link-generic-keeper", "approved")]
    key = "link-generic-keeper"
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", [key])
        result = dg.materialize(
            [story, script, voiceover, captions, video],
            partition_key=key,
            instance=instance,
            resources=build_resources(settings),
            raise_on_error=False,
        )
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    media = settings.media_dir / key

    told = json.loads((media / "story" / "story.json").read_text())
    assert told["title"] == "The letter from my grandfather" and told["url"] == site.watch_url("keeper")
    assert "lighthouse keeper found a letter in a bottle" in told["body"].lower()
    assert (media / "source" / "source.mp4").read_bytes() == site.video("keeper").path.read_bytes()  # type: ignore[union-attr]

    written = json.loads((media / "script" / "script.json").read_text())
    for copy in written["parts"][0]["copy"].values():
        assert (
            f"Source: {site.base_url.removeprefix('http://')}\n{site.watch_url('keeper')}" in copy["caption"]
        )

    short = media / "video" / "part-1.mp4"
    info = probe(short)
    assert (info.width, info.height) == (1080, 1920)
    picture = frame(short, min(2.0, info.duration_s / 2))
    red, green, blue = picture[1880, 1040]  # below the safe zone: nothing but the background there
    assert green > 120 and red < 50 and blue < 50, f"not the linked clip, dimmed: {(red, green, blue)}"
    zone = SafeZone.of(1080, 1920)
    mark = picture[zone.top + 15 : zone.top + 60, zone.left + 15 : zone.left + 150]
    assert (mark[..., 0] > 150).all() and (mark[..., 2] > 150).all() and (mark[..., 1] < 110).all()
    [materialised] = result.asset_materializations_for_node("video")
    assert str(materialised.metadata["background"].value).startswith("clip source.mp4")

    # The same video behind another address is another link, but its words are the first one's: the
    # story asset refuses it once it has heard them, and the first story keeps the transcript as its text.
    other = "link-generic-keeper-again"
    with transaction(open_database(settings.database_url)) as session:
        admit(
            session, replace(link_candidate(site.player_url("keeper")).record, key=other), approval="approved"
        )
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", [other])
        again = dg.materialize(
            [story],
            partition_key=other,
            instance=instance,
            resources=build_resources(settings),
            raise_on_error=False,
        )
    assert not again.success
    [failure] = [e for e in again.all_events if e.is_step_failure]
    assert f"its video says what story '{key}' says" in str(failure.step_failure_data.error)
    with transaction(open_database(settings.database_url)) as session:
        first, second = session.get(StoryRecord, key), session.get(StoryRecord, other)
        assert first is not None and "lighthouse keeper" in first.body.lower() and first.content_hash
        assert second is not None and second.status == "rejected" and second.content_hash is None
