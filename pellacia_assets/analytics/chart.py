"""The views-per-day chart (PNG) that `analytics summary` writes and the `post_metrics` materialisation
shows. Drawn on matplotlib's Agg canvas directly, never through pyplot, so no display and no global
figure state are involved (runs and threads draw side by side)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# One colour per platform, the same on every chart.
COLOURS = {
    "youtube": "#d62728",
    "tiktok": "#17becf",
    "instagram": "#e377c2",
    "facebook": "#1f77b4",
    "x": "#2b2b2b",
    "linkedin": "#0a66c2",
}


def _runs(days: list[date]) -> list[list[date]]:
    """Consecutive days together: a missing day breaks the line rather than being drawn as a zero."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def views_chart(series: Mapping[str, Mapping[date, float]], path: Path, title: str) -> Path:
    """Draw one line of views per day for each platform in `series` into the PNG at `path` (its folder is
    made); a platform's missing days are gaps, not zeros. Returns `path`."""
    figure = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    drawn = False
    for platform, days in sorted(series.items()):
        if not days:
            continue
        for index, run in enumerate(_runs(sorted(days))):
            axes.plot(
                np.array(run, dtype="datetime64[D]"),
                [days[day] for day in run],
                marker="o" if len(days) < 40 else None,
                markersize=3,
                label=platform if index == 0 else None,
                color=COLOURS.get(platform),
            )
        drawn = True
    if drawn:
        axes.legend(loc="upper left", frameon=False)
        figure.autofmt_xdate()
    else:
        note = "no daily views in this range"
        axes.text(0.5, 0.5, note, ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
    axes.set_title(title)
    axes.set_ylabel("views per day")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
