"""A post's days as the operator reads them: each metric's value for the day and where it came from.

Per day and metric: the measured value where a history API gave one; else the day's delta of the lifetime
totals (today's minus yesterday's snapshot when they were read at different moments, or the whole total
on the post's creation day), marked "derived"; else the lifetime total itself, marked "lifetime"; else
nothing, "unavailable", with the reason. Derived values are computed here on every read, never stored, so a
later measured value or snapshot changes them with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pellacia_assets.analytics.snapshot import UNAVAILABLE, DaySnapshot
from resources.platforms.base import CORE_METRICS

DAILY = ("measured", "derived")  # provenances that are what happened on the day itself


@dataclass(frozen=True)
class SeriesDay:
    """One day of one post, every core metric resolved (value None where unavailable)."""

    day: date
    metrics: dict[str, float | None]
    provenance: dict[str, str]
    reasons: dict[str, str]
    lifetime: dict[str, float]
    provisional: bool


def _number(value: float) -> float | int:
    """Counts read back as whole numbers print as such (JSON: 12, not 12.0)."""
    return int(value) if float(value).is_integer() else value


def _read_apart(before: DaySnapshot, row: DaySnapshot, metric: str) -> bool:
    """Both days hold `metric`'s lifetime total, read at different moments: their difference is what
    happened in between. One reading stored for two days (a read just after midnight counts for the day
    before as well as for today) says nothing of today: its delta would be a 0 nobody measured."""
    if metric not in before.lifetime:
        return False
    return before.as_of is None or row.as_of is None or row.as_of > before.as_of


def post_days(rows: Sequence[DaySnapshot]) -> list[SeriesDay]:
    """The days of one post (its snapshots, any order), each metric resolved as the module says."""
    ordered = sorted(rows, key=lambda row: row.day)
    by_day = {row.day: row for row in ordered}
    days: list[SeriesDay] = []
    for row in ordered:
        before = by_day.get(row.day - timedelta(days=1))
        created_today = row.post_created_at is not None and row.post_created_at.date() == row.day
        metrics: dict[str, float | None] = {}
        provenance: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for metric in CORE_METRICS:
            source = row.source(metric)
            if source == "measured" and metric in row.values:
                metrics[metric], provenance[metric] = _number(row.values[metric]), "measured"
            elif metric in row.lifetime and before is not None and _read_apart(before, row, metric):
                delta = row.lifetime[metric] - before.lifetime[metric]
                metrics[metric], provenance[metric] = _number(delta), "derived"
            elif metric in row.lifetime and before is None and created_today:
                metrics[metric], provenance[metric] = _number(row.lifetime[metric]), "derived"
            elif source == "lifetime" and metric in row.values:
                metrics[metric], provenance[metric] = _number(row.values[metric]), "lifetime"
            else:
                metrics[metric], provenance[metric] = None, UNAVAILABLE
                reasons[metric] = row.reasons.get(metric, "not collected")
        lifetime = {metric: _number(value) for metric, value in row.lifetime.items()}
        days.append(SeriesDay(row.day, metrics, provenance, reasons, lifetime, row.provisional))
    return days


def history(snapshots: Sequence[DaySnapshot], platform: str, post_id: str) -> dict[str, Any]:
    """One post's days as JSON (`analytics history --json`): {"platform", "post_id", "days": [{"date",
    "metrics", "provenance", "reasons" (unavailable metrics only), "lifetime" (when read),
    "provisional"}]}."""
    rows = [row for row in snapshots if row.platform == platform and row.post_id == post_id]
    days = []
    for day in post_days(rows):
        entry: dict[str, Any] = {
            "date": day.day.isoformat(),
            "metrics": day.metrics,
            "provenance": day.provenance,
            "reasons": day.reasons,
        }
        if day.lifetime:
            entry["lifetime"] = day.lifetime
        entry["provisional"] = day.provisional
        days.append(entry)
    return {"platform": platform, "post_id": post_id, "days": days}


def by_post(snapshots: Sequence[DaySnapshot]) -> dict[tuple[str, str], list[SeriesDay]]:
    """Every post's resolved days, by (platform, post id)."""
    grouped: dict[tuple[str, str], list[DaySnapshot]] = defaultdict(list)
    for row in snapshots:
        grouped[(row.platform, row.post_id)].append(row)
    return {key: post_days(rows) for key, rows in grouped.items()}


def daily_views(snapshots: Sequence[DaySnapshot]) -> dict[str, dict[date, float]]:
    """Views per day per platform, summed over its posts' measured or derived values (a lifetime total is
    not a day's views, so a day that has only those is left out)."""
    views: dict[str, dict[date, float]] = defaultdict(dict)
    for (platform, _post), days in by_post(snapshots).items():
        for day in days:
            value = day.metrics["views"]
            if value is not None and day.provenance["views"] in DAILY:
                views[platform][day.day] = views[platform].get(day.day, 0) + value
    return {platform: dict(sorted(days.items())) for platform, days in sorted(views.items())}
