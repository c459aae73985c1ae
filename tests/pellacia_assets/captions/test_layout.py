"""Caption layout: boxes measured with the font libass uses, in the safe zone; the `video_layout` rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.captions.layout import Box, caption_boxes, layout_problems, safe_zone
from pellacia_assets.captions.styles import caption_style, load_styles

STORY = (
    "My neighbour built a fence two feet onto my yard, and when I asked him about it he just laughed. "
    "So I measured everything twice, called the city, and waited for the surveyor to arrive on Monday. "
    "Mary Jane Watson from New York City paid 3,000 dollars at 9:30 in 1999, then $1.5 million to the "
    "Bank of America. Unsurprisingly, the neighbourhood association's representatives disagreed."
)
PRESETS = list(load_styles())
BACKGROUND = (0x20, 0x30, 0x40)
_STYLE_FIELDS = (
    "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
    "MarginL, MarginR, MarginV, Encoding"
)
_OLD_LOOK = "\n".join(
    [
        "[Script Info]",
        "PlayResX: 1080",
        "PlayResY: 1920",
        "",
        "[V4+ Styles]",
        f"Format: {_STYLE_FIELDS}",
        "Style: Caption,DejaVu Sans,84,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,"
        "1,5,2,2,60,60,{margin},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        "Dialogue: 0,0:00:01.00,0:00:02.00,Caption,,0,0,0,,{text}",
        "",
    ]
)


def _timed(text: str, step: float = 0.4) -> list[TimedWord]:
    return [TimedWord(word, i * step, i * step + step - 0.05, True) for i, word in enumerate(text.split())]


def _old_look(margin: int, text: str) -> str:
    return _OLD_LOOK.replace("{margin}", str(margin)).replace("{text}", text)


def test_the_safe_zone_leaves_the_platforms_their_strips() -> None:
    assert safe_zone() == Box(0, 250, 960, 1190)
    assert safe_zone((540, 960)) == Box(0, 125, 480, 595)


@pytest.mark.parametrize("play_res", [(1080, 1920), (540, 960)])
@pytest.mark.parametrize("preset", PRESETS)
def test_every_caption_box_lies_in_the_safe_zone(preset: str, play_res: tuple[int, int]) -> None:
    style = caption_style(preset)
    ass = build_ass(_timed(STORY), style=style, play_res=play_res)

    boxes = caption_boxes(ass, style, play_res)

    assert layout_problems(ass, style, play_res) == []
    assert len(boxes) == 2 * len(STORY.split())  # the page and the popped word, per spoken word
    zone = safe_zone(play_res)
    for caption in boxes:
        assert zone.contains(caption.box), caption
    pages = [caption for caption in boxes if caption.layer == 0]
    assert {round(caption.box.y + caption.box.h / 2) for caption in pages if len(caption.lines) == 2}
    assert max(caption.words for caption in pages) <= style.max_words


@pytest.mark.parametrize("preset", PRESETS)
def test_pages_are_centred_in_the_safe_zone_horizontally(preset: str) -> None:
    style = caption_style(preset)
    ass = build_ass(_timed("We left. Nobody followed us home."), style=style)

    for caption in caption_boxes(ass, style):
        if caption.layer == 0:
            centre = caption.box.x + caption.box.w / 2
            assert centre == pytest.approx(safe_zone().w / 2, abs=1)


def test_a_caption_moved_outside_the_safe_zone_fails() -> None:
    style = caption_style("bold")
    ass = build_ass(_timed("She said what? I could not believe it."), style=style)

    lowered = re.sub(r"\\pos\(([\d.]+),([\d.]+)\)", lambda m: rf"\pos({m.group(1)},1650)", ass)
    shifted = re.sub(r"\\pos\(([\d.]+),([\d.]+)\)", lambda m: rf"\pos(760,{m.group(2)})", ass)

    assert layout_problems(ass, style) == []
    lowered_problems = layout_problems(lowered, style)
    assert lowered_problems and all("leaves the safe zone x 0-960, y 250-1440" in p for p in lowered_problems)
    assert any("'She said what?'" in problem for problem in lowered_problems)
    assert any("leaves the safe zone" in problem for problem in layout_problems(shifted, style))


def test_style_alignment_and_margins_place_captions_without_pos() -> None:
    style = caption_style("bold")

    bottom = layout_problems(_old_look(100, "She said what?"), style)
    above_ui = layout_problems(_old_look(560, "She said what?"), style)

    assert any("leaves the safe zone" in problem for problem in bottom)
    assert not any("leaves the safe zone" in problem for problem in above_ui)
    assert any("font size 84 px at 1920 tall is below 90" in problem for problem in above_ui)


def test_too_many_words_or_lines_fail_once_per_page() -> None:
    style = caption_style("clean")
    crowded = (
        _old_look(560, r"{\fs92}one two three four five")
        + _old_look(560, r"{\fs92}a\Nb\Nc").split("\n[Events]\n")[1].split("\n", 1)[1]
    )
    repeated = crowded + "Dialogue: 0,0:00:02.00,0:00:03.00,Caption,,0,0,0,,{\\fs92}one two three four five\n"

    problems = layout_problems(repeated, style)

    assert "0:00:01.00 ('one two three four five') shows 5 words (at most 4)" in problems
    assert "0:00:01.00 ('a / b / c') has 3 lines (at most 2)" in problems
    assert sum("shows 5 words" in problem for problem in problems) == 1


def test_captions_in_another_font_are_reported() -> None:
    style = caption_style("bold")
    ass = build_ass(_timed("hello there"), style=style).replace(",DejaVu Sans,", ",Comic Sans MS,")

    assert any("asks for 'Comic Sans MS' bold" in problem for problem in layout_problems(ass, style))


def test_escaped_text_is_measured_as_drawn() -> None:
    style = caption_style("bold")
    ass = build_ass(_timed(r"a {weird} back\slash"), style=style)

    texts = {caption.text for caption in caption_boxes(ass, style) if caption.layer == 1}

    assert "{weird}" in texts
    assert layout_problems(ass, style) == []


def _render(ass: str, folder: Path, times: Sequence[float]) -> list[npt.NDArray[np.uint8]]:
    (folder / "captions.ass").write_text(ass, encoding="utf-8")
    colour = "0x{:02x}{:02x}{:02x}".format(*BACKGROUND)
    picks = "+".join(f"eq(n\\,{round(at * 25)})" for at in times)
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c={colour}:s=1080x1920:r=25:d=3",
            "-vf", f"subtitles=captions.ass,select='{picks}'", "-vsync", "0", "frame%d.png",
        ],
        cwd=folder, check=True,
    )  # fmt: skip
    return [np.asarray(Image.open(folder / f"frame{i + 1}.png").convert("RGB")) for i in range(len(times))]


def _ink(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.asarray(np.abs(frame.astype(int) - BACKGROUND).sum(axis=2) > 30)


def _inside(ink: npt.NDArray[np.bool_], boxes: Sequence[Box], slack: int = 3) -> bool:
    allowed = np.zeros_like(ink)
    for box in boxes:
        top, left = max(0, int(box.y) - slack), max(0, int(box.x) - slack)
        allowed[top : int(box.bottom) + slack + 1, left : int(box.right) + slack + 1] = True
    return not (ink & ~allowed).any()


def _lit(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.asarray((frame[..., 0] > 200) & (frame[..., 1] > 180) & (frame[..., 2] < 90))


def _lit_width(frame: npt.NDArray[np.uint8]) -> int:
    columns = np.flatnonzero(_lit(frame).any(axis=0))
    return int(columns.max() - columns.min())


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_libass_draws_the_page_inside_its_measured_box_and_it_reads(tmp_path: Path) -> None:
    style = caption_style("bold")
    words = [
        TimedWord("Mary", 0.2, 0.6, True),
        TimedWord("Jane", 0.6, 1.0, True),
        TimedWord("Watson", 1.0, 2.4, True),
    ]
    ass = build_ass(words, style=style)
    boxes = caption_boxes(ass, style)
    mid_pop, settled = 1.0 + style.pop_ms / 2000, 2.0

    popping, steady = _render(ass, tmp_path, [mid_pop, settled])

    active = [caption.box for caption in boxes if caption.start == "0:00:01.00"]
    page, word = active
    assert _inside(_ink(steady), [page])
    assert _inside(_ink(popping), active)
    assert _inside(_ink(popping) & ~_ink(steady), [word])
    assert _lit_width(popping) > 1.05 * _lit_width(steady)  # "Watson" pops around its own centre
    rows, columns = np.nonzero(_ink(steady))
    assert rows.min() <= page.y + 25 and columns.min() <= page.x + 25  # the box is tight, not merely large
    assert columns.max() >= page.right - 25 and rows.max() >= page.bottom - 45
    assert safe_zone().contains(
        Box(columns.min(), rows.min(), columns.max() - columns.min(), rows.max() - rows.min())
    )
    assert _lit(steady).sum() > 2000  # "Watson" in the highlight colour
    Image.fromarray(steady).save(tmp_path / "steady.png")
    read = subprocess.run(
        ["tesseract", str(tmp_path / "steady.png"), "-", "--psm", "6"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {"Mary", "Jane", "Watson"} <= set(re.findall(r"\w+", read)), read
