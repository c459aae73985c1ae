"""Build the burned-in captions as an ASS file for libass (ffmpeg `subtitles=`), in the genre's style.

Words are grouped into pages of 1-4 words (at most 2 lines, the preset decides how many), the way the
big-caption shorts read: a page ends at a sentence end, at clause punctuation and at a pause, a long phrase is
cut into balanced pages, and a page never splits a number ("3,000 dollars", "$1.5 million", "nine thirty
pm") or a name ("Mary Jane Watson", "Bank of America"). Pages are measured with the preset's font file
(pellacia_assets.captions.layout) so every line fits and the page's box, outline, shadow and the popped
word included, is centred in the platforms' safe zone.

Each spoken word gets two events for its time: layer 0 draws the whole page, steady, with the spoken
word's place kept but transparent; layer 1 draws the spoken word alone, in the highlight colour, exactly
over that place (`\\pos` of its measured centre) with a short scale pop (`\\t`: 100 % -> pop % -> 100 %),
so the pop never moves the other words. The "progress" mode keeps words already spoken lit.
Captions show the script's own words; Whisper only supplies the timings (TimedWord).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.layout import BASE_HEIGHT, Box, TextMeasure, safe_zone, text_block_box
from pellacia_assets.captions.styles import MIN_FONT_SIZE, CaptionStyle

PAUSE_BREAK_S = 0.6
LINGER_S = 0.5
LAYER_PAGE, LAYER_WORD = 0, 1
SENTENCE_ENDS = (".", "!", "?", "…", '."', '!"', '?"', ".”", "!”", "?”", ".'", "!'", "?'")
CLAUSE_ENDS = (",", ";", ":", "—", "–", ",”", ',"', ")")
_MIN_SHRINK = 0.4


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CORE = re.compile(r"^[^\w$£€]*(?P<core>.*?)[^\w%]*$")
_DIGITS = re.compile(r"^[$£€]?\d[\d,.:/]*(?:%|st|nd|rd|th|s|k|m|bn|am|pm)?$", re.IGNORECASE)
_NUMBER_WORDS = _word_set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion trillion half dozen"
)
_MAGNITUDES = frozenset({"hundred", "thousand", "million", "billion", "trillion", "grand"})
_NUMBER_UNITS = _word_set(
    "dollar dollars buck bucks cent cents pound pounds euro euros percent per cent grand k am pm a.m. p.m. "
    "o'clock o’clock year years month months week weeks day days hour hours minute minutes second seconds "
    "foot feet inch inches mile miles meter meters metre metres kilometers kilometres kilo kilos kg lbs "
    "degrees times hundred thousand million billion trillion"
)
_NAME_LINKS = frozenset(
    {"of", "the", "de", "van", "von", "der", "den", "da", "di", "du", "la", "le", "bin", "al"}
)
# Capitalised because they start a sentence, not because they are names: never the first word of a name.
_SENTENCE_STARTERS = _word_set(
    "a an the and but so or then when while after before because if as at in on of to for from with my your "
    "his her its our their this that these those there here it he she we they you i what why how who where "
    "well yes no oh now just also even still one two every each some all any not never only once last next "
    "today tonight yesterday tomorrow"
)
_WEAK_ENDINGS = _word_set(
    "a an the and but or so to of in on at for from with my your his her our their its is was were be that "
    "than as by into"
)


@dataclass(frozen=True, slots=True)
class CaptionPage:
    """Words shown together, broken into lines; when the page is visible and the ASS font size it uses."""

    lines: tuple[tuple[TimedWord, ...], ...]
    start: float
    end: float
    font_size: int

    @property
    def words(self) -> tuple[TimedWord, ...]:
        return tuple(word for line in self.lines for word in line)


def caption_pages(
    words: Sequence[TimedWord],
    *,
    style: CaptionStyle,
    play_res: tuple[int, int] = (1080, 1920),
    not_before_s: float = 0.0,
) -> list[CaptionPage]:
    """Group words into short, non-overlapping pages; words starting before `not_before_s` are left out."""
    layout = _Layout(style, play_res)
    shown = [word for word in words if word.start >= not_before_s]
    groups: list[tuple[tuple[tuple[TimedWord, ...], ...], int]] = []
    for phrase in _phrases(shown):
        groups.extend(_split_phrase(phrase, layout))
    pages: list[CaptionPage] = []
    for index, (lines, size) in enumerate(groups):
        following = groups[index + 1][0][0][0].start if index + 1 < len(groups) else math.inf
        start, last = lines[0][0].start, lines[-1][-1]
        pages.append(
            CaptionPage(lines=lines, start=start, end=min(last.end + LINGER_S, following), font_size=size)
        )
    return pages


def build_ass(
    words: Sequence[TimedWord],
    *,
    style: CaptionStyle,
    play_res: tuple[int, int] = (1080, 1920),
    not_before_s: float = 0.0,
) -> str:
    """The complete ASS document: the preset's style and, per spoken word, the page and the popped word."""
    layout = _Layout(style, play_res)
    events: list[str] = []
    for page in caption_pages(words, style=style, play_res=play_res, not_before_s=not_before_s):
        events.extend(_page_events(page, layout))
    return _header(layout) + "\n".join(events) + "\n"


def escape_ass_text(text: str) -> str:
    """Make script text literal in ASS: braces would open override blocks, backslashes start tags."""
    cleaned = " ".join(text.splitlines())
    return cleaned.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


# ---------------------------------------------------------------------------------------------------------
# Geometry: sizes, where the page sits, whether a page fits


class _Layout:
    def __init__(self, style: CaptionStyle, play_res: tuple[int, int]) -> None:
        if play_res[0] <= 0 or play_res[1] <= 0:
            raise CaptionError(f"play_res must be a positive width and height, got {play_res}")
        self.style = style
        self.play_res = play_res
        self.scale = play_res[1] / BASE_HEIGHT
        self.size = max(1, round(style.size * self.scale))
        self.outline = style.outline * self.scale
        self.shadow = style.shadow * self.scale
        self.pop = style.pop_scale / 100
        zone = safe_zone(play_res)
        pad = style.padding * self.scale
        self.area = Box(zone.x + pad, zone.y + pad, zone.w - 2 * pad, zone.h - 2 * pad)
        self.font_path = style.font_path()
        self._measures: dict[int, TextMeasure] = {}

    def measure(self, size: int) -> TextMeasure:
        if size not in self._measures:
            self._measures[size] = TextMeasure(self.font_path, size)
        return self._measures[size]

    def center(self, size: int) -> tuple[float, float]:
        """Where every page of this size is centred: the same point for 1- and 2-line pages (steady)."""
        line = self.measure(size).line_height
        lines = self.style.max_lines
        grow = (self.pop - 1) * (line / 2 + self.outline)
        above = lines * line / 2 + self.outline + grow
        below = lines * line / 2 + self.outline + self.pop * self.shadow + grow
        low, high = self.area.y + above, self.area.bottom - below
        y = (low + high) / 2 if high < low else low + self.style.vertical * (high - low)
        return self.area.x + self.area.w / 2 - self.shadow / 2, y

    def placed(self, lines: Sequence[Sequence[str]], size: int) -> tuple[Box, list[tuple[float, float, Box]]]:
        """The page's box and, for every word, its centre and its box at the top of the pop."""
        measure = self.measure(size)
        cx, cy = self.center(size)
        texts = [" ".join(line) for line in lines]
        widths = [measure.width(text) for text in texts]
        page = text_block_box(widths, measure.line_height, (cx, cy), outline=self.outline, shadow=self.shadow)
        words: list[tuple[float, float, Box]] = []
        top = cy - len(lines) * measure.line_height / 2
        for row, (line, width) in enumerate(zip(lines, widths, strict=True)):
            y = top + (row + 0.5) * measure.line_height
            left = cx - width / 2
            for index, word in enumerate(line):
                before = measure.width(" ".join([*line[:index], ""])) if index else 0.0
                word_width = measure.width(word)
                x = left + before + word_width / 2
                box = text_block_box(
                    [word_width], measure.line_height, (x, y),
                    outline=self.outline, shadow=self.shadow, scale=self.pop,
                )  # fmt: skip
                words.append((x, y, box))
        return page, words

    def fits(self, lines: Sequence[Sequence[str]], size: int) -> bool:
        page, words = self.placed(lines, size)
        return self.area.contains(page) and all(self.area.contains(box) for *_, box in words)


# ---------------------------------------------------------------------------------------------------------
# Pages: phrases, unbreakable units (numbers, names), balanced splits


def _core(text: str) -> str:
    """The word without surrounding punctuation ("“Mary," -> "Mary", "$1.5" stays, "— Wait ..." -> "Wait")."""
    token = next((part for part in text.split() if any(c.isalnum() for c in part)), text)
    match = _CORE.match(token)
    return match.group("core") if match else token


def _ends_clean(text: str) -> bool:
    """No punctuation after the word, so it can run on into a number or a name."""
    return bool(text) and (text[-1].isalnum() or text[-1] in "%")


def _is_number(text: str) -> bool:
    core = _core(text).lower()
    if _DIGITS.match(core):
        return True
    parts = core.replace("–", "-").split("-")
    return all(part in _NUMBER_WORDS for part in parts) and bool(parts[0])


def _ends_clause(text: str) -> bool:
    return text.endswith(SENTENCE_ENDS) or text.endswith(CLAUSE_ENDS)


def _is_capitalised(text: str) -> bool:
    core = _core(text)
    return bool(core) and core[0].isupper() and core.split("'")[0].split("’")[0] != "I"


def _phrases(words: Sequence[TimedWord]) -> list[list[TimedWord]]:
    """Runs of words between sentence ends, clause punctuation and pauses: pages never cross them."""
    phrases: list[list[TimedWord]] = []
    for word in words:
        if (
            not phrases
            or _ends_clause(phrases[-1][-1].text)
            or word.start - phrases[-1][-1].end >= PAUSE_BREAK_S
        ):
            phrases.append([])
        phrases[-1].append(word)
    return phrases


def _units(phrase: Sequence[TimedWord], max_words: int) -> list[list[TimedWord]]:
    """The phrase cut into pieces a page never splits: a number with its unit, a name, else one word."""
    units: list[list[TimedWord]] = []
    index = 0
    while index < len(phrase):
        end = _number_end(phrase, index) or _name_end(phrase, index) or index + 1
        units.extend(_chunk(list(phrase[index:end]), max_words))
        index = end
    return units


def _number_end(phrase: Sequence[TimedWord], start: int) -> int:
    """One past the last word of the number starting at `start` ("a million dollars", "$1.5 million",
    "two hundred and fifty"), or 0 when no number starts there."""
    texts = [word.text for word in phrase]
    index = start
    if _core(texts[start]).lower() in ("a", "an"):
        if not (_ends_clean(texts[start]) and start + 1 < len(texts)):
            return 0
        if _core(texts[start + 1]).lower() not in _MAGNITUDES:
            return 0
        index += 1
    elif not _is_number(texts[start]):
        return 0
    while index + 1 < len(texts) and _ends_clean(texts[index]):
        following = _core(texts[index + 1]).lower()
        if _is_number(texts[index + 1]) or following in _NUMBER_UNITS:
            index += 1
        elif (
            following in ("and", "point")
            and _ends_clean(texts[index + 1])
            and index + 2 < len(texts)
            and _is_number(texts[index + 2])
        ):
            index += 2
        else:
            break
    return index + 1


def _name_end(phrase: Sequence[TimedWord], start: int) -> int:
    """One past the last word of a name of 2+ capitalised words starting at `start` ("New York City")."""
    texts = [word.text for word in phrase]
    if not _is_capitalised(texts[start]) or _core(texts[start]).lower() in _SENTENCE_STARTERS:
        return 0
    index = start
    while index + 1 < len(texts) and _ends_clean(texts[index]):
        following = texts[index + 1]
        if _is_capitalised(following):
            index += 1
        elif (
            _core(following) in _NAME_LINKS
            and index + 2 < len(texts)
            and _is_capitalised(texts[index + 2])
            and _ends_clean(following)
        ):
            index += 2
        else:
            break
    return index + 1 if index > start else 0


def _chunk(unit: list[TimedWord], max_words: int) -> list[list[TimedWord]]:
    """A unit longer than a page is cut after magnitude words when it can be, else every `max_words`."""
    if len(unit) <= max_words:
        return [unit]
    cut = max_words
    for position in range(max_words, 0, -1):
        if _core(unit[position - 1].text).lower() in _MAGNITUDES:
            cut = position
            break
    return [unit[:cut], *_chunk(unit[cut:], max_words)]


def _split_phrase(
    phrase: Sequence[TimedWord], layout: _Layout
) -> list[tuple[tuple[tuple[TimedWord, ...], ...], int]]:
    """Cut a phrase into pages at unit boundaries: fewest pages, balanced, not ending on a weak word."""
    units = [
        piece
        for unit in _units(phrase, layout.style.max_words)
        for piece in ([unit] if _unit_fits(unit, layout) else [[word] for word in unit])
    ]
    total = len(phrase)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * len(units)
    lines_of: dict[tuple[int, int], tuple[tuple[tuple[TimedWord, ...], ...], int]] = {}
    for end in range(1, len(units) + 1):
        for begin in range(end - 1, -1, -1):
            words = [word for unit in units[begin:end] for word in unit]
            if len(words) > layout.style.max_words:
                break
            placed = _lines_for(units[begin:end], layout, allow_shrink=end - begin == 1)
            if placed is None:
                continue
            lines_of[(begin, end)] = placed
            cost = best[begin][0] + 10 + 0.5 * len(words) ** 2
            if len(words) == 1 and total > 1:
                cost += 3
            if end < len(units) and _core(words[-1].text).lower() in _WEAK_ENDINGS:
                cost += 4
            if cost < best[end][0]:
                best[end] = (cost, begin)
    pages: list[tuple[tuple[tuple[TimedWord, ...], ...], int]] = []
    end = len(units)
    while end > 0:
        begin = best[end][1]
        pages.append(lines_of[(begin, end)])
        end = begin
    return pages[::-1]


def _unit_fits(unit: Sequence[TimedWord], layout: _Layout) -> bool:
    """A number or name fits on one page at no less than the smallest allowed font size (else it is split)."""
    if len(unit) == 1:
        return True
    smallest = min(layout.size, math.ceil(MIN_FONT_SIZE * layout.scale))
    return any(_best_lines(unit, [unit], layout, size) for size in range(layout.size, smallest - 1, -1))


def _lines_for(
    units: Sequence[Sequence[TimedWord]], layout: _Layout, *, allow_shrink: bool
) -> tuple[tuple[tuple[TimedWord, ...], ...], int] | None:
    """The page's lines at the preset size (one line if it fits, else the most balanced split, at a unit
    boundary when possible); None when it does not fit. A single unit too wide at any split shrinks."""
    words = [word for unit in units for word in unit]
    size = layout.size
    floor = max(1, math.floor(layout.size * _MIN_SHRINK))
    while True:
        lines = _best_lines(words, units, layout, size)
        if lines is not None:
            return lines, size
        if not allow_shrink:
            return None
        if size <= floor:
            return _split_lines(words, layout), size
        size -= max(1, round(2 * layout.scale))


def _best_lines(
    words: Sequence[TimedWord], units: Sequence[Sequence[TimedWord]], layout: _Layout, size: int
) -> tuple[tuple[TimedWord, ...], ...] | None:
    texts = [word.text for word in words]
    if layout.fits([texts], size):
        return (tuple(words),)
    if layout.style.max_lines < 2 or len(words) < 2:
        return None
    boundaries = set()
    count = 0
    for unit in units[:-1]:
        count += len(unit)
        boundaries.add(count)
    measure = layout.measure(size)
    options = sorted(
        range(1, len(words)),
        key=lambda cut: (
            cut not in boundaries,
            max(measure.width(" ".join(texts[:cut])), measure.width(" ".join(texts[cut:]))),
        ),
    )
    for cut in options:
        if layout.fits([texts[:cut], texts[cut:]], size):
            return (tuple(words[:cut]), tuple(words[cut:]))
    return None


def _split_lines(words: Sequence[TimedWord], layout: _Layout) -> tuple[tuple[TimedWord, ...], ...]:
    """Lines for a page that fits nowhere (the layout check reports it): halves, or one line."""
    if len(words) < 2 or layout.style.max_lines < 2:
        return (tuple(words),)
    cut = (len(words) + 1) // 2
    return (tuple(words[:cut]), tuple(words[cut:]))


# ---------------------------------------------------------------------------------------------------------
# ASS text


def _page_events(page: CaptionPage, layout: _Layout) -> list[str]:
    style = layout.style
    words = page.words
    line_texts = [[escape_ass_text(word.text) for word in line] for line in page.lines]
    _, placed = layout.placed([[word.text for word in line] for line in page.lines], page.font_size)
    cx, cy = layout.center(page.font_size)
    size_tag = rf"\fs{page.font_size}" if page.font_size != layout.size else ""
    hidden = r"\1a&HFF&\3a&HFF&\4a&HFF&"
    lit = rf"\1c{style.highlight_colour.ass_colour}"
    half = style.pop_ms // 2
    pop = style.pop_scale
    events: list[str] = []
    for index, word in enumerate(words):
        start = page.start if index == 0 else word.start
        end = words[index + 1].start if index + 1 < len(words) else page.end
        start_cs, end_cs = _centiseconds(start), _centiseconds(end)
        if end_cs <= start_cs:
            continue
        rendered: list[str] = []
        position = 0
        for line in line_texts:
            parts = []
            for text in line:
                if position == index:
                    parts.append(f"{{{hidden}}}{text}{{\\r{size_tag}}}")
                elif position < index and style.highlight_mode == "progress":
                    parts.append(f"{{{lit}}}{text}{{\\r{size_tag}}}")
                else:
                    parts.append(text)
                position += 1
            rendered.append(" ".join(parts))
        page_text = rf"{{\an5\pos({cx:.1f},{cy:.1f}){size_tag}}}" + r"\N".join(rendered)
        events.append(_dialogue(LAYER_PAGE, start_cs, end_cs, page_text))
        x, y, _ = placed[index]
        pop_tags = (
            rf"\fscx100\fscy100\t(0,{half},\fscx{pop}\fscy{pop})\t({half},{style.pop_ms},\fscx100\fscy100)"
            if pop > 100
            else ""
        )
        word_text = rf"{{\an5\pos({x:.1f},{y:.1f}){size_tag}{lit}{pop_tags}}}{escape_ass_text(word.text)}"
        events.append(_dialogue(LAYER_WORD, start_cs, end_cs, word_text))
    return events


def _dialogue(layer: int, start_cs: int, end_cs: int, text: str) -> str:
    return f"Dialogue: {layer},{_timestamp(start_cs)},{_timestamp(end_cs)},Caption,,0,0,0,,{text}"


def _centiseconds(seconds: float) -> int:
    return max(0, round(seconds * 100))


def _timestamp(centiseconds: int) -> str:
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"


def _header(layout: _Layout) -> str:
    style = layout.style
    width, height = layout.play_res
    fields = (
        "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding"
    )
    caption_style = (
        f"Style: Caption,{style.font_family},{layout.size},{style.colour.ass},{style.highlight_colour.ass},"
        f"{style.outline_colour.ass},{style.shadow_colour.ass},{-1 if style.bold else 0},0,0,0,100,100,0,0,1,"
        f"{_number(layout.outline)},{_number(layout.shadow)},5,0,0,0,1"
    )
    return "\n".join(
        [
            "[Script Info]",
            f"; Pellacia caption style: {style.name}",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 2",
            "ScaledBorderAndShadow: yes",
            "",
            "[V4+ Styles]",
            f"Format: {fields}",
            caption_style,
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
            "",
        ]
    )


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
