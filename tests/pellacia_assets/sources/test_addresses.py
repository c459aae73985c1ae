"""The public-only transport against a real local HTTP server: an internal address is refused where the
socket would be opened, redirects included, and only the internal addresses an operator chose get
through."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pellacia_assets.sources.addresses import (
    InternalAddressError,
    internal_addresses_of,
    is_internal,
    private_allowed,
    public_transport,
)


class _Server(ThreadingHTTPServer):
    hits: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", "http://" + self.path.removeprefix("/to/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read `hits` instead."""


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    served = _Server(("127.0.0.1", 0), _Handler)
    served.hits = []
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def client(allowed: frozenset[str] = frozenset()) -> httpx.Client:
    transport = public_transport(httpx.create_ssl_context(), allowed)
    return httpx.Client(transport=transport, follow_redirects=True, timeout=5)


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.9", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_internal_addresses_are_told_from_public_ones(address: str, internal: bool) -> None:
    assert is_internal(address) is internal


def test_a_loopback_server_is_refused_before_anything_is_sent(server: _Server) -> None:
    port = server.server_address[1]
    before = len(server.hits)
    with client() as http, pytest.raises(InternalAddressError) as refused:
        http.get(f"http://127.0.0.1:{port}/secret")
    assert (refused.value.host, refused.value.address) == ("127.0.0.1", "127.0.0.1")
    assert str(refused.value) == "127.0.0.1 is an internal address"
    assert len(server.hits) == before


def test_a_name_resolving_inward_is_refused_under_its_name_and_address(server: _Server) -> None:
    port = server.server_address[1]
    with client() as http, pytest.raises(InternalAddressError) as refused:
        http.get(f"http://localhost:{port}/secret")
    assert refused.value.host == "localhost" and is_internal(refused.value.address)
    assert str(refused.value).startswith("localhost (")


def test_an_allowed_internal_address_is_read_and_a_redirect_elsewhere_inward_is_refused_at_the_hop(
    server: _Server,
) -> None:
    port = server.server_address[1]
    with client(frozenset({"127.0.0.1"})) as http:
        assert http.get(f"http://127.0.0.1:{port}/page").text == "hello"
        before = len(server.hits)
        with pytest.raises(InternalAddressError) as refused:
            http.get(f"http://127.0.0.1:{port}/to/169.254.169.254/latest/meta-data/")
    assert refused.value.address == "169.254.169.254"
    assert server.hits[before:] == ["/to/169.254.169.254/latest/meta-data/"]  # the first hop only


def test_the_operators_internal_hosts_are_the_ones_they_resolve_to() -> None:
    assert internal_addresses_of(["127.0.0.1", "localhost"]) >= {"127.0.0.1"}
    assert internal_addresses_of(["no-such-host.invalid"]) == frozenset()


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("", False)],
)
def test_private_addresses_are_allowed_only_when_the_variable_says_so(
    monkeypatch: pytest.MonkeyPatch, value: str, allowed: bool
) -> None:
    monkeypatch.setenv("PELLACIA_FEEDS_ALLOW_PRIVATE", value)
    assert private_allowed("PELLACIA_FEEDS_ALLOW_PRIVATE") is allowed
