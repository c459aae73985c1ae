"""The Facebook sandbox speaks the documented protocol strictly: raw HTTP against it, no client involved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import Fault, TokenGrant
from sandbox.facebook import FacebookSandbox
from sandbox.graph import graph_error

V = "/v25.0"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[FacebookSandbox]:
    server = FacebookSandbox(tmp_path / "facebook", processing_polls=1, transfer_chunk_bytes=1000)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: FacebookSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def http(sandbox: FacebookSandbox, grant: TokenGrant) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"OAuth {grant.access_token}"}
    ) as client:
        yield client


@pytest.fixture
def video(sandbox: FacebookSandbox, grant: TokenGrant) -> Iterator[httpx.Client]:
    """graph-video.facebook.com, where the chunked /videos flow lives."""
    with httpx.Client(
        base_url=sandbox.url("video"), headers={"Authorization": f"OAuth {grant.access_token}"}
    ) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= set(error)
    return error


def start_reel(http: httpx.Client, page: str) -> tuple[str, str]:
    answer = http.post(f"{V}/{page}/video_reels", data={"upload_phase": "start"}).json()
    return answer["video_id"], answer["upload_url"]


def rupload(
    http: httpx.Client, url: str, data: bytes, offset: int = 0, size: int | None = None
) -> httpx.Response:
    return http.post(
        url,
        content=data[offset:],
        headers={"offset": str(offset), "file_size": str(len(data) if size is None else size)},
    )


def status(http: httpx.Client, video_id: str) -> dict[str, Any]:
    body: dict[str, Any] = http.get(f"{V}/{video_id}", params={"fields": "status"}).json()
    return dict(body["status"])


def finish_reel(http: httpx.Client, page: str, video_id: str, **extra: str) -> httpx.Response:
    data = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED", **extra}
    return http.post(f"{V}/{page}/video_reels", data=data)


def test_graph_calls_need_a_valid_page_token(sandbox: FacebookSandbox, grant: TokenGrant) -> None:
    sandbox.expire_tokens()
    with httpx.Client(base_url=sandbox.base_url) as anonymous:
        missing = anonymous.post(f"{V}/{sandbox.page_id}/video_reels", data={"upload_phase": "start"})
        expired = anonymous.post(
            f"{V}/{sandbox.page_id}/video_reels",
            data={"upload_phase": "start", "access_token": grant.access_token},
        )
    assert missing.status_code == 400 and error_of(missing)["code"] == 104
    assert expired.status_code == 400
    assert (error_of(expired)["code"], error_of(expired)["error_subcode"]) == (190, 463)
    assert "x-business-use-case-usage" in expired.headers


def test_a_reel_goes_start_rupload_finish_and_is_published_after_processing(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    data = b"reel bytes " * 500
    video_id, upload_url = start_reel(http, sandbox.page_id)
    assert upload_url == sandbox.url("upload", f"/video-upload/v25.0/{video_id}")
    assert urlsplit(upload_url).netloc != urlsplit(sandbox.base_url).netloc
    assert status(http, video_id)["uploading_phase"] == {"status": "not_started", "bytes_transferred": 0}

    uploaded = rupload(http, upload_url, data)
    assert uploaded.json() == {"success": True, "message": "Upload successful."}
    first = status(http, video_id)
    assert first["uploading_phase"] == {"status": "complete", "bytes_transferred": len(data)}
    assert first["publishing_phase"]["status"] == "not_started"

    finished = finish_reel(http, sandbox.page_id, video_id, title="T", description="Words #tag")
    assert finished.json() == {"success": True, "post_id": f"{sandbox.page_id}_{video_id}"}
    done = status(http, video_id)
    assert done["video_status"] == "ready"
    assert done["publishing_phase"]["status"] == "complete"
    assert done["publishing_phase"]["publish_status"] == "published"
    [post] = sandbox.posts
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    assert (post["title"], post["description"], post["permalink_url"]) == (
        "T",
        "Words #tag",
        f"/reel/{video_id}",
    )


def test_rupload_insists_on_oauth_header_offsets_and_the_whole_rest(
    sandbox: FacebookSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    data = bytes(range(256)) * 20
    _video_id, url = start_reel(http, sandbox.page_id)
    bearer = httpx.post(
        url,
        content=data,
        headers={"Authorization": f"Bearer {grant.access_token}", "offset": "0", "file_size": "5120"},
    )
    no_offset = http.post(url, content=data, headers={"file_size": str(len(data))})
    short_body = rupload(http, url, data[:100], size=len(data))
    past_end = rupload(http, url, data, offset=10)
    assert bearer.status_code == 401 and bearer.json()["debug_info"]["type"] == "AuthError"
    for refused in (no_offset, short_body, past_end):
        assert refused.status_code == 400 and refused.json()["debug_info"]["retriable"] is False


def test_an_interrupted_rupload_keeps_what_arrived_and_resumes_at_bytes_transferred(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    data = bytes(range(256)) * 40
    video_id, url = start_reel(http, sandbox.page_id)
    sandbox.interrupt_next_upload(3000)
    failed = rupload(http, url, data)
    assert failed.status_code == 500 and failed.json()["debug_info"]["retriable"] is True
    held = status(http, video_id)["uploading_phase"]["bytes_transferred"]
    assert held == 3000
    assert rupload(http, url, data, offset=held).json()["success"] is True
    assert finish_reel(http, sandbox.page_id, video_id).status_code == 200
    assert sandbox.posts[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert sandbox.upload_offsets == [0, 3000]


def test_rupload_documents_no_get_so_a_get_is_refused(
    sandbox: FacebookSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    """How far an upload got is the video's `status.uploading_phase.bytes_transferred`, never a GET."""
    _video_id, url = start_reel(http, sandbox.page_id)
    asked = httpx.get(url, headers={"Authorization": f"OAuth {grant.access_token}"})
    assert asked.status_code == 405 and asked.json()["debug_info"]["type"] == "MethodNotAllowed"


def test_finish_is_refused_before_the_upload_without_video_state_and_a_second_time(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    video_id, url = start_reel(http, sandbox.page_id)
    early = finish_reel(http, sandbox.page_id, video_id)
    rupload(http, url, b"x" * 100)
    stateless = http.post(
        f"{V}/{sandbox.page_id}/video_reels", data={"upload_phase": "finish", "video_id": video_id}
    )
    assert finish_reel(http, sandbox.page_id, video_id).status_code == 200
    again = finish_reel(http, sandbox.page_id, video_id)
    assert error_of(early)["code"] == 6000
    assert error_of(stateless)["code"] == 100
    assert error_of(again)["code"] == 100 and "already been published" in error_of(again)["message"]
    assert len(sandbox.posts) == 1


def test_processing_takes_the_configured_polls_and_can_reject(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    sandbox.processing_polls = 3
    sandbox.reject_next_processing("Unsupported codec", phase="processing")
    video_id, url = start_reel(http, sandbox.page_id)
    rupload(http, url, b"y" * 64)
    phases = [status(http, video_id)["processing_phase"]["status"] for _ in range(4)]
    assert phases == ["in_progress", "in_progress", "in_progress", "error"]
    failed = status(http, video_id)
    assert failed["video_status"] == "error"
    assert failed["processing_phase"]["errors"][0]["message"] == "Unsupported codec"
    assert error_of(finish_reel(http, sandbox.page_id, video_id))["code"] == 6000


def test_a_publishing_rejection_fails_the_publishing_phase(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    sandbox.reject_next_processing("Blocked for a policy violation", phase="publishing")
    video_id, url = start_reel(http, sandbox.page_id)
    rupload(http, url, b"z" * 64)
    assert status(http, video_id)["processing_phase"]["status"] == "in_progress"
    assert finish_reel(http, sandbox.page_id, video_id).status_code == 200
    refused = status(http, video_id)
    assert refused["publishing_phase"]["status"] == "error"
    assert refused["publishing_phase"]["errors"][0]["message"] == "Blocked for a policy violation"


def test_the_thirty_reels_cap_answers_page_throttling_with_the_wait(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    sandbox.use_reels_quota(30)
    video_id, url = start_reel(http, sandbox.page_id)
    rupload(http, url, b"q" * 64)
    capped = finish_reel(http, sandbox.page_id, video_id)
    assert capped.status_code == 400 and error_of(capped)["code"] == 32
    usage = json.loads(capped.headers["x-business-use-case-usage"])[sandbox.page_id][0]
    assert usage["type"] == "pages" and usage["estimated_time_to_regain_access"] > 60 * 23
    assert sandbox.posts == []


def transfer(
    http: httpx.Client, page: str, session: str, start: int, chunk: bytes, token_field: str | None = None
) -> httpx.Response:
    fields = {"upload_phase": "transfer", "upload_session_id": session, "start_offset": str(start)}
    if token_field is not None:
        fields["access_token"] = token_field
    return http.post(f"{V}/{page}/videos", data=fields, files={"video_file_chunk": ("chunk", chunk)})


def test_the_chunked_flow_names_each_range_and_1363037_names_it_again(
    sandbox: FacebookSandbox, video: httpx.Client, http: httpx.Client
) -> None:
    data = bytes(range(256)) * 10  # 2560 bytes, ranges of 1000
    started = video.post(
        f"{V}/{sandbox.page_id}/videos", data={"upload_phase": "start", "file_size": str(len(data))}
    ).json()
    session = started["upload_session_id"]
    assert (started["start_offset"], started["end_offset"]) == ("0", "1000")

    assert transfer(video, sandbox.page_id, session, 0, data[:1000]).json() == {
        "start_offset": "1000",
        "end_offset": "2000",
    }
    repeated = transfer(video, sandbox.page_id, session, 0, data[:1000])
    wrong_size = transfer(video, sandbox.page_id, session, 1000, data[1000:1500])
    for mismatch in (repeated, wrong_size):
        error = error_of(mismatch)
        assert error["error_subcode"] == 1363037
        assert error["error_data"] == {"start_offset": "1000", "end_offset": "2000"}
    early = video.post(
        f"{V}/{sandbox.page_id}/videos", data={"upload_phase": "finish", "upload_session_id": session}
    )
    assert error_of(early)["code"] == 6000

    transfer(video, sandbox.page_id, session, 1000, data[1000:2000])
    assert transfer(video, sandbox.page_id, session, 2000, data[2000:]).json() == {
        "start_offset": "2560",
        "end_offset": "2560",
    }
    finished = video.post(
        f"{V}/{sandbox.page_id}/videos",
        data={"upload_phase": "finish", "upload_session_id": session, "title": "Wide", "description": "D"},
    )
    assert finished.json() == {"success": True}
    status(http, started["video_id"])
    [post] = sandbox.posts
    assert (post["kind"], post["title"], post["sha256"]) == (
        "video",
        "Wide",
        hashlib.sha256(data).hexdigest(),
    )
    assert post["permalink_url"] == f"/{sandbox.page_name}/videos/{started['video_id']}/"


def test_a_phase_fault_can_commit_a_chunk_and_drop_the_answer(
    sandbox: FacebookSandbox, video: httpx.Client
) -> None:
    data = b"c" * 1500
    session = video.post(
        f"{V}/{sandbox.page_id}/videos", data={"upload_phase": "start", "file_size": str(len(data))}
    ).json()["upload_session_id"]
    sandbox.fail_phase(Fault("video_transfer", kind="drop_after_commit"))
    with pytest.raises(httpx.TransportError):
        transfer(video, sandbox.page_id, session, 0, data[:1000])
    resent = transfer(video, sandbox.page_id, session, 0, data[:1000])
    assert error_of(resent)["error_data"] == {"start_offset": "1000", "end_offset": "1500"}


def test_throttling_is_http_400_with_a_rate_limit_code_and_usage_headers(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    sandbox.throttle("reels", code=32, regain_minutes=2)
    throttled = http.post(f"{V}/{sandbox.page_id}/video_reels", data={"upload_phase": "start"})
    assert throttled.status_code == 400 and error_of(throttled)["code"] == 32
    usage = json.loads(throttled.headers["x-business-use-case-usage"])
    assert usage[sandbox.page_id][0]["estimated_time_to_regain_access"] == 2
    assert http.post(f"{V}/{sandbox.page_id}/video_reels", data={"upload_phase": "start"}).status_code == 200


def test_the_exchange_renews_the_user_token_which_reads_the_page_token(
    sandbox: FacebookSandbox, grant: TokenGrant
) -> None:
    params = {
        "grant_type": "fb_exchange_token",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "fb_exchange_token": grant.refresh_token,
    }
    with httpx.Client(base_url=sandbox.base_url) as anonymous:
        wrong_secret = anonymous.get(f"{V}/oauth/access_token", params={**params, "client_secret": "nope"})
        renewed = anonymous.get(f"{V}/oauth/access_token", params=params).json()
        user = {"Authorization": f"OAuth {renewed['access_token']}"}
        page_answer = anonymous.get(f"{V}/{sandbox.page_id}", params={"fields": "access_token"}, headers=user)
        with_page_token = anonymous.get(
            f"{V}/{sandbox.page_id}",
            params={"fields": "access_token"},
            headers={"Authorization": f"OAuth {grant.access_token}"},
        )
    assert error_of(wrong_secret)["code"] == 1
    assert renewed["token_type"] == "bearer" and renewed["expires_in"] > 0
    page_token = page_answer.json()["access_token"]
    assert sandbox.pages.valid(page_token) and not sandbox.users.valid(page_token)
    assert error_of(with_page_token)["code"] == 190


def test_video_insights_are_lifetime_metrics_of_published_videos_only(
    sandbox: FacebookSandbox, http: httpx.Client
) -> None:
    video_id, url = start_reel(http, sandbox.page_id)
    rupload(http, url, b"m" * 64)
    unpublished = http.get(f"{V}/{video_id}/video_insights")
    finish_reel(http, sandbox.page_id, video_id)
    status(http, video_id)
    status(http, video_id)
    every = http.get(f"{V}/{video_id}/video_insights").json()["data"]
    chosen = http.get(f"{V}/{video_id}/video_insights", params={"metric": "blue_reels_play_count"}).json()
    unknown = http.get(f"{V}/{video_id}/video_insights", params={"metric": "total_video_views"})
    expected = sandbox.metrics(video_id)
    assert error_of(unpublished)["code"] == 100
    assert {row["name"]: row["values"][0]["value"] for row in every} == expected
    assert {row["period"] for row in every} == {"lifetime"}
    assert chosen["data"][0]["values"] == [{"value": expected["blue_reels_play_count"]}]
    assert error_of(unknown)["code"] == 100


def test_unknown_fields_and_nodes_are_graph_errors(sandbox: FacebookSandbox, http: httpx.Client) -> None:
    video_id, _url = start_reel(http, sandbox.page_id)
    unknown_field = http.get(f"{V}/{video_id}", params={"fields": "status,colour"})
    unknown_node = http.get(f"{V}/999", params={"fields": "status"})
    other_page = http.post(f"{V}/42/video_reels", data={"upload_phase": "start"})
    fault = graph_error(2, "Service temporarily unavailable", status=500, transient=True)
    sandbox.inject(Fault("node", status=fault.status, body=fault.body))
    server_error = http.get(f"{V}/{video_id}", params={"fields": "status"})
    sandbox.fail_next("node", 503)
    unavailable = http.get(f"{V}/{video_id}", params={"fields": "status"})
    assert "nonexisting field (colour)" in error_of(unknown_field)["message"]
    assert error_of(unknown_node)["error_subcode"] == 33
    assert error_of(other_page)["code"] == 100
    assert server_error.status_code == 500 and error_of(server_error)["is_transient"] is True
    assert unavailable.status_code == 503 and error_of(unavailable)["code"] == 2


def test_each_host_serves_only_its_own_paths(
    sandbox: FacebookSandbox, http: httpx.Client, video: httpx.Client, grant: TokenGrant
) -> None:
    """graph, graph-video, rupload and the Login dialog are four hosts: a path on the wrong one is 404."""
    hosts = {root: urlsplit(url).netloc for root, url in sandbox.urls.items()}
    assert hosts["api"] == hosts["oauth"]
    assert len({hosts["api"], hosts["video"], hosts["upload"], hosts["consent"]}) == 4
    video_id, upload_url = start_reel(http, sandbox.page_id)
    path = urlsplit(upload_url).path
    on_graph = rupload(http, f"{sandbox.base_url}{path}", b"r" * 10)
    on_video = rupload(video, sandbox.url("video", path), b"r" * 10)
    chunked_on_graph = http.post(
        f"{V}/{sandbox.page_id}/videos", data={"upload_phase": "start", "file_size": "9"}
    )
    reels_on_video = video.post(f"{V}/{sandbox.page_id}/video_reels", data={"upload_phase": "start"})
    dialog_on_graph = http.get(f"{V}/dialog/oauth")
    graph_on_rupload = httpx.get(sandbox.url("upload", f"{V}/{video_id}"), params={"fields": "status"})
    for refused in (on_graph, on_video, chunked_on_graph, reels_on_video, dialog_on_graph, graph_on_rupload):
        assert refused.status_code == 404
    assert sandbox.video(video_id).received == 0
    assert rupload(http, upload_url, b"r" * 10).json()["success"] is True
