"""The Meta flows (Facebook's Reels composer, Instagram's create dialog) in real headless Chromium against
their web sandboxes: a publish finds the post on the profile, reconcile finds it again, and a missing or
expired session or a challenge is classified."""

from __future__ import annotations

import hashlib
import subprocess
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
from sandbox.web import facebook, instagram
from sandbox.web.uploads import UploadSite
from tests.resources.browser.helpers import MemoryJournal

Factory = Callable[..., BrowserUploader]
# platform -> its web sandbox, its session cookie, and the challenge page's form as the flow detects it
SITES: dict[str, tuple[Callable[[Path], UploadSite], str, str]] = {
    "facebook": (facebook.FacebookWebSandbox, facebook.SESSION_COOKIE, 'form[action*="/checkpoint/"]'),
    "instagram": (instagram.InstagramWebSandbox, instagram.SESSION_COOKIE, 'form[action^="/challenge/"]'),
}


@pytest.fixture(scope="module", params=sorted(SITES))
def platform(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def web(platform: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UploadSite]:
    with running(SITES[platform][0](tmp_path_factory.mktemp(f"{platform}-web"))) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def reel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vertical short large enough for Reels (540 px on the short side)."""
    path = tmp_path_factory.mktemp("meta-clips") / "reel.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=540x960:r=30", "-f", "lavfi",
         "-i", "sine", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def uploader(platform: str, web: UploadSite, store: SessionStore, tmp_path: Path) -> Factory:
    def make(*, session: bool = True, **overrides: Any) -> BrowserUploader:
        if session:
            cookie = {"name": SITES[platform][1], "value": web.log_in(), "domain": "127.0.0.1", "path": "/",
                      "expires": -1, "httpOnly": True, "secure": False, "sameSite": "Lax"}  # fmt: skip
            store.save(platform, "default", StoredSession({"cookies": [cookie], "origins": []}))
        options: dict[str, Any] = {
            "web_url": web.base_url,
            "artifacts_dir": tmp_path / "failures",
            "element_timeout_s": 5.0,
        }
        return BrowserUploader(platform, "default", store, **(options | overrides))

    return make


@pytest.fixture
def post(reel: Path) -> VideoPost:
    return VideoPost(reel, "The lighthouse keeper", "Part one of the story.", ("#story", "#reels"))


def failure_of(call: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call()
    return caught.value


def test_a_publish_lands_on_the_profile_and_reconcile_finds_it(
    platform: str, uploader: Factory, web: UploadSite, store: SessionStore, post: VideoPost, reel: Path
) -> None:
    before = len(web.posts)
    journal = MemoryJournal()
    seen: list[tuple[int, int]] = []
    published = uploader().publish(post, journal, lambda done, total: seen.append((done, total)))

    [made] = web.posts[before:]
    assert (published.post_id, published.url) == (made["id"], made["url"])
    assert made["sha256"] == hashlib.sha256(reel.read_bytes()).hexdigest()
    assert markers_in(made["caption"]) == {journal.ids[MARKER_KEY]}
    assert " ".join(made["caption"].split()).startswith(" ".join(post.caption_for(platform).split()))
    assert seen[-1] == (reel.stat().st_size, reel.stat().st_size)
    stored = store.load(platform, "default")
    assert stored is not None and stored.username == web.handle  # read from the profile link

    assert uploader(session=False).reconcile(post, journal) == published


def test_no_stored_session_says_to_log_in(platform: str, uploader: Factory, post: VideoPost) -> None:
    error = failure_of(lambda: uploader(session=False).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "no_session"
    assert f"pellacia-dist browser login {platform}" in str(error)


def test_a_challenge_is_a_captcha_with_a_screenshot(
    platform: str, uploader: Factory, web: UploadSite, post: VideoPost
) -> None:
    before = len(web.posts)
    web.challenge_next("upload")
    error = failure_of(lambda: uploader(username=web.handle).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.POLICY and error.code == "captcha"
    assert SITES[platform][2] in str(error)
    screenshot = getattr(error, "screenshot", None)
    assert screenshot is not None and screenshot.stat().st_size > 1000
    assert len(web.posts) == before


def test_an_expired_session_asks_for_a_login(uploader: Factory, web: UploadSite, post: VideoPost) -> None:
    browser = uploader(username=web.handle)
    web.expire_sessions()
    error = failure_of(lambda: browser.publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "session_expired"
