"""The browser uploader in real headless Chromium against the TikTok web sandbox: a publish lands once,
a run killed after the Post click is reconciled, and every failure is classified with its screenshot."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from resources.browser.flow import Flow, load_flow
from resources.browser.marker import markers_in
from resources.browser.sessions import SessionStore
from resources.browser.uploader import CLICKED_KEY, MARKER_KEY, BrowserUploader
from resources.platforms.base import VideoPost
from resources.platforms.errors import ErrorKind, PlatformError
from sandbox.common import Request
from sandbox.web.tiktok import TikTokWebSandbox
from tests.resources.browser.helpers import MemoryJournal, kill_our_chromium, store_session

Factory = Callable[..., BrowserUploader]


@pytest.fixture
def uploader(web: TikTokWebSandbox, store: SessionStore, tmp_path: Path) -> Factory:
    """An uploader for the sandbox's account (its session stored unless a test says otherwise)."""

    def make(*, session: bool = True, flow: Flow | None = None, **overrides: Any) -> BrowserUploader:
        if session:
            store_session(store, web)
        options: dict[str, Any] = {
            "web_url": web.base_url,
            "artifacts_dir": tmp_path / "failures",
            "options": {"privacy_level": "SELF_ONLY"},
            "element_timeout_s": 5.0,
            "flow": flow,
        }
        return BrowserUploader("tiktok", "default", store, **(options | overrides))

    return make


@pytest.fixture
def post(clip: Path) -> VideoPost:
    return VideoPost(clip, "The lighthouse keeper", "Part one of the story.", ("#story", "#shorts"))


def quick_profile(*, reload_s: float, appear_timeout_s: float) -> Flow:
    """The TikTok flow with the profile's waits shortened (seconds, not minutes)."""
    base = load_flow("tiktok")
    profile = dataclasses.replace(base.profile, reload_s=reload_s, appear_timeout_s=appear_timeout_s)
    return dataclasses.replace(base, profile=profile)


def failure_of(call: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call()
    return caught.value


def assert_kept(error: PlatformError) -> None:
    """The failure kept a screenshot and a trace, and the message says where."""
    screenshot, trace = getattr(error, "screenshot", None), getattr(error, "trace", None)
    assert screenshot is not None and screenshot.stat().st_size > 1000
    assert trace is not None and trace.stat().st_size > 1000
    assert str(screenshot) in str(error)
    assert stat.S_IMODE(screenshot.parent.stat().st_mode) == 0o700  # the trace holds the session's cookies


def test_a_publish_lands_once_with_its_video(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost, clip: Path
) -> None:
    journal = MemoryJournal()
    seen: list[tuple[int, int]] = []
    published = uploader().publish(post, journal, lambda done, total: seen.append((done, total)))

    [made] = web.posts
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["size"] == clip.stat().st_size
    assert (published.post_id, published.url) == (made["id"], made["url"])
    assert published.url == f"{web.base_url}/@{web.username}/video/{made['id']}"
    assert made["caption"].startswith(post.caption_for("tiktok"))
    assert markers_in(made["caption"]) == {journal.ids[MARKER_KEY]}
    assert (made["visibility"], made["aigc"]) == ("Only you", True)
    assert seen[-1] == (clip.stat().st_size, clip.stat().st_size)
    assert journal.states == ["uploading", "processing"] and CLICKED_KEY in journal.ids

    # The same ledger row again: the post is found on the profile, nothing is posted twice.
    again = uploader(session=False).publish(post, journal)
    assert again == published and len(web.posts) == 1


def test_reconcile_finds_the_post_after_the_browser_died_right_after_post(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    killed: list[int] = []

    def kill_on_post(request: Request, _seconds: float) -> None:
        if request.path == "/tiktokstudio/api/post" and not killed:
            killed.append(kill_our_chromium())

    web.observe(kill_on_post)
    journal = MemoryJournal()
    error = failure_of(lambda: uploader().publish(post, journal))
    assert killed and killed[0] >= 1
    assert error.kind is ErrorKind.AMBIGUOUS and error.code == "browser_crashed"
    assert len(web.posts) == 1

    found = uploader(session=False).reconcile(post, journal)
    assert found is not None and found.post_id == web.posts[0]["id"]
    assert uploader(session=False).publish(post, journal) == found
    assert len(web.posts) == 1


def test_a_recent_click_without_a_post_is_ambiguous_and_an_old_one_posts(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    journal = MemoryJournal(**{MARKER_KEY: "0badc0de", CLICKED_KEY: f"{time.time() - 60:.3f}"})
    error = failure_of(lambda: uploader().publish(post, journal))
    assert error.kind is ErrorKind.AMBIGUOUS and error.code == "post_unconfirmed"
    assert web.posts == []

    journal.put(CLICKED_KEY, f"{time.time() - 7200:.3f}")  # long past the grace: it never went through
    published = uploader(session=False).publish(post, journal)
    assert [p["id"] for p in web.posts] == [published.post_id]
    assert markers_in(web.posts[0]["caption"]) == {"0badc0de"}


def test_reconcile_matches_a_post_made_elsewhere_by_its_caption(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost, clip: Path
) -> None:
    browser = uploader()
    assert browser.reconcile(post, MemoryJournal()) is None
    made = web.post_from_app(post.caption_for("tiktok"), clip)
    found = browser.reconcile(post, MemoryJournal())
    assert found is not None and found.post_id == made["id"]


def test_a_post_that_shows_only_after_processing_is_waited_for(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.processing_s = 1.5
    flow = quick_profile(reload_s=0.3, appear_timeout_s=20.0)
    published = uploader(flow=flow).publish(post, MemoryJournal())
    assert published.post_id == web.posts[0]["id"]


def test_the_content_check_dialog_is_answered_with_post_now(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.hold_content_check()
    uploader().publish(post, MemoryJournal())
    assert len(web.posts) == 1


def test_an_expired_session_asks_for_a_login_and_no_browser_opens_again(
    uploader: Factory, web: TikTokWebSandbox, store: SessionStore, post: VideoPost
) -> None:
    browser = uploader()
    web.expire_sessions()
    error = failure_of(lambda: browser.publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "session_expired"
    assert "log in again: pellacia-dist browser login tiktok" in str(error)
    assert_kept(error)
    stored = store.load("tiktok", "default")
    assert stored is not None and stored.expired_at is not None

    requests = len(web.requests)
    again = failure_of(lambda: browser.publish(post, MemoryJournal()))
    assert again.code == "session_expired" and len(web.requests) == requests
    assert web.posts == []


def test_no_stored_session_says_to_log_in(uploader: Factory, post: VideoPost) -> None:
    error = failure_of(lambda: uploader(session=False).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.AUTH and error.code == "no_session"
    assert "pellacia-dist browser login tiktok" in str(error)


def test_a_challenge_page_is_a_captcha_with_a_screenshot(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.challenge_next("upload")
    error = failure_of(lambda: uploader().publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.POLICY and error.code == "captcha"
    assert ".captcha-verify-container" in str(error)
    assert_kept(error)
    assert web.posts == [] and web.challenges.shown == ["upload"]


def test_a_challenge_in_answer_to_post_is_a_captcha_and_nothing_is_posted(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.challenge_next("post")
    journal = MemoryJournal()
    error = failure_of(lambda: uploader().publish(post, journal))
    assert error.code == "captcha" and "look at the profile before posting by hand" in str(error)
    assert CLICKED_KEY in journal.ids and web.posts == []


def test_a_missing_selector_is_page_changed_naming_it(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.redesign({"post_video_button": "publish_video_button"})
    journal = MemoryJournal()
    error = failure_of(lambda: uploader(element_timeout_s=2.0).publish(post, journal))
    assert error.kind is ErrorKind.POLICY and error.code == "page_changed"
    assert 'button[data-e2e="post_video_button"]' in str(error) and "flows/tiktok.yaml" in str(error)
    assert_kept(error)
    assert CLICKED_KEY not in journal.ids and web.posts == []


def test_a_failed_upload_is_retryable(uploader: Factory, web: TikTokWebSandbox, post: VideoPost) -> None:
    web.fail_next("upload", 500)
    error = failure_of(lambda: uploader().publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.RETRYABLE and error.code == "upload_failed"
    assert "Couldn't upload" in str(error) and web.posts == []


def test_a_dropped_post_request_is_ambiguous_then_reconciled(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost
) -> None:
    web.drop_next("post", after_commit=True)
    journal = MemoryJournal()
    error = failure_of(lambda: uploader().publish(post, journal))
    assert error.kind is ErrorKind.AMBIGUOUS and error.code == "post_unconfirmed"
    found = uploader(session=False).reconcile(post, journal)
    assert found is not None and [p["id"] for p in web.posts] == [found.post_id]


def test_an_unreachable_site_is_retryable(uploader: Factory, post: VideoPost) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    error = failure_of(lambda: uploader(web_url=closed).publish(post, MemoryJournal()))
    assert error.kind is ErrorKind.RETRYABLE and error.code == "network"


def test_one_browser_per_account(uploader: Factory, store: SessionStore, post: VideoPost) -> None:
    lock = store.folder("tiktok", "default") / "browser.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); time.sleep(60)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        error = failure_of(lambda: uploader(lock_timeout_s=0.3).publish(post, MemoryJournal()))
        assert error.kind is ErrorKind.RETRYABLE and error.code == "browser_busy"
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({}, "declaration_missing"),
        ({"privacy_level": "FOLLOWER_OF_CREATOR"}, "declaration_unsupported"),
        ({"privacy_level": "public_to_everyone", "is_aigc": "maybe"}, "declaration_unsupported"),
    ],
)
def test_check_refuses_declarations_the_page_cannot_take(
    uploader: Factory, post: VideoPost, options: dict[str, str], code: str
) -> None:
    error = failure_of(lambda: uploader(session=False, options=options).check(post))
    assert error.kind is ErrorKind.POLICY and error.code == code


def test_check_refuses_files_offline(uploader: Factory, post: VideoPost, tmp_path: Path, clip: Path) -> None:
    browser = uploader(session=False)
    avi = tmp_path / "short.avi"
    avi.write_bytes(clip.read_bytes())
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    videos = {"missing": tmp_path / "none.mp4", "avi": avi, "notes": notes}
    codes = {name: failure_of(partial(browser.check, dataclasses.replace(post, video=video))).code
             for name, video in videos.items()}  # fmt: skip
    assert codes == {"missing": "missing_file", "avi": "file_type", "notes": "unreadable"}
    long_title = dataclasses.replace(post, title="x" * 2300)
    assert failure_of(lambda: browser.check(long_title)).code == "rules"


def test_health_says_what_works(uploader: Factory, web: TikTokWebSandbox, store: SessionStore) -> None:
    assert not uploader(session=False).health().stored
    healthy = uploader().health()
    assert healthy.ok and healthy.username == web.username
    assert healthy.browser and re.match(r"\d+\.", healthy.browser)
    stored = store.load("tiktok", "default")
    assert stored is not None and stored.username == web.username  # learnt once, kept with the session

    web.challenge_next("upload")
    challenged = uploader(session=False).health()
    assert not challenged.ok and challenged.challenge == ".captcha-verify-container"

    web.expire_sessions()
    expired = uploader(session=False).health()
    assert not expired.logged_in and "log in again" in expired.detail


@pytest.fixture
def socks_exit() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real SOCKS5 exit (Debian's microsocks) on a free port; its output lists each connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["microsocks", "-i", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "microsocks did not start"
            time.sleep(0.05)
    try:
        yield f"socks5://127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait()


def test_a_publish_goes_through_the_exit(
    uploader: Factory, web: TikTokWebSandbox, post: VideoPost, socks_exit: tuple[str, subprocess.Popen[str]]
) -> None:
    url, process = socks_exit
    uploader(proxy=url).publish(post, MemoryJournal())
    assert len(web.posts) == 1
    # SIGKILL: Dagster maps SIGTERM to SIGINT's handler, so a runner that ignores SIGINT ignores both.
    process.kill()
    log, _ = process.communicate(timeout=30)
    sandbox_port = web.base_url.rsplit(":", 1)[1]
    assert f"connected to 127.0.0.1:{sandbox_port}" in log


def test_a_proxy_chromium_cannot_use_is_refused_at_once(uploader: Factory) -> None:
    with pytest.raises(ValueError, match="cannot log in to a SOCKS proxy") as caught:
        uploader(session=False, proxy="socks5://user:secret@127.0.0.1:1080")
    assert "secret" not in str(caught.value)
