"""Snapshots made by hand for the pure analytics tests: a day of one post with the provenance asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pellacia_assets.analytics.snapshot import DaySnapshot
from resources.platforms.base import CORE_METRICS

DAY = date(2026, 3, 10)


def day_of(
    *,
    day: date = DAY,
    platform: str = "x",
    post_id: str = "p1",
    measured: dict[str, float] | None = None,
    lifetime: dict[str, float] | None = None,
    reason: str = "not collected",
    provisional: bool = False,
    as_of: datetime | None = None,
    totals: dict[str, float] | None = None,
    raw: dict[str, Any] | None = None,
    story_key: str | None = "story-1",
    created: datetime | None = None,
) -> DaySnapshot:
    """`measured` values, `lifetime` values standing in for the day, every other core metric unavailable
    for `reason`; `totals` (default: `lifetime`) are the lifetime totals read that day."""
    measured, lifetime = measured or {}, lifetime or {}
    values = {**lifetime, **measured}
    provenance = {
        metric: "measured" if metric in measured else "lifetime" if metric in lifetime else "unavailable"
        for metric in CORE_METRICS
    }
    read = totals if totals is not None else lifetime
    return DaySnapshot(
        platform=platform,
        account="main",
        post_id=post_id,
        day=day,
        story_key=story_key,
        part=1,
        values=values,
        provenance=provenance,
        reasons={metric: reason for metric in CORE_METRICS if provenance[metric] == "unavailable"},
        lifetime=dict(read),
        raw=raw if raw is not None else {},
        provisional=provisional,
        as_of=as_of if as_of is not None else (datetime(2026, 3, 10, 12, tzinfo=UTC) if read else None),
        post_created_at=created,
    )
