"""The stored snapshots of some days, summarised and charted: what the asset's metadata, `analytics
summary` and the demo show."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.analytics.chart import views_chart
from pellacia_assets.analytics.series import daily_views
from pellacia_assets.analytics.summary import Summary, summarise
from resources.database.metrics import live_posts, snapshots


def stored_summary(
    factory: sessionmaker[Session], wanted: Mapping[str, Collection[date]], chart: Path
) -> tuple[Summary, Path]:
    """Each platform's stored rows of its `wanted` days, summarised, and the chart of views per day
    written to `chart`."""
    days = [day for platform_days in wanted.values() for day in platform_days]
    first, last = (min(days), max(days)) if days else (None, None)
    rows = [
        row
        for platform, platform_days in wanted.items()
        for row in snapshots(factory, platform=platform, first=first, last=last)
        if row.day in platform_days
    ]
    posts = [post for platform in wanted for post in live_posts(factory, platform)]
    views_chart(daily_views(rows), chart, f"Views per day, {first} to {last}")
    return summarise(rows, posts), chart
