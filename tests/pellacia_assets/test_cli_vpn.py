"""`pellacia-dist test vpn`: every configured exit (real microsocks and tinyproxy, a dead port, a listener
that never answers) checked against the platform sandboxes' hosts; up or down, latency, which hosts
answer, and never a proxy's password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS
from resources.platforms.exits import all_exits, host_of, platform_roots, pool_from_env
from sandbox.platforms import SandboxSuite
from tests.proxies import (
    HTTP_PASSWORD,
    SOCKS_PASSWORD,
    USER,
    Proxy,
    free_port,
    hanging_listener,
)


@pytest.fixture
def exits_file(
    sandboxes: SandboxSuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_exit: Proxy
) -> Path:
    """The NL exit (tinyproxy) for TikTok and X, a dead RO exit for every platform; TikTok's own
    variable adds microsocks."""
    path = tmp_path / "exits.yaml"
    path.write_text(
        f"- {{name: nl-free, url: '{http_exit.url}', country: NL, platforms: [tiktok, x]}}\n"
        f"- {{name: ro-free, url: 'socks5://127.0.0.1:{free_port()}', country: RO}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PELLACIA_PROXIES_FILE", str(path))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["test", "vpn", "--json", "--timeout", "1", *arguments])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, json.loads(captured.out)["exits"]


def test_json_lists_every_exit_up_or_down_with_latency_and_hosts(
    exits_file: Path,
    socks_exit: Proxy,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PELLACIA_TIKTOK_PROXIES", socks_exit.url)
    code, exits = run_json(capsys)
    assert code == 1  # the RO exit is down
    by_name = {str(report["name"]): report for report in exits}
    assert list(by_name) == [f"socks5h://127.0.0.1:{socks_exit.port}", "nl-free", "ro-free"]

    socks = by_name[f"socks5h://127.0.0.1:{socks_exit.port}"]
    assert socks["up"] is True and socks["error"] is None and socks["country"] is None
    assert isinstance(socks["latency_ms"], float) and socks["latency_ms"] > 0
    assert socks["url"] == f"socks5h://***@127.0.0.1:{socks_exit.port}"
    tiktok_hosts = [host_of(root) for root in platform_roots("tiktok")]
    assert socks["platforms"] == {"tiktok": {"answers": True, "hosts": tiktok_hosts}}
    assert socks["hosts"] == {host_of(root): "ok" for root in platform_roots("tiktok")}

    nl = by_name["nl-free"]
    assert nl["up"] is True and nl["country"] == "NL"
    x_hosts = [host_of(root) for root in platform_roots("x")]
    assert nl["platforms"] == {
        "tiktok": {"answers": True, "hosts": tiktok_hosts},
        "x": {"answers": True, "hosts": x_hosts},
    }
    roots = [*platform_roots("tiktok"), *platform_roots("x")]
    assert nl["hosts"] == {host_of(root): "ok" for root in roots}

    ro = by_name["ro-free"]
    assert ro["up"] is False and ro["latency_ms"] is None and ro["country"] == "RO"
    assert isinstance(ro["platforms"], dict) and list(ro["platforms"]) == list(PLATFORMS)
    assert not any(platform["answers"] for platform in ro["platforms"].values())
    assert isinstance(ro["error"], str) and ro["error"].endswith("is unreachable: connection refused")
    assert ro["backoff"] is None
    printed = json.dumps(exits)
    assert SOCKS_PASSWORD not in printed and HTTP_PASSWORD not in printed and USER not in printed


def test_one_platform_is_checked_against_its_own_hosts(
    exits_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, exits = run_json(capsys, "--platform", "x")
    assert code == 1
    assert [(report["name"], report["up"]) for report in exits] == [("nl-free", True), ("ro-free", False)]
    hosts = [host_of(root) for root in platform_roots("x")]
    assert exits[0]["platforms"] == {"x": {"answers": True, "hosts": hosts}}
    assert exits[0]["hosts"] == {host_of(root): "ok" for root in platform_roots("x")}


def test_all_up_exits_zero_and_the_text_names_hosts_without_secrets(
    sandboxes: SandboxSuite,
    socks_exit: Proxy,
    http_exit: Proxy,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PELLACIA_YOUTUBE_PROXIES", f"{socks_exit.url},{http_exit.url}")
    assert main(["test", "vpn", "--platform", "youtube"]) == 0
    out = capsys.readouterr().out
    assert f"socks5h://127.0.0.1:{socks_exit.port} (socks5h://***@127.0.0.1:{socks_exit.port}): up, " in out
    assert f"http://127.0.0.1:{http_exit.port} (http://***@127.0.0.1:{http_exit.port}): up, " in out
    hosts = ", ".join(host_of(root) for root in platform_roots("youtube"))
    assert out.count(f"\n  youtube: answers ({hosts})\n") == 2
    assert SOCKS_PASSWORD not in out and HTTP_PASSWORD not in out


def test_a_hanging_exit_and_refused_credentials_are_down_with_their_reason(
    sandboxes: SandboxSuite,
    http_exit: Proxy,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hanging_listener() as address:
        monkeypatch.setenv(
            "PELLACIA_LINKEDIN_PROXIES", f"socks5://{address},{http_exit.url_with(USER, 'wrong')}"
        )
        code, exits = run_json(capsys, "--platform", "linkedin")
    assert code == 1
    assert [report["error"] for report in exits] == [
        "the proxy did not answer within 1 s",
        "the proxy refused the credentials (401: Unauthorized)",
    ]


def test_an_exit_the_factory_backs_off_says_until_when(
    exits_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = pool_from_env(Settings.from_env().home)
    [ro] = [exit for exit in all_exits() if exit.name == "ro-free"]
    pool.failed(ro, "connection lost mid-upload")
    _code, exits = run_json(capsys, "--platform", "youtube")
    [report] = exits
    backoff = report["backoff"]
    assert isinstance(backoff, dict) and backoff["failures"] == 1
    assert backoff["reason"] == "connection lost mid-upload" and backoff["retry_at"]


def test_no_exit_configured_is_refused_with_the_variables_to_set(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PELLACIA_PROXIES_FILE", raising=False)
    for platform in PLATFORMS:
        monkeypatch.delenv(f"PELLACIA_{platform.upper()}_PROXIES", raising=False)
    assert main(["test", "vpn"]) == 2
    assert capsys.readouterr().err == (
        "pellacia-dist: no VPN/proxy exit is configured: set PELLACIA_<PLATFORM>_PROXIES or "
        "PELLACIA_PROXIES_FILE\n"
    )
    assert main(["test", "vpn", "--platform", "tiktok"]) == 2
    assert "set PELLACIA_TIKTOK_PROXIES or PELLACIA_PROXIES_FILE" in capsys.readouterr().err


def test_a_bad_exit_is_one_line_without_the_password(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PELLACIA_PROXIES_FILE", raising=False)
    monkeypatch.setenv("PELLACIA_X_PROXIES", "socks4://me:hunter22@127.0.0.1:1080")
    assert main(["test", "vpn", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("pellacia-dist: PELLACIA_X_PROXIES: 'socks4://***@127.0.0.1:1080' is not")
    assert captured.err.count("\n") == 1 and "hunter22" not in captured.err
    assert main(["test", "vpn", "--platform", "tiktock"]) == 2
    assert "unknown platform 'tiktock'" in capsys.readouterr().err
