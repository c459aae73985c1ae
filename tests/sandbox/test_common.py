"""What every sandbox shares: hosts on ports of their own, the multipart reader, insights, helpers."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import (
    READ_BLOCK,
    MultipartError,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenRegistry,
    insights_body,
    read_multipart,
    running,
)

BOUNDARY = "----sandbox-boundary-7MA4YWxk"


class TwoHosts(SandboxServer):
    """A platform with an API host and an upload host, and its own error bodies."""

    name = "two-hosts"
    roots: ClassVar[Mapping[str, str]] = {
        "api": "api.example",
        "oauth": "api.example",
        "upload": "upload.example",
    }
    configured_roots = ("api", "oauth")

    def __init__(self, data_dir: Path) -> None:
        self.tokens = TokenRegistry("two")
        self.uploads: list[int] = []
        super().__init__(data_dir)

    def routes(self) -> Mapping[str, Sequence[Route]]:
        return {
            "api.example": [("POST", "/things", "create", self._create), ("GET", "/me", "me", self._me)],
            "upload.example": [("PUT", r"/blobs/(?P<blob>\w+)", "blob", self._blob)],
        }

    def _create(self, request: Request) -> Response:
        return Response(200, {"upload_url": self.url("upload", "/blobs/b1")})

    def _me(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return Response(200, {"me": True}) if self.tokens.valid(token) else Response(401, {"error": "token"})

    def _blob(self, request: Request) -> Response:
        self.uploads.append(len(request.body()))
        return Response(201, {"blob": request.params["blob"]})


class OneHost(SandboxServer):
    """The simplest sandbox: a list of routes, served on the api root's host."""

    def routes(self) -> list[Route]:
        return [("GET", "/ping", "ping", lambda _request: Response(200, {"pong": True}))]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwoHosts]:
    with running(TwoHosts(tmp_path / "two")) as sandbox:
        yield sandbox


# --- hosts -------------------------------------------------------------------------------------------------


def test_each_host_has_its_own_port_and_roots_on_one_host_share_it(server: TwoHosts) -> None:
    netlocs = {root: urlsplit(url).netloc for root, url in server.urls.items()}
    assert netlocs["api"] == netlocs["oauth"] != netlocs["upload"]
    assert server.base_url == server.url("api") and server.hosts == ("api.example", "upload.example")
    assert server.url("upload", "/blobs/x") == server.urls["upload"] + "/blobs/x"


def test_a_route_answers_only_on_its_host(server: TwoHosts) -> None:
    handed = httpx.post(server.url("api", "/things")).json()["upload_url"]
    assert httpx.put(handed, content=b"12345").status_code == 201
    built = httpx.put(server.url("api", "/blobs/b1"), content=b"x" * (3 * READ_BLOCK))  # drained, not stored
    assert built.status_code == 404 and "no route" in built.json()["error"]["message"]
    assert httpx.post(server.url("upload", "/things")).status_code == 404
    assert server.uploads == [5]
    assert server.requests == [("create", "POST"), ("blob", "PUT")]


def test_a_list_of_routes_is_served_on_the_api_host(tmp_path: Path) -> None:
    with running(OneHost(tmp_path / "one")) as one:
        assert httpx.get(one.url("api", "/ping")).json() == {"pong": True}
        assert one.urls == {"api": one.base_url} and one.posts == []
        with pytest.raises(NotImplementedError):
            one.reject_next_processing("anything")


def test_routes_for_a_host_no_root_names_are_refused(tmp_path: Path) -> None:
    class Stray(TwoHosts):
        def routes(self) -> Mapping[str, Sequence[Route]]:
            return {**super().routes(), "cdn.example": []}

    with pytest.raises(ValueError, match=r"cdn\.example"):
        Stray(tmp_path / "stray")


def test_the_benchmark_sink_is_on_every_host(server: TwoHosts) -> None:
    data = b"sink me" * 1000
    for root in ("api", "upload"):
        stored = httpx.put(server.url(root, "/__sink"), content=data).json()
        assert stored == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_observers_see_every_request_and_its_time(server: TwoHosts) -> None:
    seen: list[tuple[str, str, float]] = []
    server.observe(lambda request, seconds: seen.append((request.host, request.path, seconds)))
    server.delay_next("me", 0.2)
    httpx.get(server.url("api", "/me"))
    httpx.put(server.url("upload", "/blobs/b2"), content=b"1")
    assert [(host, path) for host, path, _ in seen] == [
        ("api.example", "/me"),
        ("upload.example", "/blobs/b2"),
    ]
    assert seen[0][2] >= 0.2


# --- tokens and faults -------------------------------------------------------------------------------------


def test_tokens_are_issued_and_expired_on_the_base_class(server: TwoHosts) -> None:
    grant = server.issue_tokens()
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    assert httpx.get(server.url("api", "/me"), headers=headers).status_code == 200
    server.expire_tokens()
    assert httpx.get(server.url("api", "/me"), headers=headers).status_code == 401
    assert server.tokens.refresh(grant.refresh_token) is not None


def test_the_fault_helpers(server: TwoHosts) -> None:
    server.fail_next("me", 502)
    server.rate_limit_next("me", wait_s=7.2, times=2)
    failed = httpx.get(server.url("api", "/me"))
    throttled = [httpx.get(server.url("api", "/me")) for _ in range(2)]
    assert failed.status_code == 502 and failed.json() == {"error": {"message": "Bad Gateway"}}
    assert [answer.status_code for answer in throttled] == [429, 429]
    assert throttled[0].headers["retry-after"] == "8"
    assert httpx.get(server.url("api", "/me")).status_code == 401  # the faults are used up
    server.drop_next("create", after_commit=True)
    with pytest.raises(httpx.TransportError):
        httpx.post(server.url("api", "/things"))
    server.drop_next("blob")
    with pytest.raises(httpx.TransportError):
        httpx.put(server.url("upload", "/blobs/b3"), content=b"abc")
    assert server.uploads == []
    server.fail_next("me")
    server.clear_faults()
    assert httpx.get(server.url("api", "/me")).status_code == 401


# --- multipart/form-data -----------------------------------------------------------------------------------


def multipart(*parts: tuple[str, bytes], boundary: str = BOUNDARY) -> bytes:
    body = b""
    for name, content in parts:
        filename = '; filename="blob"' if name in ("media", "video_file_chunk") else ""
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode()


def request_of(body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}") -> Request:
    headers = {"content-type": content_type, "content-length": str(len(body))}
    return Request("POST", "/", {}, headers, {}, io.BytesIO(body))


def test_fields_are_read_and_a_file_part_streams_into_its_sink() -> None:
    media = bytes(range(256)) * (3 * READ_BLOCK // 256) + b"\r\n--almost a delimiter\r\n"
    body = multipart(
        ("command", b"APPEND"), ("segment_index", b"3"), ("media", media), ("after", "é".encode())
    )
    received = io.BytesIO()
    opened: list[tuple[str, dict[str, str]]] = []

    def open_file(name: str, fields: dict[str, str]) -> nullcontext[io.BytesIO]:
        opened.append((name, fields))
        return nullcontext(received)

    request = request_of(body)
    fields, files = read_multipart(request, files=("media",), open_file=open_file)
    assert fields == {"command": "APPEND", "segment_index": "3", "after": "é"}
    assert files == {"media": len(media)} and received.getvalue() == media
    assert opened == [("media", {"command": "APPEND", "segment_index": "3"})]
    assert request.stream.read() == b""  # the whole body was read, so the connection stays usable


def test_a_body_generated_by_httpx_is_read_alike() -> None:
    built = httpx.Request(
        "POST", "http://x/", data={"upload_phase": "transfer"}, files={"video_file_chunk": b"abc"}
    )
    request = Request(
        "POST", "/", {}, {k.lower(): v for k, v in built.headers.items()}, {}, io.BytesIO(built.read())
    )
    chunk = io.BytesIO()
    fields, files = read_multipart(
        request, files=("video_file_chunk",), open_file=lambda _n, _f: nullcontext(chunk)
    )
    assert (fields, files, chunk.getvalue()) == (
        {"upload_phase": "transfer"},
        {"video_file_chunk": 3},
        b"abc",
    )


def test_a_file_part_not_asked_for_is_a_field_and_bounded() -> None:
    fields, files = read_multipart(request_of(multipart(("media", b"small"))))
    assert (fields, files) == ({"media": "small"}, {})
    with pytest.raises(MultipartError, match="too long"):
        read_multipart(request_of(multipart(("note", b"x" * 2000))))


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (multipart(("a", b"1")), "multipart/form-data", "boundary"),
        (multipart(("a", b"1")), "application/x-www-form-urlencoded; boundary=x", "boundary"),
        (multipart(("a", b"1"))[:-20], None, "ended early"),
        (f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(), None, "name"),
        (multipart(("a", b"\xff\xfe")), None, "not UTF-8"),
        (multipart(("a", b"1")).replace(b"--\r\n", b"xx\r\n"), None, "neither CRLF nor --"),
    ],
)
def test_a_malformed_body_is_refused_and_read_off_the_connection(
    body: bytes, content_type: str | None, message: str
) -> None:
    request = request_of(body, content_type or f"multipart/form-data; boundary={BOUNDARY}")
    with pytest.raises(MultipartError, match=message):
        read_multipart(request, files=("media",), open_file=lambda _n, _f: nullcontext(io.BytesIO()))
    assert request.stream.read() == b""


# --- insights ----------------------------------------------------------------------------------------------


def test_insights_are_graphs_lifetime_shape() -> None:
    values: dict[str, Any] = {"views": 120, "reactions_by_type": {"like": 3}}
    body = insights_body("179", "insights", values)
    assert body == {
        "data": [
            {
                "name": "views",
                "period": "lifetime",
                "values": [{"value": 120}],
                "title": "Views",
                "description": "Lifetime views (sandbox)",
                "id": "179/insights/views/lifetime",
            },
            {
                "name": "reactions_by_type",
                "period": "lifetime",
                "values": [{"value": {"like": 3}}],
                "title": "Reactions by type",
                "description": "Lifetime reactions by type (sandbox)",
                "id": "179/insights/reactions_by_type/lifetime",
            },
        ]
    }
    assert insights_body("179", "video_insights", {}, paging=True) == {"data": [], "paging": {}}


def test_stopping_closes_every_listener(server: TwoHosts) -> None:
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url("upload", "/__sink"), timeout=1)
