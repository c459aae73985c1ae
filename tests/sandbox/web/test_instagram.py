"""The Instagram web sandbox behaves as the real pages do, seen over plain HTTP: the login form in
place of the feed, the sessionid session, the create dialog and the page's own upload API, the profile's
reel tiles and challenges."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.instagram import SESSION_COOKIE, InstagramWebSandbox
from sandbox.web.uploads import API


@pytest.fixture
def web(tmp_path: Path) -> Iterator[InstagramWebSandbox]:
    with running(InstagramWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("instagram-web") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=540x960:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: InstagramWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> str:
    upload_id = str(client.post(f"{API}/upload").json()["upload_id"])
    assert client.put(f"{API}/upload/{upload_id}", content=video.read_bytes()).status_code == 200
    return upload_id


def test_the_feed_shows_the_login_form_without_a_session(web: InstagramWebSandbox) -> None:
    page = browser(web).get("/")
    assert page.status_code == 200 and 'id="loginForm"' in page.text and "New post" not in page.text
    feed = browser(web, web.log_in()).get("/").text
    for part in ('svg aria-label="New post"', "<span>Post</span>", 'type="file"', "now shared as reels",
                 'aria-label="Write a caption..."', ">Share</div>", f'href="/{web.handle}/"'):  # fmt: skip
        assert part in feed


def test_a_password_login_sets_the_session_and_returns(web: InstagramWebSandbox) -> None:
    client = browser(web)
    wrong = client.post("/accounts/login/?next=/", data={"username": web.username, "password": "guess"})
    assert wrong.status_code == 200 and "password was incorrect" in wrong.text
    right = client.post("/accounts/login/?next=/", data={"username": web.username, "password": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/"
    assert client.cookies.get(SESSION_COOKIE) and "New post" in client.get("/").text
    web.expire_sessions()
    assert 'id="loginForm"' in client.get("/").text and client.post(f"{API}/upload").status_code == 401


def test_a_reel_is_processed_posted_and_shown_on_the_profile(web: InstagramWebSandbox, clip: Path) -> None:
    web.processing_s = 3600
    client = browser(web, web.log_in())
    upload_id = upload(client, clip)
    assert client.get(f"{API}/upload/{upload_id}").json() == {"status": "ready", "resolution": "540p"}
    posted = client.post(f"{API}/post", json={"upload_id": upload_id, "caption": "A caption #x"})
    assert posted.status_code == 200
    [made] = web.posts
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert "/reel/" not in httpx.get(f"{web.base_url}/{web.handle}/").text  # not processed yet
    web.processing_s = 0
    profile = httpx.get(f"{web.base_url}/{web.handle}/").text
    assert f'href="/reel/{made["id"]}/"' in profile and 'alt="A caption #x"' in profile
    assert httpx.get(made["url"]).status_code == 200
    again = client.post(f"{API}/post", json={"upload_id": upload_id, "caption": "again"})
    assert again.status_code == 400 and len(web.posts) == 1


def test_challenges_on_demand(web: InstagramWebSandbox, clip: Path, tmp_path: Path) -> None:
    client = browser(web, web.log_in())
    web.challenge_next("upload")
    assert 'action="/challenge/action/"' in client.get("/").text
    assert "New post" in client.get("/").text
    web.challenge_next("post")
    refused = client.post(f"{API}/post", json={"upload_id": upload(client, clip), "caption": "c"})
    assert refused.status_code == 403 and refused.json()["captcha"] is True and web.posts == []
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    assert client.get(f"{API}/upload/{upload(client, notes)}").json()["status"] == "failed"
