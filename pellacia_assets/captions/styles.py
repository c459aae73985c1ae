"""Caption style presets (bold | clean | karaoke), read from the one data file styles.yaml and checked.

A preset names the font (the family libass asks fontconfig for, and the file fontconfig must answer with,
which the layout check measures), its size in pixels at 1920 tall, colours, outline, shadow, how the spoken
word is highlighted and popped, how many words a page holds, and where the page sits in the safe zone.
Every field is checked on load; a bad file is refused with the file and the field named.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pellacia_assets.captions.errors import CaptionError

STYLES_FILE = Path(__file__).with_name("styles.yaml")
DEFAULT_STYLE = "bold"
MIN_FONT_SIZE = 90
MAX_PAGE_WORDS = 4
MAX_PAGE_LINES = 2
HIGHLIGHT_MODES = ("word", "progress")
_COLOUR = re.compile(r"^#(?P<rgb>[0-9A-Fa-f]{6})(?P<alpha>[0-9A-Fa-f]{2})?$")


@dataclass(frozen=True, slots=True)
class Colour:
    """An sRGB colour with opacity (255 = opaque)."""

    red: int
    green: int
    blue: int
    opacity: int = 255

    @property
    def ass(self) -> str:
        """ASS `&HAABBGGRR` (ASS alpha is transparency: 00 opaque)."""
        return f"&H{255 - self.opacity:02X}{self.blue:02X}{self.green:02X}{self.red:02X}"

    @property
    def ass_colour(self) -> str:
        """The colour alone for override tags such as `\\1c`: `&HBBGGRR&`."""
        return f"&H{self.blue:02X}{self.green:02X}{self.red:02X}&"


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    """One preset. Pixel sizes are at 1080x1920; `vertical` is 0 (top) to 1 (bottom) of the safe zone."""

    name: str
    font_family: str
    font_file: str
    bold: bool
    size: int
    colour: Colour
    highlight_colour: Colour
    outline_colour: Colour
    outline: float
    shadow_colour: Colour
    shadow: float
    highlight_mode: str
    pop_scale: int
    pop_ms: int
    max_words: int
    max_lines: int
    vertical: float
    padding: int

    def font_path(self) -> Path:
        """The font file libass will use for this style, found with fontconfig as libass finds it."""
        return resolve_font(self.font_family, self.bold, self.font_file)


def caption_style(name: str = DEFAULT_STYLE, path: Path = STYLES_FILE) -> CaptionStyle:
    """The preset called `name` from the styles file; an unknown name is refused with the choices."""
    presets = load_styles(path)
    if name not in presets:
        raise CaptionError(
            f"unknown caption style {name!r} (PELLACIA_CAPTION_STYLE); choose one of {', '.join(presets)}"
        )
    return presets[name]


def style_names(path: Path = STYLES_FILE) -> tuple[str, ...]:
    return tuple(load_styles(path))


def load_styles(path: Path = STYLES_FILE) -> dict[str, CaptionStyle]:
    """Every preset in the file, checked field by field."""
    return dict(_load_styles_cached(path.resolve()))


@lru_cache(maxsize=8)
def _load_styles_cached(path: Path) -> tuple[tuple[str, CaptionStyle], ...]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CaptionError(f"{path}: cannot read the caption styles file ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise CaptionError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(document, dict) or set(document) != {"presets"}:
        raise CaptionError(f"{path}: the file must hold one mapping, `presets:`")
    presets = document["presets"]
    if not isinstance(presets, dict) or not presets:
        raise CaptionError(f"{path}: presets: must map preset names to their fields")
    return tuple((str(name), _parse_preset(path, str(name), fields_)) for name, fields_ in presets.items())


def _parse_preset(path: Path, name: str, raw: object) -> CaptionStyle:
    where = f"{path}: presets.{name}"
    if not isinstance(raw, dict):
        raise CaptionError(f"{where}: must be a mapping of fields")
    expected = [f.name for f in fields(CaptionStyle) if f.name != "name"]
    unknown = sorted(set(map(str, raw)) - set(expected))
    if unknown:
        raise CaptionError(
            f"{where}: unknown field(s) {', '.join(unknown)}; fields are {', '.join(expected)}"
        )
    missing = [key for key in expected if key not in raw]
    if missing:
        raise CaptionError(f"{where}: missing field(s) {', '.join(missing)}")
    reader = _FieldReader(where, raw)
    style = CaptionStyle(
        name=name,
        font_family=reader.text("font_family"),
        font_file=reader.text("font_file"),
        bold=reader.flag("bold"),
        size=reader.integer("size", MIN_FONT_SIZE, 300, unit=" (pixels at 1920 tall)"),
        colour=reader.colour("colour"),
        highlight_colour=reader.colour("highlight_colour"),
        outline_colour=reader.colour("outline_colour"),
        outline=reader.number("outline", 0, 30),
        shadow_colour=reader.colour("shadow_colour"),
        shadow=reader.number("shadow", 0, 30),
        highlight_mode=reader.choice("highlight_mode", HIGHLIGHT_MODES),
        pop_scale=reader.integer("pop_scale", 100, 150, unit=" %"),
        pop_ms=reader.integer("pop_ms", 20, 1000, unit=" ms"),
        max_words=reader.integer("max_words", 1, MAX_PAGE_WORDS),
        max_lines=reader.integer("max_lines", 1, MAX_PAGE_LINES),
        vertical=reader.number("vertical", 0, 1),
        padding=reader.integer("padding", 0, 200, unit=" px"),
    )
    if not style.font_file.lower().endswith((".ttf", ".otf", ".ttc")):
        raise CaptionError(f"{where}.font_file: must name a .ttf, .otf or .ttc file, got {style.font_file!r}")
    return style


@dataclass(frozen=True, slots=True)
class _FieldReader:
    where: str
    raw: dict[Any, Any]

    def _fail(self, key: str, expected: str) -> CaptionError:
        return CaptionError(f"{self.where}.{key}: must be {expected}, got {self.raw[key]!r}")

    def text(self, key: str) -> str:
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, "a non-empty string")
        return value.strip()

    def flag(self, key: str) -> bool:
        value = self.raw[key]
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def integer(self, key: str, low: int, high: int, unit: str = "") -> int:
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"a whole number from {low} to {high}{unit}")
        return value

    def number(self, key: str, low: float, high: float) -> float:
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self._fail(key, f"a number from {low} to {high}")
        return float(value)

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.raw[key]
        if value not in choices:
            raise self._fail(key, f"one of {', '.join(choices)}")
        return str(value)

    def colour(self, key: str) -> Colour:
        value = self.raw[key]
        match = _COLOUR.match(value) if isinstance(value, str) else None
        if match is None:
            raise self._fail(key, 'a colour "#RRGGBB" or "#RRGGBBAA"')
        rgb, alpha = match.group("rgb"), match.group("alpha") or "FF"
        return Colour(int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16), int(alpha, 16))


@lru_cache(maxsize=16)
def resolve_font(family: str, bold: bool, font_file: str) -> Path:
    """Ask fontconfig (as libass does) which file serves `family`; it must be `font_file`."""
    if shutil.which("fc-match") is None:
        raise CaptionError("fc-match is not installed (install fontconfig), so the caption font is unknown")
    pattern = f"{family}:bold" if bold else family
    found = subprocess.run(
        ["fc-match", "--format=%{family}\n%{file}", pattern], capture_output=True, text=True, check=False
    )
    matched_family, _, path = found.stdout.partition("\n")
    if found.returncode != 0 or family.lower() not in matched_family.lower() or not path:
        raise CaptionError(
            f"caption font {family!r} is not installed (Debian: apt-get install fonts-dejavu-core)"
        )
    if Path(path).name != font_file:
        raise CaptionError(
            f"fontconfig serves {pattern!r} from {Path(path).name}, not {font_file} as the caption style says"
        )
    return Path(path)
