from __future__ import annotations

import math

import pytest

from pellacia_assets.scripting.errors import PartSplitError
from pellacia_assets.scripting.parts import (
    CLOSING_CALL_TO_ACTION,
    estimate_seconds,
    split_into_parts,
    split_sentences,
)
from pellacia_assets.scripting.speech_text import words

WPM = 160.0
HOOK = "My neighbour stole my parcel and lied about it."


def _story(sentence_count: int) -> str:
    lengths = [7 + (index * 5) % 17 for index in range(sentence_count)]
    return " ".join(
        f"Sentence {index} " + "word " * length + "ends here." for index, length in enumerate(lengths)
    )


def test_estimate_seconds_uses_words_per_minute() -> None:
    assert estimate_seconds("one two three four", 120) == pytest.approx(2.0)
    with pytest.raises(PartSplitError):
        estimate_seconds("one", 0)


def test_split_sentences_keeps_quotes_and_abbreviated_times() -> None:
    text = 'He said "Stop!" Then we left at ten p.m. and slept. "Why?" she asked.'
    assert split_sentences(text) == [
        'He said "Stop!"',
        "Then we left at ten p.m. and slept.",
        '"Why?" she asked.',
    ]


def test_a_story_that_fits_is_one_part_with_the_closing_call_to_action() -> None:
    parts = split_into_parts(HOOK, "It was a Tuesday. I saw him take it.", WPM)
    assert len(parts) == 1
    assert parts[0].number == 1
    assert parts[0].hook == HOOK
    assert parts[0].call_to_action == CLOSING_CALL_TO_ACTION
    assert parts[0].estimated_seconds == pytest.approx(
        len(words(HOOK + " It was a Tuesday. I saw him take it. " + CLOSING_CALL_TO_ACTION)) * 60 / WPM
    )


def test_a_long_story_splits_into_balanced_parts_within_budget() -> None:
    narration = _story(60)
    parts = split_into_parts(HOOK, narration, WPM, max_part_seconds=58)
    budget_words = math.floor(58 * WPM / 60)
    assert len(parts) > 2
    for part in parts:
        spoken = f"{part.hook} {part.narration} {part.call_to_action}"
        assert len(words(spoken)) <= budget_words
        assert part.estimated_seconds <= 58
    sizes = [len(words(part.narration)) for part in parts]
    assert min(sizes) >= 0.6 * max(sizes), sizes
    assert " ".join(part.narration for part in parts) == narration
    original = set(split_sentences(narration))
    assert all(sentence in original for part in parts for sentence in split_sentences(part.narration))


def test_later_parts_recap_and_earlier_parts_tease_the_next() -> None:
    parts = split_into_parts(HOOK, _story(60), WPM)
    assert parts[1].hook.startswith("Part two. My neighbour stole")
    assert parts[0].call_to_action == "Follow for part two."
    assert parts[-2].call_to_action.startswith("Follow for part ")
    assert parts[-1].call_to_action == CLOSING_CALL_TO_ACTION
    assert [part.number for part in parts] == list(range(1, len(parts) + 1))


def test_no_lonely_last_sentence() -> None:
    sentence = "This sentence has exactly ten words in it, you see."
    budget_words = math.floor(58 * WPM / 60)
    count = (budget_words - len(words(HOOK)) - 4) // 10 + 1  # one sentence more than a first part holds
    parts = split_into_parts(HOOK, " ".join([sentence] * count), WPM)
    assert len(parts) == 2
    assert abs(len(words(parts[0].narration)) - len(words(parts[1].narration))) <= 10


def test_a_giant_sentence_is_cut_at_clauses_then_words() -> None:
    clauses = ", ".join(f"then item {index} happened" for index in range(120)) + "."
    parts = split_into_parts(HOOK, clauses, WPM)
    assert len(parts) >= 3
    for part in parts[:-1]:
        assert part.narration.endswith(",")
    no_commas = " ".join(["blah"] * 400) + "."
    parts = split_into_parts(HOOK, no_commas, WPM)
    assert sum(len(words(part.narration)) for part in parts) == 400
    assert all(
        len(words(part.hook + " " + part.narration + " " + part.call_to_action)) <= 154 for part in parts
    )


def test_too_small_a_budget_is_a_clear_error() -> None:
    with pytest.raises(PartSplitError, match="hook and call to action"):
        split_into_parts(HOOK, "Short.", WPM, max_part_seconds=4)
    with pytest.raises(PartSplitError, match="no words"):
        split_into_parts(HOOK, " ... ", WPM)
