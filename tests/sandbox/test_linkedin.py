from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from sandbox.common import Fault, running
from sandbox.linkedin import PART_SIZE, THROTTLE_BODY, LinkedInSandbox, active_versions, visible_text

VERSION = "202611"
PART = 1000


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LinkedInSandbox]:
    server = LinkedInSandbox(tmp_path / "data", part_size=PART, current_version=VERSION, processing_polls=2)
    with running(server):
        yield server


@pytest.fixture
def http(sandbox: LinkedInSandbox) -> Iterator[httpx.Client]:
    token = sandbox.issue_tokens().access_token
    headers = {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client


def _initialize(http: httpx.Client, owner: str, size: int) -> dict[str, Any]:
    request = {"owner": owner, "fileSizeBytes": size, "uploadCaptions": False, "uploadThumbnail": False}
    response = http.post("/rest/videos?action=initializeUpload", json={"initializeUploadRequest": request})
    assert response.status_code == 200, response.text
    value: dict[str, Any] = response.json()["value"]
    return value


def _put_parts(value: dict[str, Any], data: bytes) -> list[str]:
    etags = []
    for instruction in value["uploadInstructions"]:
        part = data[instruction["firstByte"] : instruction["lastByte"] + 1]
        response = httpx.put(
            instruction["uploadUrl"], content=part, headers={"Content-Type": "application/octet-stream"}
        )
        assert response.status_code == 200, response.text
        etags.append(response.headers["etag"])
    return etags


def _finalize(http: httpx.Client, value: dict[str, Any], etags: list[str]) -> httpx.Response:
    request = {"video": value["video"], "uploadToken": value["uploadToken"], "uploadedPartIds": etags}
    return http.post("/rest/videos?action=finalizeUpload", json={"finalizeUploadRequest": request})


def _available_video(http: httpx.Client, sandbox: LinkedInSandbox, data: bytes) -> str:
    value = _initialize(http, sandbox.author, len(data))
    assert _finalize(http, value, _put_parts(value, data)).status_code == 200
    statuses = [
        http.get(f"/rest/videos/{quote(value['video'], safe='')}").json()["status"]
        for _ in range(sandbox.processing_polls + 1)
    ]
    assert statuses[-1] == "AVAILABLE"
    return str(value["video"])


def _post_body(
    author: str, video: str, commentary: str = "A short \\(with care\\) #history"
) -> dict[str, Any]:
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": {"media": {"title": "A short", "id": video}},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_every_rest_call_needs_an_active_version_restli_2_and_a_live_token(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    path = "/rest/posts/urn%3Ali%3Ashare%3A1"
    missing = http.get(path, headers={"LinkedIn-Version": ""})
    assert missing.status_code == 400 and missing.json()["code"] == "VERSION_MISSING"
    retired = http.get(path, headers={"LinkedIn-Version": "202401"})
    assert retired.status_code == 426
    assert retired.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 20240101 is not active",
    }
    assert http.get(path, headers={"X-Restli-Protocol-Version": ""}).status_code == 400
    unknown = http.get(path, headers={"Authorization": "Bearer nonsense"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "INVALID_ACCESS_TOKEN"
    sandbox.expire_tokens()
    expired = http.get(path)
    assert expired.status_code == 401 and expired.json()["code"] == "EXPIRED_ACCESS_TOKEN"


def test_versions_are_served_for_a_year() -> None:
    versions = active_versions("202603", 12)
    assert "202603" in versions and "202504" in versions
    assert "202503" not in versions and "202604" not in versions


def test_initialize_hands_out_4_mib_parts_by_default(tmp_path: Path) -> None:
    sandbox = LinkedInSandbox(tmp_path / "data", current_version=VERSION)
    with running(sandbox):
        token = sandbox.issue_tokens().access_token
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
            value = _initialize(http, sandbox.author, 2 * PART_SIZE + 5)
    ranges = [(item["firstByte"], item["lastByte"]) for item in value["uploadInstructions"]]
    assert PART_SIZE == 4_194_304
    assert ranges == [(0, PART_SIZE - 1), (PART_SIZE, 2 * PART_SIZE - 1), (2 * PART_SIZE, 2 * PART_SIZE + 4)]
    assert value["video"].startswith("urn:li:video:") and value["uploadToken"]


def test_initialize_for_another_owner_is_denied(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    request = {"owner": "urn:li:organization:1", "fileSizeBytes": 10, "uploadCaptions": False}
    response = http.post("/rest/videos?action=initializeUpload", json={"initializeUploadRequest": request})
    assert response.status_code == 403 and response.json()["code"] == "ACCESS_DENIED"


def test_parts_must_match_their_range_and_signature(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    value = _initialize(http, sandbox.author, 2500)
    url = value["uploadInstructions"][0]["uploadUrl"]
    assert httpx.put(url, content=b"x" * 999).status_code == 400
    assert httpx.put(url.replace("sig=", "sig=0"), content=b"x" * PART).status_code == 403
    assert httpx.put(url, content=b"x" * PART).headers["etag"]
    assert sandbox.uploads[0]["uploaded_parts"] == 1


def test_finalize_wants_every_etag_in_order_then_processing_takes_polls(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    data = bytes(range(256)) * 10
    value = _initialize(http, sandbox.author, len(data))
    etags = _put_parts(value, data)
    assert len(etags) == 3
    assert _finalize(http, value, etags[:2]).status_code == 422
    assert _finalize(http, value, list(reversed(etags))).status_code == 422
    assert _finalize(http, value, etags).status_code == 200
    assert _finalize(http, value, etags).status_code == 400  # finalized once only

    path = f"/rest/videos/{quote(value['video'], safe='')}"
    statuses = [http.get(path).json()["status"] for _ in range(4)]
    assert statuses == ["PROCESSING", "PROCESSING", "AVAILABLE", "AVAILABLE"]
    assert sandbox.uploads[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert http.get(f"/rest/videos/{value['video']}").status_code == 400  # URNs in paths are encoded


def test_rejected_processing_reports_its_reason(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    sandbox.processing_polls = 0
    sandbox.reject_next_processing("Corrupt moov atom")
    data = b"v" * 1500
    value = _initialize(http, sandbox.author, len(data))
    _finalize(http, value, _put_parts(value, data))
    answer = http.get(f"/rest/videos/{quote(value['video'], safe='')}").json()
    assert (
        answer["status"] == "PROCESSING_FAILED" and answer["processingFailureReason"] == "Corrupt moov atom"
    )


def test_a_post_is_created_read_found_and_refused_twice(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    video = _available_video(http, sandbox, b"m" * 2048)
    created = http.post("/rest/posts", json=_post_body(sandbox.author, video))
    assert created.status_code == 201 and created.content == b""
    urn = created.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:")

    read = http.get(f"/rest/posts/{quote(urn, safe='')}").json()
    assert read["id"] == urn and read["content"]["media"]["id"] == video and read["createdAt"] > 0
    found = http.get(f"/rest/posts?q=author&author={quote(sandbox.author, safe='')}&count=10").json()
    assert [element["id"] for element in found["elements"]] == [urn]
    again = http.post("/rest/posts", json=_post_body(sandbox.author, video))
    assert again.status_code == 422 and again.json()["message"] == f"Content is a duplicate of {urn}"
    assert sandbox.posts[0]["text"] == "A short (with care) #history"
    assert http.get("/rest/posts/urn%3Ali%3Ashare%3A404").status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"author": "urn:li:organization:1"}, 403),
        ({"commentary": "x" * 3001}, 400),
        ({"visibility": "EVERYONE"}, 422),
        ({"lifecycleState": None}, 422),
        ({"content": {"media": {"id": "urn:li:video:nope"}}}, 422),
    ],
    ids=["other-author", "too-long", "bad-visibility", "bad-state", "unknown-media"],
)
def test_posts_are_validated(
    change: dict[str, Any], status: int, sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    video = _available_video(http, sandbox, b"m" * 10)
    response = http.post("/rest/posts", json={**_post_body(sandbox.author, video), **change})
    assert response.status_code == status
    assert sandbox.posts == []


def test_a_post_needs_an_available_video(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    value = _initialize(http, sandbox.author, 10)
    response = http.post("/rest/posts", json=_post_body(sandbox.author, value["video"]))
    assert response.status_code == 422 and "WAITING_UPLOAD" in response.json()["message"]


def test_unescaped_little_text_loses_everything_after_it() -> None:
    assert visible_text("Keep \\(this\\) but (not this") == "Keep (this) but "
    assert visible_text("#tags stay #linked") == "#tags stay #linked"


def test_refresh_keeps_the_refresh_token_and_its_expiry(sandbox: LinkedInSandbox) -> None:
    grant = sandbox.issue_tokens()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": grant.refresh_token,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    answer = httpx.post(sandbox.url("oauth", "/oauth/v2/accessToken"), data=form).json()
    assert answer["access_token"] != grant.access_token and sandbox.tokens.valid(answer["access_token"])
    assert answer["refresh_token"] == grant.refresh_token
    assert answer["expires_in"] == 60 * 86400
    assert answer["refresh_token_expires_in"] <= 365 * 86400

    wrong = httpx.post(sandbox.url("oauth", "/oauth/v2/accessToken"), data={**form, "client_secret": "guess"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = httpx.post(sandbox.url("oauth", "/oauth/v2/accessToken"), data={**form, "refresh_token": "old"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"


def test_throttling_has_linkedins_body_and_no_rate_headers(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    sandbox.throttle("get_post")
    response = http.get("/rest/posts/urn%3Ali%3Ashare%3A1")
    assert response.status_code == 429 and response.json() == THROTTLE_BODY
    assert not [name for name in response.headers if "rate" in name or name == "retry-after"]


def test_organization_statistics_for_named_shares(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    video = _available_video(http, sandbox, b"s" * 10)
    urn = http.post("/rest/posts", json=_post_body(sandbox.author, video)).headers["x-restli-id"]
    query = (
        f"q=organizationalEntity&organizationalEntity={quote(sandbox.author, safe='')}"
        f"&shares=List({quote(urn, safe='')},urn%3Ali%3Ashare%3A5)"
    )
    elements = http.get(f"/rest/organizationalEntityShareStatistics?{query}").json()["elements"]
    assert elements == [
        {
            "organizationalEntity": sandbox.author,
            "share": urn,
            "totalShareStatistics": sandbox.metrics_for(urn),
        }
    ]
    assert (
        http.get(
            f"/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{quote(urn, safe='')})"
        ).status_code
        == 403
    )


def test_member_analytics_one_metric_per_call(tmp_path: Path) -> None:
    sandbox = LinkedInSandbox(
        tmp_path / "data", author="urn:li:person:abc", current_version=VERSION, processing_polls=0
    )
    with running(sandbox):
        token = sandbox.issue_tokens().access_token
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
            video = _available_video(http, sandbox, b"p" * 10)
            urn = http.post("/rest/posts", json=_post_body(sandbox.author, video)).headers["x-restli-id"]
            entity = f"(share:{quote(urn, safe='')})"
            total = http.get(
                f"/rest/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType=REACTION&aggregation=TOTAL"
            ).json()["elements"]
            daily = http.get(
                f"/rest/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType=COMMENT&aggregation=DAILY"
            ).json()["elements"]
            bad = http.get(
                f"/rest/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType=VIEWS&aggregation=TOTAL"
            )
    assert total == [
        {
            "count": sandbox.metrics_for(urn)["likeCount"],
            "metricType": "REACTION",
            "targetEntity": {"share": urn},
        }
    ]
    assert set(daily[0]["dateRange"]) == {"start", "end"}
    assert bad.status_code == 400


def _put_part(value: dict[str, Any], data: bytes, index: int) -> str:
    instruction = value["uploadInstructions"][index]
    part = data[instruction["firstByte"] : instruction["lastByte"] + 1]
    response = httpx.put(instruction["uploadUrl"], content=part)
    assert response.status_code == 200, response.text
    return str(response.headers["etag"])


def _finalized_sha256(
    http: httpx.Client, sandbox: LinkedInSandbox, value: dict[str, Any], etags: dict[int, str]
) -> dict[str, Any]:
    assert _finalize(http, value, [etags[index] for index in sorted(etags)]).status_code == 200
    [upload] = [upload for upload in sandbox.uploads if upload["urn"] == value["video"]]
    return upload


def test_parts_in_order_are_hashed_as_they_arrive(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    data = hashlib.sha256(b"in order").digest() * 150
    value = _initialize(http, sandbox.author, len(data))
    etags = {index: _put_part(value, data, index) for index in range(5)}

    upload = _finalized_sha256(http, sandbox, value, etags)

    assert upload["hashed_as_parts_arrived"]
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()


def test_parts_out_of_order_still_hash_to_the_whole_file(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    data = hashlib.sha256(b"shuffled").digest() * 150
    value = _initialize(http, sandbox.author, len(data))
    etags = {index: _put_part(value, data, index) for index in (0, 2, 1, 4, 3)}

    upload = _finalized_sha256(http, sandbox, value, etags)

    assert upload["hashed_as_parts_arrived"]  # the early parts were folded in once their turn came
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_resent_part_falls_back_to_hashing_the_file(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    data = hashlib.sha256(b"resent").digest() * 150
    value = _initialize(http, sandbox.author, len(data))
    etags = {index: _put_part(value, data, index) for index in range(5)}
    _put_part(value, bytes(len(data)), 1)  # wrong bytes first, then the right ones again
    etags[1] = _put_part(value, data, 1)

    upload = _finalized_sha256(http, sandbox, value, etags)

    assert not upload["hashed_as_parts_arrived"]
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()


def test_parts_sent_all_at_once_hash_right_and_are_seen_at_once(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    data = hashlib.sha256(b"at once").digest() * 250
    value = _initialize(http, sandbox.author, len(data))
    sandbox.inject(Fault("part", kind="delay", seconds=0.2, times=8))
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda index: (index, _put_part(value, data, index)), range(8))
        etags = dict(found)

    upload = _finalized_sha256(http, sandbox, value, etags)

    assert sandbox.most_parts_at_once > 1
    assert upload["sha256"] == hashlib.sha256(data).hexdigest()


def test_uploads_and_oauth_live_on_www_the_api_on_api_linkedin_com(
    sandbox: LinkedInSandbox, http: httpx.Client
) -> None:
    hosts = {root: urlsplit(url).netloc for root, url in sandbox.urls.items()}
    assert hosts["oauth"] == hosts["upload"] == hosts["consent"] != hosts["api"]
    value = _initialize(http, sandbox.author, 1500)
    url = urlsplit(value["uploadInstructions"][0]["uploadUrl"])
    assert url.netloc == hosts["upload"]
    part_on_api = httpx.put(f"{sandbox.base_url}{url.path}?{url.query}", content=b"p" * PART)
    token_on_api = http.post("/oauth/v2/accessToken", data={"grant_type": "refresh_token"})
    rest_on_www = httpx.post(
        sandbox.url("oauth", "/rest/videos"),
        params={"action": "initializeUpload"},
        headers=dict(http.headers),
        json={"initializeUploadRequest": {"owner": sandbox.author, "fileSizeBytes": 10}},
    )
    for refused in (part_on_api, token_on_api, rest_on_www):
        assert refused.status_code == 404
    assert sandbox.uploads[0]["uploaded_parts"] == 0 and len(sandbox.uploads) == 1


def test_generic_fault_helpers_speak_linkedins_body(sandbox: LinkedInSandbox, http: httpx.Client) -> None:
    sandbox.rate_limit_next("find_posts", wait_s=60)
    sandbox.fail_next("find_posts", 503)
    finder = {"q": "author", "author": sandbox.author}
    throttled, failed = http.get("/rest/posts", params=finder), http.get("/rest/posts", params=finder)
    assert throttled.status_code == 429 and throttled.json() == THROTTLE_BODY
    assert "retry-after" not in throttled.headers
    assert failed.status_code == 503 and failed.json()["status"] == 503
    sandbox.expire_tokens()
    assert http.get("/rest/posts", params=finder).json()["code"] == "EXPIRED_ACCESS_TOKEN"
