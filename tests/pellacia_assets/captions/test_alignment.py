from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pellacia_assets.captions.alignment import Alignment, TimedWord, align, display_words
from pellacia_assets.captions.errors import CaptionError
from resources.transcriber.base import Transcriber, Transcript, Word

STORY = (
    "I found a letter under my door this morning. It was from the neighbor who moved away ten years ago. "
    "She wrote that she still had my bicycle, and that she wanted to give it back."
)
WRONG = (
    "Quantum chromodynamics describes the strong interaction between quarks and gluons, "
    "which together make up hadrons such as protons and neutrons inside atomic nuclei."
)


def _transcript(words: Sequence[tuple[str, float, float]], duration: float) -> Transcript:
    heard = tuple(Word(text, start, end, 0.9) for text, start, end in words)
    return Transcript(words=heard, text=" ".join(w.text for w in heard), language="en", duration_s=duration)


def _assert_well_formed(alignment: Alignment, duration: float) -> None:
    previous_end = 0.0
    for word in alignment.words:
        assert 0.0 <= word.start <= word.end <= duration
        assert word.start >= previous_end
        previous_end = word.end
    assert math.isfinite(alignment.max_drift_s)
    assert 0.0 <= alignment.mean_drift_s <= alignment.max_drift_s


def test_exact_transcript_gives_whisper_times() -> None:
    transcript = _transcript([("Hello", 0.5, 0.9), ("there,", 0.9, 1.3), ("friend!", 1.6, 2.1)], 3.0)

    alignment = align("Hello there, friend!", transcript)

    assert alignment.words == (
        TimedWord("Hello", 0.5, 0.9, True),
        TimedWord("there,", 0.9, 1.3, True),
        TimedWord("friend!", 1.6, 2.1, True),
    )
    assert alignment.wer == 0.0
    assert alignment.matched_ratio == 1.0
    assert alignment.max_drift_s == 0.0


def test_digits_from_whisper_match_spelled_out_script() -> None:
    heard = [("It", 0.0, 0.2), ("cost", 0.2, 0.5), ("$1", 0.5, 1.0), (",200", 1.0, 1.8), ("today.", 1.8, 2.3)]
    transcript = _transcript(heard, 3.0)

    alignment = align("It cost one thousand two hundred dollars today.", transcript)

    assert [w.text for w in alignment.words][2:7] == ["one", "thousand", "two", "hundred", "dollars"]
    assert all(w.matched for w in alignment.words)
    assert alignment.wer == 0.0
    assert alignment.words[2].start == 0.5
    assert alignment.words[6].end == pytest.approx(1.8)
    _assert_well_formed(alignment, 3.0)


def test_unheard_words_are_interpolated_by_length() -> None:
    transcript = _transcript([("the", 0.0, 0.3), ("fox", 1.3, 1.6), ("jumps", 1.6, 2.0)], 2.5)

    alignment = align("The quick brownish fox jumps.", transcript)

    quick, brownish = alignment.words[1], alignment.words[2]
    assert not quick.matched and not brownish.matched
    assert quick.start == pytest.approx(0.3)
    assert brownish.end == pytest.approx(1.3)
    assert brownish.end - brownish.start == pytest.approx(8 / 5 * (quick.end - quick.start))
    assert alignment.wer == pytest.approx(2 / 5)
    assert alignment.max_drift_s == 0.0
    _assert_well_formed(alignment, 2.5)


def test_unheard_word_without_a_gap_borrows_time_from_neighbours() -> None:
    transcript = _transcript([("big", 1.0, 1.4), ("dog", 1.4, 1.8)], 2.0)

    alignment = align("big brown dog", transcript)

    brown = alignment.words[1]
    assert brown.end - brown.start > 0.2
    assert alignment.words[0].start == 1.0
    assert alignment.words[2].end == pytest.approx(1.8)
    assert alignment.max_drift_s == pytest.approx(0.8 * 8 / 11 - 0.4)
    assert alignment.mean_drift_s == pytest.approx(2 / 3 * alignment.max_drift_s)
    _assert_well_formed(alignment, 2.0)


def test_misheard_words_take_the_time_of_what_was_heard() -> None:
    heard = [("a", 0.0, 0.2), ("fence", 0.2, 0.6), ("to", 0.6, 0.8), ("feed", 0.8, 1.2)]
    transcript = _transcript(heard, 1.5)

    alignment = align("a fence two feet", transcript)

    two, feet = alignment.words[2], alignment.words[3]
    assert two.start == pytest.approx(0.6)
    assert feet.end == pytest.approx(1.2)
    assert not two.matched and not feet.matched
    assert alignment.wer == pytest.approx(0.5)


def test_times_are_clamped_into_the_audio() -> None:
    transcript = _transcript([("one", 0.0, 0.5), ("two", 0.4, 1.2), ("three", 1.1, 2.6)], 2.0)

    alignment = align("one two three", transcript)

    _assert_well_formed(alignment, 2.0)
    assert alignment.words[-1].end == 2.0


def test_script_spelling_and_punctuation_are_kept() -> None:
    transcript = _transcript([("Colour", 0.0, 0.4), ("me", 0.4, 0.6), ("surprised", 0.6, 1.2)], 1.5)

    alignment = align("“Colour — me surprised…”", transcript)

    assert [w.text for w in alignment.words] == ["“Colour —", "me", "surprised…”"]


def test_display_words_glue_stray_punctuation() -> None:
    assert display_words("— Wait ... what ?!") == ["— Wait ...", "what ?!"]


def test_silence_spreads_the_script_over_the_audio() -> None:
    alignment = align("nobody said anything", _transcript([], 4.0))

    assert alignment.wer == 1.0
    assert alignment.matched_ratio == 0.0
    assert alignment.words[0].start == 0.0
    assert alignment.words[-1].end == pytest.approx(4.0)
    _assert_well_formed(alignment, 4.0)


def test_script_without_words_is_rejected() -> None:
    with pytest.raises(CaptionError, match="no speakable words"):
        align("... — !", _transcript([], 1.0))


@pytest.mark.e2e
@pytest.mark.parametrize("model", ["base", "tiny.en"])
def test_real_voiceover_aligns_to_its_script(
    model: str,
    speak: Callable[[str], Path],
    base_transcriber: Transcriber,
    tiny_transcriber: Transcriber,
) -> None:
    transcriber = {"base": base_transcriber, "tiny.en": tiny_transcriber}[model]
    transcript = transcriber.transcribe(speak(STORY))

    alignment = align(STORY, transcript)

    assert alignment.wer < 0.15
    assert alignment.matched_ratio > 0.8
    assert [w.text for w in alignment.words] == STORY.split()
    assert alignment.words[_display_index(alignment, "ten")].matched
    assert alignment.max_drift_s < 1.0
    _assert_well_formed(alignment, transcript.duration_s)


@pytest.mark.e2e
def test_wrong_script_scores_badly(speak: Callable[[str], Path], base_transcriber: Transcriber) -> None:
    transcript = base_transcriber.transcribe(speak(STORY))

    alignment = align(WRONG, transcript)

    assert alignment.wer > 0.5
    _assert_well_formed(alignment, transcript.duration_s)


@pytest.mark.e2e
def test_silent_audio_scores_badly(silence_wav: Path, base_transcriber: Transcriber) -> None:
    transcript = base_transcriber.transcribe(silence_wav)

    alignment = align(STORY, transcript)

    assert alignment.wer > 0.5
    _assert_well_formed(alignment, transcript.duration_s)


def _display_index(alignment: Alignment, text: str) -> int:
    return next(i for i, w in enumerate(alignment.words) if w.text == text)
