"""The Facebook web sandbox behaves as the real pages do, seen over plain HTTP: the login redirect of
the Reels composer, the xs session, the page's own upload API, the profile's reels and challenges."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.facebook import SESSION_COOKIE, FacebookWebSandbox
from sandbox.web.uploads import API


@pytest.fixture
def web(tmp_path: Path) -> Iterator[FacebookWebSandbox]:
    with running(FacebookWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("facebook-web") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=540x960:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: FacebookWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> str:
    upload_id = str(client.post(f"{API}/upload").json()["upload_id"])
    assert client.put(f"{API}/upload/{upload_id}", content=video.read_bytes()).status_code == 200
    return upload_id


def test_the_composer_sends_a_visitor_without_a_session_to_the_login(web: FacebookWebSandbox) -> None:
    answer = browser(web).get("/reels/create/")
    assert answer.status_code == 302 and answer.headers["location"] == "/login/?next=%2Freels%2Fcreate%2F"
    assert 'id="login_form"' in browser(web).get("/").text
    page = browser(web, web.log_in()).get("/reels/create/").text
    for part in ('accept="video/*', 'role="progressbar"', 'aria-label="Next"', 'role="textbox"',
                 'aria-label="Publish"', 'aria-label="Your profile"'):  # fmt: skip
        assert part in page


def test_a_password_login_sets_the_session_and_returns(web: FacebookWebSandbox) -> None:
    client = browser(web)
    path = "/login/?next=/reels/create/"
    wrong = client.post(path, data={"email": web.username, "pass": "guess"})
    assert wrong.status_code == 200 and "incorrect" in wrong.text
    right = client.post(path, data={"email": web.username, "pass": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/reels/create/"
    assert client.get("/reels/create/").status_code == 200
    web.expire_sessions()
    assert client.get("/reels/create/").status_code == 302


def test_a_reel_is_processed_posted_and_shown_on_the_profile(web: FacebookWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    upload_id = upload(client, clip)
    assert client.get(f"{API}/upload/{upload_id}").json()["status"] == "ready"
    posted = client.post(f"{API}/post", json={"upload_id": upload_id, "caption": "A description #x"})
    assert posted.status_code == 200
    [made] = web.posts
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest() and made["id"].isdigit()
    reels = httpx.get(f"{web.base_url}/{web.handle}/reels/").text
    assert f'href="/reel/{made["id"]}"' in reels and 'aria-label="A description #x"' in reels
    assert httpx.get(made["url"]).status_code == 200


def test_challenges_on_demand(web: FacebookWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    web.challenge_next("upload")
    assert 'action="/checkpoint/' in client.get("/reels/create/").text
    web.challenge_next("post")
    refused = client.post(f"{API}/post", json={"upload_id": upload(client, clip), "caption": "c"})
    assert refused.status_code == 403 and web.posts == []
