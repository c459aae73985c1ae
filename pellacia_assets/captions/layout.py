"""Where caption pages land on the frame, measured with the font file libass draws them with.

The platforms draw their own buttons and captions over the top 250 px, the bottom 480 px and the right
120 px of a 1080x1920 short; captions must stay inside the rest, the *safe zone*. This module measures
text with Pillow's FreeType on the same font file fontconfig hands libass, sized the way libass sizes it
(an ASS font size is the font's Windows ascent + descent, not its em), and computes the box a page or a
word occupies, outline and shadow included. `build_ass` uses it to break lines and place pages;
`layout_problems` reads an ASS document back and reports every box outside the safe zone, any font below
90 px (at 1920 tall), any page with more than 4 words or 2 lines — the `video_layout` check.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.styles import MAX_PAGE_LINES, MAX_PAGE_WORDS, MIN_FONT_SIZE, CaptionStyle

BASE_WIDTH, BASE_HEIGHT = 1080, 1920
SAFE_TOP, SAFE_BOTTOM, SAFE_LEFT, SAFE_RIGHT = 250, 480, 0, 120
_TOLERANCE_PX = 0.5


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in frame pixels: left `x`, top `y`, width `w`, height `h`."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box, tolerance: float = _TOLERANCE_PX) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )

    def describe(self) -> str:
        return f"x {self.x:.0f}-{self.right:.0f}, y {self.y:.0f}-{self.bottom:.0f}"


def safe_zone(play_res: tuple[int, int] = (BASE_WIDTH, BASE_HEIGHT)) -> Box:
    """The part of the frame no platform draws over, scaled from 1080x1920 to `play_res`."""
    width, height = play_res
    sx, sy = width / BASE_WIDTH, height / BASE_HEIGHT
    left, top = SAFE_LEFT * sx, SAFE_TOP * sy
    return Box(left, top, width - SAFE_RIGHT * sx - left, height - SAFE_BOTTOM * sy - top)


@dataclass(frozen=True, slots=True)
class _SfntMetrics:
    units_per_em: int
    win_height: int
    hhea_height: int


@lru_cache(maxsize=16)
def _sfnt_metrics(path: Path) -> _SfntMetrics:
    """head.unitsPerEm, OS/2 usWinAscent + usWinDescent and hhea ascender - descender of a TrueType/OpenType
    font (the first face of a collection): the numbers libass sizes fonts by."""
    data = path.read_bytes()
    base = struct.unpack(">I", data[12:16])[0] if data[:4] == b"ttcf" else 0
    (count,) = struct.unpack(">H", data[base + 4 : base + 6])
    tables: dict[bytes, int] = {}
    for index in range(count):
        record = base + 12 + 16 * index
        tables[data[record : record + 4]] = struct.unpack(">I", data[record + 8 : record + 12])[0]
    if b"head" not in tables or b"hhea" not in tables:
        raise CaptionError(f"{path} is not a TrueType/OpenType font (no head/hhea table)")
    (units,) = struct.unpack(">H", data[tables[b"head"] + 18 : tables[b"head"] + 20])
    ascender, descender = struct.unpack(">hh", data[tables[b"hhea"] + 4 : tables[b"hhea"] + 8])
    hhea = ascender - descender
    win = hhea
    if b"OS/2" in tables:
        win_ascent, win_descent = struct.unpack(">HH", data[tables[b"OS/2"] + 74 : tables[b"OS/2"] + 78])
        win = win_ascent + win_descent or hhea
    return _SfntMetrics(units_per_em=units, win_height=win, hhea_height=hhea)


@lru_cache(maxsize=64)
def _pillow_font(path: Path, em_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=em_px)


class TextMeasure:
    """Advance widths and line height of text in one font file at one ASS font size (script pixels)."""

    def __init__(self, font_path: Path, size: float) -> None:
        metrics = _sfnt_metrics(font_path)
        self.size = size
        # libass asks FreeType for a "real dimension" of size * hhea/win, i.e. an em of size * upem/win.
        self.em_px = size * metrics.units_per_em / metrics.win_height
        self.line_height = size * metrics.hhea_height / metrics.win_height
        self._font = _pillow_font(font_path, round(self.em_px, 3))

    def width(self, text: str) -> float:
        return float(self._font.getlength(text)) if text else 0.0


def text_block_box(
    line_widths: Sequence[float],
    line_height: float,
    anchor: tuple[float, float],
    *,
    alignment: int = 5,
    outline: float = 0.0,
    shadow: float = 0.0,
    scale: float = 1.0,
) -> Box:
    """The box of a block of lines placed like libass places `\\an<alignment>\\pos(anchor)`, with the
    outline on every side and the shadow's offset to the right and below, all grown by `scale`."""
    width = max(line_widths, default=0.0) * scale
    height = len(line_widths) * line_height * scale
    x, y = anchor
    left = x - width / 2 if alignment in (2, 5, 8) else x - width if alignment in (3, 6, 9) else x
    top = y - height / 2 if alignment in (4, 5, 6) else y if alignment in (7, 8, 9) else y - height
    border = outline * scale
    offset = shadow * scale
    return Box(left - border, top - border, width + 2 * border + offset, height + 2 * border + offset)


# ---------------------------------------------------------------------------------------------------------
# Reading an ASS document back (the `video_layout` check)


@dataclass(frozen=True, slots=True)
class _AssStyle:
    name: str
    font_name: str
    font_size: float
    bold: bool
    scale_x: float
    scale_y: float
    outline: float
    shadow: float
    alignment: int
    margin_l: int
    margin_r: int
    margin_v: int


@dataclass(frozen=True, slots=True)
class _AssEvent:
    layer: int
    start: str
    style: str
    margin_l: int
    margin_r: int
    margin_v: int
    text: str


@dataclass(frozen=True, slots=True)
class CaptionBox:
    """What one ASS event draws: its visible lines, font size (script pixels), largest scale and box."""

    start: str
    layer: int
    lines: tuple[str, ...]
    font_size: float
    box: Box

    @property
    def words(self) -> int:
        return sum(1 for line in self.lines for token in line.split() if any(c.isalnum() for c in token))

    @property
    def text(self) -> str:
        return " / ".join(self.lines)


_POS = re.compile(r"\\pos\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)")
_ALIGN = re.compile(r"\\an([1-9])")
_FONT_SIZE = re.compile(r"\\fs(\d+(?:\.\d+)?)")
_SCALE = re.compile(r"\\fsc([xy])(\d+(?:\.\d+)?)")
_BORDER = re.compile(r"\\bord(\d+(?:\.\d+)?)")
_SHADOW = re.compile(r"\\shad(\d+(?:\.\d+)?)")


def caption_boxes(
    ass_text: str, style: CaptionStyle, play_res: tuple[int, int] | None = None
) -> list[CaptionBox]:
    """The box every Dialogue event of `ass_text` occupies, measured with `style`'s font file.

    Position comes from `\\pos`/`\\an` when present, otherwise from the event's style alignment and
    margins; the scale is the largest `\\fscx`/`\\fscy` the event reaches (a pop included)."""
    info, styles, events = _parse_ass(ass_text)
    width, height = play_res or (
        int(info.get("PlayResX", BASE_WIDTH)),
        int(info.get("PlayResY", BASE_HEIGHT)),
    )
    font_path = style.font_path()
    boxes: list[CaptionBox] = []
    for event in events:
        base = styles.get(event.style)
        if base is None:
            raise CaptionError(f"Dialogue at {event.start} uses style {event.style!r}, which is not defined")
        tags = "".join(_override_blocks(event.text))
        lines = _visible_lines(event.text)
        if not any(line.strip() for line in lines):
            continue
        size = _last_float(_FONT_SIZE, tags, base.font_size)
        scales = [float(value) / 100 for _, value in _SCALE.findall(tags)]
        scale = max([base.scale_x, base.scale_y, *scales])
        outline = _last_float(_BORDER, tags, base.outline)
        shadow = _last_float(_SHADOW, tags, base.shadow)
        align_match = _ALIGN.search(tags)
        alignment = int(align_match.group(1)) if align_match else base.alignment
        measure = TextMeasure(font_path, size)
        widths = [measure.width(line) for line in lines]
        anchor = _anchor(event, base, alignment, tags, (width, height))
        box = text_block_box(
            widths,
            measure.line_height,
            anchor,
            alignment=alignment,
            outline=outline,
            shadow=shadow,
            scale=scale,
        )
        boxes.append(CaptionBox(event.start, event.layer, tuple(lines), size, box))
    return boxes


def layout_problems(
    ass_text: str, style: CaptionStyle, play_res: tuple[int, int] = (1080, 1920)
) -> list[str]:
    """One line per problem of the captions' layout: a box outside the safe zone, a font below 90 px at
    1920 tall, a page of more than 4 words or 2 lines, captions in another font than `style` measures.
    The same problem on the same text is reported once, at its first time."""
    _, styles, _ = _parse_ass(ass_text)
    problems: list[str] = []
    for ass_style in styles.values():
        if ass_style.font_name.lower() != style.font_family.lower() or ass_style.bold != style.bold:
            asked = f"{ass_style.font_name!r}{' bold' if ass_style.bold else ''}"
            measured = f"{style.font_family!r}{' bold' if style.bold else ''}"
            problems.append(
                f"style {ass_style.name} asks for {asked}, but the layout is measured with {measured}"
            )
    zone = safe_zone(play_res)
    to_base = BASE_HEIGHT / play_res[1]
    seen: set[str] = set()

    def report(start: str, message: str) -> None:
        if message not in seen:
            seen.add(message)
            problems.append(f"{start} {message}")

    for caption in caption_boxes(ass_text, style, play_res):
        quoted = f"({caption.text!r})"
        if not zone.contains(caption.box):
            report(
                caption.start, f"{quoted} box {caption.box.describe()} leaves the safe zone {zone.describe()}"
            )
        if caption.font_size * to_base < MIN_FONT_SIZE - _TOLERANCE_PX:
            size = caption.font_size * to_base
            report(caption.start, f"{quoted} font size {size:.0f} px at 1920 tall is below {MIN_FONT_SIZE}")
        if caption.words > MAX_PAGE_WORDS:
            report(caption.start, f"{quoted} shows {caption.words} words (at most {MAX_PAGE_WORDS})")
        if len(caption.lines) > MAX_PAGE_LINES:
            report(caption.start, f"{quoted} has {len(caption.lines)} lines (at most {MAX_PAGE_LINES})")
    return problems


def _parse_ass(text: str) -> tuple[dict[str, str], dict[str, _AssStyle], list[_AssEvent]]:
    info: dict[str, str] = {}
    styles: dict[str, _AssStyle] = {}
    events: list[_AssEvent] = []
    section = ""
    style_format: list[str] = []
    event_format: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line.lower()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if section == "[script info]":
            info[key] = value
        elif section in ("[v4+ styles]", "[v4 styles]") and key == "Format":
            style_format = [name.strip().lower() for name in value.split(",")]
        elif section in ("[v4+ styles]", "[v4 styles]") and key == "Style":
            style = _style(dict(zip(style_format, (v.strip() for v in value.split(",")), strict=False)))
            styles[style.name] = style
        elif section == "[events]" and key == "Format":
            event_format = [name.strip().lower() for name in value.split(",")]
        elif section == "[events]" and key == "Dialogue":
            parts = value.split(",", len(event_format) - 1)
            events.append(_event(dict(zip(event_format, parts, strict=False))))
    if not event_format and events:
        raise CaptionError("the ASS document has Dialogue lines but no [Events] Format line")
    return info, styles, events


def _style(fields: dict[str, str]) -> _AssStyle:
    try:
        return _AssStyle(
            name=fields["name"],
            font_name=fields["fontname"],
            font_size=float(fields["fontsize"]),
            bold=fields.get("bold", "0") not in ("0", ""),
            scale_x=float(fields.get("scalex", "100")) / 100,
            scale_y=float(fields.get("scaley", "100")) / 100,
            outline=float(fields.get("outline", "0")),
            shadow=float(fields.get("shadow", "0")),
            alignment=int(fields.get("alignment", "2")),
            margin_l=int(fields.get("marginl", "0")),
            margin_r=int(fields.get("marginr", "0")),
            margin_v=int(fields.get("marginv", "0")),
        )
    except (KeyError, ValueError) as error:
        raise CaptionError(f"an ASS Style line is malformed ({error})") from error


def _event(fields: dict[str, str]) -> _AssEvent:
    try:
        return _AssEvent(
            layer=int(fields.get("layer", "0")),
            start=fields["start"].strip(),
            style=fields["style"].strip(),
            margin_l=int(fields.get("marginl", "0")),
            margin_r=int(fields.get("marginr", "0")),
            margin_v=int(fields.get("marginv", "0")),
            text=fields.get("text", ""),
        )
    except (KeyError, ValueError) as error:
        raise CaptionError(f"an ASS Dialogue line is malformed ({error})") from error


def _override_blocks(text: str) -> list[str]:
    blocks: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in "{}":
            index += 2
        elif text[index] == "{":
            close = text.find("}", index)
            close = len(text) if close < 0 else close
            blocks.append(text[index + 1 : close])
            index = close + 1
        else:
            index += 1
    return blocks


def _visible_lines(text: str) -> list[str]:
    """The text libass draws, split into lines: override blocks dropped, escapes resolved."""
    lines = [""]
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if char == "\\" and following in ("N", "n"):
            lines.append("")
            index += 2
        elif char == "\\" and following == "h":
            lines[-1] += "\u00a0"
            index += 2
        elif char == "\\" and following in "{}" and following:
            lines[-1] += following
            index += 2
        elif char == "{":
            close = text.find("}", index)
            index = len(text) if close < 0 else close + 1
        else:
            lines[-1] += char
            index += 1
    return lines


def _last_float(pattern: re.Pattern[str], tags: str, default: float) -> float:
    found = pattern.findall(tags)
    return float(found[-1]) if found else default


def _anchor(
    event: _AssEvent, style: _AssStyle, alignment: int, tags: str, play_res: tuple[int, int]
) -> tuple[float, float]:
    position = _POS.search(tags)
    if position:
        return float(position.group(1)), float(position.group(2))
    width, height = play_res
    left = event.margin_l or style.margin_l
    right = event.margin_r or style.margin_r
    vertical = event.margin_v or style.margin_v
    x = (
        left
        if alignment in (1, 4, 7)
        else width - right
        if alignment in (3, 6, 9)
        else (left + width - right) / 2
    )
    y = height - vertical if alignment in (1, 2, 3) else vertical if alignment in (7, 8, 9) else height / 2
    return x, y
