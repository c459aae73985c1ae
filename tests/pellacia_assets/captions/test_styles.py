from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.captions.styles import (
    DEFAULT_STYLE,
    STYLES_FILE,
    Colour,
    caption_style,
    load_styles,
    resolve_font,
)


def _preset(**changes: object) -> dict[str, object]:
    fields = yaml.safe_load(STYLES_FILE.read_text(encoding="utf-8"))["presets"]["bold"]
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "styles.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_data_file_holds_the_three_presets() -> None:
    presets = load_styles()

    assert list(presets) == ["bold", "clean", "karaoke"]
    for name, style in presets.items():
        assert style.name == name
        assert style.size >= 90
        assert style.bold
        assert style.outline >= 5
        assert style.shadow > 0
        assert 1 <= style.max_words <= 4 and 1 <= style.max_lines <= 2
        assert style.pop_scale > 100
        assert style.highlight_colour != style.colour
        assert style.font_path().is_file()
    assert caption_style().name == DEFAULT_STYLE == "bold"
    assert caption_style("karaoke").highlight_mode == "progress"


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(CaptionError, match=r"'neon'.*bold, clean, karaoke"):
        caption_style("neon")


def test_colours_convert_to_ass() -> None:
    style = caption_style("bold")

    assert style.colour == Colour(255, 255, 255, 255)
    assert style.highlight_colour.ass == "&H001AE8FF"
    assert style.highlight_colour.ass_colour == "&H1AE8FF&"
    assert style.shadow_colour.ass == "&H5F000000"  # #000000A0: opacity A0 -> ASS transparency 5F


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size": 60}, r"presets\.bold\.size: must be a whole number from 90 to 300"),
        ({"colour": "white"}, r"presets\.bold\.colour: must be a colour"),
        ({"max_words": 6}, r"presets\.bold\.max_words: must be a whole number from 1 to 4"),
        ({"max_lines": 3}, r"presets\.bold\.max_lines: must be a whole number from 1 to 2"),
        ({"vertical": 1.5}, r"presets\.bold\.vertical: must be a number from 0 to 1"),
        ({"highlight_mode": "blink"}, r"presets\.bold\.highlight_mode: must be one of word, progress"),
        ({"bold": "yes"}, r"presets\.bold\.bold: must be true or false"),
        ({"font_file": "DejaVuSans-Bold.woff2"}, r"presets\.bold\.font_file: must name a \.ttf"),
        ({"glow": 3}, r"presets\.bold: unknown field\(s\) glow"),
        ({"outline": None}, r"presets\.bold: missing field\(s\) outline"),
    ],
)
def test_bad_fields_are_refused_with_file_and_field(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = _write(tmp_path, {"presets": {"bold": _preset(**changes)}})

    with pytest.raises(CaptionError, match=message) as raised:
        load_styles(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("presets: [unclosed", "not valid YAML"),
        ({"styles": {}}, "one mapping, `presets:`"),
        ({"presets": []}, "presets: must map preset names"),
        ({"presets": {"bold": "big"}}, r"presets\.bold: must be a mapping"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(CaptionError, match=message):
        load_styles(_write(tmp_path, document))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptionError, match="cannot read the caption styles file"):
        load_styles(tmp_path / "absent.yaml")


def test_a_font_file_fontconfig_does_not_serve_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"presets": {"odd": _preset(font_file="DejaVuSans.ttf")}})
    style = caption_style("odd", path)

    with pytest.raises(CaptionError, match=r"from DejaVuSans-Bold\.ttf, not DejaVuSans\.ttf"):
        style.font_path()
    with pytest.raises(CaptionError, match="not installed"):
        resolve_font("No Such Family Pellacia", True, "x.ttf")
