"""The LinkedIn web sandbox behaves as the real pages do, seen over plain HTTP: the sign-in redirect and
cookie sessions, the share box's upload and share calls, the activity page, challenges and redesigns."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.linkedin import CONFIRMATION, SESSION_COOKIE, SHARES, UPLOAD_METADATA, LinkedInWebSandbox


@pytest.fixture
def web(tmp_path: Path) -> Iterator[LinkedInWebSandbox]:
    with running(LinkedInWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("linkedin-web-sandbox") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: LinkedInWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> tuple[str, str]:
    """The upload URL, the PUT and the status poll as the share box's script runs them: the asset's URN
    and the status it ends with."""
    created = client.post(
        f"{UPLOAD_METADATA}?action=upload",
        json={"mediaUploadType": "VIDEO_SHARING", "fileSize": video.stat().st_size, "filename": video.name},
    )
    assert created.status_code == 200
    value = created.json()["value"]
    assert client.put(value["singleUploadUrl"], content=video.read_bytes()).status_code == 201
    asset = str(value["urn"])
    status = client.get(f"/voyager/api/voyagerVideoDashMediaStatus/{asset.split(':')[-1]}")
    return asset, str(status.json()["status"])


def share(client: httpx.Client, commentary: str, asset: str, visibility: str = "ANYONE") -> httpx.Response:
    return client.post(SHARES, json={"commentary": commentary, "visibility": visibility, "media": asset})


def test_the_feed_sends_a_visitor_without_a_session_to_the_sign_in(web: LinkedInWebSandbox) -> None:
    answer = browser(web).get("/feed/")
    assert answer.status_code == 302 and answer.headers["location"] == "/login?session_redirect=%2Ffeed%2F"
    page = browser(web, web.log_in()).get("/feed/")
    assert page.status_code == 200 and "share-box-feed-entry__trigger" in page.text
    assert 'id="media-editor-file-selector__file-input"' in page.text and "ql-editor" in page.text
    assert "share-actions__primary-action" in page.text


def test_a_password_sign_in_sets_the_session_cookie_and_returns(web: LinkedInWebSandbox) -> None:
    client = browser(web)
    path = "/checkpoint/lg/login-submit?session_redirect=/feed/"
    wrong = client.post(path, data={"session_key": web.username, "session_password": "guess"})
    assert wrong.status_code == 200 and "Wrong email or password" in wrong.text
    right = client.post(path, data={"session_key": web.username, "session_password": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/feed/"
    assert "HttpOnly" in right.headers["set-cookie"] and client.cookies.get(SESSION_COOKIE)
    assert client.get("/feed/").status_code == 200
    evil = client.post(
        "/checkpoint/lg/login-submit?session_redirect=//evil.example",
        data={"session_key": web.username, "session_password": web.password},
    )
    assert evil.headers["location"] == "/feed/"


def test_expired_sessions_go_back_to_the_sign_in(web: LinkedInWebSandbox) -> None:
    client = browser(web, web.log_in())
    assert client.get("/feed/").status_code == 200
    web.expire_sessions()
    assert client.get("/feed/").headers["location"].startswith("/login?")
    assert client.post(f"{UPLOAD_METADATA}?action=upload", json={}).status_code == 401


def test_an_upload_is_processed_shared_and_shown_on_the_activity_page(
    web: LinkedInWebSandbox, clip: Path
) -> None:
    client = browser(web, web.log_in())
    asset, status = upload(client, clip)
    assert status == "AVAILABLE"
    shared = share(client, "A caption #linkedin", asset, "CONNECTIONS_ONLY")
    assert shared.status_code == 201
    activity = shared.json()["value"]["activityUrn"]
    [made] = web.posts
    assert made["id"] == activity and made["visibility"] == "CONNECTIONS_ONLY"
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made["url"] == f"{web.base_url}/feed/update/{activity}/"
    page = httpx.get(f"{web.base_url}/in/{web.username}/recent-activity/all/").text
    assert f'data-urn="{activity}"' in page and f'href="/feed/update/{activity}/"' in page
    assert '<span class="break-words" dir="ltr">A caption #linkedin</span>' in page
    assert httpx.get(made["url"]).status_code == 200
    assert share(client, "again", asset).status_code == 422 and len(web.posts) == 1  # one share per upload


def test_a_new_post_shows_on_the_activity_page_once_processed(web: LinkedInWebSandbox, clip: Path) -> None:
    web.processing_s = 3600
    client = browser(web, web.log_in())
    asset, _status = upload(client, clip)
    share(client, "soon", asset)
    assert (
        "feed-shared-update-v2"
        not in httpx.get(f"{web.base_url}/in/{web.username}/recent-activity/all/").text
    )
    assert httpx.get(web.posts[0]["url"]).status_code == 404


def test_a_file_that_is_no_video_fails_processing(web: LinkedInWebSandbox, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    client = browser(web, web.log_in())
    asset, status = upload(client, notes)
    assert status == "PROCESSING_FAILED"
    assert share(client, "x", asset).status_code == 422 and web.posts == []


def test_commentary_over_the_limit_and_unknown_visibility_are_refused(
    web: LinkedInWebSandbox, clip: Path
) -> None:
    client = browser(web, web.log_in())
    asset, _status = upload(client, clip)
    assert "3,000" in share(client, "a" * 3001, asset).json()["message"]
    assert share(client, "fine", asset, "EVERYONE").status_code == 422 and web.posts == []


def test_challenges_on_demand(web: LinkedInWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    web.challenge_next("upload")
    moved = client.get("/feed/")
    assert moved.status_code == 302 and moved.headers["location"].startswith("/checkpoint/challenge/")
    assert 'iframe id="captcha-internal"' in client.get(moved.headers["location"]).text
    assert "share-box-feed-entry__trigger" in client.get("/feed/").text
    web.challenge_next("post")
    asset, _status = upload(client, clip)
    refused = share(client, "c", asset)
    assert refused.status_code == 403 and refused.json()["challenge"] is True and web.posts == []
    assert web.challenges.shown == ["upload", "post"]


def test_a_redesign_renames_classes_but_not_the_pages_logic(web: LinkedInWebSandbox) -> None:
    client = browser(web, web.log_in())
    web.redesign({"share-actions__primary-action": "share-actions__post"})
    page = client.get("/feed/").text
    assert "share-actions__post" in page and "share-actions__primary-action" not in page
    assert CONFIRMATION in page  # the page's own script is untouched by the redesign


def test_a_post_made_from_the_app_shows_too(web: LinkedInWebSandbox, clip: Path) -> None:
    made = web.post_from_app("From the phone", clip)
    assert made["id"] in httpx.get(f"{web.base_url}/in/{web.username}/recent-activity/all/").text
    assert httpx.get(f"{web.base_url}/in/someone-else/recent-activity/all/").status_code == 404
