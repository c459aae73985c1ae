"""Split narration into parts that each fit a shorts slot at the voice's measured speaking rate.

Every platform's short format has a hard length cap (58 s leaves margin under YouTube Shorts' 60 s), and
the hook and call to action are spoken too, so they count against each part's budget. Parts break on
sentence boundaries and are balanced, so a story never ends on a lonely one-sentence part.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pellacia_assets.scripting.errors import PartSplitError
from pellacia_assets.scripting.speech_text import cardinal, words

DEFAULT_MAX_PART_SECONDS = 58.0
CLOSING_CALL_TO_ACTION = "Follow for more stories like this."
RECAP_MAX_WORDS = 8

_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+")


@dataclass(frozen=True)
class PartText:
    """The spoken text of one part, before any platform copy is attached."""

    number: int
    hook: str
    narration: str
    call_to_action: str
    estimated_seconds: float


def estimate_seconds(text: str, words_per_minute: float) -> float:
    """How long a voice speaking `words_per_minute` takes to read `text`."""
    if words_per_minute <= 0:
        raise PartSplitError(f"words per minute must be positive, got {words_per_minute}")
    return len(words(text)) * 60.0 / words_per_minute


def split_sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_BREAK.split(text) if sentence.strip()]


def recap_of(hook: str) -> str:
    """A short reminder of the story for the start of later parts: the hook's first few words."""
    tokens = hook.split()
    recap = " ".join(tokens[:RECAP_MAX_WORDS])
    if len(tokens) > RECAP_MAX_WORDS:
        recap = recap.rstrip(",;:.!?") + "..."
    elif recap and recap[-1] not in ".!?":
        recap += "."
    return recap


def _count(text: str) -> int:
    return len(words(text))


def _split_long_sentence(sentence: str, limit: int) -> list[str]:
    """Cut a sentence longer than a part into clauses (, ; :), and a clause longer than a part into words."""
    pieces: list[str] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        pieces.extend([clause] if _count(clause) <= limit else clause.split())
    return pieces


def _units(sentences: Sequence[str], limit: int) -> list[str]:
    units: list[str] = []
    for sentence in sentences:
        units.extend([sentence] if _count(sentence) <= limit else _split_long_sentence(sentence, limit))
    return units


def _pack(unit_words: Sequence[int], limits: Sequence[int]) -> list[int] | None:
    """Greedy packing in order; the number of units per part, or None when they do not fit."""
    sizes: list[int] = []
    part, load, size = 0, 0, 0
    for count in unit_words:
        if size and load + count > limits[part]:
            sizes.append(size)
            part, load, size = part + 1, 0, 0
            if part >= len(limits):
                return None
        if count > limits[part]:
            return None
        load, size = load + count, size + 1
    sizes.append(size)
    return sizes


def _balanced_pack(unit_words: Sequence[int], capacities: Sequence[int]) -> list[int] | None:
    """Pack into exactly len(capacities) parts with the smallest possible largest part."""
    if _pack(unit_words, capacities) is None:
        return None
    low = max(math.ceil(sum(unit_words) / len(capacities)), max(unit_words))
    high = max(capacities)
    while low < high:
        middle = (low + high) // 2
        if _pack(unit_words, [min(capacity, middle) for capacity in capacities]) is None:
            low = middle + 1
        else:
            high = middle
    return _pack(unit_words, [min(capacity, low) for capacity in capacities])


def _frames(hook: str, recap: str, closing: str, count: int) -> list[tuple[str, str]]:
    """Each part's (hook, call to action): later parts re-introduce the story, earlier ones tease the next."""
    frames: list[tuple[str, str]] = []
    for number in range(1, count + 1):
        part_hook = hook if number == 1 else f"Part {cardinal(number)}. {recap}"
        action = closing if number == count else f"Follow for part {cardinal(number + 1)}."
        frames.append((part_hook, action))
    return frames


def split_into_parts(
    hook: str,
    narration: str,
    words_per_minute: float,
    max_part_seconds: float = DEFAULT_MAX_PART_SECONDS,
    closing_call_to_action: str = CLOSING_CALL_TO_ACTION,
) -> list[PartText]:
    """Parts of at most `max_part_seconds` each, hook and call to action included, split between sentences."""
    if max_part_seconds <= 0:
        raise PartSplitError(f"max part seconds must be positive, got {max_part_seconds}")
    budget = math.floor(max_part_seconds * words_per_minute / 60.0) if words_per_minute > 0 else 0
    if budget <= 0:
        raise PartSplitError(f"{max_part_seconds} s at {words_per_minute} words per minute holds no words")
    sentences = split_sentences(narration)
    if not any(words(sentence) for sentence in sentences):
        raise PartSplitError("the narration has no words to speak")
    recap = recap_of(hook)
    total_words = _count(narration)
    for count in range(max(1, math.ceil(total_words / budget)), total_words + 1):
        frames = _frames(hook, recap, closing_call_to_action, count)
        capacities = [budget - _count(part_hook) - _count(action) for part_hook, action in frames]
        if min(capacities) <= 0:
            worst = max(_count(part_hook) + _count(action) for part_hook, action in frames)
            raise PartSplitError(
                f"the hook and call to action alone take {worst} words, but a {max_part_seconds:g} s part "
                f"at {words_per_minute:g} words per minute holds only {budget}; shorten the hook"
            )
        units = _units(sentences, min(capacities))
        sizes = _balanced_pack([_count(unit) for unit in units], capacities)
        if sizes is None:
            continue
        frames = _frames(hook, recap, closing_call_to_action, len(sizes))
        parts = _parts(units, sizes, frames, words_per_minute)
        if all(_count(f"{part.hook} {part.narration} {part.call_to_action}") <= budget for part in parts):
            return parts
    raise PartSplitError(f"the narration could not be split into parts of at most {budget} words")


def _parts(
    units: Sequence[str], sizes: Sequence[int], frames: Sequence[tuple[str, str]], words_per_minute: float
) -> list[PartText]:
    """Consecutive units grouped by `sizes`, each group framed by its hook and call to action."""
    parts: list[PartText] = []
    start = 0
    for number, (size, (part_hook, action)) in enumerate(zip(sizes, frames, strict=True), start=1):
        text = " ".join(units[start : start + size])
        start += size
        seconds = estimate_seconds(f"{part_hook} {text} {action}", words_per_minute)
        parts.append(PartText(number, part_hook, text, action, seconds))
    return parts
