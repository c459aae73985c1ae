"""A link story's words are what its video says: downloaded once into the media store, transcribed by a
real Whisper model, and refused clearly when the video has no picture, no sound or no speech."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pellacia_assets.sources.links import LinkError, link_candidate
from pellacia_assets.stories.linked import SOURCE_ASSET, TRANSCRIPT_FILE, source_clip, transcribed
from pellacia_assets.stories.loading import SourceRecord, StoryError
from resources.media_store.store import MediaStore
from resources.transcriber.base import Transcriber
from resources.transcriber.registry import make_transcriber
from sandbox.videos import VideoSite, speech_video, video_site

SPEECH = "The keeper of the lighthouse found a letter in a bottle. It was addressed to him."


def ffmpeg_clip(path: Path, *inputs: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-t", "3", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoSite]:
    clips = tmp_path_factory.mktemp("clips")
    silent = ffmpeg_clip(
        clips / "silent.mp4", "-f", "lavfi", "-i", "color=c=gray:s=320x240", "-f", "lavfi", "-i", "anullsrc"
    )
    mute = ffmpeg_clip(clips / "mute.mp4", "-f", "lavfi", "-i", "color=c=gray:s=320x240")
    with video_site() as running:
        running.add_video("keeper", speech_video(clips / "keeper.mp4", SPEECH), "The letter in the bottle")
        running.add_video("silent", silent, "Waves, no words")
        running.add_video("mute", mute, "No sound at all")
        yield running


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return make_transcriber("faster-whisper", "tiny.en", tmp_path_factory.mktemp("models"))


def record_for(site: VideoSite, video_id: str) -> SourceRecord:
    return link_candidate(site.watch_url(video_id)).record


def test_the_transcript_becomes_the_body_and_the_clip_stays_in_the_media_store(
    site: VideoSite, whisper: Transcriber, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    record = record_for(site, "keeper")
    assert source_clip(store, record.key) is None

    story = transcribed(record, store, whisper)
    words = story.body.lower()
    assert "lighthouse" in words and "addressed to him" in words
    assert (story.title, story.url, story.byline) == (record.title, record.url, record.byline)
    clip = source_clip(store, record.key)
    assert clip == tmp_path / "media" / record.key / SOURCE_ASSET / "source.mp4"
    assert clip.read_bytes() == site.video("keeper").path.read_bytes()  # type: ignore[union-attr]
    assert (clip.parent / TRANSCRIPT_FILE).is_file()

    requests = len(site.served)
    assert transcribed(record, store, whisper).body == story.body
    assert len(site.served) == requests, "a second materialisation reuses the download and the transcript"


@pytest.mark.parametrize(
    ("video_id", "reason"),
    [("silent", "Whisper heard no speech"), ("mute", "has no sound; a link story needs both")],
)
def test_a_video_without_speech_is_refused_and_leaves_nothing_behind(
    site: VideoSite, whisper: Transcriber, tmp_path: Path, video_id: str, reason: str
) -> None:
    store = MediaStore(tmp_path / "media")
    record = record_for(site, video_id)
    with pytest.raises(StoryError, match=reason):
        transcribed(record, store, whisper)
    assert source_clip(store, record.key) is None


def test_a_video_gone_since_admission_is_a_link_error(
    site: VideoSite, whisper: Transcriber, tmp_path: Path
) -> None:
    record = record_for(site, "keeper")
    gone = SourceRecord(**{**record.__dict__, "url": site.missing_url()})
    with pytest.raises(LinkError, match="HTTP Error 404"):
        transcribed(gone, MediaStore(tmp_path / "media"), whisper)
