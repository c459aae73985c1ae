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
from pellacia_assets.captions.ass import (
    HIGHLIGHT,
    build_ass,
    caption_font_size,
    caption_pages,
    escape_ass_text,
)
from pellacia_assets.captions.errors import CaptionError
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


def test_pages_respect_line_and_page_limits() -> None:
    words = _timed(STORY)

    pages = caption_pages(words)

    assert [w for page in pages for w in page.words] == words
    for page in pages:
        assert 1 <= len(page.lines) <= 2
        for line in page.lines:
            assert len(" ".join(w.text for w in line)) <= 32
    for before, after in itertools.pairwise(pages):
        assert before.start < before.end <= after.start


def test_long_word_gets_its_own_line() -> None:
    pages = caption_pages(_timed("a Supercalifragilisticexpialidocious-ish-thing b"))

    lines = [" ".join(w.text for w in line) for page in pages for line in page.lines]
    assert "Supercalifragilisticexpialidocious-ish-thing" in lines


def test_pages_break_at_sentence_ends_and_pauses() -> None:
    words = _timed("One two. Three four five six seven", pause_after=[3])

    pages = caption_pages(words)

    assert [[w.text for w in page.words] for page in pages] == [
        ["One", "two."],
        ["Three", "four"],
        ["five", "six", "seven"],
    ]


def test_lines_are_balanced() -> None:
    (page,) = caption_pages(_timed("alpha beta gamma delta epsilon zeta eta"))

    lengths = [len(" ".join(w.text for w in line)) for line in page.lines]
    assert len(lengths) == 2
    assert abs(lengths[0] - lengths[1]) <= 8


def test_one_event_per_word_with_that_word_highlighted() -> None:
    words = _timed(STORY)

    events = _events(build_ass(words))

    assert len(events) == len(words)
    for word, (layer, start, end, style, text) in zip(words, events, strict=True):
        assert (layer, style) == (0, "Caption")
        assert text.count(HIGHLIGHT) == 1
        assert f"{HIGHLIGHT}{escape_ass_text(word.text)}{{\\r}}" in text
        assert text.count(r"\N") <= 1
        assert start < end
    for before, after in itertools.pairwise(events):
        assert before[2] <= after[1]


def test_special_characters_are_escaped() -> None:
    assert escape_ass_text(r"{\b1}bold\N") == "\\{\\\u2060b1\\}bold\\\u2060N"
    assert escape_ass_text("two\nlines") == "two lines"

    ass = build_ass(_timed(r"a {weird} back\slash"))

    for *_, text in _events(ass):
        assert "{weird}" not in text
        assert r"\slash" not in text


def test_title_card_hides_word_captions() -> None:
    words = _timed("Hook words here. Then the story starts now.", step=0.5)
    title_end = words[3].start

    ass = build_ass(words, title="Hook words here, a {title}", title_end_s=title_end)
    events = _events(ass)

    title_events = [e for e in events if e[3] == "Title"]
    assert len(title_events) == 1
    layer, start, end, _, text = title_events[0]
    assert (layer, start, end) == (1, 0.0, round(title_end, 2))
    assert r"\{title\}" in text
    captions = [e for e in events if e[3] == "Caption"]
    assert len(captions) == 5
    assert min(e[1] for e in captions) >= title_end
    assert all("Hook" not in e[4] for e in captions)


def test_styles_place_captions_above_the_platform_ui() -> None:
    ass = build_ass(_timed("hello"), play_res=(1080, 1920), font_name="DejaVu Sans")

    caption = next(line for line in ass.splitlines() if line.startswith("Style: Caption,"))
    title = next(line for line in ass.splitlines() if line.startswith("Style: Title,"))
    fields = caption.split(",")
    assert fields[1] == "DejaVu Sans"
    assert fields[7] == "-1"  # bold
    assert fields[18] == "2"  # bottom centre
    assert fields[21] == "560"  # MarginV
    assert title.split(",")[15] == "3"  # opaque box
    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass


def test_font_size_shrinks_only_to_fit_long_lines() -> None:
    assert caption_font_size(1080, 1920, 20) == 84
    assert 48 <= caption_font_size(1080, 1920, 32) < 84


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(CaptionError):
        caption_pages(_timed("a b"), max_chars_per_line=0)


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


def _white(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.asarray((frame > 230).all(axis=2))


def _yellow(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.asarray((frame[..., 0] > 200) & (frame[..., 1] > 200) & (frame[..., 2] < 80))


def test_libass_renders_title_then_highlighted_captions(tmp_path: Path) -> None:
    words = _timed(STORY, start=2.0)
    ass = build_ass(words, title="My neighbour moved his fence onto my yard", title_end_s=2.0)

    title_frame = _render(ass, tmp_path, at=1.0)
    caption_frame = _render(ass, tmp_path, at=words[6].start + 0.1)

    title_rows = np.flatnonzero(_white(title_frame).any(axis=1))
    assert title_rows.size and title_rows.min() > 200 and title_rows.max() < 1100
    assert not _white(title_frame)[1100:].any()
    white, yellow = _white(caption_frame), _yellow(caption_frame)
    text_rows = np.flatnonzero((white | yellow).any(axis=1))
    assert text_rows.min() > 1920 - 560 - 300 and text_rows.max() < 1920 - 560 + 10
    assert yellow.sum() > 500
    assert not (white | yellow)[:, :20].any() and not (white | yellow)[:, -20:].any()
    assert not white[:1000].any()


@pytest.mark.e2e
def test_hibari_voiceover_to_burned_captions(tmp_path: Path, base_transcriber: Transcriber) -> None:
    from hibari import Hibari

    audio = tmp_path / "voice.wav"
    Hibari(voice="heart").save(STORY, str(audio))
    transcript = base_transcriber.transcribe(audio)

    alignment = align(STORY, transcript)
    hook_end = alignment.words[5].end
    ass = build_ass(alignment.words, title="My neighbour built a fence on my yard", title_end_s=hook_end)

    assert alignment.wer < 0.15
    events = _events(ass)
    assert sum(e[3] == "Caption" for e in events) >= len(alignment.words) - 8
    spoken = next(w for w in alignment.words if w.text == "measured")
    frame = _render(ass, tmp_path, at=(spoken.start + spoken.end) / 2)
    assert _yellow(frame).sum() > 300
