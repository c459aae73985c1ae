"""The machinery every platform sandbox shares: hosts, routing, strict request reading, tokens, faults.

A sandbox is a set of real HTTP servers on 127.0.0.1 that follows one platform's documented protocol: one
listener (its own port) for each host the platform really uses, so an API route reached on the upload
host answers 404 exactly as it would in reality, and a client that builds an upload URL itself instead of
using the one it was handed is caught. Clients talk to it as to the real hosts; only the roots differ.
Tests (and the demo) steer it through Python: issue and expire tokens, inject faults, slow down
processing, and inspect what was received.

Metrics are a function of a post's id, the day and the post's age that day (`daily_activity`), computed as
of the sandbox's clock (`now`, which tests stop with `set_now` and move with `advance_clock`); `backdate`
moves a post's creation time, so a lifetime counter grows as the post ages and a past day never changes.

The sandboxes import nothing of the product (DESIGN.md 1a): they follow the platforms' documents, so
they can disagree with the clients, and that disagreement is what the tests are for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re
import secrets
import shutil
import threading
import time
from abc import ABC
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

READ_BLOCK = 1024 * 1024


class DropConnectionError(Exception):
    """Raised by a handler to close the socket without answering (after committing its effect)."""


@dataclass
class Fault:
    """What to do instead of (or after) answering a request of `route`.

    kind: "status" answers `status` with `body`/`headers`; "drop" closes the connection before handling;
    "drop_after_commit" lets the handler commit its effect, then closes the connection unanswered;
    "delay" sleeps `seconds` first; "hold" waits until `release` is set (at most `seconds`). `times` is how
    many matching requests it affects.
    """

    route: str
    kind: str = "status"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    times: int = 1
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class Request:
    """One request as a listener received it; `host` names the listener (the real host it stands for)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    params: dict[str, str]
    stream: BinaryIO
    _consumed: bool = False
    host: str = ""
    peer: str = ""  # the address the connection came from (a proxy's, or 127.0.0.1 direct)

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
Route = tuple[str, str, str, Handler]
"""(method, path regex with named groups, route name for faults, handler)."""
Observer = Callable[[Request, float], None]


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
    """Base of every platform sandbox: one listener per host, each with its own routes.

    `roots` maps each documented root a client addresses (api, upload, oauth, consent, ...) to the real
    host serving it; roots on the same host share a listener, as they share a host in reality. A subclass
    returns from `routes()` either a list (all served on the host of the "api" root) or a mapping from
    host to that host's routes. `configured_roots` are the roots a client is configured with (its
    PELLACIA_<PLATFORM>_<ROOT>_URL variables); the other roots it is handed in answers (upload URLs) or
    opens in a browser (consent pages).
    """

    name = "sandbox"
    roots: ClassVar[Mapping[str, str]] = {"api": "sandbox"}
    configured_roots: ClassVar[tuple[str, ...]] = ("api",)
    consent_path: ClassVar[str | None] = None  # the authorize page on the "consent" root, if it has one
    tokens: TokenRegistry

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._faults: list[Fault] = []
        self._region_blocked: frozenset[str] = frozenset()
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.requests: list[tuple[str, str]] = []
        self.hosts: tuple[str, ...] = tuple(dict.fromkeys(self.roots.values()))
        table = self.routes()
        grouped = table if isinstance(table, Mapping) else {self.roots["api"]: table}
        unknown = sorted(set(grouped) - set(self.hosts))
        if unknown:
            raise ValueError(f"{self.name}: routes for {unknown}, which no root names")
        sink: Route = ("PUT", "/__sink", "sink", self._sink)
        self._routes: dict[str, list[tuple[str, re.Pattern[str], str, Handler]]] = {
            host: [
                (method, re.compile(f"^{pattern}$"), route, handler)
                for method, pattern, route, handler in [*grouped.get(host, ()), sink]
            ]
            for host in self.hosts
        }
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._host_urls: dict[str, str] = {}
        self._observers: list[Observer] = []
        self._clock: float | None = None

    def routes(self) -> Mapping[str, Sequence[Route]] | Sequence[Route]:
        """The routes of each host (a plain list: all on the api root's host)."""
        return []

    # --- where it listens ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The root of the "api" host (empty before start)."""
        return self._host_urls.get(self.roots["api"], "")

    @property
    def urls(self) -> dict[str, str]:
        """Every root's base URL (roots on one host share it); empty before start."""
        return {root: self._host_urls[host] for root, host in self.roots.items() if host in self._host_urls}

    def url(self, root: str = "api", path: str = "") -> str:
        """`path` under the base URL of `root`."""
        return self._host_urls[self.roots[root]] + path

    def start(self) -> str:
        """Listen on 127.0.0.1, one free port per host; returns the api root's URL."""
        for host in self.hosts:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self, host))
            server.daemon_threads = True
            self._servers[host] = server
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self._host_urls[host] = f"http://127.0.0.1:{server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        servers, self._servers = self._servers, {}
        for server in servers.values():
            server.shutdown()
            server.server_close()

    def wipe(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- routing --------------------------------------------------------------------------------------

    def route_name(self, request: Request) -> str | None:
        """The route `request` would reach on its host, or None (it would be answered 404)."""
        for method, pattern, route, _handler in self._routes[request.host or self.roots["api"]]:
            if method == request.method and pattern.match(request.path):
                return route
        return None

    def block_region(self, addresses: Collection[str] = ("127.0.0.1",)) -> None:
        """Refuse every request from `addresses` ("*": from anywhere) with HTTP 451 (RFC 7725), as a
        platform refuses a country it is not available in; an empty collection lifts the block."""
        with self._lock:
            self._region_blocked = frozenset(addresses)

    def dispatch(self, request: Request) -> tuple[Response | None, Fault | None]:
        blocked = self._region_blocked
        if "*" in blocked or request.peer in blocked:
            self.requests.append(("region_blocked", request.method))
            message = "This service is not available in your country or region."
            return Response(451, {"error": {"code": "region_blocked", "message": message}}), None
        for method, pattern, route, handler in self._routes[request.host or self.roots["api"]]:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                self.requests.append((route, request.method))
                fault = self._take_fault(route)
                if fault is not None and fault.kind == "delay":
                    time.sleep(fault.seconds)
                    fault = None
                if fault is not None and fault.kind == "hold":
                    fault.release.wait(fault.seconds)
                    fault = None
                if fault is not None and fault.kind == "status":
                    return Response(fault.status, fault.body, dict(fault.headers)), None
                if fault is not None and fault.kind == "drop":
                    return None, fault
                return handler(request), fault
        return self.unrouted(request), None

    def unrouted(self, request: Request) -> Response:
        """The answer to a path this host does not serve (an upload path on the API host, ...)."""
        return Response(404, {"error": {"message": f"no route for {request.method} {request.path}"}})

    def observe(self, observer: Observer) -> None:
        """Call `observer(request, seconds)` after every request is dispatched (benchmarks time with it)."""
        self._observers.append(observer)

    def _observed(self, request: Request, seconds: float) -> None:
        for observer in self._observers:
            observer(request, seconds)

    def _sink(self, request: Request) -> Response:
        """Not a platform endpoint: a raw PUT target, so benchmarks can time `curl --upload-file` here."""
        digest = hashlib.sha256()
        with (self.data_dir / "sink.bin").open("wb") as target:
            size = request.copy_body_to(target, digest)
        return Response(200, {"bytes": size, "sha256": digest.hexdigest()})

    # --- accounts and tokens --------------------------------------------------------------------------

    def issue_tokens(self) -> TokenGrant:
        """Fresh credentials for the sandbox account, as after a completed consent flow."""
        return self.tokens.issue()

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (refresh tokens still renew them)."""
        self.tokens.expire_all()

    # --- the sandbox's clock (what "now" is for posts and their metrics) -------------------------------

    def now(self) -> dt.datetime:
        """The sandbox's "now" (UTC): the real time unless a test set the clock."""
        return dt.datetime.fromtimestamp(self._clock if self._clock is not None else time.time(), dt.UTC)

    def set_now(self, moment: dt.datetime | None) -> None:
        """Stop the clock at `moment` (an aware datetime), or (None) follow the real time again. Posts
        made meanwhile are created at it, and every metric is computed as of it; tokens and rate-limit
        windows keep the real time."""
        with self._lock:
            self._clock = None if moment is None else moment.timestamp()

    def advance_clock(self, seconds: float) -> None:
        """Move the (stopped) clock `seconds` on; a running clock is stopped at now + `seconds`."""
        with self._lock:
            self._clock = (self._clock if self._clock is not None else time.time()) + seconds

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the post was published `days` earlier (each sandbox moves its own creation time)."""
        raise NotImplementedError(f"the {self.name} sandbox keeps no posts to backdate")

    def rate_limit_analytics_next(self, *, wait_s: float | None = None, times: int = 1) -> None:
        """The next `times` requests of this platform's analytics endpoint are throttled as it throttles."""
        for route in self.analytics_routes:
            self.rate_limit_next(route, wait_s=wait_s, times=times)

    analytics_routes: ClassVar[tuple[str, ...]] = ()
    """The route names of the platform's analytics endpoints."""

    # --- what tests inspect and steer ---------------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        """What was published, oldest first; each platform sandbox says which facts a post carries
        (always its `id`, and the `sha256` and `size` of its video)."""
        return []

    def reject_next_processing(self, reason: str) -> None:
        """The next uploaded video fails the platform's processing with `reason`."""
        raise NotImplementedError(f"the {self.name} sandbox processes no media")

    def next_id(self) -> int:
        return next(self._ids)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def fail_next(self, route: str, status: int = 500, times: int = 1) -> None:
        """The next `times` requests of `route` answer `status` with the platform's error body, no effect."""
        self.inject(_fault_answering(route, self.server_error(status, route), times))

    def rate_limit_next(self, route: str, *, wait_s: float | None = None, times: int = 1) -> None:
        """The next `times` requests of `route` are throttled as the platform throttles, saying to wait
        `wait_s` seconds where the platform says how long (None: the platform's usual wait)."""
        self.inject(_fault_answering(route, self.throttled(wait_s, route), times))

    def drop_next(self, route: str, *, after_commit: bool = False, times: int = 1) -> None:
        """The next `times` requests of `route` lose their connection unanswered: before any effect, or
        (`after_commit`) after the platform committed it, the ambiguous outcome clients must resolve."""
        self.inject(Fault(route, kind="drop_after_commit" if after_commit else "drop", times=times))

    def delay_next(self, route: str, seconds: float, times: int = 1) -> None:
        """The next `times` requests of `route` are answered `seconds` late."""
        self.inject(Fault(route, kind="delay", seconds=seconds, times=times))

    def hold_next(self, route: str, at_most_s: float = 120.0) -> threading.Event:
        """The next request of `route` waits until the returned event is set (or `at_most_s` passed), so a
        test can act while a client is known to be mid-request."""
        fault = Fault(route, kind="hold", seconds=at_most_s)
        self.inject(fault)
        return fault.release

    def server_error(self, status: int, route: str) -> Response:
        """The platform's answer to a failure on its side at `route` (each sandbox: its own error body)."""
        return Response(status, {"error": {"message": HTTPStatus(status).phrase}})

    def throttled(self, wait_s: float | None, route: str) -> Response:
        """The platform's rate-limit answer at `route` (each sandbox: its own status, headers and body)."""
        headers = {} if wait_s is None else {"Retry-After": str(math.ceil(wait_s))}
        return Response(429, {"error": {"message": "Too Many Requests"}}, headers)

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.route == route:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- storage --------------------------------------------------------------------------------------

    def stored_file(self, name: str) -> Path:
        return self.data_dir / name

    @staticmethod
    def sha256(path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(READ_BLOCK), b""):
                digest.update(block)
        return digest.hexdigest()


def _fault_answering(route: str, response: Response, times: int) -> Fault:
    return Fault(
        route, status=response.status, body=response.body, headers=dict(response.headers), times=times
    )


def _handler_for(sandbox: SandboxServer, host: str) -> type[BaseHTTPRequestHandler]:
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
                host=host,
                peer=str(self.client_address[0]),
            )
            started = time.perf_counter()
            try:
                response, fault = sandbox.dispatch(request)
            except DropConnectionError:
                self.close_connection = True
                return
            finally:
                sandbox._observed(request, time.perf_counter() - started)
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


# --- multipart/form-data (RFC 7578), streamed ---------------------------------------------------------

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_PART_NAME = re.compile(r'(?:^|;)\s*name="([^"]*)"')


class MultipartError(ValueError):
    """A multipart/form-data body that cannot be read; the message says why."""


class BlockWriter(Protocol):
    def write(self, block: bytes | memoryview, /) -> int: ...


FileOpener = Callable[[str, dict[str, str]], AbstractContextManager[BlockWriter]]


def read_multipart(
    request: Request,
    *,
    files: Collection[str] = (),
    open_file: FileOpener | None = None,
    field_limit: int = 1024,
) -> tuple[dict[str, str], dict[str, int]]:
    """The text fields of a multipart/form-data body, and the size of each file part named in `files`.

    A file part streams in blocks into `open_file(name, fields read so far)`, so memory stays bounded by
    the block size whatever the upload's size; a text field longer than `field_limit` bytes is refused.
    On a malformed body the rest of it is read off the connection and MultipartError raised.
    """
    content_type = request.headers.get("content-type", "")
    match = _BOUNDARY.search(content_type) if content_type.startswith("multipart/form-data") else None
    if match is None:
        request.drain()
        raise MultipartError("multipart/form-data needs a boundary")
    reader = _BodyReader(request.stream, request.content_length or 0)
    request._consumed = True
    try:
        return _read_parts(reader, b"--" + match.group(1).encode(), files, open_file, field_limit)
    except MultipartError:
        reader.drain()
        raise


def _read_parts(
    reader: _BodyReader,
    delimiter: bytes,
    files: Collection[str],
    open_file: FileOpener | None,
    field_limit: int,
) -> tuple[dict[str, str], dict[str, int]]:
    fields: dict[str, str] = {}
    sizes: dict[str, int] = {}
    reader.skip_until(delimiter + b"\r\n")
    while True:
        headers = reader.read_headers()
        name_match = _PART_NAME.search(headers.get("content-disposition", ""))
        if name_match is None:
            raise MultipartError("every multipart part needs a Content-Disposition name")
        name = name_match.group(1)
        if name in files and open_file is not None:
            with open_file(name, dict(fields)) as target:
                sizes[name] = reader.copy_until(b"\r\n" + delimiter, target)
        else:
            raw = reader.small_until(b"\r\n" + delimiter, field_limit)
            try:
                fields[name] = raw.decode()
            except UnicodeDecodeError:
                raise MultipartError(f"the form field {name!r} is not UTF-8") from None
        ending = reader.take(2)
        if ending == b"--":
            reader.drain()
            return fields, sizes
        if ending != b"\r\n":
            raise MultipartError("malformed multipart body: a delimiter is followed by neither CRLF nor --")


class _BodyReader:
    """Reads exactly Content-Length bytes of a request in blocks, splitting at multipart delimiters."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self.stream = stream
        self.remaining = length
        self.buffer = bytearray()

    def _fill(self) -> None:
        if self.remaining <= 0:
            raise MultipartError("malformed multipart body: it ended early")
        block = self.stream.read(min(READ_BLOCK, self.remaining))
        if not block:
            raise MultipartError("malformed multipart body: the connection ended early")
        self.remaining -= len(block)
        self.buffer += block

    def _until(self, delimiter: bytes, emit: Callable[[memoryview], None]) -> None:
        while True:
            found = self.buffer.find(delimiter)
            if found >= 0:
                self._emit(found, emit)
                del self.buffer[: len(delimiter)]
                return
            keep = len(delimiter) - 1
            if len(self.buffer) > keep:
                self._emit(len(self.buffer) - keep, emit)
            self._fill()

    def _emit(self, count: int, emit: Callable[[memoryview], None]) -> None:
        """Hand on the first `count` buffered bytes without copying them, then drop them."""
        with memoryview(self.buffer) as view, view[:count] as part:
            emit(part)
        del self.buffer[:count]

    def skip_until(self, delimiter: bytes) -> None:
        self._until(delimiter, lambda _block: None)

    def copy_until(self, delimiter: bytes, sink: BlockWriter) -> int:
        written = 0

        def emit(block: memoryview) -> None:
            nonlocal written
            sink.write(block)
            written += len(block)

        self._until(delimiter, emit)
        return written

    def small_until(self, delimiter: bytes, limit: int) -> bytes:
        collected = bytearray()

        def emit(block: memoryview) -> None:
            collected.extend(block)
            if len(collected) > limit:
                raise MultipartError("a multipart form field is too long")

        self._until(delimiter, emit)
        return bytes(collected)

    def read_headers(self) -> dict[str, str]:
        raw = self.small_until(b"\r\n\r\n", limit=8192).decode("latin-1")
        headers: dict[str, str] = {}
        for line in raw.split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers

    def take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        taken = bytes(self.buffer[:count])
        del self.buffer[:count]
        return taken

    def drain(self) -> None:
        while self.remaining > 0:
            block = self.stream.read(min(READ_BLOCK, self.remaining))
            if not block:
                return
            self.remaining -= len(block)


# --- metrics ----------------------------------------------------------------------------------------------


def seed_of(text: str, hex_digits: int = 16) -> int:
    """A stable number derived from `text`, so a sandbox's counters are the same on every call."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:hex_digits], 16)


def insights_body(
    object_id: str, edge: str, values: Mapping[str, Any], *, paging: bool = False
) -> dict[str, Any]:
    """Lifetime insights in Graph's shape (Instagram /insights, Facebook /video_insights): one entry per
    metric with a single lifetime value, which may be a number or a breakdown object."""
    body: dict[str, Any] = {
        "data": [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": value}],
                "title": name.replace("_", " ").capitalize(),
                "description": f"Lifetime {name.replace('_', ' ')} (sandbox)",
                "id": f"{object_id}/{edge}/{name}/lifetime",
            }
            for name, value in values.items()
        ]
    }
    if paging:
        body["paging"] = {}
    return body


# --- deterministic daily activity of a post ---------------------------------------------------------------

ACTIVITY = (
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "watch_seconds",
    "impressions",
    "reach",
)


def daily_activity(post_id: str, day: dt.date, age_days: int) -> dict[str, int]:
    """What one post gathered on one day: a function of its id, the day and its age that day only, so
    every call answers the same; attention fades with age but never stops, so totals grow with time."""
    seed = seed_of(f"{post_id}:{day.isoformat()}")
    views = (40 + seed % 960) * 10 // (10 + max(age_days, 0)) + 1
    return {
        "views": views,
        "likes": views // 9 + (seed >> 12) % 5,
        "comments": views // 60 + (seed >> 16) % 3,
        "shares": views // 45 + (seed >> 20) % 3,
        "saves": views // 70 + (seed >> 24) % 2,
        "clicks": views // 25 + (seed >> 28) % 4,
        "watch_seconds": views * (6 + (seed >> 32) % 30),
        "impressions": views * 3 // 2 + (seed >> 40) % 50,
        "reach": views * 4 // 5 + 1,
    }


def activity_between(
    post_id: str, published: dt.datetime, first: dt.date, last: dt.date
) -> dict[dt.date, dict[str, int]]:
    """The post's daily activity from `first` to `last` (both included), from its publication day on."""
    start = max(first, published.date())
    days: dict[dt.date, dict[str, int]] = {}
    day = start
    while day <= last:
        days[day] = daily_activity(post_id, day, (day - published.date()).days)
        day += dt.timedelta(days=1)
    return days


def lifetime_activity(post_id: str, published: dt.datetime, now: dt.datetime) -> dict[str, int]:
    """The post's totals as of `now`: every day from its publication day to `now`'s day, so a lifetime
    counter read a day later is never smaller."""
    totals = dict.fromkeys(ACTIVITY, 0)
    if now < published:
        return totals
    for values in activity_between(post_id, published, published.date(), now.date()).values():
        for name in ACTIVITY:
            totals[name] += values[name]
    return totals
