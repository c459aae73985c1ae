"""The fallback chain end to end, through `pellacia-dist upload`: the platform sandboxes, TikTok's web pages
driven by real Chromium, and real exits (Debian's microsocks and tinyproxy), each connecting out from an
address of its own, so a sandbox refusing 127.0.0.1 (HTTP 451, a region block) refuses the direct path
only. Every post is counted on the platform: never twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.browser.sessions import SessionStore
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, ManualQueueItem
from resources.platforms.base import sha256_of
from sandbox.common import Request, running
from sandbox.platforms import SandboxSuite, web_environment
from sandbox.tiktok import TikTokSandbox
from sandbox.web.tiktok import TikTokWebSandbox
from sandbox.x import XSandbox
from tests.conftest import render_test_video
from tests.proxies import Peers, Proxy, microsocks
from tests.proxies import running as proxy_running
from tests.resources.browser.helpers import kill_our_chromium, store_session

pytestmark = pytest.mark.e2e
DIRECT = "127.0.0.1"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_test_video(tmp_path_factory.mktemp("fallback") / "short.mp4", seconds=4.0)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TikTokWebSandbox]:
    with running(TikTokWebSandbox(tmp_path / "tiktok-web")) as sandbox:
        yield sandbox


@pytest.fixture
def tiktok(
    sandboxes: SandboxSuite, web: TikTokWebSandbox, pellacia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> TikTokSandbox:
    """TikTok's API sandbox, its web pages with the account's browser session stored, no pauses."""
    for name, value in web_environment("tiktok", web).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PELLACIA_BROWSER_PACE", "0")
    store_session(SessionStore.for_home(pellacia_home), web)
    server = sandboxes.servers["tiktok"]
    assert isinstance(server, TikTokSandbox)
    return server


def with_exits(monkeypatch: pytest.MonkeyPatch, platform: str, *exits: Proxy) -> None:
    monkeypatch.setenv(f"PELLACIA_{platform.upper()}_PROXIES", ",".join(exit.url for exit in exits))


def upload(
    capsys: pytest.CaptureFixture[str], video: Path, platform: str = "tiktok", *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(
        ["upload", "--platform", platform, "--file", str(video), "--title", "Fallback", "--json", *extra]
    )
    [result] = json.loads(capsys.readouterr().out)["results"]
    return code, result


def manual_entries() -> list[ManualQueueItem]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        entries = list(session.scalars(select(ManualQueueItem).order_by(ManualQueueItem.id)))
        session.expunge_all()
    return entries


def ledger_ids(platform: str) -> dict[str, Any]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        [entry] = session.scalars(select(LedgerEntry).where(LedgerEntry.platform == platform))
        return dict(entry.platform_ids)


def test_api_refused_posts_through_an_exit(
    tiktok: TikTokSandbox,
    web: TikTokWebSandbox,
    socks_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tiktok.block_region([DIRECT])
    with_exits(monkeypatch, "tiktok", socks_exit)
    peers = Peers(tiktok)

    code, result = upload(capsys, video)

    assert code == 0 and result["status"] == "published" and result["via"] == "api+proxy", result["error"]
    assert [post["sha256"] for post in tiktok.posts] == [sha256_of(video)] and web.posts == []
    assert ("region_blocked", "POST") in tiktok.requests  # the direct try was refused first
    assert set(peers.addresses) == {DIRECT, socks_exit.bind}

    again, repeated = upload(capsys, video)
    assert again == 0 and repeated["already_published"] and repeated["via"] == "api+proxy"
    assert len(tiktok.posts) == 1


def test_api_and_exits_refused_posts_through_the_browser(
    tiktok: TikTokSandbox,
    web: TikTokWebSandbox,
    http_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tiktok.block_region(["*"])
    with_exits(monkeypatch, "tiktok", http_exit)

    code, result = upload(capsys, video)

    assert code == 0 and result["status"] == "published" and result["via"] == "browser", result
    assert tiktok.posts == [] and [post["sha256"] for post in web.posts] == [sha256_of(video)]
    assert result["url"].endswith(f"/video/{web.posts[0]['id']}")
    assert ledger_ids("tiktok")["fallback_paths"] == "browser"


def test_a_challenge_goes_to_the_manual_queue_with_its_screenshot_and_a_resolved_post_is_not_sent_again(
    tiktok: TikTokSandbox,
    web: TikTokWebSandbox,
    video: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tiktok.block_region(["*"])
    web.challenge_next("upload")

    code, result = upload(capsys, video)

    assert code == 1 and result["status"] == "manual", result
    [entry] = manual_entries()
    assert entry.reason == "captcha" and entry.id == result["manual_id"]
    assert "every path failed: api: " in entry.detail and "browser: " in entry.detail
    [folder] = [Path(path) for path in entry.artifacts or ()]
    assert (folder / "screenshot.png").stat().st_size > 0 and (folder / "trace.zip").is_file()
    assert tiktok.posts == [] and web.posts == []

    exported = tmp_path / "export"
    assert main(["manual", "export", "--id", str(entry.id), "--to", str(exported)]) == 0
    assert (exported / "browser" / folder.name / "screenshot.png").is_file()
    url = f"{web.base_url}/@{web.username}/video/7400000000000000001"
    assert main(["manual", "resolve", "--id", str(entry.id), "--post-url", url]) == 0
    capsys.readouterr()

    again, repeated = upload(capsys, video)
    assert again == 0 and repeated["status"] == "published" and repeated["already_published"]
    assert repeated["via"] == "manual" and repeated["url"] == url
    assert tiktok.posts == [] and web.posts == []


def test_an_expired_session_asks_a_person_to_log_in_again(
    tiktok: TikTokSandbox, web: TikTokWebSandbox, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiktok.block_region(["*"])
    web.expire_sessions()

    code, result = upload(capsys, video)

    assert code == 1 and result["status"] == "manual", result
    [entry] = manual_entries()
    assert entry.reason == "reauth"
    assert "log in again: pellacia-dist browser login tiktok" in entry.detail
    assert tiktok.posts == [] and web.posts == []


def test_a_browser_killed_after_post_is_reconciled_into_one_post(
    tiktok: TikTokSandbox, web: TikTokWebSandbox, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiktok.block_region(["*"])
    killed: list[int] = []

    def kill_on_post(request: Request, _seconds: float) -> None:
        if request.path == "/tiktokstudio/api/post" and not killed:
            killed.append(kill_our_chromium())

    web.observe(kill_on_post)

    code, result = upload(capsys, video)

    assert killed and killed[0] >= 1
    assert code == 0 and result["status"] == "published" and result["via"] == "browser", result
    assert len(web.posts) == 1 and result["url"].endswith(f"/video/{web.posts[0]['id']}")
    assert tiktok.posts == []


def test_an_exit_killed_mid_upload_resumes_through_another(
    sandboxes: SandboxSuite,
    http_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    x = sandboxes.servers["x"]
    assert isinstance(x, XSandbox)
    x.block_region([DIRECT])
    monkeypatch.setenv("PELLACIA_X_CHUNK_SIZE", str(256 * 1024))
    assert video.stat().st_size > 4 * 256 * 1024
    peers = Peers(x)
    with proxy_running(microsocks(bind="127.0.0.4")) as dying:
        with_exits(monkeypatch, "x", dying, http_exit)
        appends: list[str] = []

        def kill_after_two_segments(request: Request, _seconds: float) -> None:
            if request.path.endswith("/append"):
                appends.append(request.peer)
                if len(appends) == 2:
                    dying.kill()

        x.observe(kill_after_two_segments)
        code, result = upload(capsys, video, "x")

    assert code == 0 and result["status"] == "published" and result["via"] == "api+proxy", result["error"]
    assert appends[:2] == ["127.0.0.4", "127.0.0.4"] and set(appends[2:]) == {http_exit.bind}
    assert [post["sha256"] for post in x.posts] == [sha256_of(video)]
    assert set(peers.addresses) == {DIRECT, "127.0.0.4", http_exit.bind}
    assert ledger_ids("x")["fallback_exit"] == f"http://127.0.0.1:{http_exit.port}"


def test_force_vpn_fallback_goes_through_an_exit_though_the_direct_path_works(
    tiktok: TikTokSandbox,
    socks_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_exits(monkeypatch, "tiktok", socks_exit)
    peers = Peers(tiktok)

    code, result = upload(capsys, video, "tiktok", "--force-vpn-fallback")

    assert code == 0 and result["via"] == "api+proxy", result["error"]
    assert set(peers.addresses) == {socks_exit.bind} and len(tiktok.posts) == 1


def test_a_dry_run_checks_every_layer_and_posts_nothing(
    tiktok: TikTokSandbox,
    web: TikTokWebSandbox,
    socks_exit: Proxy,
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_exits(monkeypatch, "tiktok", socks_exit)
    arguments = ["upload", "--platform", "tiktok", "--file", str(video), "--title", "Dry", "--test", "--json"]
    code = main(arguments)
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["tiktok"]}

    assert code == 0, checks
    assert checks["limits"]["ok"] and checks["credentials"]["ok"] and checks["browser session"]["ok"]
    assert "creator @" in checks["credentials"]["detail"]
    assert [name for name in checks if name.startswith("exit")] and all(
        check["ok"] for name, check in checks.items() if name.startswith("exit")
    )
    assert tiktok.posts == [] and web.posts == [] and manual_entries() == []
    with transaction(open_database(Settings.from_env().database_url)) as session:
        assert list(session.scalars(select(LedgerEntry))) == []
