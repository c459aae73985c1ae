"""`upload ... --test`'s dry run (pellacia_assets/preflight.py and its printer) against the six platform
sandboxes, real proxies (microsocks) and, for the browser session, the TikTok web sandbox in Chromium:
limits, credentials, the fallback order, the exits and the session each say ✓, ✗ or –, and nothing is
posted or written to the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pellacia_assets.cli.preflight import print_preflight
from pellacia_assets.preflight import Check, preflight
from pellacia_assets.settings import Settings
from resources.browser.sessions import SessionStore
from resources.database.engine import open_database
from resources.database.models import LedgerEntry, ManualQueueItem
from resources.platforms import PLATFORMS
from resources.platforms.base import VideoPost
from resources.platforms.exits import parse_proxy_url
from sandbox.common import running
from sandbox.platforms import SandboxSuite, web_environment
from sandbox.web.tiktok import TikTokWebSandbox
from tests.conftest import render_test_video
from tests.proxies import Proxy, free_port
from tests.resources.browser.helpers import store_session


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_test_video(tmp_path_factory.mktemp("media") / "short.mp4", seconds=4.0)


def post_of(video: Path, title: str) -> VideoPost:
    return VideoPost(video, title, "A short story.", ("#storytime",))


def run(platform: str, video: Path, title: str = "The lighthouse keeper") -> dict[str, Check]:
    settings = Settings.from_env()
    checks = preflight(platform, post_of(video, title), settings.database_url, settings.home)
    return {check.name: check for check in checks}


def exit_name(url: str) -> str:
    """How an exit of PELLACIA_<P>_PROXIES is named: its scheme and endpoint, never its credentials."""
    address = parse_proxy_url(url)
    return f"{address.scheme}://{address.endpoint}"


def nothing_recorded(sandboxes: SandboxSuite) -> bool:
    factory = open_database(Settings.from_env().database_url)
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(LedgerEntry))
        queued = session.scalar(select(func.count()).select_from(ManualQueueItem))
    return rows == 0 and queued == 0 and all(server.posts == [] for server in sandboxes.servers.values())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_good_setup_passes_every_check(
    platform: str,
    sandboxes: SandboxSuite,
    socks_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(f"PELLACIA_{platform.upper()}_PROXIES", socks_exit.url)
    checks = run(platform, video)
    assert [check.ok for check in checks.values() if check.ok is not True] == [None]  # the browser session
    exit = f"exit {exit_name(socks_exit.url)}"
    assert list(checks) == ["limits", "credentials", "fallback order", exit, "browser session"]
    assert checks["fallback order"].detail.startswith("api -> api+proxy -> browser (")
    assert checks[exit].detail.endswith(" ms")
    assert checks[exit].detail.startswith("up, ")
    assert checks["browser session"].detail.startswith("not checked: no ")
    assert print_preflight({platform: list(checks.values())}, as_json=False) == 0
    out = capsys.readouterr().out
    assert f"{platform}: ready" in out and "  ✓ credentials" in out and "  – browser session" in out
    assert nothing_recorded(sandboxes)


def test_an_expired_token_fails_the_credentials_with_the_reason(
    sandboxes: SandboxSuite, video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandboxes.servers["tiktok"].expire_tokens()
    monkeypatch.delenv("PELLACIA_TIKTOK_REFRESH_TOKEN")
    checks = run("tiktok", video)
    assert checks["limits"].ok is True
    credentials = checks["credentials"]
    assert credentials.ok is False
    assert "was refused and there is no refresh token" in credentials.detail
    assert credentials.detail.endswith("[auth]")
    assert nothing_recorded(sandboxes)


def test_an_expired_token_is_refreshed_and_passes(sandboxes: SandboxSuite, video: Path) -> None:
    sandboxes.servers["youtube"].expire_tokens()
    assert run("youtube", video)["credentials"].ok is True


def test_an_over_long_title_fails_the_limits(sandboxes: SandboxSuite, video: Path) -> None:
    checks = run("youtube", video, title="A" * 101)
    assert checks["limits"].ok is False
    assert "title" in checks["limits"].detail and "100" in checks["limits"].detail
    assert checks["credentials"].ok is True
    assert nothing_recorded(sandboxes)


def test_a_dead_exit_fails_and_the_live_one_passes(
    sandboxes: SandboxSuite,
    socks_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead = f"socks5://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PELLACIA_X_PROXIES", f"{socks_exit.url},{dead}")
    checks = run("x", video)
    assert checks[f"exit {exit_name(socks_exit.url)}"].ok is True
    assert checks[f"exit {dead}"].ok is False
    assert "unreachable" in checks[f"exit {dead}"].detail
    assert print_preflight({"x": list(checks.values())}, as_json=True) == 1
    shown = json.loads(capsys.readouterr().out)
    assert [line["name"] for line in shown["x"]] == list(checks)
    assert {"name": f"exit {dead}", "ok": False, "detail": checks[f"exit {dead}"].detail} in shown["x"]


def test_a_broken_fallback_order_fails_and_a_browser_only_order_needs_no_tokens(
    sandboxes: SandboxSuite, video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_FACEBOOK_FALLBACK", "manual,api")
    broken = run("facebook", video)["fallback order"]
    assert broken.ok is False and "PELLACIA_FACEBOOK_FALLBACK" in broken.detail
    monkeypatch.delenv("PELLACIA_TIKTOK_ACCESS_TOKEN")
    monkeypatch.delenv("PELLACIA_TIKTOK_REFRESH_TOKEN")
    without_tokens = run("tiktok", video)
    assert without_tokens["credentials"].ok is False
    assert without_tokens["credentials"].detail.startswith("no tokens for account 'default'")
    assert without_tokens["limits"].ok is None
    monkeypatch.setenv("PELLACIA_TIKTOK_FALLBACK", "browser,manual")
    checks = run("tiktok", video)
    assert checks["credentials"].ok is None
    assert checks["fallback order"].detail == "browser (no browser session) -> manual"
    assert checks["exits"].ok is None


def test_the_printer_marks_each_check_and_fails_on_any_failure(capsys: pytest.CaptureFixture[str]) -> None:
    results = {
        "youtube": [Check("limits", True, "fine"), Check("exits", None, "none configured")],
        "x": [Check("credentials", False, "access token refused [auth]")],
    }
    assert print_preflight(results, as_json=False) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "youtube: ready",
        "  ✓ limits  fine",
        "  – exits   none configured",
        "x: 1 check failed",
        "  ✗ credentials  access token refused [auth]",
        "dry run: nothing was posted",
    ]
    assert print_preflight({"youtube": results["youtube"]}, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == {
        "youtube": [
            {"name": "limits", "ok": True, "detail": "fine"},
            {"name": "exits", "ok": None, "detail": "none configured"},
        ]
    }


@pytest.fixture
def tiktok_web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TikTokWebSandbox]:
    with running(TikTokWebSandbox(tmp_path / "tiktok-web")) as web:
        for name, value in web_environment("tiktok", web).items():
            monkeypatch.setenv(name, value)
        yield web


def test_a_stored_browser_session_is_checked_in_chromium(
    sandboxes: SandboxSuite, tiktok_web: TikTokWebSandbox, video: Path
) -> None:
    store_session(SessionStore.for_home(Settings.from_env().home), tiktok_web)
    healthy = run("tiktok", video)["browser session"]
    assert healthy.ok is True
    assert healthy.detail == f"ready to upload as @{tiktok_web.username}"
    tiktok_web.expire_sessions()
    expired = run("tiktok", video)["browser session"]
    assert expired.ok is False and "expired" in expired.detail
    assert nothing_recorded(sandboxes) and tiktok_web.posts == []
