"""SANDBOX ONLY (never used by production code): Graph behaviour the Instagram and Facebook sandboxes share.

Graph error envelopes answered with HTTP 400 (spec 5.5), throttling with codes 4/17/32/613/80001 and the
usage headers whose `estimated_time_to_regain_access` is in minutes (spec 5.6), the token exchange at
`/v25.0/oauth/access_token` (spec 4.1, 5.1), and the rupload receiver both platforms upload to, on its own
host, with `offset` / `file_size` headers and `Authorization: OAuth` (spec 4.2, 5.2).

Resuming an interrupted rupload is documented only as far as this (spec 4.2 [U]): the upload is POSTed
again with an `offset` header. rupload documents no GET (the GET that answers an offset belongs to the
Graph Resumable Upload API's `upload:<session>` node, another protocol), so a GET on a rupload URI is
refused with 405. This receiver accepts a POST whose `offset` is at most the bytes it holds (a smaller
offset restarts from there, the whole file from 0 included, also once it is complete); its failure body
carries the offset to resume from in `debug_info.offset`.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.common import (
    READ_BLOCK,
    DropConnectionError,
    Fault,
    Request,
    Response,
    TokenRegistry,
    bearer_token,
)

GRAPH_VERSION = "v25.0"  # the version the spec's requests use (sections 4.2, 5.2)
GRAPH_PREFIX = f"/{GRAPH_VERSION}"
# Meta's hosts: the Graph API (and its token endpoint), the Login dialog, rupload, graph-video.
GRAPH_HOST = "graph.facebook.com"
WWW_HOST = "www.facebook.com"
RUPLOAD_HOST = "rupload.facebook.com"
GRAPH_VIDEO_HOST = "graph-video.facebook.com"
THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
}


def graph_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    user_title: str | None = None,
    user_msg: str | None = None,
    transient: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """The documented envelope, with a fresh fbtrace_id as Meta sends one with every error."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["is_transient"] = transient
    error["fbtrace_id"] = secrets.token_urlsafe(8)
    return Response(status, {"error": error}, dict(headers or {}))


def invalid_parameter(message: str, *, subcode: int | None = None, user_msg: str | None = None) -> Response:
    return graph_error(100, f"(#100) {message}", subcode=subcode, user_msg=user_msg)


def missing_node(node_id: str, method: str = "get") -> Response:
    return graph_error(
        100,
        f"Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        subcode=33,
        error_type="GraphMethodException",
    )


def nonexisting_field(name: str, node_type: str) -> Response:
    return invalid_parameter(f"Tried accessing nonexisting field ({name}) on node type ({node_type})")


class RollingUsage:
    """Meta's platform rate limit as its usage headers report it: the share of `limit` calls made in the
    last hour (a rolling window), in whole percent, so a quiet hour brings it back down."""

    def __init__(self, limit: int = 200, window_s: float = 3600.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def count_call(self) -> int:
        """Record one call now; the percentage used, as the headers say it."""
        now = time.monotonic()
        with self._lock:
            self._calls.append(now)
            while self._calls and self._calls[0] <= now - self.window_s:
                self._calls.popleft()
            return min(100, math.ceil(len(self._calls) * 100 / self.limit))


def usage_headers(
    object_id: str, *, call_count: int = 1, regain_minutes: float = 0, use_case: str = "instagram"
) -> dict[str, str]:
    """X-App-Usage and X-Business-Use-Case-Usage as percentages of the limit, wait in minutes."""
    usage = {"call_count": call_count, "total_cputime": max(1, call_count // 2), "total_time": call_count}
    business = {object_id: [{"type": use_case, **usage, "estimated_time_to_regain_access": regain_minutes}]}
    return {"X-App-Usage": json.dumps(usage), "X-Business-Use-Case-Usage": json.dumps(business)}


def throttled_response(
    object_id: str, *, code: int = 4, regain_minutes: float = 1.0, use_case: str = "instagram"
) -> Response:
    """Meta throttling as sent: HTTP 400, a rate-limit code, usage headers at 100% with the wait."""
    return graph_error(
        code,
        THROTTLE_MESSAGES.get(code, f"(#{code}) Rate limit reached"),
        transient=True,
        headers=usage_headers(object_id, call_count=100, regain_minutes=regain_minutes, use_case=use_case),
    )


def throttle_fault(
    route: str,
    object_id: str,
    *,
    code: int = 4,
    regain_minutes: float = 1.0,
    times: int = 1,
    use_case: str = "instagram",
) -> Fault:
    """A fault answering `route` with Meta's throttling (see throttled_response)."""
    response = throttled_response(object_id, code=code, regain_minutes=regain_minutes, use_case=use_case)
    return Fault(route, status=response.status, body=response.body, headers=response.headers, times=times)


def graph_server_error(status: int) -> Response:
    """Graph's answer to a failure on its side: code 2, a temporary issue, transient."""
    return graph_error(
        2, "An unexpected error has occurred. Please retry your request later.", status=status, transient=True
    )


def graph_params(request: Request) -> dict[str, str]:
    """Graph takes parameters in the query string or a form body alike; the body wins on a clash."""
    params = dict(request.query)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(request.form())
    return params


def request_token(request: Request, params: dict[str, str]) -> str | None:
    return bearer_token(request) or params.get("access_token") or None


def token_error(token: str | None, tokens: TokenRegistry) -> Response | None:
    """None when the token is good; else the error Graph gives for a missing or dead token."""
    if token is None:
        return graph_error(104, "An access token is required to request this resource.")
    if not tokens.valid(token):
        return graph_error(
            190,
            "Error validating access token: Session has expired or the token is invalid.",
            subcode=463,
        )
    return None


def token_exchange(
    params: dict[str, str], tokens: TokenRegistry, client_id: str, client_secret: str
) -> Response:
    """GET /oauth/access_token?grant_type=fb_exchange_token: a long-lived (or valid) token for a new one."""
    if params.get("grant_type") != "fb_exchange_token":
        return invalid_parameter("Unsupported grant_type; expected fb_exchange_token")
    if params.get("client_id") != client_id:
        return graph_error(101, "Error validating application. Invalid application ID.")
    if params.get("client_secret") != client_secret:
        return graph_error(1, "Error validating client secret.")
    exchanged = params.get("fb_exchange_token", "")
    grant = tokens.refresh(exchanged) or (tokens.issue() if tokens.valid(exchanged) else None)
    if grant is None:
        return graph_error(190, "Error validating access token: The session is invalid.", subcode=460)
    expires_in = max(0, int(grant.expires_at - time.time()))
    return Response(
        200, {"access_token": grant.access_token, "token_type": "bearer", "expires_in": expires_in}
    )


def rupload_error(
    status: int, kind: str, message: str, *, retriable: bool, offset: int | None = None
) -> Response:
    debug: dict[str, Any] = {"retriable": retriable, "type": kind, "message": message}
    if offset is not None:
        debug["offset"] = offset
    return Response(status, {"debug_info": debug})


def rupload_auth_error(request: Request, tokens: TokenRegistry) -> Response | None:
    """rupload wants `Authorization: OAuth <token>` (not Bearer, not a query parameter)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "OAuth" or not token.strip():
        return rupload_error(
            401, "AuthError", "Authorization: OAuth <token> header is required", retriable=False
        )
    if not tokens.valid(token.strip()):
        return rupload_error(401, "OAuthException", "Invalid OAuth access token.", retriable=False)
    return None


def rupload_get_refused(request: Request) -> Response:
    """A GET on a rupload URI: undocumented (the host takes POSTs only), so refused as a method."""
    refused = rupload_error(
        405,
        "MethodNotAllowed",
        "rupload takes only POST; the container's status_code tells the state",
        retriable=False,
    )
    refused.headers["Allow"] = "POST"
    return refused


@dataclass
class Interruption:
    """Fail the next upload after `after_bytes` arrived: a 500 with debug_info, or a dropped connection."""

    after_bytes: int
    drop: bool = False


@dataclass
class RuploadSession:
    """One rupload target (an IG container, a FB reel): bytes on disk, how many arrived, their sha256."""

    path: Path
    file_size: int | None = None
    received: int = 0
    sha256: str | None = None
    offsets: list[int] = field(default_factory=list)
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def complete(self) -> bool:
        return self.file_size is not None and self.received == self.file_size

    def receive(self, request: Request, interruption: Interruption | None = None) -> Response:
        """Take `Content-Length` bytes at header `offset` of `file_size`, streamed to disk and hashed."""
        with self._lock:
            problem = self._validate(request)
            if problem is not None:
                return problem
            offset, length = int(request.headers["offset"]), request.content_length or 0
            self.offsets.append(offset)
            if self.complete and offset == self.file_size and length == 0:
                return Response(200, {"success": True, "message": "Upload successful."})
            if offset < self.received:
                self._restart_at(offset)
            limit = length if interruption is None else min(length, interruption.after_bytes)
            with self.path.open("ab") as target:
                self.received += _copy(request, target, self._digest, limit)
            if interruption is not None:
                if interruption.drop:
                    raise DropConnectionError
                _copy(request, None, None, length - limit)
                return rupload_error(
                    500,
                    "ProcessingFailedError",
                    "Request processing failed; resume from debug_info.offset",
                    retriable=True,
                    offset=self.received,
                )
            if self.received < (self.file_size or 0):
                return rupload_error(
                    400,
                    "PartialUpload",
                    "the body ended before file_size",
                    retriable=True,
                    offset=self.received,
                )
            self.sha256 = self._digest.hexdigest()
            return Response(200, {"success": True, "message": "Upload successful."})

    def _validate(self, request: Request) -> Response | None:
        headers = request.headers
        for name in ("offset", "file_size"):
            if not headers.get(name, "").isdigit():
                return rupload_error(400, "BadRequest", f"header {name} (bytes) is required", retriable=False)
        offset, file_size = int(headers["offset"]), int(headers["file_size"])
        if request.content_length is None:
            refused = rupload_error(411, "BadRequest", "Content-Length is required", retriable=False)
            refused.headers["Connection"] = "close"  # an unread chunked body cannot be skipped
            return refused
        if self.file_size is not None and file_size != self.file_size:
            return rupload_error(
                400,
                "BadRequest",
                f"file_size {file_size} differs from {self.file_size} sent before",
                retriable=False,
            )
        if offset > self.received:
            return rupload_error(
                400,
                "BadRequest",
                f"offset {offset} is past the {self.received} bytes received",
                retriable=False,
                offset=self.received,
            )
        if request.content_length != file_size - offset:
            return rupload_error(
                400,
                "BadRequest",
                f"the body must hold bytes {offset}..{file_size} ({file_size - offset} bytes), "
                f"not {request.content_length}",
                retriable=False,
            )
        self.file_size = file_size
        return None

    def _restart_at(self, offset: int) -> None:
        """Keep the first `offset` bytes and rebuild their hash from disk, so hashing stays streamed."""
        with self.path.open("r+b") if self.path.exists() else self.path.open("w+b") as handle:
            handle.truncate(offset)
        self._digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(READ_BLOCK), b""):
                self._digest.update(block)
        self.received = offset


def _copy(request: Request, target: Any, digest: Any, length: int) -> int:
    """Read `length` body bytes in blocks into `target` (or nowhere), updating `digest`."""
    request._consumed = True
    copied = 0
    while copied < length:
        block = request.stream.read(min(READ_BLOCK, length - copied))
        if not block:
            break
        if target is not None:
            target.write(block)
        if digest is not None:
            digest.update(block)
        copied += len(block)
    return copied
