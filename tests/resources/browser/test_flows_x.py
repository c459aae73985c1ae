"""X's flow file (flows/x.yaml) driven by the browser uploader in real headless Chromium against the X
web sandbox: a publish lands on the profile with its URL, a missing session and a challenge are
classified, and reconcile finds a post by its caption."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from resources.browser.config import uploader_from_env
from resources.browser.flow import load_flow
from resources.browser.marker import markers_in
from resources.browser.sessions import SessionStore, StoredSession
from resources.browser.uploader import CLICKED_KEY, MARKER_KEY, BrowserUploader
from resources.platforms.base import VideoPost
from resources.platforms.errors import ErrorKind, PlatformError
from sandbox.common import running
from sandbox.web.x import SESSION_COOKIE, XWebSandbox
from tests.resources.browser.helpers import MemoryJournal

Factory = Callable[..., BrowserUploader]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XWebSandbox]:
    with running(XWebSandbox(tmp_path_factory.mktemp("x-web"))) as sandbox:
        yield sandbox


def store_session(store: SessionStore, web: XWebSandbox) -> None:
    cookie = {
        "name": SESSION_COOKIE,
        "value": web.log_in(),
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }
    store.save("x", "default", StoredSession({"cookies": [cookie], "origins": []}))


@pytest.fixture
def uploader(web: XWebSandbox, store: SessionStore, tmp_path: Path) -> Factory:
    def make(*, session: bool = True, **overrides: Any) -> BrowserUploader:
        if session:
            store_session(store, web)
        options: dict[str, Any] = {
            "web_url": web.base_url,
            "artifacts_dir": tmp_path / "failures",
            "username": web.username,
            "element_timeout_s": 5.0,
        }
        return BrowserUploader("x", "default", store, **(options | overrides))

    return make


def post_of(clip: Path, title: str) -> VideoPost:
    return VideoPost(clip, title, "Part one of the story.", ("#story",))


def failure_of(call: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call()
    return caught.value


def test_the_flow_file_loads_and_the_environment_points_it_at_a_sandbox(
    web: XWebSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = load_flow("x")
    assert (flow.platform, flow.web_url, flow.session.cookie) == ("x", "https://x.com", "auth_token")
    monkeypatch.setenv("PELLACIA_X_WEB_URL", web.base_url)
    monkeypatch.setenv("PELLACIA_X_WEB_USERNAME", web.username)
    monkeypatch.setenv("PELLACIA_BROWSER_PACE", "0")
    browser = uploader_from_env("x", tmp_path)
    assert (browser.web_url, browser.username, browser.flow.platform) == (web.base_url, web.username, "x")


def test_a_publish_lands_on_the_profile_with_its_url(uploader: Factory, web: XWebSandbox, clip: Path) -> None:
    post = post_of(clip, "The lighthouse keeper")
    journal = MemoryJournal()
    seen: list[tuple[int, int]] = []
    published = uploader().publish(post, journal, lambda done, total: seen.append((done, total)))

    made = next(p for p in web.posts if p["id"] == published.post_id)
    assert published.url == made["url"] == f"{web.base_url}/{web.username}/status/{made['id']}"
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["caption"].startswith(post.caption_for("x"))
    assert markers_in(made["caption"]) == {journal.ids[MARKER_KEY]}
    assert seen[-1] == (clip.stat().st_size, clip.stat().st_size)
    assert journal.states == ["uploading", "processing"] and CLICKED_KEY in journal.ids

    count = len(web.posts)
    assert uploader(session=False).publish(post, journal) == published  # found again, not posted twice
    assert len(web.posts) == count


def test_no_stored_session_says_to_log_in(uploader: Factory, clip: Path) -> None:
    error = failure_of(lambda: uploader(session=False).publish(post_of(clip, "No session"), MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "no_session"
    assert "pellacia-dist browser login x" in str(error)


def test_an_expired_session_meets_the_login_page(
    uploader: Factory, web: XWebSandbox, store: SessionStore, clip: Path
) -> None:
    browser = uploader()
    assert browser.health().ok  # the stored session opens the upload page
    web.expire_sessions()
    error = failure_of(lambda: browser.publish(post_of(clip, "Expired"), MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "session_expired"
    stored = store.load("x", "default")
    assert stored is not None and stored.expired_at is not None


def test_a_challenge_is_a_captcha_with_a_screenshot(uploader: Factory, web: XWebSandbox, clip: Path) -> None:
    count = len(web.posts)
    web.challenge_next("upload")
    error = failure_of(lambda: uploader().publish(post_of(clip, "Challenged"), MemoryJournal()))
    assert error.kind is ErrorKind.POLICY and error.code == "captcha"
    assert "arkose_iframe" in str(error)
    screenshot = getattr(error, "screenshot", None)
    assert screenshot is not None and screenshot.stat().st_size > 1000
    assert len(web.posts) == count


def test_reconcile_finds_a_post_made_elsewhere_by_its_caption(
    uploader: Factory, web: XWebSandbox, clip: Path
) -> None:
    post = post_of(clip, "Posted from the phone")
    browser = uploader()
    assert browser.reconcile(post, MemoryJournal()) is None
    made = web.post_from_app(post.caption_for("x"), clip)
    found = browser.reconcile(post, MemoryJournal())
    assert found is not None and (found.post_id, found.url) == (made["id"], made["url"])
