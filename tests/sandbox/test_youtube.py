"""The YouTube sandbox speaks the documented protocol strictly: raw HTTP against each endpoint."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import TokenGrant
from sandbox.youtube import CHUNK_ALIGNMENT, YouTubeSandbox, tags_length

UPLOAD_PATH = "/upload/youtube/v3/videos"
METADATA: dict[str, Any] = {
    "snippet": {"title": "A title", "description": "Words", "tags": ["a", "b"], "categoryId": "22"},
    "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True},
}
CONTENT = bytes(range(256)) * (CHUNK_ALIGNMENT // 256) * 2 + b"tail of the video"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "sandbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: YouTubeSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def http(sandbox: YouTubeSandbox) -> Iterator[httpx.Client]:
    """The upload host (www.googleapis.com): resumable sessions start here and live here."""
    with httpx.Client(base_url=sandbox.url("upload"), timeout=10) as client:
        yield client


@pytest.fixture
def api(sandbox: YouTubeSandbox) -> Iterator[httpx.Client]:
    """The Data API host (youtube.googleapis.com): videos.list."""
    with httpx.Client(base_url=sandbox.url("api"), timeout=10) as client:
        yield client


@pytest.fixture
def oauth(sandbox: YouTubeSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("oauth"), timeout=10) as client:
        yield client


@pytest.fixture
def analytics(sandbox: YouTubeSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("analytics"), timeout=10) as client:
        yield client


def start(
    http: httpx.Client,
    grant: TokenGrant,
    metadata: Any = METADATA,
    total: int = len(CONTENT),
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return http.post(
        UPLOAD_PATH,
        params={"uploadType": "resumable", "part": "snippet,status", **(params or {})},
        headers={
            "Authorization": f"Bearer {grant.access_token}",
            "X-Upload-Content-Length": str(total),
            "X-Upload-Content-Type": "video/mp4",
            **(headers or {}),
        },
        json=metadata,
    )


def put(
    http: httpx.Client, session: str, first: int, data: bytes, total: int = len(CONTENT)
) -> httpx.Response:
    content_range = f"bytes {first}-{first + len(data) - 1}/{total}"
    return http.put(session, headers={"Content-Range": content_range}, content=data)


def query(http: httpx.Client, session: str, total: int = len(CONTENT)) -> httpx.Response:
    return http.put(session, headers={"Content-Range": f"bytes */{total}", "Content-Length": "0"})


def reason(response: httpx.Response) -> str:
    return str(response.json()["error"]["errors"][0]["reason"])


def upload(http: httpx.Client, grant: TokenGrant, content: bytes = CONTENT) -> dict[str, Any]:
    session = start(http, grant, total=len(content)).headers["location"]
    done = put(http, session, 0, content, total=len(content))
    assert done.status_code == 200
    return dict(done.json())


def with_snippet(**changes: Any) -> dict[str, Any]:
    return {**METADATA, "snippet": {**METADATA["snippet"], **changes}}


def with_status(**changes: Any) -> dict[str, Any]:
    return {**METADATA, "status": {**METADATA["status"], **changes}}


def test_a_request_without_a_valid_token_gets_googles_401(
    sandbox: YouTubeSandbox, http: httpx.Client
) -> None:
    refused = start(http, TokenGrant("ya29.forged", "x", 0.0))
    assert refused.status_code == 401
    assert refused.json()["error"]["errors"][0] == {
        "message": "Invalid Credentials",
        "domain": "global",
        "reason": "authError",
        "location": "Authorization",
        "locationType": "header",
    }
    assert "invalid_token" in refused.headers["www-authenticate"]
    assert sandbox.inserts_today == 0


@pytest.mark.parametrize(
    ("metadata", "params", "headers", "expected"),
    [
        (METADATA, {"part": ""}, {}, "required"),
        (METADATA, {"uploadType": "multipart"}, {}, "invalidParameter"),
        (METADATA, {}, {"X-Upload-Content-Length": ""}, "required"),
        (METADATA, {}, {"X-Upload-Content-Type": "text/plain"}, "badContent"),
        (with_snippet(title=""), {}, {}, "invalidTitle"),
        (with_snippet(title="t" * 101), {}, {}, "invalidTitle"),
        (with_snippet(title="a <b>"), {}, {}, "invalidTitle"),
        (with_snippet(description="é" * 2501), {}, {}, "invalidDescription"),
        (with_snippet(tags=["word" * 30] * 5), {}, {}, "invalidTags"),
        (with_snippet(categoryId="99"), {}, {}, "invalidCategoryId"),
        ({**METADATA, "snippet": {"title": "No category"}}, {}, {}, "invalidVideoMetadata"),
        (with_status(privacyStatus="friends"), {}, {}, "invalidVideoMetadata"),
        (with_status(privacyStatus="public", publishAt="2099-01-01T00:00:00Z"), {}, {}, "invalidPublishAt"),
        (with_status(publishAt="2001-01-01T00:00:00Z"), {}, {}, "invalidPublishAt"),
        (with_status(selfDeclaredMadeForKids="no"), {}, {}, "invalidVideoMetadata"),
    ],
)
def test_the_session_start_validates_like_youtube(
    sandbox: YouTubeSandbox,
    http: httpx.Client,
    grant: TokenGrant,
    metadata: dict[str, Any],
    params: dict[str, str],
    headers: dict[str, str],
    expected: str,
) -> None:
    refused = start(http, grant, metadata, params=params, headers=headers)
    assert refused.status_code == 400
    assert reason(refused) == expected
    assert refused.json()["error"]["code"] == 400
    assert sandbox.posts == []


def test_the_resumable_protocol_end_to_end(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    started = start(http, grant)
    assert started.status_code == 200 and started.content == b""
    session = started.headers["location"]
    assert (
        session.startswith(sandbox.url("upload", f"{UPLOAD_PATH}?uploadType=resumable"))
        and "upload_id=" in session
    )
    assert query(http, session).status_code == 308 and "range" not in query(http, session).headers
    unaligned = put(http, session, 0, CONTENT[:1000])
    assert unaligned.status_code == 400 and "multiple of 262144" in unaligned.json()["error"]["message"]
    first = put(http, session, 0, CONTENT[:CHUNK_ALIGNMENT])
    assert first.status_code == 308 and first.headers["range"] == f"bytes=0-{CHUNK_ALIGNMENT - 1}"
    assert query(http, session).headers["range"] == f"bytes=0-{CHUNK_ALIGNMENT - 1}"
    gap = put(http, session, 2 * CHUNK_ALIGNMENT, CONTENT[2 * CHUNK_ALIGNMENT :])
    assert gap.status_code == 400 and "query the session" in gap.json()["error"]["message"]
    wrong_total = put(http, session, CHUNK_ALIGNMENT, CONTENT[CHUNK_ALIGNMENT:], total=len(CONTENT) + 1)
    assert wrong_total.status_code == 400
    done = put(http, session, CHUNK_ALIGNMENT, CONTENT[CHUNK_ALIGNMENT:])
    assert done.status_code == 200
    video = done.json()
    assert video["kind"] == "youtube#video" and len(video["id"]) == 11
    assert video["snippet"]["title"] == "A title" and video["snippet"]["tags"] == ["a", "b"]
    assert video["status"]["uploadStatus"] == "uploaded"
    assert video["status"]["containsSyntheticMedia"] is True
    again = query(http, session)
    assert again.status_code == 200 and again.json()["id"] == video["id"]
    [posted] = sandbox.posts
    assert posted["sha256"] == hashlib.sha256(CONTENT).hexdigest() and posted["size"] == len(CONTENT)
    assert Path(posted["path"]).read_bytes() == CONTENT


def test_a_re_sent_chunk_is_not_stored_twice(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    session = start(http, grant).headers["location"]
    assert put(http, session, 0, CONTENT[:CHUNK_ALIGNMENT]).status_code == 308
    overlapping = put(http, session, 0, CONTENT[: 2 * CHUNK_ALIGNMENT])
    assert overlapping.headers["range"] == f"bytes=0-{2 * CHUNK_ALIGNMENT - 1}"
    assert put(http, session, 2 * CHUNK_ALIGNMENT, CONTENT[2 * CHUNK_ALIGNMENT :]).status_code == 200
    assert sandbox.posts[0]["sha256"] == hashlib.sha256(CONTENT).hexdigest()


def test_a_partly_persisted_chunk_reports_what_was_kept(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    session = start(http, grant).headers["location"]
    sandbox.fail_next_chunk_after(CHUNK_ALIGNMENT)
    failed = put(http, session, 0, CONTENT[: 2 * CHUNK_ALIGNMENT])
    assert failed.status_code == 503 and reason(failed) == "backendError"
    assert query(http, session).headers["range"] == f"bytes=0-{CHUNK_ALIGNMENT - 1}"


def test_an_unknown_session_is_not_found(sandbox: YouTubeSandbox, http: httpx.Client) -> None:
    missing = query(http, f"{UPLOAD_PATH}?uploadType=resumable&upload_id=nope")
    assert missing.status_code == 404 and reason(missing) == "notFound"


def test_processing_is_simulated_over_polls(
    sandbox: YouTubeSandbox, http: httpx.Client, api: httpx.Client, grant: TokenGrant
) -> None:
    sandbox.processing_polls = 2
    video_id = upload(http, grant)["id"]
    auth = {"Authorization": f"Bearer {grant.access_token}"}
    seen = []
    for _ in range(3):
        listed = api.get(
            "/youtube/v3/videos", params={"part": "status,processingDetails", "id": video_id}, headers=auth
        )
        item = listed.json()["items"][0]
        seen.append((item["status"]["uploadStatus"], item["processingDetails"]["processingStatus"]))
    assert seen == [("uploaded", "processing"), ("uploaded", "processing"), ("processed", "succeeded")]
    statistics = api.get("/youtube/v3/videos", params={"part": "statistics", "id": video_id}, headers=auth)
    counters = statistics.json()["items"][0]["statistics"]
    assert counters["viewCount"] == str(sandbox.statistics(video_id)["viewCount"])
    assert all(isinstance(value, str) for value in counters.values())


def test_videos_list_needs_a_part_and_a_filter(api: httpx.Client, grant: TokenGrant) -> None:
    auth = {"Authorization": f"Bearer {grant.access_token}"}
    assert reason(api.get("/youtube/v3/videos", params={"id": "x"}, headers=auth)) == "required"
    no_filter = api.get("/youtube/v3/videos", params={"part": "id"}, headers=auth)
    assert reason(no_filter) == "missingRequiredParameter"
    assert (
        reason(api.get("/youtube/v3/videos", params={"part": "views", "id": "x"}, headers=auth))
        == "unknownPart"
    )
    unknown = api.get("/youtube/v3/videos", params={"part": "id", "id": "nope"}, headers=auth)
    assert unknown.json()["items"] == [] and unknown.json()["pageInfo"]["totalResults"] == 0


def test_the_same_file_twice_is_rejected_as_a_duplicate(
    sandbox: YouTubeSandbox, http: httpx.Client, api: httpx.Client, grant: TokenGrant
) -> None:
    sandbox.processing_polls = 0
    upload(http, grant)
    second = upload(http, grant)["id"]
    listed = api.get(
        "/youtube/v3/videos",
        params={"part": "status", "id": second},
        headers={"Authorization": f"Bearer {grant.access_token}"},
    )
    status = listed.json()["items"][0]["status"]
    assert status["uploadStatus"] == "rejected" and status["rejectionReason"] == "duplicate"


def test_the_daily_upload_quota_is_enforced(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    sandbox.insert_quota = 1
    assert start(http, grant).status_code == 200
    refused = start(http, grant)
    assert refused.status_code == 403
    assert (
        refused.json()["error"]["errors"][0]["domain"] == "youtube.quota"
        and reason(refused) == "quotaExceeded"
    )


def test_a_rate_limit_fault_carries_googles_body_and_retry_after(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    sandbox.rate_limit_next("upload_start", status=429, retry_after_s=30)
    throttled = start(http, grant)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "30"
    assert (
        reason(throttled) == "rateLimitExceeded"
        and throttled.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    )
    assert start(http, grant).status_code == 200


def test_the_token_endpoint_refreshes_without_rotation(
    sandbox: YouTubeSandbox, oauth: httpx.Client, grant: TokenGrant
) -> None:
    form = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": grant.refresh_token,
        "grant_type": "refresh_token",
    }
    refreshed = oauth.post("/token", data=form)
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and "refresh_token" not in body
    assert sandbox.tokens.valid(body["access_token"])
    assert oauth.post("/token", data=form).status_code == 200  # the refresh token still works
    revoked = oauth.post("/token", data={**form, "refresh_token": "1//revoked"})
    assert revoked.status_code == 400
    assert revoked.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert oauth.post("/token", data={**form, "client_secret": "wrong"}).json()["error"] == "invalid_client"
    assert (
        oauth.post("/token", data={**form, "grant_type": "password"}).json()["error"]
        == "unsupported_grant_type"
    )


def test_reports_query_gives_daily_rows_for_a_video(
    sandbox: YouTubeSandbox, http: httpx.Client, analytics: httpx.Client, grant: TokenGrant
) -> None:
    video_id = upload(http, grant)["id"]
    sandbox.age_post(video_id, 4)
    today = dt.datetime.now(dt.UTC).date()
    params = {
        "ids": "channel==MINE",
        "startDate": (today - dt.timedelta(days=7)).isoformat(),
        "endDate": today.isoformat(),
        "metrics": "views,likes",
        "dimensions": "day",
        "filters": f"video=={video_id}",
    }
    auth = {"Authorization": f"Bearer {grant.access_token}"}
    table = analytics.get("/v2/reports", params=params, headers=auth).json()
    assert [header["name"] for header in table["columnHeaders"]] == ["day", "views", "likes"]
    assert [row[0] for row in table["rows"]] == [
        (today - dt.timedelta(days=n)).isoformat() for n in (4, 3, 2)
    ]  # the last two days are still inside YouTube's reporting delay
    expected = sandbox.daily_report(video_id, today - dt.timedelta(days=2))
    assert table["rows"][-1][1:] == [expected["views"], expected["likes"]]
    totals = analytics.get("/v2/reports", params={**params, "dimensions": ""}, headers=auth).json()
    assert totals["rows"] == [[sum(row[1] for row in table["rows"]), sum(row[2] for row in table["rows"])]]
    unknown = analytics.get("/v2/reports", params={**params, "metrics": "clicks"}, headers=auth)
    assert unknown.status_code == 400 and "Unknown identifier (clicks)" in unknown.json()["error"]["message"]
    missing = analytics.get("/v2/reports", params={"ids": "channel==MINE"}, headers=auth)
    assert missing.status_code == 400 and reason(missing) == "required"
    other = analytics.get("/v2/reports", params={**params, "ids": "channel==UCsomeoneElse"}, headers=auth)
    assert other.status_code == 403


def test_each_google_host_serves_only_its_own_paths(
    sandbox: YouTubeSandbox, http: httpx.Client, api: httpx.Client, grant: TokenGrant
) -> None:
    """Uploads, the Data API, the token endpoint, Analytics and the consent page are five hosts."""
    assert len({urlsplit(url).netloc for url in sandbox.urls.values()}) == 5
    auth = {"Authorization": f"Bearer {grant.access_token}"}
    upload_on_api = api.post(
        UPLOAD_PATH,
        params={"uploadType": "resumable", "part": "snippet,status"},
        headers={**auth, "X-Upload-Content-Length": str(len(CONTENT)), "X-Upload-Content-Type": "video/mp4"},
        json=METADATA,
    )
    session = start(http, grant).headers["location"]
    chunk_on_api = put(
        api, sandbox.url("api", urlsplit(session).path + "?" + urlsplit(session).query), 0, CONTENT
    )
    list_on_upload = http.get("/youtube/v3/videos", params={"part": "id", "id": "x"}, headers=auth)
    token_on_api = api.post("/token", data={"grant_type": "refresh_token"})
    reports_on_api = api.get("/v2/reports", params={"ids": "channel==MINE"}, headers=auth)
    consent_on_api = api.get("/o/oauth2/v2/auth")
    for refused in (
        upload_on_api,
        chunk_on_api,
        list_on_upload,
        token_on_api,
        reports_on_api,
        consent_on_api,
    ):
        assert refused.status_code == 404
    assert sandbox.inserts_today == 1 and sandbox.session_puts == []
    assert put(http, session, 0, CONTENT).status_code == 200


def test_the_generic_fault_helpers_speak_googles_format(
    sandbox: YouTubeSandbox, http: httpx.Client, grant: TokenGrant
) -> None:
    sandbox.fail_next("upload_start", 503)
    failed = start(http, grant)
    sandbox.rate_limit_next("upload_start", wait_s=12)
    throttled = start(http, grant)
    assert failed.status_code == 503 and reason(failed) == "backendError"
    assert throttled.status_code == 403 and reason(throttled) == "rateLimitExceeded"
    assert throttled.headers["retry-after"] == "12"
    assert sandbox.inserts_today == 0


@pytest.mark.parametrize(
    ("tags", "length"),
    [
        ([], 0),
        (["Foo-Baz"], 7),  # the videos resource's own example
        (["Foo Baz"], 9),  # a tag with a space counts as if quoted
        (["a", "b"], 3),  # the comma between tags counts
        (["two words", "one", "three word tag"], 11 + 1 + 3 + 1 + 16),
        (["é" * 10], 10),  # characters, not bytes
    ],
)
def test_the_tag_budget_counts_quotes_and_commas_as_documented(tags: list[str], length: int) -> None:
    assert tags_length(tags) == length


@pytest.mark.parametrize(
    ("tags", "accepted"),
    [
        (["t" * 500], True),
        (["t" * 501], False),
        (["t" * 250, "u" * 249], True),  # 250 + 1 + 249 = 500
        (["t" * 250, "u" * 250], False),  # 501
        (["a " + "t" * 496], True),  # 498 characters + 2 quotes = 500
        (["a " + "t" * 497], False),  # 499 + 2 = 501
    ],
)
def test_the_session_start_enforces_500_tag_characters_at_the_boundary(
    http: httpx.Client, grant: TokenGrant, tags: list[str], accepted: bool
) -> None:
    answer = start(http, grant, with_snippet(tags=tags))
    assert answer.status_code == (200 if accepted else 400)
    if not accepted:
        assert reason(answer) == "invalidTags"
