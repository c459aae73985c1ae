"""Build the burned-in captions as an ASS subtitle file for libass (ffmpeg `subtitles=`).

Words are grouped into short pages (at most `max_lines` lines of about `max_chars_per_line` characters)
that break at sentence ends and pauses first, so a page reads as a phrase. Each word gets its own event
showing the whole page with that word highlighted, which gives the karaoke effect without relying on
`\\k` tags. Captions sit bottom-centre but above the platforms' own UI (like/comment buttons, caption
bar), which covers roughly the lowest 25-30 % of a 9:16 frame. The hook can be shown as a title card
first; no word captions are drawn while it is on screen.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.errors import CaptionError

PAUSE_BREAK_S = 0.6
LINGER_S = 0.5
SENTENCE_ENDS = (".", "!", "?", "…", '."', '!"', '?"', ".”", "!”", "?”")
CLAUSE_ENDS = (",", ";", ":", "—")
HIGHLIGHT = r"{\c&H00FFFF&\fscx110\fscy110}"
RESET = r"{\r}"
_BASE_HEIGHT = 1920
# Measured with libass: DejaVu Sans Bold lower-case text is about 0.50 x font size per character; the
# margin covers mixed case and the 110 % highlighted word.
_CHAR_WIDTH_PER_FONT_SIZE = 0.55
_MAX_CAPTION_SIZE = 84
_SIDE_MARGIN = 60


@dataclass(frozen=True, slots=True)
class CaptionPage:
    """Words shown together on screen, already broken into lines, and when the page is visible."""

    lines: tuple[tuple[TimedWord, ...], ...]
    start: float
    end: float

    @property
    def words(self) -> tuple[TimedWord, ...]:
        return tuple(word for line in self.lines for word in line)


def caption_pages(
    words: Sequence[TimedWord], *, max_chars_per_line: int = 32, max_lines: int = 2, not_before_s: float = 0.0
) -> list[CaptionPage]:
    """Group words into readable, non-overlapping pages; words starting before `not_before_s` are left out."""
    if max_chars_per_line < 1 or max_lines < 1:
        raise CaptionError("max_chars_per_line and max_lines must be at least 1")
    groups = _page_groups([w for w in words if w.start >= not_before_s], max_chars_per_line, max_lines)
    pages: list[CaptionPage] = []
    for index, group in enumerate(groups):
        following_start = groups[index + 1][0].start if index + 1 < len(groups) else math.inf
        end = min(group[-1].end + LINGER_S, following_start)
        pages.append(
            CaptionPage(lines=_balanced_lines(group, max_chars_per_line), start=group[0].start, end=end)
        )
    return pages


def build_ass(
    words: Sequence[TimedWord],
    *,
    play_res: tuple[int, int] = (1080, 1920),
    font_name: str = "DejaVu Sans",
    max_chars_per_line: int = 32,
    max_lines: int = 2,
    title: str | None = None,
    title_end_s: float = 0.0,
) -> str:
    """Return the complete ASS document: styles, an optional title card, one event per spoken word."""
    width, height = play_res
    scale = height / _BASE_HEIGHT
    events: list[str] = []
    if title and title_end_s > 0:
        events.append(_title_event(title, title_end_s, width, height, scale))
    for page in caption_pages(
        words, max_chars_per_line=max_chars_per_line, max_lines=max_lines, not_before_s=title_end_s
    ):
        events.extend(_page_events(page))
    caption_size = caption_font_size(width, height, max_chars_per_line)
    return _header(width, height, font_name, scale, caption_size) + "\n".join(events) + "\n"


def caption_font_size(width: int, height: int, max_chars_per_line: int) -> int:
    """The largest caption size (84 at 1920 tall) at which a full line still fits between the side margins."""
    scale = height / _BASE_HEIGHT
    usable = width - 2 * round(_SIDE_MARGIN * scale)
    fitting = int(usable / (max_chars_per_line * _CHAR_WIDTH_PER_FONT_SIZE))
    return min(round(_MAX_CAPTION_SIZE * scale), fitting)


def escape_ass_text(text: str) -> str:
    """Make script text literal in ASS: braces would open override blocks, backslashes start tags."""
    cleaned = " ".join(text.splitlines())
    return cleaned.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def _page_groups(words: Sequence[TimedWord], max_chars: int, max_lines: int) -> list[list[TimedWord]]:
    groups: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in words:
        if current and (
            _should_break_before(current, word, max_chars)
            or not _fits([*current, word], max_chars, max_lines)
        ):
            groups.append(current)
            current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def _should_break_before(current: Sequence[TimedWord], word: TimedWord, max_chars: int) -> bool:
    previous = current[-1]
    if previous.text.endswith(SENTENCE_ENDS) or word.start - previous.end >= PAUSE_BREAK_S:
        return True
    page_chars = sum(len(w.text) + 1 for w in current)
    return previous.text.endswith(CLAUSE_ENDS) and page_chars >= max_chars // 2


def _fits(words: Sequence[TimedWord], max_chars: int, max_lines: int) -> bool:
    return len(_wrap(words, max_chars)) <= max_lines


def _wrap(words: Sequence[TimedWord], width: int) -> list[list[TimedWord]]:
    lines: list[list[TimedWord]] = []
    length = 0
    for word in words:
        if lines and length + 1 + len(word.text) <= width:
            lines[-1].append(word)
            length += 1 + len(word.text)
        else:
            lines.append([word])
            length = len(word.text)
    return lines


def _balanced_lines(words: Sequence[TimedWord], max_chars: int) -> tuple[tuple[TimedWord, ...], ...]:
    """Wrap at the narrowest width that needs no more lines than greedy wrapping at `max_chars`."""
    line_count = len(_wrap(words, max_chars))
    narrowest = max(len(word.text) for word in words)
    widths = range(narrowest, max_chars + 1)
    width = next((w for w in widths if len(_wrap(words, w)) <= line_count), max_chars)
    return tuple(tuple(line) for line in _wrap(words, width))


def _page_events(page: CaptionPage) -> list[str]:
    words = page.words
    events: list[str] = []
    for index, word in enumerate(words):
        start = page.start if index == 0 else word.start
        end = words[index + 1].start if index + 1 < len(words) else page.end
        start_cs, end_cs = _centiseconds(start), _centiseconds(end)
        if end_cs > start_cs:
            events.append(_dialogue(0, start_cs, end_cs, "Caption", _page_text(page, highlighted=index)))
    return events


def _page_text(page: CaptionPage, highlighted: int) -> str:
    rendered: list[str] = []
    position = 0
    for line in page.lines:
        texts = []
        for word in line:
            text = escape_ass_text(word.text)
            texts.append(f"{HIGHLIGHT}{text}{RESET}" if position == highlighted else text)
            position += 1
        rendered.append(" ".join(texts))
    return r"\N".join(rendered)


def _title_event(title: str, end_s: float, width: int, height: int, scale: float) -> str:
    font_size = round(92 * scale)
    usable = width - 2 * round(90 * scale)
    chars_per_line = max(8, int(usable / (font_size * 0.62)))
    lines = textwrap.wrap(" ".join(title.split()), width=chars_per_line, break_long_words=False)
    text = r"\N".join(escape_ass_text(line) for line in lines)
    position = rf"{{\an5\pos({width // 2},{height // 3})}}"
    return _dialogue(1, 0, _centiseconds(end_s), "Title", position + text)


def _dialogue(layer: int, start_cs: int, end_cs: int, style: str, text: str) -> str:
    return f"Dialogue: {layer},{_timestamp(start_cs)},{_timestamp(end_cs)},{style},,0,0,0,,{text}"


def _centiseconds(seconds: float) -> int:
    return max(0, round(seconds * 100))


def _timestamp(centiseconds: int) -> str:
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"


def _header(width: int, height: int, font_name: str, scale: float, caption_size: int) -> str:
    title_size = round(92 * scale)
    margin_side, margin_bottom = round(_SIDE_MARGIN * scale), round(560 * scale)
    outline, shadow, title_pad = round(5 * scale), round(2 * scale), round(24 * scale)
    fields = (
        "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding"
    )
    caption_style = (
        f"Style: Caption,{font_name},{caption_size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{outline},{shadow},2,{margin_side},{margin_side},{margin_bottom},1"
    )
    title_style = (
        f"Style: Title,{font_name},{title_size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H40000000,"
        f"-1,0,0,0,100,100,0,0,3,{title_pad},0,5,{margin_side},{margin_side},0,1"
    )
    return "\n".join(
        [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 2",
            "ScaledBorderAndShadow: yes",
            "",
            "[V4+ Styles]",
            f"Format: {fields}",
            caption_style,
            title_style,
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
            "",
        ]
    )
