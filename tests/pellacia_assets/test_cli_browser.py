"""`pellacia-dist browser login|logout|import-cookies` and `test browser`, in real Chromium against the
TikTok web sandbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pellacia_assets.cli import main
from resources.browser.sessions import SessionStore
from resources.platforms.credentials import SECRET_KEY_VARIABLE
from sandbox.common import running
from sandbox.web.tiktok import SESSION_COOKIE, TikTokWebSandbox


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TikTokWebSandbox]:
    with running(TikTokWebSandbox(tmp_path / "tiktok-web")) as sandbox:
        yield sandbox


@pytest.fixture
def configured(pellacia_home: Path, web: TikTokWebSandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    monkeypatch.setenv("PELLACIA_TIKTOK_WEB_URL", web.base_url)
    monkeypatch.setenv("PELLACIA_BROWSER_PACE", "0")
    monkeypatch.delenv("PELLACIA_TIKTOK_ACCOUNT", raising=False)
    return pellacia_home


def cookie_file(path: Path, web: TikTokWebSandbox, name: str = SESSION_COOKIE) -> Path:
    """A Netscape cookies.txt as a browser extension exports it, holding a live sandbox session."""
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        f"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\t{name}\t{web.log_in()}\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t0\ttt_webid\t123\n"
    )
    return path


def test_login_by_qr_code_without_a_display_then_test_browser(
    configured: Path, web: TikTokWebSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    qr = configured / "sessions" / "tiktok" / "default" / "login-qr.png"

    def scan_with_the_phone() -> None:
        """The person scans the picture once it is there; the phone app approves the login."""
        deadline = time.monotonic() + 30
        while not qr.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        web.approve_qr_login()

    approver = threading.Thread(target=scan_with_the_phone)
    approver.start()
    code = main(["browser", "login", "tiktok", "--headless", "--timeout", "60"])
    approver.join()
    out = capsys.readouterr().out
    assert code == 0 and f"scan the QR code in {qr}" in out
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert "logged in as @pellacia.sandbox; the session of account 'default' is stored encrypted" in out

    assert main(["test", "browser", "--platform", "tiktok", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["logged_in"] is True and report["upload_page"] is True
    assert report["username"] == "pellacia.sandbox" and report["url"] == f"{web.base_url}/tiktokstudio/upload"


def test_login_in_a_window_needs_a_display(
    configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["browser", "login", "tiktok"]) == 2
    error = capsys.readouterr().err
    assert "no display" in error and "--headless" in error and "browser import-cookies tiktok FILE" in error


def test_import_cookies_then_test_browser(
    configured: Path, web: TikTokWebSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cookies = cookie_file(tmp_path / "cookies.txt", web)
    assert main(["browser", "import-cookies", "tiktok", str(cookies), "--account", "press"]) == 0
    out = capsys.readouterr().out
    assert "stored the session from" in out and "the site accepts it: ready to upload" in out
    assert SessionStore.for_home(configured).exists("tiktok", "press")

    assert main(["test", "browser", "--platform", "tiktok", "--account", "press"]) == 0
    out = capsys.readouterr().out
    assert "session: logged in as @pellacia.sandbox" in out and "upload page: reachable" in out
    assert "tiktok/press at http://127.0.0.1" in out and "Chromium 1" in out


def test_a_cookie_file_without_a_session_is_refused(
    configured: Path, web: TikTokWebSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cookies = cookie_file(tmp_path / "cookies.txt", web, name="tt_chain_token")
    assert main(["browser", "import-cookies", "tiktok", str(cookies)]) == 2
    assert "has no 'sessionid' cookie" in capsys.readouterr().err
    assert not SessionStore.for_home(configured).exists("tiktok", "default")


def test_an_expired_session_fails_the_test_and_logout_forgets_it(
    configured: Path, web: TikTokWebSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["browser", "import-cookies", "tiktok", str(cookie_file(tmp_path / "c.txt", web)), "--no-check"])
    web.expire_sessions()
    assert main(["test", "browser", "--platform", "tiktok"]) == 1
    assert (
        "failed: the session has expired: log in again: pellacia-dist browser login tiktok"
        in capsys.readouterr().out
    )

    assert main(["browser", "logout", "tiktok"]) == 0
    assert "forgot the browser session of account 'default'" in capsys.readouterr().out
    assert main(["test", "browser", "--platform", "tiktok", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["stored"] is False
    assert main(["browser", "logout", "tiktok"]) == 0
    assert "has no stored browser session" in capsys.readouterr().out


def test_without_the_secret_key_nothing_is_stored(
    configured: Path, web: TikTokWebSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    assert main(["browser", "import-cookies", "tiktok", str(cookie_file(tmp_path / "c.txt", web))]) == 2
    assert "PELLACIA_SECRET_KEY is not set" in capsys.readouterr().err


def test_a_headless_login_where_the_site_has_no_qr_code_says_what_to_do(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["browser", "login", "youtube", "--headless"]) == 2
    error = capsys.readouterr().err
    assert "youtube has no QR code login in flows/youtube.yaml" in error
    assert "pellacia-dist browser import-cookies youtube FILE" in error
