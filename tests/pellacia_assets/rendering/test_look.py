"""End to end: a short part with the product's captions (an ASS style preset) and its hook card.

Tesseract reads each spoken word off the frame at its time, and the caption pixels (the difference from
the same render without captions) lie inside the platforms' safe zone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.rendering.background import GeneratedBackground
from pellacia_assets.rendering.cards import Card
from pellacia_assets.rendering.compose import RenderSpec, render
from pellacia_assets.rendering.finishing import part_cards
from pellacia_assets.rendering.fonts import find_fonts_dir
from pellacia_assets.stories.model import Byline

Frame = npt.NDArray[np.uint8]
FrameReader = Callable[[Path, float], Frame]
CaptionMaker = Callable[[Sequence[TimedWord], str], str]

WIDTH, HEIGHT = 1080, 1920
SAFE_TOP, SAFE_BOTTOM, SAFE_RIGHT = 250, 480, 120
HOOK_END_S = 1.2
DURATION_S = 5.0
SENTENCE = "Nobody believed the strange neighbour until tonight."
WORDS = [
    TimedWord(text, HOOK_END_S + 0.5 * i, HOOK_END_S + 0.5 * (i + 1), True)
    for i, text in enumerate(SENTENCE.split())
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed"),
]


@dataclass(frozen=True)
class Renders:
    """The part with captions and its hook card, the same without captions, and without any overlay."""

    with_captions: Path
    without: Path
    bare: Path
    hook: Card


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory, make_captions: CaptionMaker) -> Renders:
    tmp = tmp_path_factory.mktemp("look")
    voice = tmp / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(voice), SENTENCE], check=True)
    captions, empty = tmp / "captions.ass", tmp / "empty.ass"
    captions.write_text(make_captions(WORDS, "bold"), encoding="utf-8")
    empty.write_text(make_captions([], "bold"), encoding="utf-8")
    cards = part_cards(
        tmp,
        part=1,
        parts=1,
        title="My neighbour lied to everyone on our street",
        byline=Byline("reddit", "pettyrevenge", "quiet_neighbour", 24123, 3245),
        call_to_action="",
        duration_s=DURATION_S,
        hook_end_s=HOOK_END_S,
    )
    assert cards.hook is not None
    outputs = []
    for name, subtitles, overlays in (
        ("with.mp4", captions, cards.overlays),
        ("without.mp4", empty, cards.overlays),
        ("bare.mp4", empty, ()),
    ):
        spec = RenderSpec(
            voiceover=voice,
            subtitles=subtitles,
            duration_s=DURATION_S,
            output=tmp / name,
            background=GeneratedBackground.for_story("look-story"),
            title_card_end_s=HOOK_END_S,
            fonts_dir=find_fonts_dir(),
            overlays=overlays,
        )
        outputs.append(render(spec).path)
    return Renders(outputs[0], outputs[1], outputs[2], cards.hook)


def _caption_mask(with_captions: Frame, without: Frame) -> npt.NDArray[np.bool_]:
    """Pixels the captions changed (encoder noise between the two renders stays well under 60)."""
    difference = np.abs(with_captions.astype(np.int16) - without.astype(np.int16)).max(axis=2)
    mask: npt.NDArray[np.bool_] = difference > 60
    return mask


def _ocr(frame: Frame, mask: npt.NDArray[np.bool_], tmp: Path) -> str:
    """Tesseract's reading of the caption: its bright fill (white or highlighted) as black on white."""
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = ys.min() - 20, ys.max() + 20, xs.min() - 20, xs.max() + 20
    crop = frame[max(top, 0) : bottom, max(left, 0) : right].astype(np.int16)
    fill = crop.max(axis=2) > 170
    fill &= mask[max(top, 0) : bottom, max(left, 0) : right]
    image = Image.fromarray(np.where(fill, 0, 255).astype(np.uint8), "L")
    path = tmp / "caption.png"
    image.save(path)
    result = subprocess.run(
        ["tesseract", str(path), "-", "--psm", "6"], capture_output=True, text=True, check=True
    )
    return result.stdout


def _normalised(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def test_tesseract_reads_each_caption_word_at_its_time(
    renders: Renders, frame_at: FrameReader, tmp_path: Path
) -> None:
    with_captions, without = renders.with_captions, renders.without
    for word in WORDS:
        expected = _normalised(word.text)[0]
        if len(expected) < 4:
            continue
        at_s = (word.start + word.end) / 2
        mask = _caption_mask(frame_at(with_captions, at_s), frame_at(without, at_s))
        assert mask.sum() > 500, f"no caption at {at_s:.2f} s"
        read = _ocr(frame_at(with_captions, at_s), mask, tmp_path)
        assert expected in _normalised(read), f"at {at_s:.2f} s tesseract read {read!r}, not {expected!r}"


def test_no_caption_while_the_hook_card_shows(renders: Renders, frame_at: FrameReader) -> None:
    with_captions, without = renders.with_captions, renders.without
    mask = _caption_mask(frame_at(with_captions, 0.6), frame_at(without, 0.6))
    assert mask.sum() < 50


def test_caption_pixels_lie_inside_the_safe_zone(renders: Renders, frame_at: FrameReader) -> None:
    with_captions, without = renders.with_captions, renders.without
    for word in WORDS:
        at_s = (word.start + word.end) / 2
        mask = _caption_mask(frame_at(with_captions, at_s), frame_at(without, at_s))
        # Rows and columns with a few changed pixels, so lone encoder-noise pixels do not count.
        rows = np.nonzero(mask.sum(axis=1) >= 3)[0]
        columns = np.nonzero(mask.sum(axis=0) >= 3)[0]
        assert rows.size and columns.size, f"no caption at {at_s:.2f} s"
        top, bottom, right = int(rows.min()), int(rows.max()), int(columns.max())
        assert top >= SAFE_TOP, f"caption reaches y={top} at {at_s:.2f} s (top {SAFE_TOP} px are unsafe)"
        assert bottom < HEIGHT - SAFE_BOTTOM, f"caption reaches y={bottom} at {at_s:.2f} s"
        assert right < WIDTH - SAFE_RIGHT, f"caption reaches x={right} at {at_s:.2f} s"


def test_the_hook_card_s_text_lies_inside_its_panel_in_the_rendered_frame(
    renders: Renders, frame_at: FrameReader
) -> None:
    """At mid-hook, what the card changed in the frame is its panel, and its dark text lies inside the
    panel, away from its edges by the card's padding."""
    at_s = HOOK_END_S / 3
    shown, bare = frame_at(renders.without, at_s), frame_at(renders.bare, at_s)
    changed = np.abs(shown.astype(np.int16) - bare.astype(np.int16)).max(axis=2) > 60
    panel = renders.hook.panel
    ys, xs = np.nonzero(changed)
    assert ys.size > 10_000
    assert xs.min() >= panel.x - 3 and xs.max() <= panel.x + panel.width + 3
    assert ys.min() >= panel.y - 3 and ys.max() <= panel.y + panel.height + 3
    window = (slice(panel.y, panel.y + panel.height), slice(panel.x, panel.x + panel.width))
    inside = shown[window].astype(np.int16)
    # the title's near-black ink on the white card (not the background in the card's rounded corners)
    text = (inside.max(axis=2) < 90) & changed[window]
    text_ys, text_xs = np.nonzero(text)
    assert text_ys.size > 2_000, "no title text on the card"
    padding = renders.hook.padding
    assert text_xs.min() >= padding - 4 and text_xs.max() <= panel.width - padding + 4
    assert text_ys.min() >= padding - 4 and text_ys.max() <= panel.height - padding + 4
