"""The moving background behind the captions: one of several generated motion styles, or a looped clip.

Every generated style costs about as much as a solid colour: its picture (soft blobs, bokeh circles,
diagonal bands, rings) is drawn once, at low resolution, with `geq`, scaled to a canvas
larger than the frame, frozen with `loop`, and a frame-sized window drifts over it with `crop`. A pure
translation encodes as motion vectors, and no filter touches every pixel of every frame (animated
`gradients` or `zoompan` over full frames cost 2-2.5x the time; see benchmarks/bench_render.py). The
pictures are smooth, so the drift shows in any direction and x264 spends few bits on them.

`GeneratedBackground.for_story` picks the style and the palette from the story key, independently, so
stories differ and a re-render looks the same. A clip (`ClipBackground`) starts at a per-story offset,
loops, is scaled and centre-cropped to the frame and dimmed so white captions stay readable on it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import probe
from pellacia_assets.rendering.selection import VIDEO_SUFFIXES, media_files, pick_for_key, stable_number

# Three-colour palettes (dark, middle, light) that keep white captions with a black outline readable.
PALETTES: tuple[tuple[str, str, str], ...] = (
    ("0x3a1c71", "0xd76d77", "0xffaf7b"),
    ("0x0f2027", "0x2c5364", "0x4ca1af"),
    ("0x42275a", "0x734b6d", "0xc06c84"),
    ("0x134e5e", "0x2a7f62", "0x71b280"),
    ("0x1f1c2c", "0x5b4a8b", "0x928dab"),
    ("0x2b1055", "0x7597de", "0x38a3a5"),
    ("0x6a3093", "0xa044ff", "0xf27121"),
    ("0x16222a", "0x3a6073", "0xc9794f"),
    ("0x141e30", "0x243b55", "0xe0a96d"),
    ("0x232526", "0x414345", "0xe96443"),
)
# The generated styles: a Gaussian mesh gradient, soft bokeh circles, diagonal bands, concentric rings
# (they swell or shrink as the window drifts towards or away from their centre). Aurora curtains were
# measured at 1.15x the old look's encoding time (docs/benchmarks.md, "Look") and left out.
STYLES: tuple[str, ...] = ("mesh", "bokeh", "bands", "rings")
# The picture is drawn at 1/DETAIL_DIVISOR of the canvas size: it is smooth, so detail would be wasted
# (and `geq` at 1/4 cost 1.5 s of CPU per render). Every style keeps its edges soft: sharp rims, stripes or
# rings cost x264 up to 30 % more time even as a pure translation (benchmarks/bench_render.py).
DETAIL_DIVISOR = 8
BLOB_COUNT = 7
# Blob radius (Gaussian sigma) as a fraction of the canvas width.
BLOB_SIGMA = 0.3
BOKEH_COUNT = 16
# Margin of the canvas beyond the frame, as a fraction of the frame: how far the window can travel.
DRIFT_MARGIN = 0.3
# Window speed in pixels per frame (about 20-45 px/s at 30 fps): visible motion, never distracting.
MIN_SPEED_PX = 0.7
MAX_SPEED_PX = 1.5
# How much a clip background is darkened by default (0 = as shot, 1 = black), so captions read over it.
CLIP_DIM = 0.35
# A clip's offset is chosen in its first OFFSET_SPAN, so the story starts on footage, not the last frame.
OFFSET_SPAN = 0.9


@dataclass(frozen=True)
class GeneratedBackground:
    """A generated motion background: one of STYLES in one palette, its layout and drift fixed by `seed`."""

    style: str
    palette: tuple[str, str, str]
    seed: int

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown background style {self.style!r}; known: {', '.join(STYLES)}")

    @classmethod
    def for_story(cls, story_key: str) -> GeneratedBackground:
        """The story's style and palette, chosen independently from its key (the same on every render)."""
        return cls(
            style=pick_for_key(story_key, "background-style", STYLES),
            palette=pick_for_key(story_key, "palette", PALETTES),
            seed=stable_number(story_key, "background") % 2**31,
        )


@dataclass(frozen=True)
class ClipBackground:
    """A video clip (any size) started at `offset_s`, looped, scaled to cover the frame, centre-cropped and
    darkened by `dim` (0 = as shot, 1 = black). The looped copies start from the clip's beginning."""

    path: Path
    offset_s: float = 0.0
    dim: float = CLIP_DIM

    def __post_init__(self) -> None:
        if self.offset_s < 0:
            raise ValueError(f"the clip offset must not be negative, got {self.offset_s} s")
        if not 0.0 <= self.dim <= 1.0:
            raise ValueError(f"dim must lie between 0 and 1, got {self.dim}")

    @classmethod
    def for_story(cls, story_key: str, path: Path, dim: float = CLIP_DIM) -> ClipBackground:
        """`path` cut at an offset fixed by the story key (0 when its duration cannot be read)."""
        try:
            duration_s = probe(path).duration_s
        except MediaError:
            duration_s = 0.0
        fraction = (stable_number(story_key, "background-offset") % 10_000) / 10_000
        return cls(path, offset_s=round(fraction * OFFSET_SPAN * max(duration_s, 0.0), 2), dim=dim)


Background = GeneratedBackground | ClipBackground


def pick_background(story_key: str, backgrounds_dir: Path | None) -> Background:
    """A clip from `backgrounds_dir` chosen and cut by story key, or a generated one when there is none."""
    if backgrounds_dir is None:
        return GeneratedBackground.for_story(story_key)
    clips = media_files(backgrounds_dir, VIDEO_SUFFIXES, "backgrounds")
    if not clips:
        return GeneratedBackground.for_story(story_key)
    return ClipBackground.for_story(story_key, pick_for_key(story_key, "background", clips))


def background_stream(background: Background, width: int, height: int, fps: int, duration_s: float) -> Any:
    """The ffmpeg-python video stream of the background: `width`x`height` at `fps`, `duration_s` or longer."""
    if isinstance(background, ClipBackground):
        return _clip_stream(background, width, height, fps, duration_s)
    return _generated_stream(background, width, height, fps)


def _clip_stream(background: ClipBackground, width: int, height: int, fps: int, duration_s: float) -> Any:
    options: dict[str, Any] = {"stream_loop": -1}
    if background.offset_s > 0:
        options["ss"] = f"{background.offset_s:.3f}"
    stream = (
        ffmpeg.input(str(background.path), **options)
        .video.filter("fps", fps)
        .filter("scale", width, height, force_original_aspect_ratio="increase", flags="bicubic")
        .filter("crop", width, height)
        .filter("setsar", 1)
    )
    if background.dim > 0:
        # A lookup table per plane (cheap): luma towards black, chroma towards grey by the same factor.
        keep = 1.0 - background.dim
        stream = stream.filter("format", "yuv420p").filter(
            "lutyuv",
            y=f"16+(val-16)*{keep:.4f}",
            u=f"128+(val-128)*{keep:.4f}",
            v=f"128+(val-128)*{keep:.4f}",
        )
    return stream.trim(duration=duration_s).setpts("PTS-STARTPTS")


def _generated_stream(background: GeneratedBackground, width: int, height: int, fps: int) -> Any:
    canvas_w = _even(width * (1 + DRIFT_MARGIN))
    canvas_h = _even(height * (1 + DRIFT_MARGIN))
    low_w, low_h = _even(canvas_w / DETAIL_DIVISOR), _even(canvas_h / DETAIL_DIVISOR)
    speed_x, speed_y = _speeds(background.seed)
    phase_x, phase_y = (background.seed % 97) / 97, (background.seed % 89) / 89
    red, green, blue = style_expressions(background, low_w, low_h)
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


Colour = tuple[int, int, int]
# A style draws one channel: (colours for that channel: dark, middle, light; rng; width; height) -> geq.
_ChannelDrawer = Callable[[tuple[int, int, int], random.Random, int, int], str]


def style_expressions(background: GeneratedBackground, width: int, height: int) -> tuple[str, str, str]:
    """`geq` expressions for the red, green and blue of the background's picture on a `width`x`height`
    canvas. The layout comes from the seed, so each channel re-creates the same random numbers."""
    colours = [_rgb(c) for c in background.palette]
    drawer = _DRAWERS[background.style]

    def channel(index: int) -> str:
        rng = random.Random(background.seed)
        dark, middle, light = (colour[index] for colour in colours)
        return drawer((dark, middle, light), rng, width, height)

    return channel(0), channel(1), channel(2)


def _mesh(channel: tuple[int, int, int], rng: random.Random, width: int, height: int) -> str:
    """A Gaussian-weighted blend of blobs: each pixel stores every blob's weight in a register (st/ld),
    then mixes the blob colours by weight."""
    colours = [channel[i % 3] for i in range(BLOB_COUNT)]
    centres = [(rng.uniform(0, width), rng.uniform(0, height)) for _ in range(BLOB_COUNT)]
    spread = 2 * (BLOB_SIGMA * width) ** 2
    weights = ";".join(
        f"st({i},exp(-((X-{x:.1f})*(X-{x:.1f})+(Y-{y:.1f})*(Y-{y:.1f}))/{spread:.1f}))"
        for i, (x, y) in enumerate(centres)
    )
    total = "+".join(f"ld({i})" for i in range(BLOB_COUNT))
    mixed = "+".join(f"{colour}*ld({i})" for i, colour in enumerate(colours))
    return f"{weights};({mixed})/({total})"


def _bokeh(channel: tuple[int, int, int], rng: random.Random, width: int, height: int) -> str:
    """Soft translucent discs of the middle and light colours over a dark vertical gradient, painted one
    over the other (register 0 holds the colour so far, register 1 the disc's coverage)."""
    dark, middle, light = channel
    steps = [f"st(0,{dark}*(0.75+0.25*Y/{height}))"]
    for _ in range(BOKEH_COUNT):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.04, 0.13) * width
        opacity = rng.uniform(0.18, 0.5)
        colour = light if rng.random() < 0.4 else middle
        rim = radius * 0.45
        steps.append(f"st(1,{opacity:.3f}*clip(({radius:.1f}-hypot(X-{x:.1f},Y-{y:.1f}))/{rim:.2f},0,1))")
        steps.append(f"st(0,ld(0)*(1-ld(1))+{colour}*ld(1))")
    return ";".join(steps) + ";ld(0)"


def _bands(channel: tuple[int, int, int], rng: random.Random, width: int, height: int) -> str:
    """Soft diagonal stripes: dark to middle along a sine across the bands, a light sheen on their crests."""
    dark, middle, light = channel
    angle = math.radians(rng.uniform(25, 65) * rng.choice((-1, 1)))
    period = rng.uniform(0.6, 0.8) * width
    phase = rng.uniform(0, 2 * math.pi)
    across = f"(X*{math.cos(angle):.4f}+Y*{math.sin(angle):.4f})"
    wave = f"st(0,0.5+0.5*sin(2*PI*{across}/{period:.1f}+{phase:.3f}))"
    base = f"st(1,{dark}+({middle}-{dark})*0.5*ld(0))"
    sheen = f"ld(1)+({light}-ld(1))*0.2*pow(ld(0),6)"
    return f"{wave};{base};{sheen}"


def _rings(channel: tuple[int, int, int], rng: random.Random, width: int, height: int) -> str:
    """Concentric soft rings around a point near the canvas centre, with a light glow in the middle and a
    darker rim: as the window drifts towards or away from the centre, the rings seem to pulse."""
    dark, middle, light = channel
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
    period = rng.uniform(0.3, 0.4) * width
    reach = 0.75 * math.hypot(width, height) / 2
    glow = 0.22 * width
    distance = f"st(0,hypot(X-{cx:.1f},Y-{cy:.1f}))"
    ring = f"st(1,0.5+0.5*cos(2*PI*ld(0)/{period:.1f}))"
    falloff = f"st(2,exp(-ld(0)*ld(0)/{2 * reach * reach:.1f}))"
    base = f"st(3,{dark}+({middle}-{dark})*0.45*ld(1)*(0.35+0.65*ld(2)))"
    lit = f"st(3,ld(3)+({light}-ld(3))*0.55*exp(-ld(0)*ld(0)/{2 * glow * glow:.1f}))"
    return f"{distance};{ring};{falloff};{base};{lit};ld(3)*(0.6+0.4*ld(2))"


_DRAWERS: dict[str, _ChannelDrawer] = {
    "mesh": _mesh,
    "bokeh": _bokeh,
    "bands": _bands,
    "rings": _rings,
}


def _rgb(hex_colour: str) -> Colour:
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
