"""The YouTube Studio flow in real headless Chromium against the YouTube web sandbox: a publish goes
through the upload dialog and reads the video's link, reconcile finds it in the content list, and a
missing session or a challenge is classified."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from resources.browser.marker import markers_in
from resources.browser.sessions import SessionStore, StoredSession
from resources.browser.uploader import MARKER_KEY, BrowserUploader
from resources.platforms.base import VideoPost
from resources.platforms.errors import ErrorKind, PlatformError
from sandbox.common import running
from sandbox.web.youtube import SESSION_COOKIE, YouTubeWebSandbox
from tests.resources.browser.helpers import MemoryJournal

Factory = Callable[..., BrowserUploader]
OPTIONS = {"privacy": "unlisted", "made_for_kids": "false", "synthetic_media": "no"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[YouTubeWebSandbox]:
    with running(YouTubeWebSandbox(tmp_path_factory.mktemp("youtube-web"))) as sandbox:
        yield sandbox


@pytest.fixture
def uploader(web: YouTubeWebSandbox, store: SessionStore, tmp_path: Path) -> Factory:
    def make(*, session: bool = True, **overrides: Any) -> BrowserUploader:
        if session:
            cookie = {"name": SESSION_COOKIE, "value": web.log_in(), "domain": "127.0.0.1", "path": "/",
                      "expires": -1, "httpOnly": True, "secure": False, "sameSite": "Lax"}  # fmt: skip
            store.save("youtube", "default", StoredSession({"cookies": [cookie], "origins": []}))
        options: dict[str, Any] = {
            "web_url": web.base_url,
            "artifacts_dir": tmp_path / "failures",
            "options": OPTIONS,
            "element_timeout_s": 5.0,
        }
        return BrowserUploader("youtube", "default", store, **(options | overrides))

    return make


@pytest.fixture
def post(clip: Path) -> VideoPost:
    return VideoPost(clip, "The lighthouse keeper", "Part one of the story.", ("#story", "#shorts"))


def failure_of(call: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call()
    return caught.value


def test_a_publish_reads_the_link_and_reconcile_finds_the_video(
    uploader: Factory, web: YouTubeWebSandbox, store: SessionStore, post: VideoPost, clip: Path
) -> None:
    before = len(web.posts)
    journal = MemoryJournal()
    seen: list[tuple[int, int]] = []
    published = uploader().publish(post, journal, lambda done, total: seen.append((done, total)))

    [made] = web.posts[before:]
    assert (published.post_id, published.url) == (made["id"], made["url"])
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["title"] == post.title
    assert made["caption"].startswith(post.caption_for("youtube"))
    assert markers_in(made["caption"]) == {journal.ids[MARKER_KEY]}
    assert made["choices"] == {
        "privacy": "UNLISTED",
        "made_for_kids": "VIDEO_MADE_FOR_KIDS_NOT_MFK",
        "altered_content": "VIDEO_HAS_ALTERED_CONTENT_NO",
    }
    assert seen[-1] == (clip.stat().st_size, clip.stat().st_size)

    assert uploader(session=False).reconcile(post, journal) == published  # in the content list
    stored = store.load("youtube", "default")
    assert stored is not None and stored.username == web.handle  # the channel id, read from Studio


def test_no_stored_session_says_to_log_in(uploader: Factory, post: VideoPost) -> None:
    error = failure_of(lambda: uploader(session=False).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "no_session"
    assert "pellacia-dist browser login youtube" in str(error)


def test_a_challenge_is_a_captcha_with_a_screenshot(
    uploader: Factory, web: YouTubeWebSandbox, post: VideoPost
) -> None:
    before = len(web.posts)
    web.challenge_next("upload")
    error = failure_of(lambda: uploader(username=web.handle).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.POLICY and error.code == "captcha"
    assert "div#captcha-container" in str(error)
    screenshot = getattr(error, "screenshot", None)
    assert screenshot is not None and screenshot.stat().st_size > 1000
    assert len(web.posts) == before


def test_an_expired_session_goes_to_the_sign_in(
    uploader: Factory, web: YouTubeWebSandbox, post: VideoPost
) -> None:
    browser = uploader(username=web.handle)
    web.expire_sessions()
    error = failure_of(lambda: browser.publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "session_expired"
