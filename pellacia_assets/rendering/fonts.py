"""Where the caption fonts live, so libass finds the font the ASS styles name (DejaVu Sans)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pellacia_assets.rendering.errors import RenderError

DEFAULT_FONT_FAMILY = "DejaVu Sans"


def find_fonts_dir(family: str = DEFAULT_FONT_FAMILY) -> Path:
    """The folder holding `family`'s font file, found with fontconfig's `fc-match`."""
    if shutil.which("fc-match") is None:
        raise RenderError("fc-match is not installed (install fontconfig), so the fonts folder is unknown")
    found = subprocess.run(
        ["fc-match", "--format=%{family}\n%{file}", family], capture_output=True, text=True, check=False
    )
    matched_family, _, font_file = found.stdout.partition("\n")
    if found.returncode != 0 or family.lower() not in matched_family.lower() or not font_file:
        raise RenderError(f"font {family!r} is not installed (Debian: apt-get install fonts-dejavu-core)")
    return Path(font_file).parent
