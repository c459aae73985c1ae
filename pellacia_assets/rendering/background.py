"""The moving background behind the captions: a generated drifting mesh gradient, or a looped clip.

The generated one costs about as much as a solid colour: soft colour blobs are drawn once, at low
resolution, scaled to a canvas larger than the frame, frozen with `loop`, and a frame-sized window drifts
over it with `crop`. A pure translation encodes as motion vectors, and no filter touches every pixel of
every frame (animated `gradients` or `zoompan` over full frames cost 2-2.5x the time; see
benchmarks/bench_render.py). Blobs rather than a linear gradient, so the drift shows in any direction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from pellacia_assets.rendering.selection import VIDEO_SUFFIXES, media_files, pick_for_key, stable_number

# Three-colour palettes that keep white captions with a black outline readable.
PALETTES: tuple[tuple[str, str, str], ...] = (
    ("0x3a1c71", "0xd76d77", "0xffaf7b"),
    ("0x0f2027", "0x2c5364", "0x4ca1af"),
    ("0x42275a", "0x734b6d", "0xc06c84"),
    ("0x134e5e", "0x2a7f62", "0x71b280"),
    ("0x1f1c2c", "0x5b4a8b", "0x928dab"),
    ("0x2b1055", "0x7597de", "0x38a3a5"),
    ("0x6a3093", "0xa044ff", "0xf27121"),
    ("0x16222a", "0x3a6073", "0xc9794f"),
)
# The blobs are drawn at 1/DETAIL_DIVISOR of the canvas size: they are smooth, so detail would be wasted.
DETAIL_DIVISOR = 8
BLOB_COUNT = 7
# Blob radius (Gaussian sigma) as a fraction of the canvas width.
BLOB_SIGMA = 0.3
# Margin of the canvas beyond the frame, as a fraction of the frame: how far the window can travel.
DRIFT_MARGIN = 0.3
# Window speed in pixels per frame (about 20-45 px/s at 30 fps): visible motion, never distracting.
MIN_SPEED_PX = 0.7
MAX_SPEED_PX = 1.5


@dataclass(frozen=True)
class GeneratedBackground:
    """A gradient in one palette, its layout and drift fixed by `seed`."""

    palette: tuple[str, str, str]
    seed: int

    @classmethod
    def for_story(cls, story_key: str) -> GeneratedBackground:
        return cls(
            palette=pick_for_key(story_key, "palette", PALETTES),
            seed=stable_number(story_key, "background") % 2**31,
        )


@dataclass(frozen=True)
class ClipBackground:
    """A video clip (any size) that is looped, scaled to cover the frame and centre-cropped."""

    path: Path


Background = GeneratedBackground | ClipBackground


def pick_background(story_key: str, backgrounds_dir: Path | None) -> Background:
    """A clip from `backgrounds_dir` chosen by story key, or a generated background when there is none."""
    if backgrounds_dir is None:
        return GeneratedBackground.for_story(story_key)
    clips = media_files(backgrounds_dir, VIDEO_SUFFIXES, "backgrounds")
    if not clips:
        return GeneratedBackground.for_story(story_key)
    return ClipBackground(pick_for_key(story_key, "background", clips))


def background_stream(background: Background, width: int, height: int, fps: int, duration_s: float) -> Any:
    """The ffmpeg-python video stream of the background: `width`x`height` at `fps`, `duration_s` or longer."""
    if isinstance(background, ClipBackground):
        return _clip_stream(background.path, width, height, fps, duration_s)
    return _generated_stream(background, width, height, fps)


def _clip_stream(path: Path, width: int, height: int, fps: int, duration_s: float) -> Any:
    return (
        ffmpeg.input(str(path), stream_loop=-1)
        .video.filter("scale", width, height, force_original_aspect_ratio="increase", flags="bicubic")
        .filter("crop", width, height)
        .filter("setsar", 1)
        .filter("fps", fps)
        .trim(duration=duration_s)
        .setpts("PTS-STARTPTS")
    )


def _generated_stream(background: GeneratedBackground, width: int, height: int, fps: int) -> Any:
    canvas_w = _even(width * (1 + DRIFT_MARGIN))
    canvas_h = _even(height * (1 + DRIFT_MARGIN))
    low_w, low_h = _even(canvas_w / DETAIL_DIVISOR), _even(canvas_h / DETAIL_DIVISOR)
    speed_x, speed_y = _speeds(background.seed)
    phase_x, phase_y = (background.seed % 97) / 97, (background.seed % 89) / 89
    red, green, blue = _mesh_expressions(background, low_w, low_h)
    return (
        ffmpeg.input(f"color=c=black:s={low_w}x{low_h}:r={fps}:d=1", f="lavfi")
        .video.trim(end_frame=1)
        .filter("format", "gbrp")
        .filter("geq", r=red, g=green, b=blue)
        .filter("scale", canvas_w, canvas_h, flags="bicubic")
        .filter("format", "yuv420p")
        .filter("loop", loop=-1, size=1, start=0)
        .setpts(f"N/({fps}*TB)")
        .filter(
            "crop", width, height, x=_bounce(speed_x, phase_x, "iw-ow"), y=_bounce(speed_y, phase_y, "ih-oh")
        )
        .filter("setsar", 1)
    )


def _mesh_expressions(background: GeneratedBackground, width: int, height: int) -> tuple[str, str, str]:
    """`geq` expressions for the red, green and blue of a mesh gradient: a Gaussian-weighted blend of blobs.

    Each pixel stores every blob's weight in a `geq` register (st/ld), then mixes the blob colours by weight.
    """
    rng = random.Random(background.seed)
    colours = [_rgb(background.palette[i % len(background.palette)]) for i in range(BLOB_COUNT)]
    centres = [(rng.uniform(0, width), rng.uniform(0, height)) for _ in range(BLOB_COUNT)]
    spread = 2 * (BLOB_SIGMA * width) ** 2
    weights = ";".join(
        f"st({i},exp(-((X-{x:.1f})*(X-{x:.1f})+(Y-{y:.1f})*(Y-{y:.1f}))/{spread:.1f}))"
        for i, (x, y) in enumerate(centres)
    )
    total = "+".join(f"ld({i})" for i in range(BLOB_COUNT))

    def channel(index: int) -> str:
        mixed = "+".join(f"{colour[index]}*ld({i})" for i, colour in enumerate(colours))
        return f"{weights};({mixed})/({total})"

    return channel(0), channel(1), channel(2)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour, 16)
    return value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF


def _speeds(seed: int) -> tuple[float, float]:
    """Window speeds per axis in pixels per frame, different for each story."""
    span = MAX_SPEED_PX - MIN_SPEED_PX
    speed_x = MIN_SPEED_PX + span * ((seed % 1000) / 999)
    speed_y = MIN_SPEED_PX + span * (((seed // 1000) % 1000) / 999)
    return speed_x, speed_y


def _bounce(speed: float, phase: float, travel: str) -> str:
    """A triangle wave over 0..travel: the window glides to the canvas edge and back, with no jump.

    `phase` (0..1 of a round trip) sets where it starts, and so which way it first moves.
    """
    return f"abs(mod(n*{speed:.4f}+{phase:.4f}*2*({travel}),2*({travel}))-({travel}))"


def _even(value: float) -> int:
    return int(value) // 2 * 2
