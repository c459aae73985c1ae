"""Overlays (hook card, badges, end card): shown from start to end, faded and slid out, then gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pellacia_assets.rendering.background import PALETTES, GeneratedBackground
from pellacia_assets.rendering.compose import OVERLAY_SLIDE_PX, Overlay, RenderResult, RenderSpec, render
from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.fonts import find_fonts_dir

FrameReader = Callable[[Path, float], npt.NDArray[np.uint8]]
# A 540x960 render is enough to check where and when the overlay shows.
WIDTH, HEIGHT = 540, 960
X, Y, CARD_W, CARD_H = 120, 300, 200, 100
START_S, END_S, FADE_S = 0.5, 2.0, 0.6


def _card(path: Path) -> Path:
    """An opaque magenta card with a fully transparent 40x40 window in the middle."""
    pixels = np.zeros((CARD_H, CARD_W, 4), dtype=np.uint8)
    pixels[...] = (255, 0, 255, 255)
    pixels[30:70, 80:120] = (0, 0, 0, 0)
    Image.fromarray(pixels, "RGBA").save(path)
    return path


def _spec(tmp: Path, speech: Path, captions: Path, overlays: tuple[Overlay, ...]) -> RenderSpec:
    return RenderSpec(
        voiceover=speech,
        subtitles=captions,
        duration_s=2.6,
        output=tmp / "overlaid.mp4",
        background=GeneratedBackground("mesh", PALETTES[1], 7),  # teal: nothing magenta in it
        title_card_end_s=START_S,
        fonts_dir=find_fonts_dir(),
        width=WIDTH,
        height=HEIGHT,
        overlays=overlays,
    )


@pytest.fixture(scope="module")
def overlaid(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path, captions_ass: Path) -> RenderResult:
    tmp = tmp_path_factory.mktemp("overlay")
    overlay = Overlay(_card(tmp / "card.png"), X, Y, START_S, END_S, fade_out_s=FADE_S)
    return render(_spec(tmp, speech_wav, captions_ass, (overlay,)))


def _magenta(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    pixels = frame.astype(np.int16)
    return (pixels[..., 0] > 180) & (pixels[..., 2] > 180) & (pixels[..., 1] < 90)


@pytest.mark.e2e
def test_overlay_shows_only_between_its_start_and_end(overlaid: RenderResult, frame_at: FrameReader) -> None:
    assert not _magenta(frame_at(overlaid.path, 0.3)).any(), "shown before its start"
    shown = _magenta(frame_at(overlaid.path, 1.0))
    assert shown[Y + 5 : Y + CARD_H - 5, X + 5 : X + 60].all(), "not drawn at (x, y)"
    assert shown.sum() > 0.9 * (CARD_W * CARD_H - 40 * 40)
    assert not shown[: Y - 3].any() and not shown[Y + CARD_H + 3 :].any(), "drawn outside its rectangle"
    assert not shown[Y + 35 : Y + 65, X + 85 : X + 115].any(), "its transparent window is not transparent"
    for at_s in (2.1, 2.5):
        assert not _magenta(frame_at(overlaid.path, at_s)).any(), f"still shown at {at_s} s"


@pytest.mark.e2e
def test_overlay_fades_and_slides_out(overlaid: RenderResult, frame_at: FrameReader) -> None:
    def card_strength(at_s: float) -> float:
        """How magenta the card's left column is: red + blue - 2 green, 510 when opaque."""
        region = frame_at(overlaid.path, at_s)[Y + 10 : Y + CARD_H - 10, X + 40 : X + 70].astype(np.float64)
        return float((region[..., 0] + region[..., 2] - 2 * region[..., 1]).mean())

    before_fade, mid_fade, late_fade = card_strength(1.2), card_strength(1.7), card_strength(1.93)
    assert before_fade > 400
    assert late_fade < mid_fade < 0.8 * before_fade, (before_fade, mid_fade, late_fade)
    # Half-way through the fade the card has slid a quarter of the way (eased): its left edge moved left.
    columns = _magenta(frame_at(overlaid.path, 1.2))[Y + 10 : Y + CARD_H - 10].any(axis=0)
    assert int(np.argmax(columns)) == pytest.approx(X, abs=2)
    half = frame_at(overlaid.path, 1.7).astype(np.int16)[Y + 10 : Y + CARD_H - 10]
    reddish = ((half[..., 0] - half[..., 1]) > 60).any(axis=0)
    assert int(np.argmax(reddish)) < X - OVERLAY_SLIDE_PX // 8


def test_overlay_timing_is_checked_before_ffmpeg_starts(
    tmp_path: Path, speech_wav: Path, captions_ass: Path
) -> None:
    card = _card(tmp_path / "card.png")
    for overlay, message in (
        (Overlay(card, 0, 0, 1.0, 1.0), "end after it starts"),
        (Overlay(card, 0, 0, -0.5, 1.0), "end after it starts"),
        (Overlay(card, 0, 0, 3.0, 4.0), "after the short ends"),
        (Overlay(card, 0, 0, 0.0, 1.0, fade_out_s=1.5), "fade-out"),
    ):
        with pytest.raises(RenderError, match=message):
            render(_spec(tmp_path, speech_wav, captions_ass, (overlay,)))
    assert not (tmp_path / "overlaid.mp4").exists()


def test_overlay_that_is_not_an_image_is_a_media_error(
    tmp_path: Path, speech_wav: Path, captions_ass: Path
) -> None:
    broken = tmp_path / "card.png"
    broken.write_bytes(b"not a png at all" * 8)
    with pytest.raises(MediaError, match=r"card\.png"):
        render(_spec(tmp_path, speech_wav, captions_ass, (Overlay(broken, 0, 0, 0.0, 1.0),)))
    with pytest.raises(MediaError, match="does not exist"):
        render(_spec(tmp_path, speech_wav, captions_ass, (Overlay(tmp_path / "no.png", 0, 0, 0.0, 1.0),)))
