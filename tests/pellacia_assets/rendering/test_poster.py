from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.poster import extract_poster
from pellacia_assets.rendering.probe import probe

Ffmpeg = Callable[..., bytes]


@pytest.fixture
def video(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> Path:
    """2 s at 1080x1920: red for the first second, then blue."""
    path = tmp_path / "short.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "color=c=red:s=1080x1920:r=30:d=1",
        "-f", "lavfi", "-i", "color=c=blue:s=1080x1920:r=30:d=1",
        "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def _pixels(png: Path, ffmpeg_cli: Ffmpeg) -> npt.NDArray[np.uint8]:
    raw = ffmpeg_cli("-i", str(png), "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080, 3)


def test_poster_is_the_full_size_frame_at_the_time(tmp_path: Path, video: Path, ffmpeg_cli: Ffmpeg) -> None:
    poster = extract_poster(video, tmp_path / "out" / "poster.png", at_s=1.5)
    info = probe(poster)
    assert (info.width, info.height, info.video_codec) == (1080, 1920, "png")
    red, _, blue = _pixels(poster, ffmpeg_cli).reshape(-1, 3).mean(axis=0)
    assert blue > 200 and red < 50
    assert sorted(p.name for p in poster.parent.iterdir()) == ["poster.png"]


def test_poster_time_past_the_end_is_a_media_error(tmp_path: Path, video: Path) -> None:
    with pytest.raises(MediaError, match="outside the video"):
        extract_poster(video, tmp_path / "poster.png", at_s=5.0)
    assert not (tmp_path / "poster.png").exists()


def test_poster_from_audio_is_a_media_error(tmp_path: Path, speech_wav: Path) -> None:
    with pytest.raises(MediaError, match="no video"):
        extract_poster(speech_wav, tmp_path / "poster.png", at_s=0.5)
