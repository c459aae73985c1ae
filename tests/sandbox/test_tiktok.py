"""The TikTok sandbox speaks the documented protocol and refuses what TikTok refuses, with TikTok's bodies."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import TokenGrant, running
from sandbox.tiktok import TikTokSandbox, VideoFacts, probe_video, rate_limit_fault

MB = 1_000_000
INIT = "/v2/post/publish/video/init/"
STATUS = "/v2/post/publish/status/fetch/"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[TikTokSandbox]:
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=0)) as server:
        assert isinstance(server, TikTokSandbox)
        yield server


@pytest.fixture
def grant(sandbox: TikTokSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiktok-sandbox") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-t", "3",
         "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


def call(
    sandbox: TikTokSandbox, path: str, token: str | None, body: Any = None, **kwargs: Any
) -> httpx.Response:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{sandbox.base_url}{path}", headers=headers, json=body, timeout=10, **kwargs)


def init_body(size: int, chunk: int, count: int, **post_info: Any) -> dict[str, Any]:
    info = {"title": "a #test", "privacy_level": "SELF_ONLY", "brand_content_toggle": False, **post_info}
    return {
        "post_info": info,
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        },
    }


def put(url: str, data: bytes, first: int, total: int, mime: str = "video/mp4") -> httpx.Response:
    headers = {"Content-Type": mime, "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"}
    return httpx.put(url, content=data, headers=headers, timeout=30)


def test_the_error_envelope_and_auth(sandbox: TikTokSandbox) -> None:
    response = call(sandbox, "/v2/post/publish/creator_info/query/", None)
    assert response.status_code == 401
    body = response.json()
    assert body["data"] == {}
    assert body["error"]["code"] == "access_token_invalid" and body["error"]["log_id"]


def test_creator_info(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    data = call(sandbox, "/v2/post/publish/creator_info/query/", grant.access_token).json()["data"]
    assert data["privacy_level_options"] == ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert data["max_video_post_duration_sec"] == 300
    assert data["creator_username"] == sandbox.username


def test_refresh_rotates_the_refresh_token(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    def refresh(
        token: str, secret: str = sandbox.client_secret, grant_type: str = "refresh_token"
    ) -> httpx.Response:
        form = {
            "client_key": sandbox.client_key,
            "client_secret": secret,
            "grant_type": grant_type,
            "refresh_token": token,
        }
        return httpx.post(f"{sandbox.base_url}/v2/oauth/token/", data=form, timeout=10)

    first = refresh(grant.refresh_token)
    assert first.status_code == 200
    tokens = first.json()
    assert set(tokens) == {
        "open_id", "scope", "access_token", "expires_in", "refresh_token", "refresh_expires_in", "token_type",
    }  # fmt: skip
    assert tokens["refresh_token"] != grant.refresh_token and tokens["token_type"] == "Bearer"
    reused = refresh(grant.refresh_token)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh(tokens["refresh_token"]).status_code == 200
    assert refresh(tokens["refresh_token"], secret="wrong").json()["error"] == "invalid_client"
    assert refresh(tokens["refresh_token"], grant_type="password").json()["error"] == "unsupported_grant_type"
    as_json = httpx.post(
        f"{sandbox.base_url}/v2/oauth/token/", json={"grant_type": "refresh_token"}, timeout=10
    )
    assert as_json.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("post_info", "status", "code"),
    [
        ({"privacy_level": "FOLLOWER_OF_CREATOR"}, 403, "privacy_level_option_mismatch"),
        ({"privacy_level": None}, 403, "privacy_level_option_mismatch"),
        ({"title": "é" * 2200}, 200, "ok"),
        ({"title": "🎬" * 1101}, 400, "invalid_param"),  # 2202 UTF-16 units
        ({"disable_comment": "yes"}, 400, "invalid_param"),
    ],
)
def test_init_validates_post_info(
    sandbox: TikTokSandbox, grant: TokenGrant, post_info: dict[str, Any], status: int, code: str
) -> None:
    response = call(sandbox, INIT, grant.access_token, init_body(1000, 1000, 1, **post_info))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_init_requires_the_brand_content_toggle(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    body = init_body(1000, 1000, 1)
    del body["post_info"]["brand_content_toggle"]
    assert call(sandbox, INIT, grant.access_token, body).status_code == 400


def test_init_returns_an_upload_url_on_the_upload_host(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    data = call(sandbox, INIT, grant.access_token, init_body(50_000_123, 10 * MB, 5)).json()["data"]
    assert data["publish_id"].startswith("v_pub_file~v2-1.") and len(data["publish_id"]) <= 64
    assert data["upload_url"].startswith(sandbox.url("upload", "/video/?upload_id="))
    assert urlsplit(data["upload_url"]).netloc != urlsplit(sandbox.base_url).netloc
    assert "upload_token=" in data["upload_url"] and len(data["upload_url"]) <= 256


@pytest.mark.parametrize(
    ("size", "chunk", "count", "problem"),
    [
        (50_000_123, 10 * MB, 5, None),  # the media transfer guide's example
        (4_194_304, 4_194_304, 1, None),  # its whole-upload example
        (4_194_304, 2_000_000, 2, "under 5 MB"),
        (50_000_123, 10 * MB, 6, "rounded down"),
        (20 * MB, 4 * MB, 5, "at least 5 MB"),
        (200 * MB, 65 * MB, 3, "at most 64 MB"),
        (100 * MB, 100 * MB, 1, "multiple chunks"),
        (60 * MB, 60 * MB, 1, None),  # 5-64 MB may go whole
        (190 * MB, 63 * MB, 3, None),  # final chunk 64 MB
        (4_000 * MB, 5 * MB, 800, None),
        (4_001 * MB, 5 * MB, 800, "4 GB"),
    ],
)
def test_chunk_arithmetic(
    sandbox: TikTokSandbox, size: int, chunk: int, count: int, problem: str | None
) -> None:
    found = sandbox.chunk_rule_problem(size, chunk, count)
    assert found is None if problem is None else (found is not None and problem in found)


def test_strict_megabytes_reads_mb_as_2_to_the_20(tmp_path: Path) -> None:
    strict = TikTokSandbox(tmp_path / "strict", strict_megabytes=True)
    assert strict.chunk_rule_problem(15 * MB, 5 * MB, 3) is not None
    assert strict.chunk_rule_problem(15 * MB, 5 * 1024 * 1024, 2) is None


def test_a_chunked_upload_is_stored_hashed_and_published(
    sandbox: TikTokSandbox, grant: TokenGrant, tmp_path: Path
) -> None:
    data = os.urandom(12 * MB)
    init = call(sandbox, INIT, grant.access_token, init_body(len(data), 5 * MB, 2)).json()["data"]
    url = init["upload_url"]

    out_of_order = put(url, data[5 * MB :], 5 * MB, len(data))
    assert out_of_order.status_code == 416 and out_of_order.headers["content-range"] == f"bytes */{len(data)}"
    wrong_type = put(url, data[: 5 * MB], 0, len(data), mime="application/octet-stream")
    assert wrong_type.status_code == 400
    wrong_length = put(url, data[: 6 * MB], 0, len(data))
    assert wrong_length.status_code == 400
    first = put(url, data[: 5 * MB], 0, len(data))
    assert first.status_code == 206 and first.headers["content-range"] == f"bytes 0-{5 * MB - 1}/{len(data)}"
    again = put(url, data[: 5 * MB], 0, len(data))
    assert again.status_code == 416 and again.headers["content-range"] == f"bytes 0-{5 * MB - 1}/{len(data)}"
    last = put(url, data[5 * MB :], 5 * MB, len(data))
    assert last.status_code == 201

    status = call(sandbox, STATUS, grant.access_token, {"publish_id": init["publish_id"]}).json()["data"]
    # Random bytes are no video: processing fails the way TikTok's format check does.
    assert status == {
        "status": "FAILED",
        "fail_reason": "file_format_check_failed",
        "publicaly_available_post_id": [],
        "uploaded_bytes": len(data),
    }
    assert sandbox.posts == []
    stored = sandbox.stored_file("upload-1")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_video_is_processed_over_polls_and_published(tmp_path: Path, clip: Path) -> None:
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=2)) as server:
        assert isinstance(server, TikTokSandbox)
        token = server.issue_tokens().access_token
        size = clip.stat().st_size
        body = init_body(size, size, 1, privacy_level="PUBLIC_TO_EVERYONE", title="hello #fyp")
        init = call(server, INIT, token, body).json()["data"]
        assert put(init["upload_url"], clip.read_bytes(), 0, size).status_code == 201

        statuses = [
            call(server, STATUS, token, {"publish_id": init["publish_id"]}).json()["data"] for _ in range(3)
        ]

        assert [s["status"] for s in statuses] == [
            "PROCESSING_UPLOAD",
            "PROCESSING_UPLOAD",
            "PUBLISH_COMPLETE",
        ]
        post = server.posts[0]
        assert statuses[2]["publicaly_available_post_id"] == [int(post["id"])]
        assert post["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
        assert post["caption"] == "hello #fyp" and post["width"] == 360

        query = call(
            server, "/v2/video/query/", token, {"filters": {"video_ids": [post["id"]]}},
            params={"fields": "id,view_count,like_count"},
        )  # fmt: skip
        video = query.json()["data"]["videos"][0]
        assert set(video) == {"id", "view_count", "like_count"}
        assert video["view_count"] == server.video_object(post["id"])["view_count"]


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-taking-it", "after-taking-it"])
def test_a_503_on_the_last_chunk_and_its_repetition_never_post_twice(
    tmp_path: Path, clip: Path, after_commit: bool
) -> None:
    """TikTok keys an upload by its upload_url: the last chunk sent again (after a 503, or after it was
    taken) is answered 416 with the whole range once it is in, and there is one post."""
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=0)) as server:
        assert isinstance(server, TikTokSandbox)
        token = server.issue_tokens().access_token
        size, data = clip.stat().st_size, clip.read_bytes()
        body = init_body(size, size, 1, privacy_level="PUBLIC_TO_EVERYONE")
        init = call(server, INIT, token, body).json()["data"]
        server.fail_final_chunk(503, after_commit=after_commit)

        failed = put(init["upload_url"], data, 0, size)
        assert failed.status_code == 503 and failed.json()["error"]["code"] == "internal_error"
        assert server.uploads_completed == (1 if after_commit else 0)
        again = put(init["upload_url"], data, 0, size)
        if after_commit:
            assert again.status_code == 416 and again.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        else:
            assert again.status_code == 201
        repeated = put(init["upload_url"], data, 0, size)
        assert (
            repeated.status_code == 416 and repeated.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        )

        for _poll in range(2):
            status = call(server, STATUS, token, {"publish_id": init["publish_id"]}).json()["data"]
        assert status["status"] == "PUBLISH_COMPLETE" and status["uploaded_bytes"] == size
        assert len(server.posts) == 1 and server.uploads_completed == 1
        assert server.posts[0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_injected_last_chunk_failure_leaves_earlier_chunks_alone(
    sandbox: TikTokSandbox, grant: TokenGrant
) -> None:
    data = os.urandom(11 * MB)
    init = call(sandbox, INIT, grant.access_token, init_body(len(data), 5 * MB, 2)).json()["data"]
    sandbox.fail_final_chunk(502)
    assert put(init["upload_url"], data[: 5 * MB], 0, len(data)).status_code == 206
    assert put(init["upload_url"], data[5 * MB :], 5 * MB, len(data)).status_code == 502
    assert put(init["upload_url"], data[5 * MB :], 5 * MB, len(data)).status_code == 201


def test_processing_checks_the_creators_duration_limit(tmp_path: Path, clip: Path) -> None:
    with running(
        TikTokSandbox(tmp_path / "sandbox", processing_polls=0, max_video_post_duration_sec=2)
    ) as server:
        assert isinstance(server, TikTokSandbox)
        token = server.issue_tokens().access_token
        size = clip.stat().st_size
        init = call(server, INIT, token, init_body(size, size, 1)).json()["data"]
        put(init["upload_url"], clip.read_bytes(), 0, size)
        status = call(server, STATUS, token, {"publish_id": init["publish_id"]}).json()["data"]
        assert (status["status"], status["fail_reason"]) == ("FAILED", "duration_check_failed")


def test_upload_url_expiry_and_unknown_tasks(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    init = call(sandbox, INIT, grant.access_token, init_body(1000, 1000, 1)).json()["data"]
    assert (
        put(init["upload_url"].replace("upload_token=", "upload_token=x"), b"x" * 1000, 0, 1000).status_code
        == 404
    )
    sandbox.expire_upload_urls()
    assert put(init["upload_url"], b"x" * 1000, 0, 1000).status_code == 403


def test_chunked_transfer_encoding_is_refused(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    init = call(sandbox, INIT, grant.access_token, init_body(1000, 1000, 1)).json()["data"]
    response = httpx.put(
        init["upload_url"],
        content=iter([b"x" * 1000]),
        headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-999/1000"},
        timeout=10,
    )
    assert response.status_code == 400 and "Content-Length" in response.json()["error"]["message"]


def test_status_of_an_unknown_publish_id(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    response = call(sandbox, STATUS, grant.access_token, {"publish_id": "v_pub_file~v2-1.0"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_publish_id")


def test_video_query_validates_fields_and_ids(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    no_fields = call(sandbox, "/v2/video/query/", grant.access_token, {"filters": {"video_ids": ["1"]}})
    assert no_fields.status_code == 400
    many = {"filters": {"video_ids": [str(i) for i in range(21)]}}
    too_many = call(sandbox, "/v2/video/query/", grant.access_token, many, params={"fields": "id"})
    assert too_many.json()["error"]["code"] == "invalid_params"
    unknown = call(
        sandbox,
        "/v2/video/query/",
        grant.access_token,
        {"filters": {"video_ids": ["1"]}},
        params={"fields": "id"},
    )
    assert unknown.json()["data"]["videos"] == []


def test_rate_limit_fault_is_tiktoks_429(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    sandbox.inject(rate_limit_fault("creator_info"))
    throttled = call(sandbox, "/v2/post/publish/creator_info/query/", grant.access_token)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "rate_limit_exceeded"
    assert call(sandbox, "/v2/post/publish/creator_info/query/", grant.access_token).status_code == 200


def test_each_host_serves_only_its_own_paths(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    """open.tiktokapis.com, open-upload.tiktokapis.com and www.tiktok.com are three hosts."""
    hosts = {root: urlsplit(url).netloc for root, url in sandbox.urls.items()}
    assert hosts["api"] == hosts["oauth"] and len({hosts["api"], hosts["upload"], hosts["consent"]}) == 3
    init = call(sandbox, INIT, grant.access_token, init_body(1000, 1000, 1)).json()["data"]
    parts = urlsplit(init["upload_url"])
    on_api_host = put(f"{sandbox.base_url}{parts.path}?{parts.query}", b"x" * 1000, 0, 1000)
    init_on_upload_host = httpx.post(
        sandbox.url("upload", INIT),
        json=init_body(1000, 1000, 1),
        headers={"Authorization": f"Bearer {grant.access_token}"},
    )
    consent_on_api_host = httpx.get(f"{sandbox.base_url}/v2/auth/authorize/")
    for refused in (on_api_host, init_on_upload_host, consent_on_api_host):
        assert refused.status_code == 404
    assert sandbox.uploads_completed == 0
    assert put(init["upload_url"], b"x" * 1000, 0, 1000).status_code == 201


def test_generic_fault_helpers_speak_tiktoks_envelope(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    sandbox.rate_limit_next("creator_info", wait_s=60)
    sandbox.fail_next("status", 500)
    throttled = call(sandbox, "/v2/post/publish/creator_info/query/", grant.access_token)
    failed = call(sandbox, STATUS, grant.access_token, {"publish_id": "v_pub_file~v2-1.0"})
    assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, "rate_limit_exceeded")
    assert "retry-after" not in throttled.headers  # TikTok documents no wait
    assert (failed.status_code, failed.json()["error"]["code"]) == (500, "internal_error")
    sandbox.expire_tokens()
    refused = call(sandbox, "/v2/post/publish/creator_info/query/", grant.access_token)
    assert refused.json()["error"]["code"] == "access_token_invalid"


def render(path: Path, size: str, rate: int, seconds: float = 1.0) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_ffprobe_reads_the_facts_processing_checks(clip: Path, tmp_path: Path) -> None:
    facts = probe_video(clip)
    assert isinstance(facts, VideoFacts)
    assert (facts.width, facts.height, facts.fps) == (360, 640, 30.0)
    assert abs(facts.duration_s - 3.0) < 0.1
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    assert probe_video(garbage) is None


@pytest.mark.parametrize(
    ("size", "rate", "verdict"),
    [
        ("360x640", 30, None),  # the documented minimum side, 30 FPS
        ("320x640", 30, "picture_size_check_failed"),  # a side under 360 px
        ("360x640", 15, "frame_rate_check_failed"),  # under 23 FPS
        ("360x640", 23, None),  # 23 FPS is allowed
    ],
)
def test_processing_enforces_the_documented_video_restrictions(
    tmp_path: Path, size: str, rate: int, verdict: str | None
) -> None:
    video = render(tmp_path / "video.mp4", size, rate)
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=0)) as server:
        token = server.issue_tokens().access_token
        length = video.stat().st_size
        init = call(server, INIT, token, init_body(length, length, 1)).json()["data"]
        assert put(init["upload_url"], video.read_bytes(), 0, length).status_code == 201
        status = call(server, STATUS, token, {"publish_id": init["publish_id"]}).json()["data"]
    if verdict is None:
        assert status["status"] == "PUBLISH_COMPLETE"
    else:
        assert (status["status"], status["fail_reason"]) == ("FAILED", verdict)


def test_a_file_that_is_no_video_fails_the_format_check(sandbox: TikTokSandbox, grant: TokenGrant) -> None:
    init = call(sandbox, INIT, grant.access_token, init_body(1000, 1000, 1)).json()["data"]
    put(init["upload_url"], b"x" * 1000, 0, 1000)
    status = call(sandbox, STATUS, grant.access_token, {"publish_id": init["publish_id"]}).json()["data"]
    assert (status["status"], status["fail_reason"]) == ("FAILED", "file_format_check_failed")
