"""Every error the API sends has one shape, `{"error": {"code", "message"}}` (validation errors add
`details`), so a dashboard handles them all alike.

Bad input is always a 4xx: FastAPI's validation errors, unknown routes and methods, bodies over the size
limit. What we did not foresee becomes a 500 with the same shape, and its traceback goes to the log (never
to the client).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resources.database.engine import DatabaseError

log = logging.getLogger("pellacia.api")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request: `status`, a stable `code` for programs
    and a `message` for people; `headers` go with it (`WWW-Authenticate`, `Retry-After`)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


class ApiConfigError(ValueError):
    """The API's own settings (tokens, rate, body limit) cannot be read; the message names the variable."""


class BodyTooLargeError(StarletteHTTPException):
    """A request body went past the limit while it was being read (no or a false Content-Length). An
    HTTPException, so FastAPI passes it on as it reads the body instead of calling it a parse error."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=dict(headers or {}))


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without their `input` and `ctx`, which may hold what cannot be JSON (bytes, an
    exception) or echo a secret back."""
    return [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in item.get("loc", ())],
            "msg": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors()
    ]


def _summary(details: list[dict[str, Any]]) -> str:
    first = details[0] if details else None
    if first is None:
        return "the request is not valid"
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}: {first['msg']}{more}"


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message, error.headers)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and isinstance(error.__cause__, ValueError):
        # FastAPI's "error parsing the body": a JSON body that is not UTF-8 is malformed JSON like any other
        details = [{"loc": ["body"], "msg": "the body is not UTF-8 JSON", "type": "json_invalid"}]
        return JSONResponse(error_body("invalid_request", "body: the body is not UTF-8 JSON", details), 422)
    code = _STATUS_CODES.get(error.status_code, "error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    if error.status_code == 404 and message == "Not Found":
        message = "no such resource; /docs lists the endpoints"
    elif error.status_code == 405:
        message = "this method is not allowed on this path; /docs lists the endpoints"
    return error_response(error.status_code, code, message, error.headers)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = _validation_details(error)
    return JSONResponse(error_body("invalid_request", _summary(details), details), status_code=422)


async def _database_down(_request: Request, error: Exception) -> JSONResponse:
    """The app database cannot be reached or written: the service is unavailable, not the request wrong."""
    log.error("the app database failed: %s", error)
    return error_response(503, "database_unavailable", "the app database cannot be reached; try again later")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DatabaseError, _database_down)


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413: at once when Content-Length says so, else while
    the body is read (chunked uploads), before the whole of it is in memory."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await error_response(400, "bad_request", "Content-Length is not a number")(
                    scope, receive, send
                )
                return
            if too_large:
                message = f"the request body is larger than {self.max_bytes} bytes"
                await error_response(413, "body_too_large", message)(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class UnexpectedErrorMiddleware:
    """The last resort: an exception nothing else handled is logged with its traceback and answered as a
    500 error body (Starlette's own handler would re-raise it into the server after answering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(
                500, "internal_error", "an unexpected error occurred; see the API's log"
            )
            await response(scope, receive, send)
