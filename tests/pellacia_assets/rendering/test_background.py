from __future__ import annotations

from pathlib import Path

import ffmpeg
import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.rendering.background import (
    PALETTES,
    ClipBackground,
    GeneratedBackground,
    background_stream,
    pick_background,
)
from pellacia_assets.rendering.errors import MediaError

WIDTH, HEIGHT = 1080, 1920
Gray = npt.NDArray[np.float64]


def _frames(background: GeneratedBackground, first: int, second: int) -> tuple[Gray, Gray]:
    stream = (
        background_stream(background, WIDTH, HEIGHT, 30, 10.0)
        .trim(end_frame=second + 1)
        .filter("select", f"eq(n,{first})+eq(n,{second})")
        .filter("format", "gray")
    )
    raw, _ = stream.output("pipe:", f="rawvideo", vsync="passthrough").run(capture_stdout=True, quiet=True)
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(2, HEIGHT, WIDTH).astype(np.float64)
    return frames[0], frames[1]


def _shift(a: Gray, b: Gray) -> tuple[int, int]:
    """The (dx, dy) translation from `b` to `a`, found by phase correlation."""
    cross = np.fft.fft2(a) * np.conj(np.fft.fft2(b))
    peak = np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real
    dy, dx = (int(v) for v in np.unravel_index(peak.argmax(), peak.shape))
    return (dx - WIDTH if dx > WIDTH // 2 else dx), (dy - HEIGHT if dy > HEIGHT // 2 else dy)


def _overlap(a: Gray, b: Gray, dx: int, dy: int) -> tuple[Gray, Gray]:
    return (
        a[max(dy, 0) : HEIGHT + min(dy, 0), max(dx, 0) : WIDTH + min(dx, 0)],
        b[max(-dy, 0) : HEIGHT + min(-dy, 0), max(-dx, 0) : WIDTH + min(-dx, 0)],
    )


@pytest.mark.parametrize("story_key", ["story-42", "reddit-abc123"])
def test_generated_background_drifts_as_a_pure_translation(story_key: str) -> None:
    start, later = _frames(GeneratedBackground.for_story(story_key), 0, 120)
    dx, dy = _shift(start, later)
    assert max(abs(dx), abs(dy)) >= 40, "the window barely moved in 4 s"
    kept_start, kept_later = _overlap(start, later, dx, dy)
    assert np.array_equal(kept_start, kept_later), "the frames are not shifted copies of one image"
    assert start.std() > 5, "the background is flat, so the motion would not show"


def test_generated_background_is_fixed_by_the_story_key() -> None:
    assert GeneratedBackground.for_story("a") == GeneratedBackground.for_story("a")
    variants = {GeneratedBackground.for_story(f"story-{i}") for i in range(20)}
    assert len({v.seed for v in variants}) == 20
    assert len({v.palette for v in variants}) > 3
    assert all(v.palette in PALETTES for v in variants)


def test_no_backgrounds_folder_means_generated() -> None:
    assert pick_background("k", None) == GeneratedBackground.for_story("k")


def test_empty_backgrounds_folder_means_generated(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a clip")
    assert pick_background("k", tmp_path) == GeneratedBackground.for_story("k")


def test_clip_choice_is_fixed_per_story_and_uses_every_clip(tmp_path: Path) -> None:
    for name in ("b.mp4", "a.MOV", "c.webm"):
        (tmp_path / name).write_bytes(b"")
    picks = {pick_background(f"story-{i}", tmp_path) for i in range(30)}
    assert picks == {ClipBackground(tmp_path / n) for n in ("a.MOV", "b.mp4", "c.webm")}
    assert pick_background("story-7", tmp_path) == pick_background("story-7", tmp_path)


def test_missing_backgrounds_folder_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        pick_background("k", tmp_path / "missing")


def test_clip_stream_loops_and_covers_the_frame(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    source = ffmpeg.input("testsrc=s=320x240:r=25:d=0.4", f="lavfi")
    source.output(str(clip), pix_fmt="yuv420p").run(quiet=True)
    stream = background_stream(ClipBackground(clip), 108, 192, 30, 2.0)
    raw, _ = stream.output("pipe:", f="rawvideo", pix_fmt="gray").run(capture_stdout=True, quiet=True)
    assert len(raw) == 60 * 108 * 192
