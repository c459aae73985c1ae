"""The machinery every platform sandbox shares: routing, strict request reading, tokens, faults, storage.

A sandbox is a real HTTP server on 127.0.0.1 that follows one platform's documented protocol; the
clients talk to it exactly as to the real host, only the base URL differs. Tests (and the demo) steer it
through Python: inject faults, expire tokens, slow down processing, and inspect what was received.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

READ_BLOCK = 1024 * 1024


class DropConnectionError(Exception):
    """Raised by a handler to close the socket without answering (after committing its effect)."""


@dataclass
class Fault:
    """What to do instead of (or after) answering a request of `route`.

    kind: "status" answers `status` with `body`/`headers`; "drop" closes the connection before handling;
    "drop_after_commit" lets the handler commit its effect, then closes the connection unanswered;
    "delay" sleeps `seconds` first. `times` is how many matching requests it affects.
    """

    route: str
    kind: str = "status"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    times: int = 1


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    params: dict[str, str]
    stream: BinaryIO
    _consumed: bool = False

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    def body(self) -> bytes:
        self._consumed = True
        length = self.content_length or 0
        return self.stream.read(length) if length else b""

    def drain(self) -> None:
        """Read and discard an unread body block by block (a refused 1 GB chunk must not fill memory)."""
        self._consumed = True
        remaining = self.content_length or 0
        while remaining > 0:
            block = self.stream.read(min(READ_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)

    def json(self) -> Any:
        return json.loads(self.body() or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body().decode(), keep_blank_values=True).items()}

    def copy_body_to(self, target: BinaryIO, digest: Any | None = None) -> int:
        """Stream exactly Content-Length bytes into `target` (and a hash), never the whole body in memory."""
        self._consumed = True
        remaining = self.content_length or 0
        copied = 0
        while remaining > 0:
            block = self.stream.read(min(READ_BLOCK, remaining))
            if not block:
                break
            target.write(block)
            if digest is not None:
                digest.update(block)
            remaining -= len(block)
            copied += len(block)
        return copied


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=UTF-8"


Handler = Callable[[Request], Response]


@dataclass
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_at: float


class TokenRegistry:
    """Access and refresh tokens the sandbox accepts; refresh tokens may rotate (TikTok)."""

    def __init__(self, prefix: str, lifetime_s: float = 3600.0, rotate_refresh: bool = False) -> None:
        self.prefix = prefix
        self.lifetime_s = lifetime_s
        self.rotate_refresh = rotate_refresh
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.refreshes = 0

    def issue(self) -> TokenGrant:
        with self._lock:
            access = f"{self.prefix}.{secrets.token_urlsafe(18)}"
            refresh = f"{self.prefix}-refresh.{secrets.token_urlsafe(18)}"
            expires = time.time() + self.lifetime_s
            self._access[access] = expires
            self._refresh.add(refresh)
            return TokenGrant(access, refresh, expires)

    def valid(self, access_token: str | None) -> bool:
        with self._lock:
            return access_token is not None and self._access.get(access_token, 0.0) > time.time()

    def expire_all(self) -> None:
        """Every access token issued so far stops working, as after its lifetime ran out."""
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def refresh(self, refresh_token: str) -> TokenGrant | None:
        """A new access token; with rotation the old refresh token dies and a new one is returned."""
        with self._lock:
            if refresh_token not in self._refresh:
                return None
            self.refreshes += 1
            access = f"{self.prefix}.{secrets.token_urlsafe(18)}"
            expires = time.time() + self.lifetime_s
            self._access[access] = expires
            if self.rotate_refresh:
                self._refresh.discard(refresh_token)
                refresh_token = f"{self.prefix}-refresh.{secrets.token_urlsafe(18)}"
                self._refresh.add(refresh_token)
            return TokenGrant(access, refresh_token, expires)


class SandboxServer(ABC):
    """Base of every platform sandbox: subclasses register routes in `routes()`."""

    name = "sandbox"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.requests: list[tuple[str, str]] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        for method, pattern, route, handler in [*self.routes(), ("PUT", "/__sink", "sink", self._sink)]:
            self._routes.append((method, re.compile(f"^{pattern}$"), route, handler))
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    @abstractmethod
    def routes(self) -> list[tuple[str, str, str, Handler]]:
        """(method, path regex with named groups, route name for faults, handler)."""

    @abstractmethod
    def issue_tokens(self) -> TokenGrant:
        """Fresh credentials for the sandbox account, as after a completed consent flow."""

    def _sink(self, request: Request) -> Response:
        """Not a platform endpoint: a raw PUT target, so benchmarks can time `curl --upload-file` here."""
        digest = hashlib.sha256()
        with (self.data_dir / "sink.bin").open("wb") as target:
            size = request.copy_body_to(target, digest)
        return Response(200, {"bytes": size, "sha256": digest.hexdigest()})

    def next_id(self) -> int:
        return next(self._ids)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.route == route:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def stored_file(self, name: str) -> Path:
        return self.data_dir / name

    @staticmethod
    def sha256(path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(READ_BLOCK), b""):
                digest.update(block)
        return digest.hexdigest()

    def dispatch(self, request: Request) -> tuple[Response | None, Fault | None]:
        for method, pattern, route, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                self.requests.append((route, request.method))
                fault = self._take_fault(route)
                if fault is not None and fault.kind == "delay":
                    time.sleep(fault.seconds)
                    fault = None
                if fault is not None and fault.kind == "status":
                    return Response(fault.status, fault.body, fault.headers), None
                if fault is not None and fault.kind == "drop":
                    return None, fault
                return handler(request), fault
        return Response(404, {"error": {"message": f"no route for {request.method} {request.path}"}}), None

    def start(self) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wipe(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _handler_for(sandbox: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class SandboxHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small answers would otherwise wait ~40 ms for delayed ACKs

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                params={},
                stream=cast(BinaryIO, self.rfile),
            )
            try:
                response, fault = sandbox.dispatch(request)
            except DropConnectionError:
                self.close_connection = True
                return
            if response is None or (fault is not None and fault.kind == "drop_after_commit"):
                self.close_connection = True
                return
            if not request._consumed and request.content_length:
                request.drain()
            self._send(response)

        def _send(self, response: Response) -> None:
            if isinstance(response.body, bytes):
                payload = response.body
            elif response.body is None:
                payload = b""
            else:
                payload = json.dumps(response.body).encode()
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - http.server's dispatch names

    return SandboxHandler


Server = TypeVar("Server", bound=SandboxServer)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") and token.strip() else None
