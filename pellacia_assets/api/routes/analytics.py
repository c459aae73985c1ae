"""Analytics from the stored daily snapshots: the summary `pellacia-dist analytics summary` prints (without
its chart), and one post's days with each value's provenance (`analytics history`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pellacia_assets.analytics.series import history
from pellacia_assets.analytics.summary import summarise, summary_json
from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import Factory, IdPath
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import AnalyticsSummary, ErrorResponse, MetricDay, PostHistory
from pellacia_assets.api.routes.posts import ledger_entry
from resources.database.metrics import live_posts, snapshots
from resources.platforms import PLATFORMS, Platform

router = APIRouter(tags=["analytics"])
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
DEFAULT_DAYS = 30


@router.get(
    "/analytics/summary",
    response_model=AnalyticsSummary,
    responses={422: {"model": ErrorResponse, "description": "a range that ends before it starts"}},
    summary="How the posts did, per platform and per story",
)
def summary(
    _caller: Viewer,
    factory: Factory,
    start: Annotated[date | None, Query(description=f"first day (default {DEFAULT_DAYS} days ago)")] = None,
    end: Annotated[date | None, Query(description="last day (default today, UTC)")] = None,
    platform: Annotated[Platform | None, Query(description="one platform (default all)")] = None,
) -> AnalyticsSummary:
    last = end or datetime.now(UTC).date()
    first = start or date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1)))
    if first > last:
        raise ApiError(422, "invalid_request", f"start {first} is after end {last}")
    platforms = [platform] if platform else list(PLATFORMS)
    rows = [row for name in platforms for row in snapshots(factory, platform=name, first=first, last=last)]
    posts = [post for name in platforms for post in live_posts(factory, name)]
    return AnalyticsSummary.model_validate(summary_json(summarise(rows, posts)))


@router.get(
    "/posts/{post}/analytics",
    response_model=PostHistory,
    responses={404: {"model": ErrorResponse, "description": "no such post"}},
    summary="One post's metrics, day by day",
    tags=["posts"],
)
def post_analytics(post: IdPath, _caller: Viewer, factory: Factory) -> PostHistory:
    entry = ledger_entry(factory, post)
    if entry.post_id is None:
        return PostHistory(post=entry.id, platform=entry.platform, post_id=None, days=[])
    rows = snapshots(factory, platform=entry.platform, post_id=entry.post_id)
    days = history(rows, entry.platform, entry.post_id)["days"]
    return PostHistory(
        post=entry.id,
        platform=entry.platform,
        post_id=entry.post_id,
        days=[MetricDay.model_validate(day) for day in days],
    )
