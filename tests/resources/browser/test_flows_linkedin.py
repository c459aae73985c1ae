"""LinkedIn's flow file (flows/linkedin.yaml) driven by the browser uploader in real headless Chromium
against the LinkedIn web sandbox: a publish lands on the activity page with its URL and visibility, a
missing session and a challenge are classified, and reconcile finds a post by its caption."""

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
from sandbox.web.linkedin import SESSION_COOKIE, LinkedInWebSandbox
from tests.resources.browser.helpers import MemoryJournal, make_clip

Factory = Callable[..., BrowserUploader]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkedInWebSandbox]:
    with running(LinkedInWebSandbox(tmp_path_factory.mktemp("linkedin-web"))) as sandbox:
        yield sandbox


def store_session(store: SessionStore, web: LinkedInWebSandbox) -> None:
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
    store.save("linkedin", "default", StoredSession({"cookies": [cookie], "origins": []}))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LinkedIn takes videos of 3 s and more: a 4 s one, clear of the limit."""
    return make_clip(tmp_path_factory.mktemp("linkedin-clips") / "short.mp4", seconds=4.0)


@pytest.fixture
def uploader(web: LinkedInWebSandbox, store: SessionStore, tmp_path: Path) -> Factory:
    def make(*, session: bool = True, **overrides: Any) -> BrowserUploader:
        if session:
            store_session(store, web)
        options: dict[str, Any] = {
            "web_url": web.base_url,
            "artifacts_dir": tmp_path / "failures",
            "username": web.username,
            "element_timeout_s": 5.0,
        }
        return BrowserUploader("linkedin", "default", store, **(options | overrides))

    return make


def post_of(clip: Path, title: str) -> VideoPost:
    return VideoPost(clip, title, "Part one of the story.", ("#story",))


def failure_of(call: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call()
    return caught.value


def test_the_flow_file_loads_and_the_environment_points_it_at_a_sandbox(
    web: LinkedInWebSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = load_flow("linkedin")
    assert (flow.web_url, flow.session.cookie) == ("https://www.linkedin.com", "li_at")
    monkeypatch.setenv("PELLACIA_LINKEDIN_WEB_URL", web.base_url)
    monkeypatch.setenv("PELLACIA_LINKEDIN_WEB_USERNAME", web.username)
    monkeypatch.setenv("PELLACIA_LINKEDIN_VISIBILITY", "connections")
    monkeypatch.setenv("PELLACIA_BROWSER_PACE", "0")
    browser = uploader_from_env("linkedin", tmp_path)
    assert (browser.web_url, browser.username) == (web.base_url, web.username)
    assert browser.options["visibility"] == "connections"


def test_a_publish_lands_on_the_activity_page_with_its_url(
    uploader: Factory, web: LinkedInWebSandbox, clip: Path
) -> None:
    post = post_of(clip, "The lighthouse keeper")
    journal = MemoryJournal()
    seen: list[tuple[int, int]] = []
    browser = uploader(options={"visibility": "CONNECTIONS"})
    published = browser.publish(post, journal, lambda done, total: seen.append((done, total)))

    made = next(p for p in web.posts if p["id"] == published.post_id)
    assert published.post_id.startswith("urn:li:activity:")
    assert published.url == made["url"] == f"{web.base_url}/feed/update/{made['id']}/"
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["visibility"] == "CONNECTIONS_ONLY"
    assert made["caption"].startswith(post.caption_for("linkedin"))
    assert markers_in(made["caption"]) == {journal.ids[MARKER_KEY]}
    assert seen[-1] == (clip.stat().st_size, clip.stat().st_size)
    assert journal.states == ["uploading", "processing"] and CLICKED_KEY in journal.ids

    count = len(web.posts)
    assert uploader(session=False).publish(post, journal) == published  # found again, not posted twice
    assert len(web.posts) == count


def test_no_stored_session_says_to_log_in(uploader: Factory, clip: Path) -> None:
    error = failure_of(lambda: uploader(session=False).publish(post_of(clip, "No session"), MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "no_session"
    assert "pellacia-dist browser login linkedin" in str(error)


def test_an_expired_session_meets_the_login_page(
    uploader: Factory, web: LinkedInWebSandbox, store: SessionStore, clip: Path
) -> None:
    browser = uploader()
    assert browser.health().ok  # the stored session opens the upload page
    web.expire_sessions()
    error = failure_of(lambda: browser.publish(post_of(clip, "Expired"), MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "session_expired"
    stored = store.load("linkedin", "default")
    assert stored is not None and stored.expired_at is not None


def test_a_challenge_is_a_captcha_with_a_screenshot(
    uploader: Factory, web: LinkedInWebSandbox, clip: Path
) -> None:
    count = len(web.posts)
    web.challenge_next("upload")
    error = failure_of(lambda: uploader().publish(post_of(clip, "Challenged"), MemoryJournal()))
    assert error.kind is ErrorKind.POLICY and error.code == "captcha"
    assert "captcha-internal" in str(error)
    screenshot = getattr(error, "screenshot", None)
    assert screenshot is not None and screenshot.stat().st_size > 1000
    assert len(web.posts) == count


def test_reconcile_finds_a_post_made_elsewhere_by_its_caption(
    uploader: Factory, web: LinkedInWebSandbox, clip: Path
) -> None:
    post = post_of(clip, "Posted from the phone")
    browser = uploader()
    assert browser.reconcile(post, MemoryJournal()) is None
    made = web.post_from_app(post.caption_for("linkedin"), clip)
    found = browser.reconcile(post, MemoryJournal())
    assert found is not None and (found.post_id, found.url) == (made["id"], made["url"])
