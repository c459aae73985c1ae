"""VPN/proxy exits: configuration (variables and the proxies file), health through real microsocks and
tinyproxy against a real sandbox's hosts, and the pool that skips a failed exit with backoff."""

from __future__ import annotations

import http.server
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from resources.platforms import PLATFORMS
from resources.platforms.config import PlatformSettings
from resources.platforms.exits import (
    OK,
    Exit,
    ExitConfigError,
    ExitPool,
    all_exits,
    check_exit,
    exits_for,
    host_of,
    parse_proxy_url,
    platform_roots,
    pool_from_env,
)
from sandbox.common import running as sandbox_running
from sandbox.youtube import YouTubeSandbox
from tests.proxies import (
    USER,
    Proxy,
    free_port,
    hanging_listener,
    microsocks,
    running,
)
from tests.resources.alerts.smtp_server import make_certificate

TIMEOUT_S = 1.0


# --- configuration ----------------------------------------------------------------------------------------


def test_the_platform_variables_list_its_exits_in_order() -> None:
    environ = {
        "PELLACIA_TIKTOK_PROXIES": " socks5://127.0.0.1:1080, http://user:p4ss@proxy.example:3128 ,",
        "PELLACIA_YOUTUBE_PROXIES": "socks5h://vpn.example:1080",
    }
    tiktok = exits_for("tiktok", environ)
    assert [(exit.name, exit.safe_url, exit.platforms) for exit in tiktok] == [
        ("socks5://127.0.0.1:1080", "socks5://127.0.0.1:1080", ("tiktok",)),
        ("http://proxy.example:3128", "http://***@proxy.example:3128", ("tiktok",)),
    ]
    assert tiktok[1].address.username == "user" and tiktok[1].address.password == "p4ss"
    assert "p4ss" not in repr(tiktok[1]) and "p4ss" not in repr(tiktok[1].address)
    assert [exit.name for exit in exits_for("youtube", environ)] == ["socks5h://vpn.example:1080"]
    assert exits_for("x", environ) == []


def test_the_proxies_file_names_countries_and_platforms(tmp_path: Path) -> None:
    exits_file = tmp_path / "exits.yaml"
    exits_file.write_text(
        "# the plan's free VPN exits\n"
        "- {name: nl-free, url: 'socks5h://127.0.0.1:1081', country: nl}\n"
        "- name: jp-free\n  url: http://me:s%40cret@127.0.0.1:3128\n  country: JP\n  platforms: [tiktok, x]\n"
        "- {name: ro-free, url: 'socks5://127.0.0.1:1083', country: RO, platforms: all}\n",
        encoding="utf-8",
    )
    environ = {
        "PELLACIA_PROXIES_FILE": str(exits_file),
        "PELLACIA_TIKTOK_PROXIES": "socks5://127.0.0.1:1080",
        "PELLACIA_X_PROXIES": "socks5h://127.0.0.1:1081",  # the NL exit again: one exit
    }
    assert [exit.name for exit in exits_for("tiktok", environ)] == [
        "socks5://127.0.0.1:1080", "nl-free", "jp-free", "ro-free",
    ]  # fmt: skip
    assert [exit.name for exit in exits_for("youtube", environ)] == ["nl-free", "ro-free"]
    every = {exit.name: exit for exit in all_exits(environ)}
    assert list(every) == ["socks5://127.0.0.1:1080", "nl-free", "jp-free", "ro-free"]
    assert every["nl-free"].country == "NL" and every["nl-free"].platforms == PLATFORMS
    assert every["jp-free"].platforms == ("tiktok", "x")
    assert every["jp-free"].address.password == "s@cret"  # percent-decoded
    assert every["jp-free"].safe_url == "http://***@127.0.0.1:3128"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ftp://user:hunter22@127.0.0.1:21", "'ftp://***@127.0.0.1:21' is not a proxy URL"),
        ("socks4://127.0.0.1:1080", "'socks4://127.0.0.1:1080' is not a proxy URL"),
        ("127.0.0.1:1080", "'127.0.0.1:1080' is not a proxy URL"),
        ("http://user:hunter22@proxy.example", "'http://***@proxy.example' needs a host and a port"),
        ("socks5://127.0.0.1:99999", "'socks5://127.0.0.1:99999' is not a proxy URL (Port out of range"),
        ("http://127.0.0.1:3128/path", "'http://127.0.0.1:3128/path' has a path"),
    ],
)
def test_a_bad_proxy_url_is_one_line_that_hides_the_credentials(value: str, expected: str) -> None:
    with pytest.raises(ExitConfigError) as raised:
        exits_for("tiktok", {"PELLACIA_TIKTOK_PROXIES": f"socks5://127.0.0.1:1080,{value}"})
    message = str(raised.value)
    assert message.startswith(f"PELLACIA_TIKTOK_PROXIES: {expected}"), message
    assert "socks5, socks5h or http" in message
    assert "hunter22" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- name: nl\n  url: [unclosed\n", "not valid YAML at line 3"),
        ("name: nl\nurl: socks5://h:1\n", "expected a list of exits"),
        ("- socks5://127.0.0.1:1080\n", "exit 1: expected a mapping"),
        ("- {url: 'socks5://u:hunter22@127.0.0.1:1'}\n", "exit 1: needs a name"),
        ("- {name: nl, country: NL}\n", "exit 'nl': needs a url"),
        ("- {name: nl, url: 'htp://u:hunter22@h:1'}\n", "exit 'nl': 'htp://***@h:1' is not a proxy URL"),
        (
            "- {name: nl, url: 'socks5://h:1', platforms: [tiktock]}\n",
            "exit 'nl': unknown platform 'tiktock'",
        ),
        ("- {name: nl, url: 'socks5://h:1', platforms: tiktok}\n", "platforms must be 'all' or a list"),
        ("- {name: nl, url: 'socks5://h:1', region: eu}\n", "exit 'nl': unknown field region"),
        (
            "- {name: nl, url: 'socks5://h:1'}\n- {name: nl, url: 'socks5://h:2'}\n",
            "two exits are named 'nl'",
        ),
    ],
)
def test_a_bad_proxies_file_is_one_line_without_secrets(tmp_path: Path, content: str, expected: str) -> None:
    exits_file = tmp_path / "exits.yaml"
    exits_file.write_text(content, encoding="utf-8")
    with pytest.raises(ExitConfigError) as raised:
        all_exits({"PELLACIA_PROXIES_FILE": str(exits_file)})
    message = str(raised.value)
    assert message.startswith(f"PELLACIA_PROXIES_FILE ({exits_file})"), message
    assert expected in message and "hunter22" not in message and "\n" not in message


def test_a_missing_proxies_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExitConfigError, match=r"\(/nowhere/exits.yaml\): no such file$"):
        all_exits({"PELLACIA_PROXIES_FILE": "/nowhere/exits.yaml"})
    (tmp_path / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert all_exits({"PELLACIA_PROXIES_FILE": str(tmp_path / "empty.yaml")}) == []


def test_proxy_urls_stay_out_of_the_clients_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """PELLACIA_<P>_PROXIES carries credentials: like a token it must not reach PlatformSettings.options,
    which the Dagster resource shows in the UI."""
    monkeypatch.setenv("PELLACIA_TIKTOK_PROXIES", "http://user:hunter22@proxy.example:3128")
    assert "proxies" not in PlatformSettings.from_env("tiktok").options


def test_the_hosts_to_check_are_the_clients_configured_roots() -> None:
    assert platform_roots("tiktok", {}) == ["https://open.tiktokapis.com"]
    assert platform_roots("youtube", {"PELLACIA_YOUTUBE_API_URL": "http://127.0.0.1:9000"}) == [
        "http://127.0.0.1:9000",
        "https://youtube.googleapis.com",
        "https://oauth2.googleapis.com",
        "https://youtubeanalytics.googleapis.com",
    ]
    assert [host_of(root) for root in ("https://api.x.com", "http://127.0.0.1:9000/v2")] == [
        "api.x.com",
        "127.0.0.1:9000",
    ]
    assert parse_proxy_url("socks5h://vpn:1080").pysocks()[3] is True  # the exit resolves names
    assert parse_proxy_url("socks5://vpn:1080").pysocks()[3] is False


# --- health -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def youtube_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The four configured roots of a running YouTube sandbox (three hosts, each on its own port)."""
    with sandbox_running(YouTubeSandbox(tmp_path_factory.mktemp("youtube"))) as sandbox:
        yield [sandbox.url(root) for root in sandbox.configured_roots]


@pytest.fixture(scope="module")
def open_socks_exit() -> Iterator[Proxy]:
    with running(microsocks()) as proxy:
        yield proxy


def exit_at(url: str, name: str = "exit") -> Exit:
    return Exit(name, url, None, PLATFORMS)


@pytest.mark.parametrize("kind", ["open_socks_exit", "socks_exit", "http_exit"])
def test_a_live_exit_is_up_with_every_host_answering_through_it(
    kind: str, youtube_hosts: list[str], request: pytest.FixtureRequest
) -> None:
    proxy: Proxy = request.getfixturevalue(kind)
    health = check_exit(exit_at(proxy.url), youtube_hosts, TIMEOUT_S)
    assert health.up and health.error is None
    assert health.hosts == dict.fromkeys({host_of(root) for root in youtube_hosts}, OK)
    assert health.latency_ms is not None and 0 < health.latency_ms < 1000


@pytest.mark.parametrize(
    ("kind", "credentials", "expected"),
    [
        ("socks_exit", (USER, "wrong"), "the proxy refused the credentials (SOCKS5 authentication failed)"),
        ("socks_exit", (None, None), "the proxy refused the credentials (All offered SOCKS5 authentication"),
        ("http_exit", (USER, "wrong"), "the proxy refused the credentials (401: Unauthorized)"),
        ("http_exit", (None, None), "the proxy refused the credentials (407: Proxy Authentication Required)"),
    ],
)
def test_an_exit_that_refuses_the_credentials_is_down_and_says_so(
    kind: str,
    credentials: tuple[str | None, str | None],
    expected: str,
    youtube_hosts: list[str],
    request: pytest.FixtureRequest,
) -> None:
    proxy: Proxy = request.getfixturevalue(kind)
    health = check_exit(exit_at(proxy.url_with(*credentials)), youtube_hosts, TIMEOUT_S)
    assert not health.up and health.latency_ms is None
    assert health.error is not None and health.error.startswith(expected), health.error
    assert set(health.hosts.values()) == {health.error}
    assert "wrong" not in health.error


def test_a_dead_port_is_down_at_once(youtube_hosts: list[str]) -> None:
    started = time.monotonic()
    port = free_port()
    health = check_exit(exit_at(f"socks5://127.0.0.1:{port}"), youtube_hosts, TIMEOUT_S)
    assert time.monotonic() - started < TIMEOUT_S
    assert not health.up
    assert health.error == f"the proxy at 127.0.0.1:{port} is unreachable: connection refused"


@pytest.mark.parametrize("scheme", ["socks5", "http"])
def test_an_exit_that_hangs_times_out_instead_of_hanging(scheme: str, youtube_hosts: list[str]) -> None:
    with hanging_listener() as address:
        started = time.monotonic()
        health = check_exit(exit_at(f"{scheme}://{address}"), youtube_hosts, TIMEOUT_S)
        elapsed = time.monotonic() - started
    assert TIMEOUT_S * 0.9 < elapsed < TIMEOUT_S * 2.5
    assert not health.up and health.error == "the proxy did not answer within 1 s"


def test_a_host_the_exit_cannot_reach_is_named_and_the_others_answer(
    http_exit: Proxy, socks_exit: Proxy, youtube_hosts: list[str]
) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    via_http = check_exit(exit_at(http_exit.url), [*youtube_hosts, gone], TIMEOUT_S)
    assert not via_http.up and via_http.latency_ms is not None
    assert via_http.hosts[host_of(gone)] == "the proxy could not reach the host (500: Unable to connect)"
    hosts = len(via_http.hosts)
    assert hosts == 5  # the sandbox's api, upload, oauth and analytics hosts, and the gone one
    assert via_http.error == (
        f"1 of {hosts} hosts did not answer through it ({host_of(gone)}: {via_http.hosts[host_of(gone)]})"
    )
    assert sum(status == OK for status in via_http.hosts.values()) == hosts - 1
    via_socks = check_exit(exit_at(socks_exit.url), [gone], TIMEOUT_S)
    assert via_socks.error == "the proxy could not reach the host (0x05: Connection refused)"


@pytest.fixture
def https_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTPS server for `localhost`, trusted through SSL_CERT_FILE as a public host's CA is."""
    certificate = make_certificate(tmp_path / "tls", hosts=("localhost",))
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_file))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = certificate.server_context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_host_answers_through_the_tunnel_with_its_certificate_checked(
    https_host: str, socks_exit: Proxy, http_exit: Proxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for proxy in (socks_exit, http_exit):
        assert check_exit(exit_at(proxy.url), [https_host], TIMEOUT_S).hosts == {host_of(https_host): OK}
    stranger = make_certificate(tmp_path / "other-ca", hosts=("localhost",))
    monkeypatch.setenv("SSL_CERT_FILE", str(stranger.cert_file))
    refused = check_exit(exit_at(socks_exit.url), [https_host], TIMEOUT_S)
    assert refused.error is not None and refused.error.startswith("TLS failed: CERTIFICATE_VERIFY_FAILED")


# --- the pool ---------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def pool_of(exits: list[Exit], state: Path, hosts: list[str], clock: Clock) -> ExitPool:
    return ExitPool(
        exits, state, hosts=lambda _platform: hosts, timeout_s=TIMEOUT_S, backoff_s=60, clock=clock
    )


def test_the_pool_skips_a_dead_exit_and_backs_it_off_exponentially(
    tmp_path: Path, open_socks_exit: Proxy, youtube_hosts: list[str]
) -> None:
    dead = Exit("dead", f"socks5://127.0.0.1:{free_port()}", "RO", PLATFORMS)
    live = Exit("live", open_socks_exit.url, "NL", PLATFORMS)
    clock, state = Clock(), tmp_path / "exits.json"
    pool = pool_of([dead, live], state, youtube_hosts, clock)
    assert pool.choose("youtube") == live
    record = pool.records()["dead"]
    assert record.failures == 1 and record.retry_at == clock.now + 60
    assert record.reason is not None and "unreachable: connection refused" in record.reason
    assert pool.ordered("youtube") == [live]  # still backing off: not even checked
    clock.now += 61
    assert pool.ordered("youtube") == [live, dead]  # known-healthy first, then the one to retry
    pool.failed(live, "connection lost mid-upload")
    assert pool.choose("youtube") is None  # the dead one retried and failed again; live backs off
    assert pool.records()["dead"].failures == 2 and pool.records()["dead"].retry_at == clock.now + 120
    clock.now += 61
    assert pool.choose("youtube") == live
    pool.succeeded(live)
    assert pool.records()["live"].failures == 0 and pool.records()["live"].retry_at == 0


def test_the_quickest_healthy_exit_comes_first(tmp_path: Path, youtube_hosts: list[str]) -> None:
    first, second, third = (Exit(name, f"socks5://127.0.0.1:{port}", None, PLATFORMS) for name, port in
                            (("a", 1), ("b", 2), ("c", 3)))  # fmt: skip
    state = tmp_path / "exits.json"
    state.write_text(json.dumps({"exits": {
        "a": {"failures": 0, "retry_at": 0, "reason": None, "healthy_at": 5, "latency_ms": 80.0},
        "c": {"failures": 0, "retry_at": 0, "reason": None, "healthy_at": 5, "latency_ms": 20.0},
    }}))  # fmt: skip
    pool = pool_of([first, second, third], state, youtube_hosts, Clock())
    assert pool.ordered("youtube") == [third, first, second]
    only_x = Exit("x-only", "socks5://127.0.0.1:4", None, ("x",))
    assert pool_of([only_x], state, youtube_hosts, Clock()).ordered("youtube") == []


def test_another_process_sees_the_backoff(tmp_path: Path, youtube_hosts: list[str]) -> None:
    home = tmp_path / "home"
    environ = {"PELLACIA_TIKTOK_PROXIES": f"socks5://127.0.0.1:{free_port()}"}
    [dead] = all_exits(environ)
    pool_from_env(home, environ).failed(dead, "connection refused")
    script = (
        "import sys; from pathlib import Path; from resources.platforms.exits import pool_from_env; "
        "pool = pool_from_env(Path(sys.argv[1]), {'PELLACIA_TIKTOK_PROXIES': sys.argv[2]}); "
        "print(len(pool.ordered('tiktok')))"
    )
    seen = subprocess.run(
        [sys.executable, "-c", script, str(home), dead.url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    )
    assert seen.stdout.strip() == "0"
    assert json.loads((home / "exits.json").read_text())["exits"][dead.name]["failures"] == 1


def test_an_unreadable_state_file_starts_afresh(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "exits.json"
    state.write_text("{not json")
    pool = pool_of([exit_at("socks5://127.0.0.1:1")], state, [], Clock())
    with caplog.at_level(logging.WARNING, logger="pellacia.exits"):
        assert pool.ordered("tiktok") == [exit_at("socks5://127.0.0.1:1")]
    assert "is unreadable" in caplog.text
    pool.failed(exit_at("socks5://127.0.0.1:1"), "refused")
    assert json.loads(state.read_text())["exits"]["exit"]["failures"] == 1
