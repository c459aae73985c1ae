"""The still overlays of a short, drawn with Pillow: the hook card, the "Part 2/3" badge, the end card, and
the 1280x720 YouTube thumbnail made from the hook card.

Every card is a full-frame RGBA PNG (1080x1920 by default), transparent around its panel, so the graph
overlays it at (0, 0). Panels lie inside the platforms' safe zone: nothing in the top 250 px, the bottom
480 px or the right 120 px of a 1080x1920 frame (scaled for other sizes), where TikTok, Reels and Shorts
draw their own buttons and captions. Text is wrapped to fit its panel and always stays inside it with
padding: the font shrinks down to a floor, then the text wraps, and only as the last resort is it cut with
an ellipsis. Shapes are drawn at 4x and scaled down, so edges are smooth; text is drawn at 1x with
Pillow's antialiased FreeType renderer, so glyphs stay crisp. Pure: Pillow and fontconfig's `fc-match`.
"""

from __future__ import annotations

import functools
import math
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pellacia_assets.rendering.errors import MediaError, RenderError

FONT_FAMILY = "DejaVu Sans"
SUPERSAMPLE = 4
# The safe zone of a 1080x1920 frame (TikTok, Reels and Shorts draw their UI outside it).
SAFE_TOP = 250
SAFE_BOTTOM = 480
SAFE_RIGHT = 120
SAFE_LEFT = 60  # not a platform rule: a margin so the panel does not touch the frame's left edge
REFERENCE_WIDTH = 1080
REFERENCE_HEIGHT = 1920

# Reddit's light theme.
REDDIT_ORANGE = (255, 69, 0, 255)
REDDIT_TEXT = (26, 26, 27, 255)
REDDIT_META = (120, 124, 126, 255)
CARD_WHITE = (255, 255, 255, 255)
ARTICLE_ACCENT = (200, 16, 46, 255)
DARK_PANEL = (12, 12, 16, 200)
WHITE = (255, 255, 255, 255)
END_PANEL = (255, 0, 80, 235)

YOUTUBE_THUMBNAIL_SIZE = (1280, 720)
YOUTUBE_THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024  # thumbnails.set: "Maximum file size: 2MB"
ELLIPSIS = "…"
# The most a hook card's title may take (at 1080 wide): a card, not a wall of text over the whole frame.
MAX_BODY_HEIGHT = 640

# Draws shapes at `scale` times the size (see _Canvas.shape).
ShapeDrawer = Callable[[ImageDraw.ImageDraw, int], None]


class BylineLike(Protocol):
    """What a card needs of a story's byline (pellacia_assets.stories.model.Byline fits)."""

    @property
    def kind(self) -> str: ...  # "reddit" | "article" | anything else

    @property
    def site(self) -> str | None: ...  # the subreddit without "r/", or the publication's name

    @property
    def author(self) -> str | None: ...

    @property
    def score(self) -> int | None: ...

    @property
    def comments(self) -> int | None: ...


@dataclass(frozen=True)
class Box:
    """A rectangle in output pixels; `right`/`bottom` are exclusive."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def contains(self, other: Box, margin: int = 0) -> bool:
        """Whether `other` lies inside this box shrunk by `margin` on every side."""
        return (
            other.x >= self.x + margin
            and other.y >= self.y + margin
            and other.right <= self.right - margin
            and other.bottom <= self.bottom - margin
        )


@dataclass(frozen=True)
class Card:
    """A card as written: the full-frame PNG, its panel, and the ink box of every text drawn on it.

    `padding` is the least distance the text keeps from the panel's edges; `texts` are the strings as
    drawn (wrapped lines joined with newlines, ellipsised where they had to be cut)."""

    png: Path
    panel: Box
    text_boxes: tuple[Box, ...]
    texts: tuple[str, ...]
    padding: int
    width: int
    height: int


@dataclass(frozen=True)
class SafeZone:
    """The part of a width x height frame where overlays may go."""

    left: int
    top: int
    right: int
    bottom: int

    @classmethod
    def of(cls, width: int, height: int) -> SafeZone:
        sx, sy = width / REFERENCE_WIDTH, height / REFERENCE_HEIGHT
        return cls(
            left=round(SAFE_LEFT * sx),
            top=round(SAFE_TOP * sy),
            right=width - round(SAFE_RIGHT * sx),
            bottom=height - round(SAFE_BOTTOM * sy),
        )

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


# --- fonts ------------------------------------------------------------------------------------------------


@functools.cache
def font_file(bold: bool = False, family: str = FONT_FAMILY) -> Path:
    """The font file of `family` (bold or regular), as fontconfig's `fc-match` finds it."""
    if shutil.which("fc-match") is None:
        raise RenderError("fc-match is not installed (install fontconfig), so the card fonts are unknown")
    pattern = f"{family}:bold" if bold else f"{family}:regular"
    found = subprocess.run(
        ["fc-match", "--format=%{family}\n%{style}\n%{file}", pattern],
        capture_output=True,
        text=True,
        check=False,
    )
    matched_family, style, path = [*found.stdout.split("\n"), "", "", ""][:3]
    if found.returncode != 0 or family.lower() not in matched_family.lower() or not path:
        raise RenderError(f"font {family!r} is not installed (Debian: apt-get install fonts-dejavu-core)")
    if bold and "bold" not in style.lower():
        raise RenderError(f"font {family!r} has no bold face installed (fc-match gave {style!r})")
    return Path(path)


@functools.cache
def load_font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (Bold) at `size` px, loaded once per size."""
    return ImageFont.truetype(str(font_file(bold)), size)


# --- text fitting -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FittedText:
    """Text fitted to a width and height: its lines, the font size, and the line advance."""

    lines: tuple[str, ...]
    size: int
    bold: bool
    line_height: int

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.size, self.bold)

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def width(self) -> int:
        return max((text_width(self.font, line) for line in self.lines), default=0)


def _line_height(font: ImageFont.FreeTypeFont, spacing: float) -> int:
    ascent, descent = font.getmetrics()
    return math.ceil((ascent + descent) * spacing)


def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    """How wide `text` is: its advance, or its ink where a glyph reaches past the advance."""
    return max(math.ceil(font.getlength(text)), math.ceil(font.getbbox(text)[2]) if text else 0)


def _break_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """A word wider than `width`, cut into pieces that fit (no hyphen: a name or URL stays readable)."""
    pieces: list[str] = []
    piece = ""
    for char in word:
        if piece and text_width(font, piece + char) > width:
            pieces.append(piece)
            piece = char
        else:
            piece += char
    if piece:
        pieces.append(piece)
    return pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels; a word too long for a line is cut by characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(font, candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            if text_width(font, word) <= width:
                line = word
            else:
                *whole, line = _break_word(word, font, width)
                lines.extend(whole)
        if line:
            lines.append(line)
    return lines


def _ellipsised(line: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """`line` cut (at a word if it can be) so that it ends with an ellipsis and fits `width`."""
    cut = line.rstrip()
    while cut and text_width(font, cut + ELLIPSIS) > width:
        cut = cut[:-1].rstrip()
    words = cut.rsplit(" ", 1)
    if len(words) == 2 and len(words[1]) < 4 and text_width(font, words[0] + ELLIPSIS) <= width:
        cut = words[0]  # never end on a dangling fragment of a short word
    return cut.rstrip(" ,;:-") + ELLIPSIS


# Pictographs DejaVu has no glyph for (emoji, their joiners and variation selectors): drawn, they would be
# empty boxes, so they are left out of card text.
_NO_GLYPH = re.compile("[\U0001f000-\U0001faff\u200d\ufe0e\ufe0f]")


def drawable(text: str) -> str:
    """`text` without the emoji DejaVu Sans cannot draw."""
    return _NO_GLYPH.sub("", text)


def fit_text(
    text: str,
    width: int,
    height: int,
    *,
    max_size: int,
    min_size: int,
    bold: bool = True,
    spacing: float = 1.18,
    max_lines: int | None = None,
) -> FittedText:
    """`text` in the largest size from `max_size` down to `min_size` whose wrapped lines fit width x height
    (and `max_lines`); at the floor, the lines that do not fit are dropped and the last one ellipsised."""
    text = " ".join(drawable(text).split()) or " "
    size = max_size
    while True:
        font = load_font(size, bold)
        line_height = _line_height(font, spacing)
        lines = wrap(text, font, width)
        allowed = max(1, height // line_height)
        if max_lines is not None:
            allowed = min(allowed, max_lines)
        if len(lines) <= allowed:
            return FittedText(tuple(lines), size, bold, line_height)
        if size <= min_size:
            kept = lines[:allowed]
            kept[-1] = _ellipsised(" ".join([kept[-1], *lines[allowed:]]), font, width)
            return FittedText(tuple(kept), size, bold, line_height)
        size = max(min_size, size - max(1, size // 16))


# --- drawing helpers --------------------------------------------------------------------------------------


class _Canvas:
    """A transparent frame; shapes go through a 4x layer (smooth edges), text straight onto the frame."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        self.text_boxes: list[Box] = []
        self.texts: list[str] = []

    def shape(self, box: Box, draw: ShapeDrawer) -> None:
        """Draw shapes within `box` at 4x (coordinates relative to the box, in 1x pixels) and paste them."""
        scale = SUPERSAMPLE
        layer = Image.new("RGBA", (box.width * scale, box.height * scale), (0, 0, 0, 0))
        draw(ImageDraw.Draw(layer), scale)
        small = layer.resize((box.width, box.height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        self.image.alpha_composite(small, (box.x, box.y))

    def rounded_panel(self, box: Box, radius: int, fill: tuple[int, int, int, int]) -> None:
        """A rounded rectangle of one solid colour whose alpha alone is antialiased (no colour fringe)."""
        scale = SUPERSAMPLE
        mask = Image.new("L", (box.width * scale, box.height * scale), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, box.width * scale - 1, box.height * scale - 1), radius=radius * scale, fill=fill[3]
        )
        mask = mask.resize((box.width, box.height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        panel = Image.new("RGBA", (box.width, box.height), (*fill[:3], 0))
        panel.putalpha(mask)
        self.image.alpha_composite(panel, (box.x, box.y))

    def text(
        self,
        fitted: FittedText,
        x: int,
        y: int,
        fill: tuple[int, int, int, int],
        *,
        align: str = "left",
        width: int = 0,
    ) -> Box:
        """Draw the fitted lines from (x, y) (centred in `width` when align is "center"); their ink box."""
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        font = fitted.font
        left, top, right, bottom = self.width, self.height, 0, 0
        for index, line in enumerate(fitted.lines):
            line_x = x
            if align == "center":
                line_x = x + (width - text_width(font, line)) // 2
            line_y = y + index * fitted.line_height
            draw.text((line_x, line_y), line, font=font, fill=fill)
            x0, y0, x1, y1 = draw.textbbox((line_x, line_y), line, font=font)
            if x1 > x0 and y1 > y0:
                left, top = min(left, math.floor(x0)), min(top, math.floor(y0))
                right, bottom = max(right, math.ceil(x1)), max(bottom, math.ceil(y1))
        self.image.alpha_composite(layer)
        box = Box(left, top, max(0, right - left), max(0, bottom - top)) if right > left else Box(x, y, 0, 0)
        self.text_boxes.append(box)
        self.texts.append(fitted.text)
        return box

    def save(self, out_png: Path, panel: Box, padding: int) -> Card:
        _write_png(self.image, out_png)
        return Card(
            png=out_png,
            panel=panel,
            text_boxes=tuple(self.text_boxes),
            texts=tuple(self.texts),
            padding=padding,
            width=self.width,
            height=self.height,
        )


def _write_png(image: Image.Image, out_png: Path) -> None:
    """Write atomically: the file appears only once it is complete."""
    out_png.parent.mkdir(parents=True, exist_ok=True)
    partial = out_png.with_name(f".{out_png.stem}.{uuid.uuid4().hex[:8]}.partial.png")
    try:
        image.save(partial, format="PNG", optimize=False, compress_level=6)
        partial.replace(out_png)
    finally:
        partial.unlink(missing_ok=True)


def _placed(zone: SafeZone, panel_width: int, panel_height: int, center_y: int | None) -> Box:
    """A panel centred horizontally in the safe zone at `center_y` (default: the zone's middle), clamped
    so that it stays inside the zone (a panel taller than the zone starts at its top)."""
    x = zone.left + (zone.width - panel_width) // 2
    wanted = (zone.top + zone.bottom) // 2 if center_y is None else center_y
    y = wanted - panel_height // 2
    y = max(zone.top, min(y, zone.bottom - panel_height))
    return Box(x, y, panel_width, panel_height)


def _scaled(value: float, width: int) -> int:
    return max(1, round(value * width / REFERENCE_WIDTH))


# --- numbers as Reddit shows them ------------------------------------------------------------------------


def reddit_count(value: int) -> str:
    """A count the way Reddit abbreviates it: 999, 1.2k, 12.3k, 123k, 1.2m (cut, never rounded up)."""
    sign = "-" if value < 0 else ""
    n = abs(value)
    if n < 1000:
        text = str(n)
    elif n < 100_000:
        text = _one_decimal(n, 1000) + "k"
    elif n < 1_000_000:
        text = f"{n // 1000}k"
    else:
        text = _one_decimal(n, 1_000_000) + "m"
    return sign + text


def _one_decimal(n: int, unit: int) -> str:
    tenths = n * 10 // unit
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


# --- the hook card ----------------------------------------------------------------------------------------


def hook_card(
    title: str,
    byline: BylineLike | None,
    out_png: Path,
    *,
    width: int = 1080,
    height: int = 1920,
    center_y: int | None = None,
) -> Card:
    """The hook card for a story: a Reddit post card (kind "reddit"), a headline card with the source's
    name ("article"), or a plain title card (anything else, or no byline)."""
    kind = (byline.kind if byline is not None else "").lower()
    if byline is not None and kind == "reddit":
        return _reddit_card(title, byline, out_png, width, height, center_y)
    if byline is not None and kind == "article":
        return _article_card(title, byline, out_png, width, height, center_y)
    return _title_card(title, out_png, width, height, center_y)


def _reddit_card(
    title: str, byline: BylineLike, out_png: Path, width: int, height: int, center_y: int | None
) -> Card:
    zone = SafeZone.of(width, height)
    s = functools.partial(_scaled, width=width)
    pad = s(44)
    panel_width = zone.width - 2 * s(10)
    inner = panel_width - 2 * pad
    badge = s(88)
    gap = s(26)
    subreddit = f"r/{(byline.site or 'reddit').removeprefix('r/')}"
    author = f"u/{byline.author.removeprefix('u/')}" if byline.author else None
    header_x = badge + s(22)
    name = fit_text(subreddit, inner - header_x, s(60), max_size=s(40), min_size=s(26), max_lines=1)
    user = (
        fit_text(author, inner - header_x, s(48), max_size=s(32), min_size=s(22), bold=False, max_lines=1)
        if author
        else None
    )
    header_height = max(badge, name.height + (user.height if user else 0))
    footer_size = s(34)
    footer_height = _line_height(load_font(footer_size, True), 1.0)
    has_footer = byline.score is not None or byline.comments is not None
    fixed = 2 * pad + header_height + gap + ((gap + footer_height) if has_footer else 0)
    max_panel = zone.height
    body = fit_text(
        title,
        inner,
        min(s(MAX_BODY_HEIGHT), max(s(80), max_panel - fixed)),
        max_size=s(62),
        min_size=s(38),
        spacing=1.2,
    )
    panel_height = fixed + body.height
    panel = _placed(zone, panel_width, panel_height, center_y)

    canvas = _Canvas(width, height)
    canvas.rounded_panel(panel, s(30), CARD_WHITE)
    x0, y0 = panel.x + pad, panel.y + pad
    canvas.shape(Box(x0, y0, badge, badge), _snoo_badge(badge))
    header_top = y0 + (header_height - name.height - (user.height if user else 0)) // 2
    canvas.text(name, x0 + header_x, header_top, REDDIT_TEXT)
    if user is not None:
        canvas.text(user, x0 + header_x, header_top + name.height, REDDIT_META)
    body_y = y0 + header_height + gap
    canvas.text(body, x0, body_y, REDDIT_TEXT)
    if has_footer:
        _reddit_footer(canvas, byline, x0, body_y + body.height + gap, inner, footer_size, s)
    return canvas.save(out_png, panel, pad)


def _reddit_footer(
    canvas: _Canvas,
    byline: BylineLike,
    x: int,
    y: int,
    inner: int,
    size: int,
    s: functools.partial[int],
) -> None:
    """The upvote arrow with the score, and the speech bubble with the comment count."""
    font = load_font(size, True)
    line_height = _line_height(font, 1.0)
    icon = round(size * 1.05)
    items = [(kind, value) for kind, value in (("up", byline.score), ("comments", byline.comments))]
    cursor = x
    for kind, value in items:
        if value is None:
            continue
        label = reddit_count(value)
        label_width = text_width(font, label)
        if cursor + icon + s(12) + label_width > x + inner:
            break
        icon_y = y + (line_height - icon) // 2
        drawer = _upvote_icon(icon) if kind == "up" else _comment_icon(icon)
        canvas.shape(Box(cursor, icon_y, icon, icon), drawer)
        fitted = FittedText((label,), size, True, line_height)
        canvas.text(fitted, cursor + icon + s(12), y, REDDIT_META)
        cursor += icon + s(12) + label_width + s(48)


def _snoo_badge(diameter: int) -> ShapeDrawer:
    """A round subreddit badge: Reddit's orange disc with a simplified white Snoo head."""

    def draw(pen: ImageDraw.ImageDraw, scale: int) -> None:
        d = diameter * scale
        pen.ellipse((0, 0, d - 1, d - 1), fill=REDDIT_ORANGE)

        def at(fx: float, fy: float) -> tuple[float, float]:
            return fx * d, fy * d

        # antenna and its ball
        pen.line((*at(0.50, 0.36), *at(0.56, 0.18)), fill=WHITE, width=max(1, round(0.035 * d)))
        pen.line((*at(0.56, 0.18), *at(0.68, 0.21)), fill=WHITE, width=max(1, round(0.035 * d)))
        pen.ellipse((*at(0.66, 0.15), *at(0.77, 0.26)), fill=WHITE)
        # ears, then the head over them
        pen.ellipse((*at(0.17, 0.36), *at(0.31, 0.50)), fill=WHITE)
        pen.ellipse((*at(0.69, 0.36), *at(0.83, 0.50)), fill=WHITE)
        pen.ellipse((*at(0.20, 0.38), *at(0.80, 0.78)), fill=WHITE)
        # eyes and smile
        pen.ellipse((*at(0.35, 0.50), *at(0.44, 0.59)), fill=REDDIT_ORANGE)
        pen.ellipse((*at(0.56, 0.50), *at(0.65, 0.59)), fill=REDDIT_ORANGE)
        pen.arc(
            (*at(0.36, 0.54), *at(0.64, 0.70)), 20, 160, fill=REDDIT_ORANGE, width=max(1, round(0.03 * d))
        )

    return draw


def _upvote_icon(size: int) -> ShapeDrawer:
    def draw(pen: ImageDraw.ImageDraw, scale: int) -> None:
        d = size * scale
        outline = [
            (0.50 * d, 0.06 * d),
            (0.94 * d, 0.52 * d),
            (0.68 * d, 0.52 * d),
            (0.68 * d, 0.94 * d),
            (0.32 * d, 0.94 * d),
            (0.32 * d, 0.52 * d),
            (0.06 * d, 0.52 * d),
        ]
        pen.polygon(outline, fill=REDDIT_ORANGE)

    return draw


def _comment_icon(size: int) -> ShapeDrawer:
    def draw(pen: ImageDraw.ImageDraw, scale: int) -> None:
        d = size * scale
        w = max(1, round(0.09 * d))
        pen.rounded_rectangle(
            (0.06 * d, 0.10 * d, 0.94 * d, 0.74 * d), radius=0.2 * d, outline=REDDIT_META, width=w
        )
        pen.polygon([(0.24 * d, 0.70 * d), (0.48 * d, 0.70 * d), (0.22 * d, 0.94 * d)], fill=REDDIT_META)

    return draw


def _article_card(
    title: str, byline: BylineLike, out_png: Path, width: int, height: int, center_y: int | None
) -> Card:
    """A news headline: the publication's name in its accent colour over a rule, then the headline."""
    zone = SafeZone.of(width, height)
    s = functools.partial(_scaled, width=width)
    pad = s(48)
    panel_width = zone.width - 2 * s(10)
    inner = panel_width - 2 * pad
    mark = s(64)
    source_name = (byline.site or "News").strip()
    source = fit_text(
        source_name.upper(), inner - mark - s(20), s(56), max_size=s(38), min_size=s(24), max_lines=1
    )
    author = (
        fit_text(f"By {byline.author}", inner, s(48), max_size=s(30), min_size=s(22), bold=False, max_lines=1)
        if byline.author
        else None
    )
    rule_gap = s(24)
    rule = s(6)
    header_height = max(mark, source.height)
    fixed = 2 * pad + header_height + 2 * rule_gap + rule + ((s(18) + author.height) if author else 0)
    body = fit_text(
        title,
        inner,
        min(s(MAX_BODY_HEIGHT), max(s(80), zone.height - fixed)),
        max_size=s(64),
        min_size=s(38),
        spacing=1.16,
    )
    panel = _placed(zone, panel_width, fixed + body.height, center_y)

    canvas = _Canvas(width, height)
    canvas.rounded_panel(panel, s(18), CARD_WHITE)
    x0, y0 = panel.x + pad, panel.y + pad
    words = source_name.split()
    if len(words) > 1 and words[0].lower() in ("the", "a", "an"):
        words = words[1:]  # The Guardian's mark is a G
    initial = (words[0][:1] if words else "N").upper()

    def draw_mark(pen: ImageDraw.ImageDraw, scale: int) -> None:
        pen.rounded_rectangle(
            (0, 0, mark * scale - 1, mark * scale - 1), radius=s(10) * scale, fill=ARTICLE_ACCENT
        )

    canvas.shape(Box(x0, y0 + (header_height - mark) // 2, mark, mark), draw_mark)
    letter = FittedText((initial,), s(40), True, _line_height(load_font(s(40), True), 1.0))
    ink_left, ink_top, ink_right, ink_bottom = (round(v) for v in letter.font.getbbox(initial))
    letter_x = x0 + (mark - (ink_right - ink_left)) // 2 - ink_left
    mark_y = y0 + (header_height - mark) // 2
    letter_y = mark_y + (mark - (ink_bottom - ink_top)) // 2 - ink_top
    canvas.text(letter, letter_x, letter_y, WHITE)
    canvas.text(source, x0 + mark + s(20), y0 + (header_height - source.height) // 2, ARTICLE_ACCENT)
    rule_y = y0 + header_height + rule_gap

    def draw_rule(pen: ImageDraw.ImageDraw, scale: int) -> None:
        pen.rectangle((0, 0, inner * scale - 1, rule * scale - 1), fill=REDDIT_TEXT)

    canvas.shape(Box(x0, rule_y, inner, rule), draw_rule)
    body_y = rule_y + rule + rule_gap
    canvas.text(body, x0, body_y, REDDIT_TEXT)
    if author is not None:
        canvas.text(author, x0, body_y + body.height + s(18), REDDIT_META)
    return canvas.save(out_png, panel, pad)


def _title_card(title: str, out_png: Path, width: int, height: int, center_y: int | None) -> Card:
    """The story's title, centred in bold white on a dark translucent panel."""
    zone = SafeZone.of(width, height)
    s = functools.partial(_scaled, width=width)
    pad = s(52)
    panel_width = zone.width - 2 * s(10)
    inner = panel_width - 2 * pad
    body = fit_text(
        title,
        inner,
        min(s(MAX_BODY_HEIGHT), zone.height - 2 * pad),
        max_size=s(76),
        min_size=s(40),
        spacing=1.16,
    )
    panel = _placed(zone, panel_width, body.height + 2 * pad, center_y)
    canvas = _Canvas(width, height)
    canvas.rounded_panel(panel, s(32), DARK_PANEL)
    canvas.text(body, panel.x + pad, panel.y + pad, WHITE, align="center", width=inner)
    return canvas.save(out_png, panel, pad)


# --- part badge and end card ----------------------------------------------------------------------------


def part_badge(part: int, parts: int, out_png: Path, *, width: int = 1080, height: int = 1920) -> Card:
    """A small "Part 2/3" pill at the top of the safe zone, centred on the frame."""
    if not 1 <= part <= parts:
        raise ValueError(f"part {part} is not one of 1..{parts}")
    zone = SafeZone.of(width, height)
    s = functools.partial(_scaled, width=width)
    label = f"Part {part}/{parts}"
    size = s(46)
    font = load_font(size, True)
    ascent, descent = font.getmetrics()
    fitted = FittedText((label,), size, True, ascent + descent)
    pad_x, pad_y = s(34), s(16)
    panel_width = text_width(font, label) + 2 * pad_x
    panel_height = fitted.line_height + 2 * pad_y
    x = min((width - panel_width) // 2, zone.right - panel_width)
    panel = Box(max(zone.left, x), zone.top + s(40), panel_width, panel_height)
    canvas = _Canvas(width, height)
    canvas.rounded_panel(panel, panel_height // 2, DARK_PANEL)
    canvas.text(fitted, panel.x + pad_x, panel.y + pad_y, WHITE)
    return canvas.save(out_png, panel, min(pad_x, pad_y))


def end_card(
    call_to_action: str,
    out_png: Path,
    *,
    width: int = 1080,
    height: int = 1920,
    center_y: int | None = None,
) -> Card:
    """The call to action for the last seconds: bold white on a bright panel in the upper safe zone (the
    captions of the spoken call to action sit lower, in the middle of the zone)."""
    zone = SafeZone.of(width, height)
    s = functools.partial(_scaled, width=width)
    pad = s(44)
    panel_width = zone.width - 2 * s(40)
    inner = panel_width - 2 * pad
    body = fit_text(call_to_action, inner, s(360), max_size=s(64), min_size=s(38), spacing=1.16, max_lines=4)
    panel_height = body.height + 2 * pad
    wanted = zone.top + s(150) + panel_height // 2 if center_y is None else center_y
    panel = _placed(zone, panel_width, panel_height, wanted)
    canvas = _Canvas(width, height)
    canvas.rounded_panel(panel, s(28), END_PANEL)
    canvas.text(body, panel.x + pad, panel.y + pad, WHITE, align="center", width=inner)
    return canvas.save(out_png, panel, pad)


# --- the YouTube thumbnail --------------------------------------------------------------------------------


def youtube_thumbnail(
    card: Card | Path,
    background: Path,
    out_jpg: Path,
    *,
    size: tuple[int, int] = YOUTUBE_THUMBNAIL_SIZE,
    max_bytes: int = YOUTUBE_THUMBNAIL_MAX_BYTES,
) -> Path:
    """A 1280x720 JPEG under YouTube's 2 MB: `background` (a frame of the short) fills it, blurred and
    dimmed, and the hook card's panel (a Card) or a whole frame (a PNG path, e.g. the frame showing the
    hook card) sits in the middle, as large as fits."""
    width, height = size
    back = _open_rgb(background)
    scale = max(width / back.width, height / back.height)
    back = back.resize(
        (math.ceil(back.width * scale), math.ceil(back.height * scale)), Image.Resampling.BICUBIC
    )
    left, top = (back.width - width) // 2, (back.height - height) // 2
    back = back.crop((left, top, left + width, top + height))
    back = back.filter(ImageFilter.GaussianBlur(radius=max(8, width // 60)))
    back = Image.eval(back, lambda value: value * 45 // 100)
    thumbnail = back.convert("RGBA")

    if isinstance(card, Card):
        with Image.open(card.png) as image:
            margin = max(4, card.panel.width // 80)
            front = image.convert("RGBA").crop(
                (
                    max(0, card.panel.x - margin),
                    max(0, card.panel.y - margin),
                    min(image.width, card.panel.right + margin),
                    min(image.height, card.panel.bottom + margin),
                )
            )
        room = (width - 2 * (width // 16), height - 2 * (height // 14))
    else:
        front = _open_rgb(card).convert("RGBA")
        room = (width, height)
    fit = min(room[0] / front.width, room[1] / front.height)
    front = front.resize(
        (max(1, round(front.width * fit)), max(1, round(front.height * fit))), Image.Resampling.LANCZOS
    )
    thumbnail.alpha_composite(front, ((width - front.width) // 2, (height - front.height) // 2))
    _write_jpeg(thumbnail.convert("RGB"), out_jpg, max_bytes)
    return out_jpg


def _open_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError) as error:
        raise MediaError(f"{path} is not a readable image: {error}") from error


def _write_jpeg(
    image: Image.Image, out_jpg: Path, max_bytes: int, qualities: Sequence[int] = (90, 82, 72, 60)
) -> None:
    out_jpg.parent.mkdir(parents=True, exist_ok=True)
    partial = out_jpg.with_name(f".{out_jpg.stem}.{uuid.uuid4().hex[:8]}.partial.jpg")
    try:
        for quality in qualities:
            image.save(partial, format="JPEG", quality=quality, optimize=True, progressive=True)
            if partial.stat().st_size <= max_bytes:
                partial.replace(out_jpg)
                return
        raise RenderError(f"the thumbnail stays over {max_bytes} bytes even at JPEG quality {qualities[-1]}")
    finally:
        partial.unlink(missing_ok=True)
