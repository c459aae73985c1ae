"""Words into caption pages: 1-4 words, at most 2 lines, broken at phrases, never in a number or name."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.ass import CaptionPage, caption_pages
from pellacia_assets.captions.styles import caption_style, load_styles

STORY = (
    "My neighbour built a fence two feet onto my yard, and when I asked him about it he just laughed. "
    "So I measured everything twice, called the city, and waited for the surveyor to arrive on Monday. "
    "Mary Jane Watson from New York City paid 3,000 dollars at 9:30 in 1999, then $1.5 million to the "
    "Bank of America. It cost two hundred and fifty thousand dollars — unbelievable, honestly!"
)
PRESETS = list(load_styles())


def _timed(text: str, *, step: float = 0.3, pause_after: Sequence[int] = ()) -> list[TimedWord]:
    words: list[TimedWord] = []
    cursor = 0.0
    for index, word in enumerate(text.split()):
        words.append(TimedWord(word, cursor, cursor + step - 0.05, True))
        cursor += step + (1.0 if index in pause_after else 0.0)
    return words


def _texts(pages: Sequence[CaptionPage]) -> list[str]:
    return [" ".join(word.text for word in page.words) for page in pages]


def _together(pages: Sequence[CaptionPage], phrase: str) -> bool:
    return any(phrase in text for text in _texts(pages))


@pytest.mark.parametrize("preset", PRESETS)
def test_pages_hold_one_to_four_words_on_at_most_two_lines(preset: str) -> None:
    style = caption_style(preset)
    words = _timed(STORY)

    pages = caption_pages(words, style=style)

    assert [word for page in pages for word in page.words] == words  # the script's words, in order
    for page in pages:
        assert 1 <= len(page.words) <= style.max_words <= 4
        assert 1 <= len(page.lines) <= style.max_lines <= 2
        assert page.font_size >= 90  # a number or name too wide at the preset size may shrink, to 90 at most
    for before, after in itertools.pairwise(pages):
        assert before.start < before.end <= after.start


def test_a_two_word_sentence_is_one_page() -> None:
    pages = caption_pages(_timed("Then silence. Nobody moved."), style=caption_style("bold"))

    assert _texts(pages) == ["Then silence.", "Nobody moved."]


def test_four_words_make_two_pages_of_two_when_three_is_the_limit() -> None:
    pages = caption_pages(_timed("we never went back"), style=caption_style("bold"))

    assert _texts(pages) == ["we never", "went back"]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    "name", ["Mary Jane Watson", "New York City", "Bank of America", "Jean-Luc Picard", "Dr. Ruth Westheimer"]
)
def test_a_name_is_never_split(preset: str, name: str) -> None:
    text = f"Yesterday my cousin met {name} at the old train station downtown"

    pages = caption_pages(_timed(text), style=caption_style(preset))

    if name.startswith("Dr."):  # "Dr." ends with a full stop: the name is "Ruth Westheimer"
        name = "Ruth Westheimer"
    assert _together(pages, name), _texts(pages)


def test_a_name_may_start_a_sentence() -> None:
    pages = caption_pages(_timed("It rang. Mary Jane Watson called again"), style=caption_style("bold"))

    assert _texts(pages) == ["It rang.", "Mary Jane Watson", "called again"]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    "number",
    [
        "3,000 dollars",
        "$1.5 million",
        "9:30 pm",
        "1999",
        "twenty five percent",
        "a million dollars",
        "ten years",
    ],
)
def test_a_number_is_never_split(preset: str, number: str) -> None:
    text = f"and after all that arguing he finally paid {number} for the whole thing"

    pages = caption_pages(_timed(text), style=caption_style(preset))

    assert _together(pages, number), _texts(pages)


def test_a_number_longer_than_a_page_breaks_after_a_magnitude() -> None:
    pages = caption_pages(
        _timed("It cost two hundred and fifty thousand dollars."), style=caption_style("clean")
    )

    assert _texts(pages) == ["It cost two hundred", "and fifty thousand dollars."]


def test_pages_break_at_sentence_ends_clauses_and_pauses() -> None:
    words = _timed("Wait. I said no, twice then we left quietly", pause_after=[5])

    pages = caption_pages(words, style=caption_style("clean"))

    assert _texts(pages) == ["Wait.", "I said no,", "twice then", "we left quietly"]


def test_a_page_does_not_end_on_a_weak_word_when_it_can_avoid_it() -> None:
    pages = caption_pages(_timed("she ran to the car"), style=caption_style("bold"))

    assert _texts(pages) == ["she ran", "to the car"]


def test_a_too_long_word_gets_a_smaller_page_of_its_own() -> None:
    style = caption_style("bold")

    pages = caption_pages(_timed("a Pneumonoultramicroscopicsilicovolcanoconiosis case"), style=style)

    long_page = next(page for page in pages if len(page.words[0].text) > 30)
    assert len(long_page.words) == 1
    assert long_page.font_size < style.size
    assert all(page.font_size == style.size for page in pages if page is not long_page)


def test_words_before_the_hook_end_are_left_out() -> None:
    words = _timed("Hook words here. Then the story starts now.", step=0.5)

    pages = caption_pages(words, style=caption_style("bold"), not_before_s=words[3].start)

    assert pages[0].start == words[3].start
    assert "Hook" not in " ".join(_texts(pages))


def test_page_ends_linger_but_never_overlap() -> None:
    words = [
        TimedWord("One.", 0.0, 0.3, True),
        TimedWord("Two.", 0.4, 0.6, True),
        TimedWord("Three.", 3.0, 3.5, True),
    ]

    pages = caption_pages(words, style=caption_style("bold"))

    assert [(page.start, page.end) for page in pages] == [(0.0, 0.4), (0.4, 1.1), (3.0, 4.0)]


def test_pages_scale_with_the_frame() -> None:
    style = caption_style("bold")

    small = caption_pages(_timed(STORY), style=style, play_res=(540, 960))
    full = caption_pages(_timed(STORY), style=style)

    assert _texts(small) == _texts(full)
    assert {page.font_size for page in small} == {style.size // 2}
