"""The REST API for the editorial dashboard (`pellacia-dist api`): the same app database, media store and
rules as the CLI, behind bearer tokens (auth.py), a per-token rate limit (ratelimit.py), a body size limit
and one error shape (errors.py). OpenAPI at /openapi.json, interactive docs at /docs.

Settings besides the factory's own: PELLACIA_API_TOKEN / PELLACIA_API_TOKENS_FILE (auth.py),
PELLACIA_API_RATE (default 120/minute, `off`), PELLACIA_API_MAX_BODY_BYTES (default 1 MiB).
"""

from __future__ import annotations

import os
import re
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from pellacia_assets.api import ui as ui_routes
from pellacia_assets.api import webhooks_routes
from pellacia_assets.api.auth import configured_tokens
from pellacia_assets.api.errors import (
    DEFAULT_MAX_BODY_BYTES,
    ApiConfigError,
    BodyLimitMiddleware,
    UnexpectedErrorMiddleware,
    install_error_handlers,
)
from pellacia_assets.api.models import ErrorResponse
from pellacia_assets.api.ratelimit import DEFAULT_RATE, RATE_VARIABLE, RateLimiter, parse_rate
from pellacia_assets.api.routes import analytics, health, manual, metrics, posts, schedule, stories
from pellacia_assets.observability.logs import correlation
from pellacia_assets.settings import Settings

MAX_BODY_VARIABLE = "PELLACIA_API_MAX_BODY_BYTES"
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("the request cannot be read (a Content-Length that is not a number)"),
    401: _error("no API token, or not a valid one (WWW-Authenticate: Bearer)"),
    403: _error("the token's role is too low"),
    413: _error("the request body is over the limit"),
    422: _error("the request is not valid: `details` names each field"),
    429: _error("the token's rate is spent: retry after `Retry-After` seconds"),
    503: _error("no API token is configured, or the app database cannot be reached"),
}


def _api_version() -> str:
    try:
        return version("pellacia-dist")
    except PackageNotFoundError:
        return "0.0.0"


def max_body_bytes() -> int:
    text = os.environ.get(MAX_BODY_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_BODY_BYTES
    if not text.isdigit() or int(text) <= 0:
        raise ApiConfigError(f"{MAX_BODY_VARIABLE}={text!r}: expected a positive number of bytes")
    return int(text)


class RequestIdMiddleware:
    """Every request has an id (the client's `X-Request-ID` when it is a plain token, else a new one):
    echoed in the response and carried by every log line written while it is served."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(REQUEST_ID_HEADER.lower().encode(), b"")
        text = given.decode("latin-1")
        request_id = text if _REQUEST_ID.match(text) else uuid.uuid4().hex

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with correlation(request_id=request_id):
            await self.app(scope, receive, tagged)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (default: from the environment). Raises ApiConfigError for an API setting
    it cannot read (a tokens file that is not a list of tokens, a rate it cannot parse); with no token at
    all it starts, and every protected endpoint says what to set (503)."""
    settings = settings or Settings.from_env()
    configured_tokens()
    limiter = RateLimiter(parse_rate(os.environ.get(RATE_VARIABLE, "").strip() or DEFAULT_RATE))
    app = FastAPI(
        title="Pellacia Press API",
        version=_api_version(),
        description=(
            "Stories, approval, posts, the posting queue, analytics and the manual queue of the Pellacia "
            "Press media factory. Send `Authorization: Bearer <token>` on every endpoint but /health; "
            'errors are `{"error": {"code", "message"}}`.'
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.limiter = limiter
    install_error_handlers(app)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes())
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    for module in (stories, posts, schedule, analytics, manual, metrics, webhooks_routes):
        app.include_router(module.router, responses=PROTECTED_RESPONSES)
    app.include_router(ui_routes.router)
    _serve_docs(app)
    return app


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files the `swagger-ui-bundle` package ships, not from a CDN: the
    factory's machines may have no internet, and the page must still work there."""
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
