"""The YouTube Studio web sandbox behaves as the real pages do, seen over plain HTTP: Google's sign-in
redirect and the SID session, the dashboard with the upload dialog, the page's own upload API with the
declarations Studio requires, the content list, challenges and redesigns."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.common import running
from sandbox.web.uploads import API
from sandbox.web.youtube import SESSION_COOKIE, YouTubeWebSandbox

CHOICES = {
    "privacy": "PRIVATE",
    "made_for_kids": "VIDEO_MADE_FOR_KIDS_NOT_MFK",
    "altered_content": "VIDEO_HAS_ALTERED_CONTENT_NO",
}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[YouTubeWebSandbox]:
    with running(YouTubeWebSandbox(tmp_path / "web")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("youtube-web") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def browser(web: YouTubeWebSandbox, session: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session} if session else {}
    return httpx.Client(base_url=web.base_url, cookies=cookies, timeout=30)


def upload(client: httpx.Client, video: Path) -> str:
    upload_id = str(client.post(f"{API}/upload").json()["upload_id"])
    assert client.put(f"{API}/upload/{upload_id}", content=video.read_bytes()).status_code == 200
    return upload_id


def test_studio_sends_a_visitor_without_a_session_to_the_sign_in(web: YouTubeWebSandbox) -> None:
    answer = browser(web).get("/")
    assert answer.status_code == 302 and answer.headers["location"] == "/v3/signin/identifier?continue=%2F"
    dashboard = browser(web).get(f"/channel/{web.handle}/")
    assert dashboard.headers["location"].startswith("/v3/signin/identifier?continue=")
    client = browser(web, web.log_in())
    assert client.get("/").headers["location"] == f"/channel/{web.handle}/"
    page = client.get(f"/channel/{web.handle}/").text
    for part in ('id="create-icon"', 'id="text-item-0"', 'type="file"', 'id="title-textarea"',
                 'name="VIDEO_MADE_FOR_KIDS_NOT_MFK"', 'id="next-button"', 'name="PUBLIC"',
                 'id="done-button"',
                 'class="video-url-fadeable"'):  # fmt: skip
        assert part in page


def test_a_password_sign_in_sets_the_session_and_returns(web: YouTubeWebSandbox) -> None:
    client = browser(web)
    path = "/v3/signin/identifier?continue=/"
    wrong = client.post(path, data={"identifier": web.username, "Passwd": "guess"})
    assert wrong.status_code == 200 and "Wrong password" in wrong.text
    right = client.post(path, data={"identifier": web.username, "Passwd": web.password})
    assert right.status_code == 302 and right.headers["location"] == "/"
    assert client.cookies.get(SESSION_COOKIE) and "HttpOnly" in right.headers["set-cookie"]
    web.expire_sessions()
    assert client.get("/").status_code == 302 and client.post(f"{API}/upload").status_code == 401


def test_a_video_is_processed_posted_and_listed(web: YouTubeWebSandbox, clip: Path) -> None:
    client = browser(web, web.log_in())
    upload_id = upload(client, clip)
    assert client.get(f"{API}/upload/{upload_id}").json() == {"status": "ready", "resolution": "360p"}
    missing = client.post(f"{API}/post", json={"upload_id": upload_id, "title": "T", "choices": {}})
    assert missing.status_code == 400 and "Choose privacy" in missing.json()["message"]
    posted = client.post(
        f"{API}/post",
        json={"upload_id": upload_id, "title": "A title", "caption": "A description", "choices": CHOICES},
    )
    assert posted.status_code == 200
    [made] = web.posts
    assert posted.json() == {"id": made["id"], "url": f"{web.base_url}/shorts/{made['id']}"}
    assert made["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest() and made["choices"] == CHOICES
    listed = client.get(f"/channel/{web.handle}/videos/upload").text
    assert "<ytcp-video-row>" in listed and '<div id="description">A description</div>' in listed
    assert f'href="{made["url"]}"' in listed
    assert browser(web).get(f"/channel/{web.handle}/videos/upload").status_code == 302  # signed in only
    assert httpx.get(made["url"]).status_code == 200


def test_a_file_that_is_no_video_fails_and_challenges_come_on_demand(
    web: YouTubeWebSandbox, tmp_path: Path, clip: Path
) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    client = browser(web, web.log_in())
    assert client.get(f"{API}/upload/{upload(client, notes)}").json()["status"] == "failed"
    web.challenge_next("upload")
    assert 'id="captcha-container"' in client.get(f"/channel/{web.handle}/").text
    assert 'id="create-icon"' in client.get(f"/channel/{web.handle}/").text
    web.challenge_next("post")
    refused = client.post(f"{API}/post", json={"upload_id": upload(client, clip), "choices": CHOICES})
    assert refused.status_code == 403 and refused.json()["captcha"] is True and web.posts == []


def test_a_redesign_renames_ids_but_not_the_page_logic(web: YouTubeWebSandbox) -> None:
    web.redesign({"done-button": "publish-button"})
    page = browser(web, web.log_in()).get(f"/channel/{web.handle}/").text
    assert 'id="publish-button"' in page and 'id="done-button"' not in page
    assert 'data-js="publish"' in page
