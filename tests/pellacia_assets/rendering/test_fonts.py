from __future__ import annotations

import pytest

from pellacia_assets.rendering.errors import RenderError
from pellacia_assets.rendering.fonts import find_fonts_dir


def test_dejavu_folder_is_found() -> None:
    folder = find_fonts_dir()
    assert (folder / "DejaVuSans.ttf").is_file()


def test_missing_font_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match="not installed"):
        find_fonts_dir("No Such Font Family 12345")
