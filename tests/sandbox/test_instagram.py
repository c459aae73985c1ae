"""The Instagram sandbox over raw HTTP: it must refuse what the Graph API refuses, with Graph's bodies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import Fault
from sandbox.instagram import InstagramSandbox

DATA = bytes(range(256)) * 4096  # 1 MiB of upload body; the sandbox checks protocol, not pixels


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[InstagramSandbox]:
    server = InstagramSandbox(tmp_path / "instagram", processing_polls=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def token(sandbox: InstagramSandbox) -> str:
    return sandbox.issue_tokens().access_token


@pytest.fixture
def graph(sandbox: InstagramSandbox, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sandbox.base_url}/v25.0", headers={"Authorization": f"OAuth {token}"}
    ) as client:
        yield client


def graph_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["fbtrace_id"] and error["type"]
    return error


def create(graph: httpx.Client, sandbox: InstagramSandbox, **params: str) -> dict[str, Any]:
    fields = {"media_type": "REELS", "upload_type": "resumable", "caption": "A reel #story", **params}
    response = graph.post(f"/{sandbox.user_id}/media", data=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(uri: str, token: str, data: bytes, offset: int = 0, **headers: str) -> httpx.Response:
    sent = {"Authorization": f"OAuth {token}", "offset": str(offset), "file_size": str(len(data)), **headers}
    return httpx.post(uri, headers=sent, content=data[offset:])


def publish(graph: httpx.Client, sandbox: InstagramSandbox, container: str) -> httpx.Response:
    return graph.post(f"/{sandbox.user_id}/media_publish", data={"creation_id": container})


def status(graph: httpx.Client, container: str) -> str:
    code: str = graph.get(f"/{container}", params={"fields": "status_code,status"}).json()["status_code"]
    return code


def published(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str, caption: str = "A reel #story"
) -> str:
    container = create(graph, sandbox, caption=caption)
    assert upload(container["uri"], token, DATA).json() == {"success": True, "message": "Upload successful."}
    assert status(graph, container["id"]) == "FINISHED"
    media_id: str = publish(graph, sandbox, container["id"]).json()["id"]
    return media_id


@pytest.mark.parametrize(
    ("params", "code", "subcode", "text"),
    [
        ({"media_type": ""}, 100, None, "media_type is required"),
        ({"media_type": "VIDEO"}, 100, None, "no longer supported"),
        ({"upload_type": ""}, 100, None, "video_url is required"),
        ({"caption": "x" * 2201}, 100, None, "2201 characters"),
        ({"caption": " ".join(f"#t{n}" for n in range(31))}, 100, 2207040, "30 hashtags"),
        ({"caption": " ".join(f"@u{n}" for n in range(21))}, 100, 2207040, "20 @ tags"),
        ({"share_to_feed": "maybe"}, 100, None, "share_to_feed"),
        ({"thumb_offset": "-5"}, 1, 2207057, "Thumbnail offset"),
    ],
)
def test_container_creation_refuses_what_the_media_edge_refuses(
    graph: httpx.Client,
    sandbox: InstagramSandbox,
    params: dict[str, str],
    code: int,
    subcode: int | None,
    text: str,
) -> None:
    fields = {"media_type": "REELS", "upload_type": "resumable", "caption": "ok", **params}
    error = graph_error(graph.post(f"/{sandbox.user_id}/media", data=fields))
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert text in error["message"] + error.get("error_user_msg", "")
    assert sandbox.posts == []


def test_a_resumable_reel_container_returns_its_rupload_uri(
    graph: httpx.Client, sandbox: InstagramSandbox
) -> None:
    container = create(graph, sandbox, caption="x" * 2200)
    assert container["uri"] == sandbox.url("upload", f"/ig-api-upload/v25.0/{container['id']}")
    assert urlsplit(container["uri"]).netloc != urlsplit(sandbox.base_url).netloc
    assert status(graph, container["id"]) == "IN_PROGRESS"


def test_rupload_and_graph_are_separate_hosts(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    """An upload sent to the Graph host (a client building the rupload URL itself) finds no route."""
    container = create(graph, sandbox)
    path = urlsplit(container["uri"]).path
    on_graph = upload(f"{sandbox.base_url}{path}", token, DATA)
    status_on_graph = httpx.get(f"{sandbox.base_url}{path}", headers={"Authorization": f"OAuth {token}"})
    graph_on_rupload = httpx.get(
        sandbox.url("upload", f"/v25.0/{container['id']}"), params={"access_token": token}
    )
    dialog_on_graph = graph.get("/dialog/oauth")
    for refused in (on_graph, status_on_graph, graph_on_rupload, dialog_on_graph):
        assert refused.status_code == 404
    assert sandbox.container(container["id"]).upload.received == 0
    assert upload(container["uri"], token, DATA).json()["success"] is True


def test_tokens_are_checked_on_every_graph_call(sandbox: InstagramSandbox, token: str) -> None:
    url = f"{sandbox.base_url}/v25.0/{sandbox.user_id}/content_publishing_limit"
    assert graph_error(httpx.get(url))["code"] == 104
    assert graph_error(httpx.get(url, headers={"Authorization": "Bearer nonsense"}))["code"] == 190
    assert httpx.get(url, params={"access_token": token}).status_code == 200
    sandbox.expire_tokens()
    expired = graph_error(httpx.get(url, params={"access_token": token}))
    assert (expired["code"], expired["error_subcode"]) == (190, 463)


def test_another_account_is_a_missing_node(graph: httpx.Client) -> None:
    error = graph_error(graph.get("/17841499999999999/content_publishing_limit"))
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")


def test_rupload_checks_its_headers_and_body(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    uri = create(graph, sandbox)["uri"]
    bearer = httpx.post(
        uri, headers={"Authorization": f"Bearer {token}", "offset": "0", "file_size": "3"}, content=b"abc"
    )
    assert bearer.status_code == 401 and bearer.json()["debug_info"]["retriable"] is False
    no_offset = httpx.post(uri, headers={"Authorization": f"OAuth {token}", "file_size": "3"}, content=b"abc")
    assert no_offset.status_code == 400 and "offset" in no_offset.json()["debug_info"]["message"]
    no_size = httpx.post(uri, headers={"Authorization": f"OAuth {token}", "offset": "0"}, content=b"abc")
    assert no_size.status_code == 400 and "file_size" in no_size.json()["debug_info"]["message"]
    short = upload(uri, token, DATA, file_size=str(len(DATA) + 1))
    assert short.status_code == 400 and "must hold bytes" in short.json()["debug_info"]["message"]
    ahead = upload(uri, token, DATA, offset=10)
    assert ahead.status_code == 400 and ahead.json()["debug_info"]["offset"] == 0
    chunked = httpx.post(
        uri,
        headers={"Authorization": f"OAuth {token}", "offset": "0", "file_size": "3"},
        content=iter([b"abc"]),
    )
    assert chunked.status_code == 411


def test_an_interrupted_upload_reports_its_offset_and_resumes_from_it(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    container = create(graph, sandbox)
    sandbox.interrupt_next_upload(300_000)
    failed = upload(container["uri"], token, DATA)
    assert failed.status_code == 500
    assert failed.json()["debug_info"] == {
        "retriable": True,
        "type": "ProcessingFailedError",
        "message": "Request processing failed; resume from debug_info.offset",
        "offset": 300_000,
    }
    different_size = upload(container["uri"], token, DATA + b"x", offset=300_000)
    assert different_size.status_code == 400

    assert upload(container["uri"], token, DATA, offset=300_000).status_code == 200
    upload_state = sandbox.container(container["id"]).upload
    assert upload_state.sha256 == hashlib.sha256(DATA).hexdigest()
    assert upload_state.offsets == [0, 300_000]


def test_rupload_documents_no_get_so_a_get_is_refused(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    container = create(graph, sandbox)
    sandbox.interrupt_next_upload(300_000)
    upload(container["uri"], token, DATA)
    asked = httpx.get(container["uri"], headers={"Authorization": f"OAuth {token}"})
    assert asked.status_code == 405 and asked.headers["allow"] == "POST"
    assert asked.json()["debug_info"]["type"] == "MethodNotAllowed"
    assert "offset" not in asked.json()["debug_info"]
    assert status(graph, container["id"]) == "IN_PROGRESS"  # the documented question: the container


def test_a_complete_upload_sent_again_from_zero_is_taken_again_once(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    """After a lost answer the whole file may come again at offset 0: same bytes, one upload, one post."""
    container = create(graph, sandbox)
    assert upload(container["uri"], token, DATA).status_code == 200
    assert upload(container["uri"], token, DATA).json() == {"success": True, "message": "Upload successful."}
    upload_state = sandbox.container(container["id"]).upload
    assert upload_state.offsets == [0, 0] and upload_state.received == len(DATA)
    assert upload_state.sha256 == hashlib.sha256(DATA).hexdigest()
    past_the_end = upload(container["uri"], token, DATA[:10], offset=len(DATA) + 1)
    assert past_the_end.status_code == 400


def test_a_dropped_upload_keeps_what_arrived_and_a_restart_from_zero_rehashes(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    container = create(graph, sandbox)
    sandbox.interrupt_next_upload(200_000, drop=True)
    with pytest.raises(httpx.TransportError):
        upload(container["uri"], token, DATA)
    assert sandbox.container(container["id"]).upload.received == 200_000

    assert upload(container["uri"], token, DATA, offset=0).status_code == 200
    assert sandbox.container(container["id"]).upload.sha256 == hashlib.sha256(DATA).hexdigest()


def test_processing_takes_the_configured_polls_and_publishing_early_is_9007(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    sandbox.processing_polls = 2
    container = create(graph, sandbox, caption="Slow #story")
    early = graph_error(publish(graph, sandbox, container["id"]))
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    upload(container["uri"], token, DATA)
    assert [status(graph, container["id"]) for _ in range(3)] == ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]

    media_id = publish(graph, sandbox, container["id"]).json()["id"]
    assert status(graph, container["id"]) == "PUBLISHED"
    again = graph_error(publish(graph, sandbox, container["id"]))
    assert "already published" in again["message"]
    media = graph.get(
        f"/{media_id}", params={"fields": "id,caption,media_product_type,media_type,permalink"}
    ).json()
    assert media["caption"] == "Slow #story"
    assert (media["media_type"], media["media_product_type"]) == ("VIDEO", "REELS")
    assert media["permalink"].startswith("https://www.instagram.com/reel/")
    [stored] = sandbox.posts
    assert (stored["id"], stored["sha256"], stored["size"]) == (
        media_id,
        hashlib.sha256(DATA).hexdigest(),
        len(DATA),
    )


def test_a_rejected_video_ends_in_error_with_its_reason(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    sandbox.reject_next_processing("Unsupported audio codec.")
    container = create(graph, sandbox)
    upload(container["uri"], token, DATA)
    body = graph.get(f"/{container['id']}", params={"fields": "status_code,status"}).json()
    assert body == {"status_code": "ERROR", "status": "Error: Unsupported audio codec."}
    assert graph_error(publish(graph, sandbox, container["id"]))["code"] == 100


def test_an_expired_container_cannot_be_published(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    container = create(graph, sandbox)
    upload(container["uri"], token, DATA)
    sandbox.expire_containers()
    assert status(graph, container["id"]) == "EXPIRED"
    error = graph_error(publish(graph, sandbox, container["id"]))
    assert (error["code"], error["error_subcode"]) == (-2, 2207020)


def test_the_publishing_quota_is_readable_and_enforced(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    limit = f"/{sandbox.user_id}/content_publishing_limit"
    assert graph.get(limit).json() == {"data": [{"quota_usage": 0}]}
    sandbox.use_quota(49)
    published(graph, sandbox, token)
    full = graph.get(limit, params={"fields": "config,quota_usage"}).json()
    assert full == {"data": [{"quota_usage": 50, "config": {"quota_total": 50, "quota_duration": 86400}}]}
    container = create(graph, sandbox)
    upload(container["uri"], token, DATA)
    status(graph, container["id"])
    error = graph_error(publish(graph, sandbox, container["id"]))
    assert (error["code"], error["error_subcode"]) == (9, 2207042)


def test_throttling_is_http_400_with_a_rate_limit_code_and_usage_headers(
    graph: httpx.Client, sandbox: InstagramSandbox
) -> None:
    ok = graph.get(f"/{sandbox.user_id}/content_publishing_limit")
    assert json.loads(ok.headers["x-app-usage"])["call_count"] < 100
    sandbox.throttle("publishing_limit", code=613, regain_minutes=7)
    throttled = graph.get(f"/{sandbox.user_id}/content_publishing_limit")
    error = graph_error(throttled)
    assert (error["code"], error["is_transient"]) == (613, True)
    usage = json.loads(throttled.headers["x-business-use-case-usage"])[sandbox.user_id][0]
    assert (usage["call_count"], usage["estimated_time_to_regain_access"]) == (100, 7)
    sandbox.rate_limit_next("publishing_limit", wait_s=90)
    generic = graph.get(f"/{sandbox.user_id}/content_publishing_limit")
    usage = json.loads(generic.headers["x-business-use-case-usage"])[sandbox.user_id][0]
    assert (graph_error(generic)["code"], usage["estimated_time_to_regain_access"]) == (4, 1.5)


def test_the_token_endpoint_exchanges_only_for_the_right_app(sandbox: InstagramSandbox) -> None:
    grant = sandbox.issue_tokens()
    url = f"{sandbox.base_url}/v25.0/oauth/access_token"
    good = {
        "grant_type": "fb_exchange_token",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "fb_exchange_token": grant.refresh_token,
    }
    assert graph_error(httpx.get(url, params={**good, "grant_type": "authorization_code"}))["code"] == 100
    assert graph_error(httpx.get(url, params={**good, "client_id": "other"}))["code"] == 101
    assert graph_error(httpx.get(url, params={**good, "client_secret": "other"}))["code"] == 1
    assert graph_error(httpx.get(url, params={**good, "fb_exchange_token": "forged"}))["code"] == 190
    sandbox.expire_tokens()
    body = httpx.get(url, params=good).json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert sandbox.tokens.valid(body["access_token"])


def test_the_media_list_is_newest_first_and_pages(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    ids = [published(graph, sandbox, token, caption=f"Reel {n}") for n in range(3)]
    first = graph.get(f"/{sandbox.user_id}/media", params={"fields": "id,caption", "limit": "2"}).json()
    assert [m["id"] for m in first["data"]] == ids[::-1][:2]
    rest = httpx.get(first["paging"]["next"], headers=graph.headers).json()
    assert rest["data"] == [{"id": ids[0], "caption": "Reel 0"}]
    assert "next" not in rest["paging"]
    assert graph_error(graph.get(f"/{sandbox.user_id}/media", params={"fields": "id,secret"}))["code"] == 100


def test_insights_are_lifetime_values_in_graphs_shape(
    graph: httpx.Client, sandbox: InstagramSandbox, token: str
) -> None:
    media_id = published(graph, sandbox, token)
    body = graph.get(f"/{media_id}/insights", params={"metric": "views,likes"}).json()
    views = body["data"][0]
    assert (views["name"], views["period"], views["id"]) == (
        "views",
        "lifetime",
        f"{media_id}/insights/views/lifetime",
    )
    assert [entry["values"][0]["value"] for entry in body["data"]] == [
        sandbox.metrics_for(media_id)["views"],
        sandbox.metrics_for(media_id)["likes"],
    ]
    assert (
        "must be one of"
        in graph_error(graph.get(f"/{media_id}/insights", params={"metric": "plays"}))["message"]
    )
    assert graph_error(graph.get(f"/{media_id}/insights"))["code"] == 100


def test_status_faults_answer_instead_of_the_handler(graph: httpx.Client, sandbox: InstagramSandbox) -> None:
    sandbox.inject(Fault("create_container", status=500, body={"error": {"code": 2, "message": "Service"}}))
    assert graph.post(f"/{sandbox.user_id}/media", data={"media_type": "REELS"}).status_code == 500
    assert sandbox.posts == []
