"""Give every word of the known script a time span taken from Whisper's word timestamps.

Captions show the script's own words (its spelling, its punctuation) and only borrow Whisper's *timings*:
Whisper mishears names and writes digits, the script does not. Both sides are normalised into spoken
tokens (pellacia_assets.captions.wer), aligned with difflib, and:

- a script token that Whisper heard identically takes that token's time ("matched");
- a run of script tokens that Whisper heard differently ("fence two feet" -> "fence to feed") shares the
  time span of what Whisper heard in its place, in proportion to character length;
- a run Whisper did not hear at all is interpolated between the neighbouring timed tokens in proportion
  to character length; when that gap is too short to read, the run also borrows the time of its two
  neighbours so no word collapses to nothing.

Finally times are clamped into the audio and made monotonic and non-overlapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.wer import SpokenToken, spoken_tokens, transcript_tokens, word_error_rate
from resources.transcriber.base import Transcript

MIN_SPAN_PER_WORD_S = 0.08


@dataclass(frozen=True, slots=True)
class TimedWord:
    """One script word as written, with the seconds it is spoken; `matched` when Whisper heard it exactly."""

    text: str
    start: float
    end: float
    matched: bool


@dataclass(frozen=True, slots=True)
class Alignment:
    """Timed script words plus how well the voiceover matches the script.

    `wer`: word error rate of the transcript against the script (normalised tokens).
    `matched_ratio`: share of script words whose every token Whisper heard exactly.
    Drift compares each word's final start time with where Whisper put it: for a word Whisper heard (exactly
    or as a substitution) the reference is the start of the Whisper token aligned to its first token; for a
    word Whisper missed, the reference is the gap between the Whisper tokens aligned to its neighbours, and
    drift is how far the start lies outside that gap. `max_drift_s` / `mean_drift_s` summarise it over all
    words; it grows when interpolation, borrowing or the monotonic clean-up moved words away from Whisper.
    """

    words: tuple[TimedWord, ...]
    wer: float
    matched_ratio: float
    max_drift_s: float
    mean_drift_s: float


@dataclass(slots=True)
class _ScriptToken:
    text: str
    word: int
    start: float | None = None
    end: float | None = None
    matched: bool = False
    heard_as: int | None = None


def align(script: str, transcript: Transcript) -> Alignment:
    """Align the words of `script` to the words Whisper heard in `transcript`."""
    words = display_words(script)
    tokens = [_ScriptToken(text, index) for index, word in enumerate(words) for text in spoken_tokens(word)]
    if not tokens:
        raise CaptionError("the script contains no speakable words to caption")
    heard = transcript_tokens(transcript.words, " ".join(token.text for token in tokens))
    duration = max(transcript.duration_s, 0.0)

    _assign_heard_times(tokens, heard)
    _interpolate_unheard(tokens, duration)
    timed = _monotonic_words(words, tokens, duration)
    drifts = _drifts(timed, tokens, heard, duration)
    matched_words = sum(word.matched for word in timed)
    return Alignment(
        words=tuple(timed),
        wer=word_error_rate([token.text for token in tokens], [token.text for token in heard]),
        matched_ratio=matched_words / len(timed),
        max_drift_s=max(drifts),
        mean_drift_s=sum(drifts) / len(drifts),
    )


def display_words(script: str) -> list[str]:
    """The script split into caption words; stray punctuation ("—", "...") sticks to a neighbouring word."""
    words: list[str] = []
    pending_prefix = ""
    for raw in script.split():
        if spoken_tokens(raw):
            words.append(f"{pending_prefix} {raw}".strip() if pending_prefix else raw)
            pending_prefix = ""
        elif words:
            words[-1] = f"{words[-1]} {raw}"
        else:
            pending_prefix = f"{pending_prefix} {raw}".strip()
    return words


def _assign_heard_times(tokens: list[_ScriptToken], heard: Sequence[SpokenToken]) -> None:
    matcher = SequenceMatcher(None, [t.text for t in tokens], [h.text for h in heard], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                token, source = tokens[i1 + offset], heard[j1 + offset]
                token.start, token.end = source.start, source.end
                token.matched = True
                token.heard_as = j1 + offset
        elif tag == "replace":
            run = tokens[i1:i2]
            _spread(run, heard[j1].start, heard[j2 - 1].end)
            for offset, token in enumerate(run):
                token.heard_as = j1 + offset * (j2 - j1) // len(run)


def _interpolate_unheard(tokens: list[_ScriptToken], duration: float) -> None:
    index = 0
    while index < len(tokens):
        if tokens[index].start is not None:
            index += 1
            continue
        run_end = index
        while run_end < len(tokens) and tokens[run_end].start is None:
            run_end += 1
        previous = tokens[index - 1] if index > 0 else None
        following = tokens[run_end] if run_end < len(tokens) else None
        low = previous.end if previous and previous.end is not None else 0.0
        high = following.start if following and following.start is not None else duration
        group = tokens[index:run_end]
        if high - low < MIN_SPAN_PER_WORD_S * len(group):
            if previous is not None and previous.start is not None:
                group.insert(0, previous)
                low = previous.start
            if following is not None and following.end is not None:
                group.append(following)
                high = following.end
        _spread(group, low, max(low, high))
        index = run_end


def _spread(tokens: Sequence[_ScriptToken], start: float, end: float) -> None:
    total = sum(len(token.text) for token in tokens)
    cursor = start
    for token in tokens:
        share = (end - start) * len(token.text) / total
        token.start, token.end = cursor, cursor + share
        cursor += share


def _monotonic_words(
    words: Sequence[str], tokens: Sequence[_ScriptToken], duration: float
) -> list[TimedWord]:
    timed: list[TimedWord] = []
    previous_end = 0.0
    for text, own in zip(words, _tokens_by_word(tokens, len(words)), strict=True):
        raw_start = own[0].start if own[0].start is not None else previous_end
        raw_end = own[-1].end if own[-1].end is not None else raw_start
        start = min(max(raw_start, previous_end, 0.0), duration)
        end = min(max(raw_end, start), duration)
        timed.append(TimedWord(text=text, start=start, end=end, matched=all(t.matched for t in own)))
        previous_end = end
    return timed


def _tokens_by_word(tokens: Sequence[_ScriptToken], word_count: int) -> list[list[_ScriptToken]]:
    grouped: list[list[_ScriptToken]] = [[] for _ in range(word_count)]
    for token in tokens:
        grouped[token.word].append(token)
    return grouped


def _drifts(
    timed: Sequence[TimedWord], tokens: Sequence[_ScriptToken], heard: Sequence[SpokenToken], duration: float
) -> list[float]:
    heard_before: list[int | None] = []
    last: int | None = None
    for token in tokens:
        heard_before.append(last)
        last = token.heard_as if token.heard_as is not None else last
    heard_after: list[int | None] = [None] * len(tokens)
    upcoming: int | None = None
    for position in range(len(tokens) - 1, -1, -1):
        upcoming = tokens[position].heard_as if tokens[position].heard_as is not None else upcoming
        heard_after[position] = upcoming
    first_position: dict[int, int] = {}
    for position, token in enumerate(tokens):
        first_position.setdefault(token.word, position)
    drifts: list[float] = []
    for index, word in enumerate(timed):
        position = first_position[index]
        source = tokens[position].heard_as
        if source is not None:
            drifts.append(abs(word.start - heard[source].start))
            continue
        before, after = heard_before[position], heard_after[position]
        low = heard[before].end if before is not None else 0.0
        high = heard[after].start if after is not None else duration
        drifts.append(max(low - word.start, word.start - high, 0.0))
    return drifts
