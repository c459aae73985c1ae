"""The X web sandbox behaves as the real pages do, seen over plain HTTP: the login redirect and cookie
sessions, the compose page's chunked upload and CreateTweet, the profile, challenges and redesigns."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.x import CONFIRMATION, CREATE_TWEET, SESSION_COOKIE, UPLOAD, XWebSandbox


@pytest.fixture
def web(tmp_path: Path) -> Iterator[XWebSandbox]:
    with running(XWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("x-web-sandbox") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: XWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> tuple[str, dict[str, object]]:
    """INIT, APPEND, FINALIZE and STATUS as the compose page's script runs them: the media id and the
    processing info STATUS ends with."""
    size = video.stat().st_size
    init = client.post(UPLOAD, params={"command": "INIT", "media_type": "video/mp4", "total_bytes": size})
    assert init.status_code == 202
    media_id = str(init.json()["media_id_string"])
    appended = client.post(
        UPLOAD,
        params={"command": "APPEND", "media_id": media_id, "segment_index": 0},
        content=video.read_bytes(),
    )
    assert appended.status_code == 204
    finalized = client.post(UPLOAD, params={"command": "FINALIZE", "media_id": media_id})
    assert finalized.json()["processing_info"]["state"] == "pending"
    status = client.get(UPLOAD, params={"command": "STATUS", "media_id": media_id})
    return media_id, status.json()["processing_info"]


def tweet(client: httpx.Client, text: str, media_id: str) -> httpx.Response:
    variables = {
        "tweet_text": text,
        "media": {"media_entities": [{"media_id": media_id, "tagged_users": []}]},
    }
    return client.post(CREATE_TWEET, json={"variables": variables})


def test_the_compose_page_sends_a_visitor_without_a_session_to_the_login(web: XWebSandbox) -> None:
    answer = browser(web).get("/compose/post")
    assert answer.status_code == 302
    assert answer.headers["location"] == "/i/flow/login?redirect_after_login=%2Fcompose%2Fpost"
    page = browser(web, web.log_in()).get("/compose/post")
    assert page.status_code == 200 and 'data-testid="tweetTextarea_0"' in page.text
    assert 'data-testid="fileInput"' in page.text and 'data-testid="tweetButton"' in page.text


def test_a_password_login_sets_the_session_cookie_and_returns(web: XWebSandbox) -> None:
    client = browser(web)
    path = "/i/flow/login?redirect_after_login=/compose/post"
    wrong = client.post(path, data={"text": web.username, "password": "guess"})
    assert wrong.status_code == 200 and "Wrong password!" in wrong.text
    right = client.post(path, data={"text": web.username, "password": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/compose/post"
    assert "HttpOnly" in right.headers["set-cookie"] and client.cookies.get(SESSION_COOKIE)
    assert client.get("/compose/post").status_code == 200
    assert client.get("/").headers["location"] == "/home"
    evil = client.post(
        "/i/flow/login?redirect_after_login=//evil.example",
        data={"text": web.username, "password": web.password},
    )
    assert evil.headers["location"] == "/home"


def test_expired_sessions_go_back_to_the_login(web: XWebSandbox) -> None:
    client = browser(web, web.log_in())
    assert client.get("/compose/post").status_code == 200
    web.expire_sessions()
    assert client.get("/compose/post").headers["location"].startswith("/i/flow/login?")
    assert client.post(UPLOAD, params={"command": "INIT", "total_bytes": 1}).status_code == 401


def test_an_upload_is_processed_posted_and_shown_on_the_profile(web: XWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    media_id, info = upload(client, clip)
    assert info["state"] == "succeeded"
    posted = tweet(client, "A caption #x", media_id)
    tweet_id = posted.json()["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"]
    [made] = web.posts
    assert made["id"] == tweet_id and made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["url"] == f"{web.base_url}/{web.username}/status/{tweet_id}"
    profile = httpx.get(f"{web.base_url}/{web.username}").text
    assert f'<a href="/{web.username}/status/{tweet_id}"><time' in profile
    assert '<div data-testid="tweetText" lang="en"><span>A caption #x</span>' in profile
    assert httpx.get(made["url"]).status_code == 200
    again = tweet(client, "again", media_id)
    assert again.json()["errors"][0]["code"] == 324 and len(web.posts) == 1  # a media is posted once


def test_a_new_post_shows_on_the_profile_once_processed(web: XWebSandbox, clip: Path) -> None:
    web.processing_s = 3600
    client = browser(web, web.log_in())
    media_id, _info = upload(client, clip)
    tweet(client, "soon", media_id)
    assert 'data-testid="tweet"' not in httpx.get(f"{web.base_url}/{web.username}").text
    assert httpx.get(web.posts[0]["url"]).status_code == 404


def test_a_file_that_is_no_video_fails_processing(web: XWebSandbox, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    client = browser(web, web.log_in())
    media_id, info = upload(client, notes)
    assert info["state"] == "failed" and "could not be processed" in str(info["error"])
    assert "errors" in tweet(client, "x", media_id).json() and web.posts == []


def test_text_over_the_limit_is_refused(web: XWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    media_id, _info = upload(client, clip)
    assert tweet(client, "a" * 281, media_id).json()["errors"][0]["code"] == 186 and web.posts == []


def test_challenges_on_demand(web: XWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    web.challenge_next("upload")
    moved = client.get("/compose/post")
    assert moved.status_code == 302 and moved.headers["location"] == "/account/access"
    assert 'iframe id="arkose_iframe"' in client.get("/account/access").text
    assert 'data-testid="tweetButton"' in client.get("/compose/post").text
    web.challenge_next("post")
    media_id, _info = upload(client, clip)
    refused = tweet(client, "c", media_id)
    assert refused.status_code == 403 and refused.json()["arkose"] is True and web.posts == []
    assert web.challenges.shown == ["upload", "post"]


def test_a_redesign_renames_the_test_ids_but_not_the_pages_logic(web: XWebSandbox) -> None:
    client = browser(web, web.log_in())
    web.redesign({"tweetButton": "postButton"})
    page = client.get("/compose/post").text
    assert 'data-testid="postButton"' in page and 'data-testid="tweetButton"' not in page
    assert CONFIRMATION in page  # the page's own script is untouched by the redesign


def test_a_post_made_from_the_app_shows_too(web: XWebSandbox, clip: Path) -> None:
    made = web.post_from_app("From the phone", clip)
    assert f"/status/{made['id']}" in httpx.get(f"{web.base_url}/{web.username}").text
    assert httpx.get(f"{web.base_url}/someone_else").status_code == 404
