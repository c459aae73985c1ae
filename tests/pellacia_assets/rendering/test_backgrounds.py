from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ffmpeg
import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.rendering.background import (
    CLIP_DIM,
    OFFSET_SPAN,
    PALETTES,
    STYLES,
    Background,
    ClipBackground,
    GeneratedBackground,
    background_stream,
    pick_background,
)
from pellacia_assets.rendering.errors import MediaError

WIDTH, HEIGHT = 1080, 1920
Gray = npt.NDArray[np.float64]
Rgb = npt.NDArray[np.uint8]
Ffmpeg = Callable[..., bytes]


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


def _rgb_frames(
    background: Background, times_s: list[float], width: int = 108, height: int = 192
) -> list[Rgb]:
    """RGB frames of the background at `times_s` (small, for colour checks)."""
    last = max(round(t * 30) for t in times_s)
    stream = background_stream(background, width, height, 30, last / 30 + 1).trim(end_frame=last + 1)
    raw, _ = (
        stream.filter("select", "+".join(f"eq(n,{round(t * 30)})" for t in times_s))
        .output("pipe:", f="rawvideo", pix_fmt="rgb24", vsync="passthrough")
        .run(capture_stdout=True, quiet=True)
    )
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)
    assert len(frames) == len(times_s)
    return list(frames)


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


@pytest.mark.parametrize("style", STYLES)
def test_every_style_renders_and_drifts_as_a_pure_translation(style: str) -> None:
    start, later = _frames(GeneratedBackground(style, PALETTES[0], 1234567), 0, 120)
    dx, dy = _shift(start, later)
    assert max(abs(dx), abs(dy)) >= 40, "the window barely moved in 4 s"
    kept_start, kept_later = _overlap(start, later, dx, dy)
    assert np.array_equal(kept_start, kept_later), "the frames are not shifted copies of one image"
    assert start.std() > 5, "the background is flat, so the motion would not show"


def test_styles_are_distinct_pictures() -> None:
    pictures = {
        style: _rgb_frames(GeneratedBackground(style, PALETTES[1], 99), [0.0])[0].astype(np.int16)
        for style in STYLES
    }
    for first in STYLES:
        for second in STYLES:
            if first < second:
                difference = np.abs(pictures[first] - pictures[second]).mean()
                assert difference > 8, f"{first} and {second} look alike ({difference:.1f})"


def test_generated_background_is_fixed_by_the_story_key_and_varies_between_stories() -> None:
    assert GeneratedBackground.for_story("a") == GeneratedBackground.for_story("a")
    variants = [GeneratedBackground.for_story(f"story-{i}") for i in range(30)]
    assert len({v.seed for v in variants}) == 30
    assert {v.style for v in variants} == set(STYLES)
    assert len({v.palette for v in variants}) > 5
    assert all(v.palette in PALETTES for v in variants)
    assert len({(v.style, v.palette) for v in variants}) > 15


def test_two_stories_get_measurably_different_backgrounds() -> None:
    first, second = GeneratedBackground.for_story("story-1"), GeneratedBackground.for_story("story-2")
    assert (first.style, first.palette) != (second.style, second.palette)
    one, other = (_rgb_frames(b, [0.0], 270, 480)[0].astype(np.int16) for b in (first, second))
    assert np.abs(one - other).mean() > 10
    # Per-channel averages differ too, not just the layout: a viewer sees another colour scheme.
    assert np.abs(one.reshape(-1, 3).mean(0) - other.reshape(-1, 3).mean(0)).max() > 10


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown background style"):
        GeneratedBackground("plasma", PALETTES[0], 1)


def test_no_backgrounds_folder_means_generated() -> None:
    assert pick_background("k", None) == GeneratedBackground.for_story("k")


def test_empty_backgrounds_folder_means_generated(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a clip")
    assert pick_background("k", tmp_path) == GeneratedBackground.for_story("k")


def test_clip_choice_is_fixed_per_story_and_uses_every_clip(tmp_path: Path) -> None:
    # Unreadable clips keep offset 0: the render's own check then names the bad file.
    for name in ("b.mp4", "a.MOV", "c.webm"):
        (tmp_path / name).write_bytes(b"")
    picks = {pick_background(f"story-{i}", tmp_path) for i in range(30)}
    assert picks == {ClipBackground(tmp_path / n) for n in ("a.MOV", "b.mp4", "c.webm")}
    assert pick_background("story-7", tmp_path) == pick_background("story-7", tmp_path)


def test_clip_offset_is_fixed_per_story_and_inside_the_clip(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    clip = tmp_path / "long.mp4"
    ffmpeg_cli("-f", "lavfi", "-i", "color=c=gray:s=64x36:r=5:d=40", "-pix_fmt", "yuv420p", str(clip))
    picks = [pick_background(f"story-{i}", tmp_path) for i in range(12)]
    offsets = [p.offset_s for p in picks if isinstance(p, ClipBackground)]
    assert len(offsets) == 12
    assert all(0 <= o <= OFFSET_SPAN * 40 for o in offsets)
    assert len(set(offsets)) > 8, "offsets should differ between stories"
    assert pick_background("story-3", tmp_path) == picks[3]
    assert all(isinstance(p, ClipBackground) and p.dim == CLIP_DIM for p in picks)


def test_missing_backgrounds_folder_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        pick_background("k", tmp_path / "missing")


@pytest.mark.parametrize(("offset_s", "dim"), [(-1.0, 0.3), (0.0, 1.5), (0.0, -0.1)])
def test_impossible_clip_settings_are_refused(tmp_path: Path, offset_s: float, dim: float) -> None:
    with pytest.raises(ValueError):
        ClipBackground(tmp_path / "clip.mp4", offset_s, dim)


def test_clip_stream_loops_and_covers_the_frame(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    source = ffmpeg.input("testsrc=s=320x240:r=25:d=0.4", f="lavfi")
    source.output(str(clip), pix_fmt="yuv420p").run(quiet=True)
    stream = background_stream(ClipBackground(clip), 108, 192, 30, 2.0)
    raw, _ = stream.output("pipe:", f="rawvideo", pix_fmt="gray").run(capture_stdout=True, quiet=True)
    assert len(raw) == 60 * 108 * 192


def test_clip_starts_at_its_offset_loops_from_the_start_and_is_dimmed(
    tmp_path: Path, ffmpeg_cli: Ffmpeg
) -> None:
    # A 3 s landscape clip: red, then green, then blue, one second each.
    clip = tmp_path / "rgb.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "color=c=red:s=320x180:r=30:d=1",
        "-f", "lavfi", "-i", "color=c=lime:s=320x180:r=30:d=1",
        "-f", "lavfi", "-i", "color=c=blue:s=320x180:r=30:d=1",
        "-filter_complex", "[0][1][2]concat=n=3:v=1:a=0", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip),
    )  # fmt: skip
    times = [0.2, 0.8, 1.8]  # clip time 1.7 (green), 2.3 (blue), then looped to 0.3 (red)
    plain = _rgb_frames(ClipBackground(clip, offset_s=1.5, dim=0.0), times)
    dimmed = _rgb_frames(ClipBackground(clip, offset_s=1.5, dim=0.5), times)
    for frame, channel in zip(plain, (1, 2, 0), strict=True):
        colour = frame.reshape(-1, 3).mean(axis=0)
        assert colour.argmax() == channel and colour[channel] > 180, colour
    for bright, dark in zip(plain, dimmed, strict=True):
        ratio = dark.astype(np.float64).mean() / bright.astype(np.float64).mean()
        assert 0.4 < ratio < 0.62, f"dim 0.5 kept {ratio:.2f} of the brightness"
