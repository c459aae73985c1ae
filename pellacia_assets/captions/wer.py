"""Turn a script and a Whisper transcript into comparable spoken tokens, and score them (word error rate).

The script is written for speech (numbers spelled out), while Whisper writes digits ("$1,200"), so digits
are expanded into words. Several spoken forms are possible ("twenty nineteen" vs "two thousand and
nineteen"); the one that occurs in the script wins. This is the only normalisation the caption alignment
and the caption quality check use, so both always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jiwer
from num2words import num2words

from pellacia_assets.captions.errors import CaptionError
from resources.transcriber.base import Word

_NUMBER = re.compile(
    r"^(?P<currency>[$£€])?(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?"
    r"(?P<suffix>%|st|nd|rd|th|s)?$"
)
_CURRENCY_WORDS = {"$": ("dollar", "dollars"), "£": ("pound", "pounds"), "€": ("euro", "euros")}
_SPLIT_NUMBER_TAIL = re.compile(r"^[,.]\d")
_APOSTROPHES = str.maketrans({"’": "", "‘": "", "'": "", "`": ""})
_NON_WORD = re.compile(r"[^\w$£€%.,]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class SpokenToken:
    """One normalised word heard by Whisper, its share of the Whisper word's time, and that word's index."""

    text: str
    start: float
    end: float
    source: int


def spoken_tokens(word: str, context: str = "") -> list[str]:
    """Normalise one written word into lower-case spoken tokens; digits become words.

    `context` is the normalised script text (space separated); a digit token picks the spelling found there.
    """
    pieces = _NON_WORD.split(word.lower().translate(_APOSTROPHES))
    tokens: list[str] = []
    for piece in pieces:
        stripped = piece.strip(".,")
        if not stripped:
            continue
        match = _NUMBER.match(stripped)
        if match:
            tokens.extend(_spell_number(match, context))
        else:
            spelled = _DIGITS.sub(lambda m: f" {num2words(int(m.group()))} ", stripped)
            tokens.extend(_plain_words(spelled))
    return tokens


def script_tokens(script: str) -> list[str]:
    """The script as a flat list of normalised spoken tokens."""
    return [token for word in script.split() for token in spoken_tokens(word)]


def transcript_tokens(words: Sequence[Word], context: str) -> list[SpokenToken]:
    """Whisper's words as normalised tokens, each carrying a share of its word's time span.

    Whisper sometimes splits a number across words ("$1" + ",200"); those are joined first. A word that
    expands to several tokens ("$1,200" -> one thousand two hundred dollars) splits its time span across
    them in proportion to their length.
    """
    tokens: list[SpokenToken] = []
    for index, (text, start, end) in enumerate(_join_split_numbers(words)):
        parts = spoken_tokens(text, context)
        total = sum(len(part) for part in parts)
        cursor = start
        for part in parts:
            share = (end - start) * len(part) / total
            tokens.append(SpokenToken(text=part, start=cursor, end=cursor + share, source=index))
            cursor += share
    return tokens


def word_error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """(substitutions + deletions + insertions) / reference length, over normalised token lists."""
    if not reference:
        raise CaptionError("cannot score a transcript against an empty script")
    return float(jiwer.wer(" ".join(reference), " ".join(hypothesis)))


def script_wer(script: str, words: Sequence[Word]) -> float:
    """Word error rate of a transcript against the script it should contain, after normalising both."""
    reference = script_tokens(script)
    hypothesis = [token.text for token in transcript_tokens(words, " ".join(reference))]
    return word_error_rate(reference, hypothesis)


def _join_split_numbers(words: Sequence[Word]) -> list[tuple[str, float, float]]:
    joined: list[tuple[str, float, float]] = []
    for word in words:
        text = word.text.strip()
        if joined and _SPLIT_NUMBER_TAIL.match(text) and joined[-1][0][-1:].isdigit():
            previous_text, previous_start, _ = joined[-1]
            joined[-1] = (previous_text + text, previous_start, word.end)
        else:
            joined.append((text, word.start, word.end))
    return joined


def _spell_number(match: re.Match[str], context: str) -> list[str]:
    value = int(match.group("number").replace(",", ""))
    fraction = match.group("fraction")
    suffix = match.group("suffix") or ""
    currency = match.group("currency")
    if fraction and currency:
        return _spell_money(value, int(fraction[1:3].ljust(2, "0")), currency, context)
    if fraction:
        candidates = [num2words(float(f"{value}{fraction}"))]
    elif suffix in {"st", "nd", "rd", "th"}:
        candidates = [num2words(value, to="ordinal")]
    else:
        candidates = [num2words(value)]
        if "," not in match.group("number") and 1000 <= value <= 2999:
            candidates.append(num2words(value, to="year"))
        if suffix == "s":
            candidates = [_plural(candidate) for candidate in candidates]
    spelled = [_plain_words(candidate) for candidate in candidates]
    spelled += [[t for t in tokens if t != "and"] for tokens in spelled if "and" in tokens]
    if currency:
        singular, plural = _CURRENCY_WORDS[currency]
        unit = singular if value == 1 else plural
        spelled = [[*tokens, unit] for tokens in spelled]
    if suffix == "%":
        spelled = [[*tokens, "percent"] for tokens in spelled]
    return _best_candidate(spelled, context)


def _spell_money(units: int, cents: int, currency: str, context: str) -> list[str]:
    singular, plural = _CURRENCY_WORDS[currency]
    whole = [*_plain_words(num2words(units)), singular if units == 1 else plural]
    cent_words = _plain_words(num2words(cents))
    candidates = [
        [*whole, *cent_words, "cent" if cents == 1 else "cents"],
        [*whole, "and", *cent_words, "cent" if cents == 1 else "cents"],
        [*_plain_words(num2words(units)), *cent_words],
    ]
    return _best_candidate(candidates, context)


def _best_candidate(candidates: Sequence[list[str]], context: str) -> list[str]:
    padded_context = f" {context} "
    for tokens in candidates:
        if f" {' '.join(tokens)} " in padded_context:
            return tokens
    return candidates[0]


def _plural(spelled: str) -> str:
    if spelled.endswith("y"):
        return spelled[:-1] + "ies"
    return spelled + "s"


def _plain_words(text: str) -> list[str]:
    return [token for token in re.split(r"[^\w]+", text.lower()) if token]
