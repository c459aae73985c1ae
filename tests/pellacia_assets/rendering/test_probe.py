from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import is_faststart, probe

Ffmpeg = Callable[..., bytes]


def _clip(ffmpeg_cli: Ffmpeg, path: Path, *extra: str) -> Path:
    ffmpeg_cli(
        "-f", "lavfi", "-i", "testsrc=s=64x48:r=25:d=1",
        "-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=44100",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra, str(path),
    )  # fmt: skip
    return path


def test_probe_reads_video_and_audio_facts(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    info = probe(_clip(ffmpeg_cli, tmp_path / "clip.mp4", "-movflags", "+faststart"))
    assert (info.width, info.height, info.fps) == (64, 48, 25.0)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 44_100, 1)
    assert info.has_audio and info.has_video
    assert abs(info.duration_s - 1.0) < 0.1
    assert info.faststart
    assert info.size_bytes == (tmp_path / "clip.mp4").stat().st_size


def test_mp4_without_faststart_is_detected(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    assert not probe(_clip(ffmpeg_cli, tmp_path / "clip.mp4")).faststart


def test_audio_only_file(tmp_path: Path, speech_wav: Path) -> None:
    info = probe(speech_wav)
    assert info.has_audio and not info.has_video
    assert info.width is None and info.fps is None
    assert info.audio_sample_rate == 22_050
    assert not info.faststart
    assert not is_faststart(speech_wav)


def test_missing_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        probe(tmp_path / "nothing.mp4")


def test_empty_file_is_a_media_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MediaError, match="is empty"):
        probe(empty)


def test_text_file_is_a_media_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is a shopping list, not a video\n" * 20)
    with pytest.raises(MediaError, match="not readable media") as raised:
        probe(text)
    assert "Invalid data" in str(raised.value)
    assert "{" not in str(raised.value), "the message should not be a raw ffprobe dump"


def test_truncated_mp4_is_a_media_error(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    clip = _clip(ffmpeg_cli, tmp_path / "clip.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:600])
    with pytest.raises(MediaError, match=r"broken\.mp4"):
        probe(broken)
