"""The shared transport against a local server: waits, refresh on 401, ambiguity, redaction, streaming."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from resources.database.engine import open_database
from resources.platforms.budget import RateGate, snapshot, throttled
from resources.platforms.credentials import AccountTokens, TokenSet
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError
from resources.platforms.http import PlatformHttp, RetryPolicy, file_chunks, meta_regain_minutes, wait_hint
from sandbox.common import Fault, Request, Response, Route, SandboxServer, TokenGrant, bearer_token, running


class EchoServer(SandboxServer):
    """A minimal protocol: GET /thing needs a valid token; PUT /blob stores the streamed body."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.valid_token = "good-token"
        self.received: list[tuple[int, str]] = []

    def routes(self) -> list[Route]:
        return [("GET", "/thing", "thing", self.thing), ("PUT", "/blob", "blob", self.blob)]

    def issue_tokens(self) -> TokenGrant:
        return TokenGrant(self.valid_token, "unused", time.time() + 3600)

    def thing(self, request: Request) -> Response:
        if bearer_token(request) != self.valid_token:
            return Response(401, {"error": "expired"})
        return Response(200, {"ok": True})

    def blob(self, request: Request) -> Response:
        digest = hashlib.sha256()
        with (self.data_dir / "blob").open("wb") as target:
            size = request.copy_body_to(target, digest)
        self.received.append((size, digest.hexdigest()))
        return Response(201, {"size": size})


def classify(response: httpx.Response) -> PlatformError | None:
    if response.status_code < 400:
        return None
    if response.status_code == 401:
        return PlatformError("echo", ErrorKind.AUTH, "token refused", status=401)
    if response.status_code == 429:
        return PlatformError(
            "echo", ErrorKind.RATE_LIMIT, "slow down", status=429, retry_after_s=wait_hint(response)
        )
    if response.status_code >= 500:
        return PlatformError(
            "echo", ErrorKind.RETRYABLE, f"HTTP {response.status_code}", status=response.status_code
        )
    return PlatformError("echo", ErrorKind.INVALID_MEDIA, response.text, status=response.status_code)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EchoServer]:
    with running(EchoServer(tmp_path / "server")) as echo:
        yield echo


def transport(tokens: AccountTokens | None = None, waits: list[float] | None = None) -> PlatformHttp:
    record = waits if waits is not None else []
    return PlatformHttp(
        "echo", classify, tokens=tokens, sleep=record.append, retry=RetryPolicy(max_attempts=4)
    )


def test_rate_limit_waits_what_the_platform_says(server: EchoServer) -> None:
    server.inject(Fault("thing", status=429, headers={"Retry-After": "7"}, body={"e": 1}))
    waits: list[float] = []
    tokens = AccountTokens("echo", "a", TokenSet("good-token"), None, None)
    assert transport(tokens, waits).request("GET", f"{server.base_url}/thing").json() == {"ok": True}
    assert waits == [7.0]


def test_x_rate_limit_reset_and_meta_usage_headers() -> None:
    now = time.time()
    reset = httpx.Response(
        429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(now) + 30)}
    )
    assert 29 <= (wait_hint(reset, now=now) or 0) <= 31
    usage = {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    meta = httpx.Response(400, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    assert wait_hint(meta) == 180.0
    assert meta_regain_minutes({"x-app-usage": '{"call_count": 28}'}) is None


def test_401_refreshes_once_and_persists(server: EchoServer) -> None:
    saved: list[TokenSet] = []

    class Store:
        def load(self, platform: str, account: str) -> TokenSet | None:
            return None

        def save(self, platform: str, account: str, tokens: TokenSet) -> None:
            saved.append(tokens)

    tokens = AccountTokens(
        "echo", "a", TokenSet("stale", "refresh-1"), lambda t: TokenSet("good-token", "r2"), Store()
    )
    assert transport(tokens).request("GET", f"{server.base_url}/thing").status_code == 200
    assert saved == [TokenSet("good-token", "r2")]
    server.valid_token = "something-else"
    with pytest.raises(PlatformError) as raised:
        transport(tokens).request("GET", f"{server.base_url}/thing")
    assert raised.value.kind is ErrorKind.AUTH
    assert "good-token" not in str(raised.value)


def test_5xx_is_retried_but_a_create_call_is_ambiguous(server: EchoServer) -> None:
    server.inject(Fault("thing", status=503, body={}))
    tokens = AccountTokens("echo", "a", TokenSet("good-token"), None, None)
    waits: list[float] = []
    assert transport(tokens, waits).request("GET", f"{server.base_url}/thing").status_code == 200
    assert len(waits) == 1
    server.inject(Fault("thing", kind="drop"))
    with pytest.raises(AmbiguousOutcomeError):
        transport(tokens).request("GET", f"{server.base_url}/thing", creates=True)


def test_streamed_upload_is_byte_exact(server: EchoServer, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 40_000)
    offset, length = 1000, 5_000_000
    response = transport().request(
        "PUT",
        f"{server.base_url}/blob",
        authenticated=False,
        headers={"Content-Length": str(length)},
        content=file_chunks(source, offset, length),
    )
    assert response.status_code == 201
    expected = hashlib.sha256(source.read_bytes()[offset : offset + length]).hexdigest()
    assert server.received == [(length, expected)]


def test_waits_longer_than_the_limit_stop_with_a_clear_error(server: EchoServer) -> None:
    server.inject(Fault("thing", status=429, headers={"Retry-After": "3600"}, body={}))
    tokens = AccountTokens("echo", "a", TokenSet("good-token"), None, None)
    with pytest.raises(PlatformError, match="asked to wait 3600 s; try later"):
        transport(tokens).request("GET", f"{server.base_url}/thing")


def test_a_metered_call_waits_its_429_out_through_the_shared_budget(
    server: EchoServer, tmp_path: Path
) -> None:
    """With a rate gate, a 429's Retry-After blocks the account's budget: the next try waits there (once,
    not also by backoff), and the 429 is counted in the database every process shares."""
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    waits: list[float] = []
    gate = RateGate(factory, "x", "me", waits.append)
    http = PlatformHttp(
        "x", classify, tokens=AccountTokens("x", "me", TokenSet("good-token"), None, None),
        sleep=waits.append, retry=RetryPolicy(max_attempts=4), gate=gate,
    )  # fmt: skip
    server.inject(Fault("thing", status=429, headers={"Retry-After": "7"}, body={"e": 1}))
    assert http.request("GET", f"{server.base_url}/thing", call="tweets.analytics").json() == {"ok": True}
    assert len(waits) == 1 and 6.0 <= waits[0] <= 7.0
    assert (gate.calls, gate.throttled) == (2, 1)
    assert throttled(factory, "x", "me") == 1
    used = snapshot(factory, "x", "me", "GET /2/tweets/analytics")
    assert used is not None and used["used"] == 2


def test_an_unmetered_call_leaves_the_budget_alone(server: EchoServer, tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    gate = RateGate(factory, "x", "me", lambda _s: None)
    http = PlatformHttp(
        "x", classify, tokens=AccountTokens("x", "me", TokenSet("good-token"), None, None), gate=gate
    )
    http.request("GET", f"{server.base_url}/thing")
    assert gate.calls == 0
    assert snapshot(factory, "x", "me", "GET /2/tweets/analytics") is None


def test_a_region_block_is_a_refusal_on_this_network_never_retried_nor_ambiguous(server: EchoServer) -> None:
    server.block_region(["127.0.0.1"])
    waits: list[float] = []
    with pytest.raises(PlatformError) as raised:
        transport(None, waits).request("PUT", f"{server.base_url}/blob", content=b"x", creates=True)
    error = raised.value
    assert not isinstance(error, AmbiguousOutcomeError)
    assert (error.kind, error.code, error.status) == (ErrorKind.POLICY, "region_blocked", 451)
    assert "PUT /blob: not available from this network (HTTP 451, region blocked)" in str(error)
    assert waits == [] and server.received == []


def test_a_refused_connection_on_a_create_is_retried_not_ambiguous(tmp_path: Path) -> None:
    with running(EchoServer(tmp_path / "gone")) as gone:
        url = f"{gone.base_url}/blob"
    waits: list[float] = []
    with pytest.raises(PlatformError) as raised:
        transport(None, waits).request("PUT", url, content=b"x", creates=True)
    assert not isinstance(raised.value, AmbiguousOutcomeError)
    assert raised.value.kind is ErrorKind.RETRYABLE and "ConnectError" in str(raised.value)
    assert len(waits) == 3  # four attempts: nothing was sent, so trying again cannot post twice
