from __future__ import annotations

import itertools

import pytest

from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.wer import (
    script_tokens,
    script_wer,
    spoken_tokens,
    transcript_tokens,
    word_error_rate,
)
from resources.transcriber.base import Word


@pytest.mark.parametrize(
    ("written", "context", "spoken"),
    [
        ("Hello,", "", ["hello"]),
        ("Don’t", "", ["dont"]),
        ("twenty-five", "", ["twenty", "five"]),
        ("—", "", []),
        ("$1,200", "", ["one", "thousand", "two", "hundred", "dollars"]),
        ("$1", "", ["one", "dollar"]),
        ("$5.50", "", ["five", "dollars", "fifty", "cents"]),
        ("$5.50", "it was five fifty", ["five", "fifty"]),
        ("25%", "", ["twenty", "five", "percent"]),
        ("3rd", "", ["third"]),
        ("10", "", ["ten"]),
        ("2019", "back in twenty nineteen we", ["twenty", "nineteen"]),
        ("2019", "", ["two", "thousand", "and", "nineteen"]),
        ("125", "one hundred twenty five", ["one", "hundred", "twenty", "five"]),
        ("1990s", "the nineteen nineties", ["nineteen", "nineties"]),
        ("9/11", "", ["nine", "eleven"]),
    ],
)
def test_spoken_tokens(written: str, context: str, spoken: list[str]) -> None:
    assert spoken_tokens(written, context) == spoken


def test_split_number_is_joined_and_its_time_shared() -> None:
    words = [Word("$1", 1.0, 1.4, 0.9), Word(",200", 1.4, 2.0, 0.9), Word("today.", 2.0, 2.5, 0.9)]

    tokens = transcript_tokens(words, "")

    assert [t.text for t in tokens] == ["one", "thousand", "two", "hundred", "dollars", "today"]
    assert tokens[0].start == 1.0
    assert tokens[4].end == pytest.approx(2.0)
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(tokens[:5]))
    assert tokens[1].end - tokens[1].start > tokens[0].end - tokens[0].start
    assert {t.source for t in tokens[:5]} == {0}


def test_script_wer_ignores_case_punctuation_and_digits() -> None:
    words = [Word(w, i, i + 0.5, 1.0) for i, w in enumerate(["it", "cost", "$1,200,", "Sadly."])]

    assert script_wer("It cost one thousand two hundred dollars, sadly!", words) == 0.0


def test_word_error_rate_counts_edits() -> None:
    assert word_error_rate(["a", "b", "c"], ["a", "x", "c"]) == pytest.approx(1 / 3)
    assert word_error_rate(["a", "b"], []) == 1.0
    assert word_error_rate(["a"], ["a", "b", "c"]) == 2.0


def test_empty_script_is_rejected() -> None:
    assert script_tokens("... —") == []
    with pytest.raises(CaptionError, match="empty script"):
        script_wer("... —", [])
