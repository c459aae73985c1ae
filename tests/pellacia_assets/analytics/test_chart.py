"""The views-per-day chart: a real PNG, one coloured line per platform, drawn without a display."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from pellacia_assets.analytics.chart import COLOURS, views_chart

START = date(2026, 3, 1)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def colours_in(path: Path) -> set[tuple[int, int, int]]:
    pixels = np.rint(imread(str(path))[:, :, :3] * 255).astype(int).reshape(-1, 3)  # from floats 0..1
    return {(int(r), int(g), int(b)) for r, g, b in np.unique(pixels, axis=0)}


def test_one_line_per_platform_in_its_colour(tmp_path: Path) -> None:
    series = {
        "youtube": {START + timedelta(days=n): 100 + 10 * n for n in range(30)},
        "tiktok": {START + timedelta(days=n): 300 - 5 * n for n in range(30) if n != 12},  # a gap
    }
    path = views_chart(series, tmp_path / "charts" / "views.png", "Views per day, March")
    assert path == tmp_path / "charts" / "views.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _channels = imread(str(path)).shape
    assert (width, height) == (1000, 450)
    seen = colours_in(path)
    assert rgb(COLOURS["youtube"]) in seen and rgb(COLOURS["tiktok"]) in seen
    assert rgb(COLOURS["linkedin"]) not in seen


def test_no_views_still_makes_a_chart_that_says_so(tmp_path: Path) -> None:
    path = views_chart({"x": {}}, tmp_path / "empty.png", "Views per day")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    seen = colours_in(path)
    assert not {rgb(COLOURS[name]) for name in ("youtube", "tiktok", "instagram", "linkedin")} & seen


def test_the_same_series_draws_the_same_png(tmp_path: Path) -> None:
    series = {"x": {START + timedelta(days=n): float(n) for n in range(7)}}
    first = views_chart(series, tmp_path / "a.png", "Views")
    second = views_chart(series, tmp_path / "b.png", "Views")
    assert first.read_bytes() == second.read_bytes()
