"""Sessions at rest: encrypted with PELLACIA_SECRET_KEY, owner-only, one browser per account; cookie files
in the three formats people export; the caption marker; proxies as Chromium takes them."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from resources.browser.chromium import proxy_settings
from resources.browser.cookies import CookieFileError, read_cookie_file, require_cookie
from resources.browser.marker import markers_in, new_marker, plain, same_caption, with_marker
from resources.browser.sessions import SessionLockTimeoutError, SessionStore, StoredSession, account_named
from resources.platforms.credentials import SECRET_KEY_VARIABLE, CredentialKeyError

STATE = {
    "cookies": [{"name": "sessionid", "value": "s3cr3t-session", "domain": ".tiktok.com"}],
    "origins": [],
}


def test_a_session_is_stored_encrypted_and_owner_only(store: SessionStore) -> None:
    path = store.save("tiktok", "default", StoredSession(STATE, username="someone"))
    assert path == store.root / "tiktok" / "default" / "session.enc"
    assert b"s3cr3t-session" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = store.load("tiktok", "default")
    assert (
        loaded is not None and loaded.username == "someone" and loaded.cookie("sessionid") == "s3cr3t-session"
    )
    assert store.load("tiktok", "other") is None


def test_another_key_cannot_read_it(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save("tiktok", "default", StoredSession(STATE))
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    with pytest.raises(CredentialKeyError, match="cannot be decrypted with this PELLACIA_SECRET_KEY"):
        store.load("tiktok", "default")
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    with pytest.raises(CredentialKeyError, match="PELLACIA_SECRET_KEY is not set"):
        store.load("tiktok", "default")


def test_expired_and_forgotten(store: SessionStore) -> None:
    store.save("tiktok", "default", StoredSession(STATE))
    store.mark_expired("tiktok", "default")
    session = store.load("tiktok", "default")
    assert session is not None and session.expired_at is not None
    assert store.forget("tiktok", "default") and not store.exists("tiktok", "default")
    assert not store.forget("tiktok", "default")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "x" * 101])
def test_account_names_stay_inside_the_folder(name: str) -> None:
    with pytest.raises(ValueError, match="account name"):
        account_named(name)


def test_one_browser_per_account_across_processes(store: SessionStore) -> None:
    with store.lock("tiktok", "default", timeout_s=1):
        script = (
            "import sys; from pathlib import Path\n"
            "from resources.browser.sessions import SessionStore, SessionLockTimeoutError\n"
            "try:\n"
            "    with SessionStore(Path(sys.argv[1])).lock('tiktok', 'default', timeout_s=0.3):\n"
            "        print('got it')\n"
            "except SessionLockTimeoutError as error: print(error)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, str(store.root)], capture_output=True, text=True, check=True
        )
        assert "another browser has used tiktok account 'default'" in result.stdout
        # in this process too: an flock belongs to its open file, not to the process
        with pytest.raises(SessionLockTimeoutError), store.lock("tiktok", "default", timeout_s=0.1):
            pass
    with store.lock("tiktok", "default", timeout_s=0.1):
        pass


NETSCAPE = (
    "# Netscape HTTP Cookie File\n"
    "# exported by a browser extension\n"
    ".tiktok.com\tTRUE\t/\tTRUE\t1900000000\tsessionid\tabc123\n"
    "#HttpOnly_.tiktok.com\tTRUE\t/\tTRUE\t0\tsid_tt\tdef456\n"
    "\n"
)


def test_netscape_cookie_files(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    state = read_cookie_file(path)
    first, second = state["cookies"]
    assert (first["name"], first["value"], first["domain"], first["secure"]) == (
        "sessionid",
        "abc123",
        ".tiktok.com",
        True,
    )
    assert first["expires"] == 1900000000.0 and not first["httpOnly"]
    assert second["httpOnly"] and second["expires"] == -1.0
    require_cookie(state, "sessionid", str(path), "https://www.tiktok.com")


def test_json_cookie_lists_and_storage_states(tmp_path: Path) -> None:
    listing = tmp_path / "cookies.json"
    listing.write_text(
        json.dumps(
            [
                {"name": "sessionid", "value": "abc", "domain": ".tiktok.com", "expirationDate": 1900000000.5,
                 "sameSite": "no_restriction", "secure": True, "httpOnly": True},
                {"name": "tt_csrf", "value": "x", "domain": "www.tiktok.com", "sameSite": "no_restriction",
                 "session": True},
            ]
        )
    )  # fmt: skip
    first, second = read_cookie_file(listing)["cookies"]
    assert (first["sameSite"], first["expires"]) == ("None", 1900000000.5)
    assert (second["sameSite"], second["expires"]) == ("Lax", -1.0)  # None without Secure: Chromium drops it
    whole = tmp_path / "state.json"
    whole.write_text(
        json.dumps({"cookies": [STATE["cookies"][0]], "origins": [{"origin": "x", "localStorage": []}]})
    )
    state = read_cookie_file(whole)
    assert state["origins"] == [{"origin": "x", "localStorage": []}]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (
            ".tiktok.com\tTRUE\t/\tsessionid\tabc\n",
            r"line 1: a Netscape cookie line has 7 tab-separated fields",
        ),
        (".tiktok.com\tTRUE\t/\tTRUE\tsoon\tsessionid\tabc\n", r"line 1: the expiry 'soon' is not a number"),
        ("# only comments\n", r"holds no cookies"),
        ('[{"name": "sessionid"}]', r"cookie #1 needs a name, a value and a domain"),
        ('{"cookies": 3}', r"JSON cookie files are a list of cookies or a storage_state object"),
        ("[{", r"is not valid JSON"),
    ],
)
def test_unreadable_cookie_files_say_why(tmp_path: Path, content: str, complaint: str) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(content)
    with pytest.raises(CookieFileError, match=complaint):
        read_cookie_file(path)


def test_a_cookie_file_without_the_session_cookie_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(".tiktok.com\tTRUE\t/\tTRUE\t0\ttt_webid\t1\n")
    with pytest.raises(CookieFileError, match="has no 'sessionid' cookie, so it holds no logged-in session"):
        require_cookie(read_cookie_file(path), "sessionid", str(path), "https://www.tiktok.com")


@pytest.mark.parametrize("style", ["invisible", "visible"])
def test_the_marker_survives_in_a_caption_and_is_read_back(style: str) -> None:
    marker = new_marker()
    caption = with_marker("A title\n\nThe story. #story", marker, style)
    shown = caption + " created by Pellacia Press with Pellacia Press's original sound"
    assert markers_in(shown) == {marker}
    assert same_caption(shown, "A title\n\nthe story.  #story")
    assert not same_caption(shown, "Another title")
    assert plain(caption) == "a title the story. #story"
    if style == "invisible":
        assert (
            caption.startswith("A title\n\nThe story. #story")
            and len(caption) == len("A title\n\nThe story. #story") + 34
        )


def test_proxies_as_chromium_takes_them() -> None:
    assert proxy_settings("socks5h://127.0.0.1:1080") == {"server": "socks5://127.0.0.1:1080"}
    assert proxy_settings("http://us%40er:p%3Ass@10.0.0.1:3128") == {
        "server": "http://10.0.0.1:3128",
        "username": "us@er",
        "password": "p:ss",
    }
    for bad in ("ftp://host:21", "http://host", "socks5://user:secret@host:1080"):
        with pytest.raises(ValueError) as caught:
            proxy_settings(bad)
        assert "secret" not in str(caught.value)
