"""`GET /metrics`: the factory's Prometheus metrics (stories by state, posts per platform, queue depth per
lane, ...; pellacia_assets/observability/metrics.py), for a Prometheus server holding a viewer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import Factory
from pellacia_assets.observability.metrics import render_metrics

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}
    },
    summary="Prometheus metrics",
)
def metrics(_caller: Annotated[Principal, Depends(require_role("viewer"))], factory: Factory) -> Response:
    body, content_type = render_metrics(factory)
    return Response(content=body, media_type=content_type)
