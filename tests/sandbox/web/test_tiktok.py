"""The TikTok web sandbox behaves as the real pages do, seen over plain HTTP: the login redirect, cookie
sessions and the QR login, the upload page's own API, the profile, challenges and redesigns."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.tiktok import CONFIRMATION, SESSION_COOKIE, TikTokWebSandbox


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TikTokWebSandbox]:
    with running(TikTokWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-sandbox") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: TikTokWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> str:
    created = client.post("/tiktokstudio/api/upload")
    assert created.status_code == 200
    upload_id = str(created.json()["upload_id"])
    assert client.put(f"/tiktokstudio/api/upload/{upload_id}", content=video.read_bytes()).status_code == 200
    return upload_id


def test_the_upload_page_sends_a_visitor_without_a_session_to_the_login(web: TikTokWebSandbox) -> None:
    answer = browser(web).get("/tiktokstudio/upload?lang=en")
    assert answer.status_code == 302
    assert answer.headers["location"] == "/login?redirect_url=%2Ftiktokstudio%2Fupload%3Flang%3Den"
    page = browser(web, web.log_in()).get("/tiktokstudio/upload")
    assert page.status_code == 200 and 'data-e2e="post_video_button"' in page.text
    assert 'input type="file"' in page.text and "public-DraftEditor-content" in page.text


def test_a_password_login_sets_the_session_cookie_and_returns(web: TikTokWebSandbox) -> None:
    client = browser(web)
    path = "/login/phone-or-email/email?redirect_url=/tiktokstudio/upload"
    wrong = client.post(path, data={"username": web.username, "password": "guess"})
    assert wrong.status_code == 200 and "Incorrect account or password" in wrong.text
    right = client.post(path, data={"username": web.username, "password": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/tiktokstudio/upload"
    assert "HttpOnly" in right.headers["set-cookie"] and client.cookies.get(SESSION_COOKIE)
    assert client.get("/tiktokstudio/upload").status_code == 200
    evil = client.post(
        "/login/phone-or-email/email?redirect_url=//evil.example",
        data={"username": web.username, "password": web.password},
    )
    assert evil.headers["location"] == "/"


def test_a_qr_login_is_confirmed_once_a_phone_approves_it(web: TikTokWebSandbox) -> None:
    client = browser(web)
    page = client.get("/login/qrcode")
    token = page.text.split('data-token="')[1].split('"')[0]
    assert client.get(f"/passport/web/check_qrconnect/?token={token}").json()["data"]["status"] == "new"
    approver = threading.Thread(target=web.approve_qr_login)
    approver.start()
    approver.join()
    confirmed = client.get(f"/passport/web/check_qrconnect/?token={token}")
    assert confirmed.json()["data"]["status"] == "confirmed" and client.cookies.get(SESSION_COOKIE)
    assert client.get(f"/passport/web/check_qrconnect/?token={token}").json()["data"]["status"] == "expired"
    assert client.get("/").text.count('data-e2e="nav-profile" href="/@pellacia.sandbox"') == 1


def test_expired_sessions_go_back_to_the_login(web: TikTokWebSandbox) -> None:
    client = browser(web, web.log_in())
    assert client.get("/tiktokstudio/upload").status_code == 200
    web.expire_sessions()
    assert client.get("/tiktokstudio/upload").headers["location"].startswith("/login?")
    assert client.post("/tiktokstudio/api/upload").status_code == 401


def test_an_upload_is_processed_posted_and_shown_on_the_profile(web: TikTokWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    upload_id = upload(client, clip)
    status = client.get(f"/tiktokstudio/api/upload/{upload_id}").json()
    assert status == {"status": "ready", "resolution": "360p", "content_check": "done"}
    posted = client.post(
        "/tiktokstudio/api/post",
        json={"upload_id": upload_id, "caption": "A caption #x", "visibility": "Friends"},
    )
    assert posted.status_code == 200
    item_id = posted.json()["item_id"]
    [made] = web.posts
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest() and made["visibility"] == "Friends"
    profile = httpx.get(f"{web.base_url}/@{web.username}").text  # public: no session needed
    assert f'href="{web.base_url}/@{web.username}/video/{item_id}"' in profile
    assert 'alt="A caption #x created by Pellacia Press' in profile
    assert httpx.get(made["url"]).status_code == 200
    again = client.post(
        "/tiktokstudio/api/post", json={"upload_id": upload_id, "caption": "again", "visibility": "Friends"}
    )
    assert again.status_code == 400 and len(web.posts) == 1  # an upload is posted once


def test_a_new_post_shows_on_the_profile_once_processed(web: TikTokWebSandbox, clip: Path) -> None:
    web.processing_s = 3600
    client = browser(web, web.log_in())
    upload_id = upload(client, clip)
    client.post(
        "/tiktokstudio/api/post", json={"upload_id": upload_id, "caption": "soon", "visibility": "Everyone"}
    )
    assert 'data-e2e="user-post-item"' not in httpx.get(f"{web.base_url}/@{web.username}").text
    assert "Processing" in client.get("/tiktokstudio/content").text


def test_a_file_that_is_no_video_fails_processing(web: TikTokWebSandbox, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    client = browser(web, web.log_in())
    status = client.get(f"/tiktokstudio/api/upload/{upload(client, notes)}").json()
    assert status["status"] == "failed" and "isn't supported" in status["reason"]


def test_challenges_on_demand(web: TikTokWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    web.challenge_next("upload")
    assert "captcha-verify-container" in client.get("/tiktokstudio/upload").text
    assert 'data-e2e="post_video_button"' in client.get("/tiktokstudio/upload").text
    web.challenge_next("post")
    upload_id = upload(client, clip)
    refused = client.post(
        "/tiktokstudio/api/post", json={"upload_id": upload_id, "caption": "c", "visibility": "Everyone"}
    )
    assert refused.status_code == 403 and refused.json()["captcha"] is True and web.posts == []
    assert web.challenges.shown == ["upload", "post"]


def test_the_content_check_and_a_redesign_change_the_page(web: TikTokWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    web.hold_content_check()
    status = client.get(f"/tiktokstudio/api/upload/{upload(client, clip)}").json()
    assert status["content_check"] == "running"
    web.redesign({"post_video_button": "publish_button"})
    page = client.get("/tiktokstudio/upload").text
    assert 'data-e2e="publish_button"' in page and 'data-e2e="post_video_button"' not in page
    assert CONFIRMATION in page  # the page's own script is untouched by the redesign


def test_a_post_made_from_the_app_shows_too(web: TikTokWebSandbox, clip: Path) -> None:
    made = web.post_from_app("From the phone", clip)
    assert made["url"] in httpx.get(f"{web.base_url}/@{web.username}").text
    assert httpx.get(f"{web.base_url}/@someone.else").status_code == 404
