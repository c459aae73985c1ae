"""The contact sheet: a real 3 s clip becomes one PNG of 6 evenly spaced frames, side by side."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.sheet import GAP, contact_sheet, frame_times

Ffmpeg = Callable[..., bytes]
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


@pytest.fixture
def clip(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> Path:
    """3 s at 540x960: red, green, then blue, one second each."""
    path = tmp_path / "clip.mp4"
    inputs: list[str] = []
    for name in ("0xFF0000", "0x00FF00", "0x0000FF"):
        inputs += ["-f", "lavfi", "-i", f"color=c={name}:s=540x960:r=30:d=1"]
    ffmpeg_cli(
        *inputs, "-filter_complex", "[0][1][2]concat=n=3:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def test_frame_times_are_evenly_spaced_inside_the_video() -> None:
    assert frame_times(3.0, 6) == pytest.approx([0.25, 0.75, 1.25, 1.75, 2.25, 2.75])


def test_sheet_holds_six_frames_side_by_side(tmp_path: Path, clip: Path) -> None:
    out = contact_sheet(clip, tmp_path / "sheets" / "sheet.png")
    assert out == tmp_path / "sheets" / "sheet.png"
    assert sorted(p.name for p in out.parent.iterdir()) == ["sheet.png"]
    with Image.open(out) as image:
        frame_width = 270  # 540x960 at 480 high
        assert image.size == (6 * frame_width + 5 * GAP, 480)
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    for index in range(6):
        left = index * (frame_width + GAP)
        middle = pixels[100:300, left + 40 : left + frame_width - 40].reshape(-1, 3).mean(axis=0)
        expected = np.array(COLOURS[index // 2])
        assert np.abs(middle - expected).max() < 40, (index, middle)
        if index:
            gap = pixels[:, left - GAP : left].reshape(-1, 3).mean(axis=0)
            assert gap.max() < 40  # the dark gutter between frames


def test_sheet_size_and_count_are_settable(tmp_path: Path, clip: Path) -> None:
    out = contact_sheet(clip, tmp_path / "sheet.png", frames=3, height=240)
    with Image.open(out) as image:
        assert image.size == (3 * 136 + 2 * GAP, 240)  # 540*240/960 = 135, rounded to even


def test_sheet_refuses_audio_only_media(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    audio = tmp_path / "voice.wav"
    ffmpeg_cli("-f", "lavfi", "-i", "sine=d=1", str(audio))
    with pytest.raises(MediaError):
        contact_sheet(audio, tmp_path / "sheet.png")
    assert not (tmp_path / "sheet.png").exists()
