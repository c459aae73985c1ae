"""Small previews for the Dagster UI: media metadata that renders inline instead of a bare path."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path


def thumbnail_markdown(image: Path, width: int = 216) -> str:
    """A small JPEG of `image` embedded as a data URI, so the poster frame shows in the asset's page."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(image), "-vf", f"scale={width}:-2", "-q:v", "5",
         "-f", "image2pipe", "-vcodec", "mjpeg", "-"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    encoded = base64.b64encode(completed.stdout).decode()
    return f"![{image.name}](data:image/jpeg;base64,{encoded})"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
