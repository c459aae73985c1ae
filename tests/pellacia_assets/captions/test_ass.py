from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.captions.alignment import TimedWord, align
from pellacia_assets.captions.ass import LAYER_PAGE, LAYER_WORD, build_ass, caption_pages, escape_ass_text
from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.layout import layout_problems
from pellacia_assets.captions.styles import caption_style
from resources.transcriber.base import Transcriber

FONTS_DIR = "/usr/share/fonts/truetype/dejavu"
STORY = (
    "My neighbour built a fence two feet onto my yard, and when I asked him about it he just laughed. "
    "So I measured everything twice, called the city, and waited for the surveyor to arrive on Monday."
)
_TIME = r"(\d+):(\d\d):(\d\d)\.(\d\d)"
_DIALOGUE = re.compile(rf"^Dialogue: (\d+),{_TIME},{_TIME},(\w+),,0,0,0,,(.*)$")


def _timed(
    text: str, *, start: float = 0.0, step: float = 0.35, pause_after: Sequence[int] = ()
) -> list[TimedWord]:
    words: list[TimedWord] = []
    cursor = start
    for index, word in enumerate(text.split()):
        words.append(TimedWord(word, cursor, cursor + step - 0.05, True))
        cursor += step + (1.0 if index in pause_after else 0.0)
    return words


def _events(ass: str) -> list[tuple[int, float, float, str, str]]:
    events = []
    for line in ass.splitlines():
        match = _DIALOGUE.match(line)
        if match:
            g = match.groups()
            start = int(g[1]) * 3600 + int(g[2]) * 60 + int(g[3]) + int(g[4]) / 100
            end = int(g[5]) * 3600 + int(g[6]) * 60 + int(g[7]) + int(g[8]) / 100
            events.append((int(g[0]), start, end, g[9], g[10]))
    return events


def test_each_word_shows_the_steady_page_and_pops_itself() -> None:
    style = caption_style("bold")
    words = _timed(STORY)

    events = _events(build_ass(words, style=style))

    assert len(events) == 2 * len(words)
    pages, pops = events[0::2], events[1::2]
    for word, page, pop in zip(words, pages, pops, strict=True):
        assert (page[0], pop[0]) == (LAYER_PAGE, LAYER_WORD)
        assert page[1:4] == pop[1:4] and page[3] == "Caption"
        assert page[1] < page[2]
        hidden = "{\\1a&HFF&\\3a&HFF&\\4a&HFF&}" + escape_ass_text(word.text) + "{\\r}"
        assert page[4].count(hidden) == 1  # its place is kept, so the other words never move
        assert page[4].count(r"\N") <= 1
        assert pop[4].endswith("}" + escape_ass_text(word.text))
        assert r"\1c&H1AE8FF&" in pop[4]
        assert r"\t(0,60,\fscx115\fscy115)\t(60,120,\fscx100\fscy100)" in pop[4]
    for before, after in itertools.pairwise(pages):
        assert before[2] <= after[1]
    page_positions = {re.search(r"\\pos\([^)]*\)", page[4]).group() for page in pages}  # type: ignore[union-attr]
    assert len(page_positions) == 1  # every page is centred at the same point


def test_karaoke_keeps_the_words_already_spoken_lit() -> None:
    style = caption_style("karaoke")

    events = _events(build_ass(_timed("we never went back"), style=style))

    last_page = [event for event in events if event[0] == LAYER_PAGE][-1][4]
    assert last_page.count(r"\1c&H6EFF3D&") == 3


def test_special_characters_are_escaped() -> None:
    assert escape_ass_text(r"{\b1}bold\N") == "\\{\\\u2060b1\\}bold\\\u2060N"
    assert escape_ass_text("two\nlines") == "two lines"

    ass = build_ass(_timed(r"a {weird} back\slash"), style=caption_style("bold"))

    for *_, text in _events(ass):
        assert "{weird}" not in text
        assert r"\slash" not in text


def test_no_title_card_and_no_caption_during_the_hook() -> None:
    words = _timed("Hook words here. Then the story starts now.", step=0.5)

    events = _events(build_ass(words, style=caption_style("bold"), not_before_s=words[3].start))

    assert {event[3] for event in events} == {"Caption"}
    assert min(event[1] for event in events) >= words[3].start
    assert all("Hook" not in event[4] for event in events)


@pytest.mark.parametrize("play_res", [(1080, 1920), (540, 960)])
def test_the_style_line_carries_the_preset(play_res: tuple[int, int]) -> None:
    style = caption_style("bold")
    ass = build_ass(_timed("hello"), style=style, play_res=play_res)

    (caption,) = [line for line in ass.splitlines() if line.startswith("Style: ")]
    fields = caption.split(",")
    half = play_res[1] == 960
    assert fields[1] == "DejaVu Sans"
    assert fields[2] == str(style.size // 2 if half else style.size)
    assert fields[3] == "&H00FFFFFF" and fields[6] == "&H5F000000"
    assert fields[7] == "-1"  # bold
    assert fields[16:19] == (["5", "3", "5"] if half else ["10", "6", "5"])  # outline, shadow, \an5
    assert f"PlayResX: {play_res[0]}" in ass and f"PlayResY: {play_res[1]}" in ass
    assert "WrapStyle: 2" in ass


def test_bad_play_res_is_rejected() -> None:
    with pytest.raises(CaptionError, match="play_res"):
        caption_pages(_timed("a b"), style=caption_style("bold"), play_res=(0, 1920))


def _render(ass: str, folder: Path, at: float) -> npt.NDArray[np.uint8]:
    (folder / "captions.ass").write_text(ass, encoding="utf-8")
    frame = subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0x203040:s=1080x1920:d=30",
            "-vf", f"subtitles=captions.ass:fontsdir={FONTS_DIR}", "-ss", f"{at:.2f}", "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ],
        cwd=folder, check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(frame, dtype=np.uint8).reshape(1920, 1080, 3)


def _yellow(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.asarray((frame[..., 0] > 200) & (frame[..., 1] > 180) & (frame[..., 2] < 90))


@pytest.mark.e2e
def test_hibari_voiceover_to_burned_captions(tmp_path: Path, base_transcriber: Transcriber) -> None:
    from hibari import Hibari

    audio = tmp_path / "voice.wav"
    Hibari(voice="heart").save(STORY, str(audio))
    transcript = base_transcriber.transcribe(audio)

    alignment = align(STORY, transcript)
    style = caption_style("bold")
    ass = build_ass(alignment.words, style=style, not_before_s=alignment.words[5].end)

    assert alignment.wer < 0.15
    events = _events(ass)
    assert sum(e[0] == LAYER_WORD for e in events) >= len(alignment.words) - 8
    assert layout_problems(ass, style) == []
    spoken = next(w for w in alignment.words if w.text == "measured")
    frame = _render(ass, tmp_path, at=(spoken.start + spoken.end) / 2)
    assert _yellow(frame).sum() > 300
