"""The X sandbox speaks the documented v2 protocol strictly: raw HTTP against it, no client in between."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import Fault, running
from sandbox.x import XSandbox, weighted_length

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "x", max_segment_bytes=64 * 1024)
    with running(server):
        yield server


@pytest.fixture
def api(sandbox: XSandbox) -> Iterator[httpx.Client]:
    token = sandbox.issue_tokens().access_token
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def video_bytes(size: int, seed: int = 0) -> bytes:
    filler = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (MP4_HEAD + filler)[:size]


def initialize(api: httpx.Client, total: int, **changes: Any) -> str:
    body = {"media_type": "video/mp4", "total_bytes": total, "media_category": "tweet_video", **changes}
    response = api.post("/2/media/upload/initialize", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


def append(api: httpx.Client, media_id: str, index: int | str, data: bytes) -> httpx.Response:
    return api.post(
        f"/2/media/upload/{media_id}/append",
        data={"segment_index": str(index)},
        files={"media": ("blob", data, "application/octet-stream")},
    )


def uploaded(api: httpx.Client, data: bytes, segment: int = 64 * 1024) -> str:
    """A finalized and processed media id holding `data`."""
    media_id = initialize(api, len(data))
    for index, offset in enumerate(range(0, len(data), segment)):
        assert append(api, media_id, index, data[offset : offset + segment]).status_code == 200
    assert api.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    while True:
        info = status(api, media_id).json()["data"].get("processing_info", {"state": "succeeded"})
        if info["state"] in ("succeeded", "failed"):
            return media_id


def status(api: httpx.Client, media_id: str) -> httpx.Response:
    return api.get("/2/media/upload", params={"command": "STATUS", "media_id": media_id})


def tweet(api: httpx.Client, text: str, media_id: str) -> httpx.Response:
    return api.post("/2/tweets", json={"text": text, "media": {"media_ids": [media_id]}})


def invalid_message(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    assert body["title"] == "Invalid Request"
    return str(body["errors"][0]["message"])


def test_every_response_carries_the_rate_limit_window(sandbox: XSandbox, api: httpx.Client) -> None:
    sandbox.inject(Fault("users_me", status=503, body={"title": "Service Unavailable", "status": 503}))
    answers = [
        api.get("/2/users/me"),
        api.get("/2/users/me"),
        httpx.get(f"{sandbox.base_url}/2/users/me"),
        api.get("/2/nowhere"),
        api.post("/2/media/upload/initialize", json={"media_type": "video/mp4"}),
    ]
    assert [answer.status_code for answer in answers] == [503, 200, 401, 404, 400]
    for answer in answers:
        assert all(answer.headers.get(name, "").isdigit() for name in RATE_HEADERS), answer.headers
    assert int(answers[1].headers["x-rate-limit-remaining"]) == 75 - 2
    assert abs(int(answers[1].headers["x-rate-limit-reset"]) - (time.time() + 900)) < 5
    assert answers[2].json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


def test_an_exhausted_window_answers_429_until_its_reset(tmp_path: Path) -> None:
    sandbox = XSandbox(tmp_path / "x", rate_limits={"users_me": 2})
    with running(sandbox):
        headers = {"Authorization": f"Bearer {sandbox.issue_tokens().access_token}"}
        answers = [httpx.get(f"{sandbox.base_url}/2/users/me", headers=headers) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert int(refused.headers["x-rate-limit-reset"]) > time.time() + 800
    assert refused.json()["title"] == "Too Many Requests"


def test_rate_limit_faults_carry_xs_headers_and_either_body(sandbox: XSandbox, api: httpx.Client) -> None:
    sandbox.rate_limit_next("users_me", wait_s=30)
    sandbox.rate_limit_next("tweets_lookup", wait_s=30, legacy_body=True)
    modern = api.get("/2/users/me")
    legacy = api.get("/2/tweets", params={"ids": "1"})
    assert (modern.status_code, legacy.status_code) == (429, 429)
    assert modern.json()["detail"] == "Too Many Requests"
    assert legacy.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    for answer in (modern, legacy):
        assert answer.headers["x-rate-limit-remaining"] == "0"
        assert 25 <= int(answer.headers["x-rate-limit-reset"]) - time.time() <= 31
    assert api.get("/2/users/me").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video", "title": "x"},
         "$.title: is not defined in the schema"),
        ({"media_type": "video/avi", "total_bytes": 10, "media_category": "tweet_video"}, "$.media_type"),
        ({"media_type": "video/mp4", "total_bytes": -1, "media_category": "tweet_video"}, "$.total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": "10", "media_category": "tweet_video"}, "$.total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_image"}, "media_category"),
        ({"media_type": "video/mp4", "total_bytes": 10}, "media_category"),
        ({"media_type": "video/mp4", "total_bytes": 600 * 1024 * 1024, "media_category": "tweet_video"},
         "File size exceeds"),
    ],
)  # fmt: skip
def test_initialize_follows_its_closed_schema(api: httpx.Client, body: dict[str, Any], message: str) -> None:
    assert message in invalid_message(api.post("/2/media/upload/initialize", json=body))


def test_initialize_answers_an_id_a_media_key_and_an_expiry(api: httpx.Client) -> None:
    response = api.post(
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 100, "media_category": "tweet_video"},
    )
    data = response.json()["data"]
    assert data["id"].isdigit() and len(data["id"]) >= 18
    assert data["media_key"] == f"13_{data['id']}"
    assert data["expires_after_secs"] == 86400
    not_json = api.post("/2/media/upload/initialize", content=b"media_type=video/mp4")
    assert "application/json" in invalid_message(not_json)


def test_append_checks_index_size_total_and_media(sandbox: XSandbox, api: httpx.Client) -> None:
    media_id = initialize(api, 100 * 1024)
    assert "0 to 999" in invalid_message(append(api, media_id, 1000, b"abc"))
    assert "0 to 999" in invalid_message(append(api, media_id, "first", b"abc"))
    no_media = api.post(f"/2/media/upload/{media_id}/append", data={"segment_index": "0"}, files={"x": b"1"})
    assert "`media` field is required" in invalid_message(no_media)
    assert "the limit is 65536 bytes" in invalid_message(append(api, media_id, 0, b"\0" * (64 * 1024 + 1)))
    assert append(api, media_id, 0, b"\0" * 60 * 1024).status_code == 200
    assert "more than total_bytes" in invalid_message(append(api, media_id, 1, b"\0" * 50 * 1024))
    missing = append(api, "1234567890", 0, b"abc")
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://api.x.com/2/problems/resource-not-found"
    assert sandbox.appends == [(media_id, 0)]


def test_append_without_a_content_length_is_refused_and_the_connection_closed(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    media_id = initialize(api, 10)
    response = api.post(
        f"/2/media/upload/{media_id}/append",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        content=iter([b"--b\r\n", b"chunked\r\n--b--\r\n"]),
    )
    assert response.status_code == 411
    assert response.headers["connection"] == "close"
    assert sandbox.appends == []


def test_the_json_form_of_append_is_accepted_and_segments_may_be_resent(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    data = video_bytes(3000)
    media_id = initialize(api, len(data))
    first = {"media": base64.b64encode(data[:1000]).decode(), "segment_index": 0}
    assert api.post(f"/2/media/upload/{media_id}/append", json=first).status_code == 200
    assert append(api, media_id, 1, b"\xff" * 2000).status_code == 200
    assert append(api, media_id, 1, data[1000:]).status_code == 200
    bad = {"media": "not base64!", "segment_index": 2}
    assert "base64" in invalid_message(api.post(f"/2/media/upload/{media_id}/append", json=bad))

    finalized = api.post(f"/2/media/upload/{media_id}/finalize").json()["data"]

    assert finalized["size"] == len(data)
    assert sandbox.media[media_id].sha256 == hashlib.sha256(data).hexdigest()
    assert "already finalized" in invalid_message(append(api, media_id, 2, b"1"))


def test_finalize_needs_every_segment_and_every_byte(api: httpx.Client) -> None:
    gap = initialize(api, 30)
    append(api, gap, 0, b"a" * 10)
    append(api, gap, 2, b"a" * 10)
    assert "not a contiguous run" in invalid_message(api.post(f"/2/media/upload/{gap}/finalize"))
    short = initialize(api, 30)
    append(api, short, 0, b"a" * 10)
    assert "File size mismatch" in invalid_message(api.post(f"/2/media/upload/{short}/finalize"))
    assert "finalize takes no body" in invalid_message(
        api.post(f"/2/media/upload/{short}/finalize", content=b"x")
    )


def test_processing_moves_through_its_states_one_poll_at_a_time(tmp_path: Path) -> None:
    sandbox = XSandbox(tmp_path / "x", processing_polls=3, check_after_secs=2)
    with running(sandbox):
        token = sandbox.issue_tokens().access_token
        with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as api:
            data = video_bytes(5000)
            media_id = initialize(api, len(data))
            assert "has not been finalized" in invalid_message(status(api, media_id))
            append(api, media_id, 0, data)
            finalized = api.post(f"/2/media/upload/{media_id}/finalize").json()["data"]
            polls = [status(api, media_id).json()["data"]["processing_info"] for _ in range(3)]
            unknown = api.get("/2/media/upload", params={"command": "STATUS", "media_id": media_id, "x": "1"})
            wrong_command = api.get("/2/media/upload", params={"command": "INIT", "media_id": media_id})

    assert finalized["processing_info"] == {"state": "pending", "check_after_secs": 2, "progress_percent": 0}
    assert [poll["state"] for poll in polls] == ["in_progress", "in_progress", "succeeded"]
    assert [poll["progress_percent"] for poll in polls] == [33, 66, 100]
    assert "[x] is not one of" in invalid_message(unknown)
    assert "must be STATUS" in invalid_message(wrong_command)


def test_processing_rejects_what_is_not_mp4_and_what_it_is_told_to(
    sandbox: XSandbox, api: httpx.Client
) -> None:
    not_mp4 = uploaded(api, b"GIF89a" + b"\0" * 100)
    sandbox.reject_next_processing("Video exceeds the bitrate limit")
    rejected = uploaded(api, video_bytes(200))

    first = status(api, not_mp4).json()["data"]["processing_info"]
    second = status(api, rejected).json()["data"]["processing_info"]
    assert first["state"] == "failed" and "not an MP4" in first["error"]["message"]
    assert second["error"] == {
        "code": 1,
        "name": "InvalidMedia",
        "message": "Video exceeds the bitrate limit",
    }
    assert "Your media IDs are invalid." in invalid_message(tweet(api, "hello", rejected))


def test_a_post_needs_processed_media_and_fitting_text(sandbox: XSandbox, api: httpx.Client) -> None:
    pending = initialize(api, 100)
    append(api, pending, 0, video_bytes(100))
    api.post(f"/2/media/upload/{pending}/finalize")
    unprocessed = tweet(api, "too early", pending)
    assert invalid_message(unprocessed) == "Your media IDs are invalid."
    assert unprocessed.json()["errors"][0]["parameters"] == {"media.media_ids": [pending]}

    ready = uploaded(api, video_bytes(100, seed=1))
    assert "too long" in invalid_message(tweet(api, "界" * 140 + "a", ready))
    assert "$.title" in invalid_message(api.post("/2/tweets", json={"text": "a", "title": "b"}))
    assert "reply_settings" in invalid_message(
        api.post("/2/tweets", json={"text": "a", "reply_settings": "everyone"})
    )
    assert "numeric strings" in invalid_message(api.post("/2/tweets", json={"media": {"media_ids": [1]}}))
    assert sandbox.posts == []

    created = tweet(api, "界" * 140, ready)
    assert created.status_code == 201
    data = created.json()["data"]
    assert data == {"id": data["id"], "text": "界" * 140, "edit_history_tweet_ids": [data["id"]]}
    assert created.headers["x-app-limit-24hour-remaining"] == "9999"


def test_the_same_text_and_video_twice_is_a_403_duplicate(sandbox: XSandbox, api: httpx.Client) -> None:
    media_id = uploaded(api, video_bytes(300))
    assert tweet(api, "once", media_id).status_code == 201
    again = tweet(api, "once", media_id)
    assert again.status_code == 403
    assert again.json() == {
        "title": "Forbidden",
        "type": "about:blank",
        "status": 403,
        "detail": "You are not allowed to create a Tweet with duplicate content.",
    }
    assert tweet(api, "twice", media_id).status_code == 201
    assert [post["text"] for post in sandbox.posts] == ["once", "twice"]


def test_a_post_committed_before_the_connection_dropped_exists(sandbox: XSandbox, api: httpx.Client) -> None:
    media_id = uploaded(api, video_bytes(300))
    sandbox.inject(Fault("tweets_create", kind="drop_after_commit"))
    with pytest.raises(httpx.TransportError):
        tweet(api, "lost answer", media_id)
    assert [post["text"] for post in sandbox.posts] == ["lost answer"]


def test_the_timeline_pages_newest_first_with_media_keys(sandbox: XSandbox, api: httpx.Client) -> None:
    media_id = uploaded(api, video_bytes(300))
    for number in range(12):
        tweet(api, f"post {number}", media_id)
    me = api.get("/2/users/me").json()["data"]
    assert me == {"id": sandbox.user_id, "name": "Pellacia Sandbox", "username": sandbox.username}
    params = {
        "max_results": "10",
        "tweet.fields": "attachments,created_at",
        "expansions": "attachments.media_keys",
    }
    first = api.get(f"/2/users/{me['id']}/tweets", params=params).json()
    second = api.get(
        f"/2/users/{me['id']}/tweets", params={**params, "pagination_token": first["meta"]["next_token"]}
    ).json()

    assert [item["text"] for item in first["data"]] == [f"post {n}" for n in range(11, 1, -1)]
    assert [item["text"] for item in second["data"]] == ["post 1", "post 0"]
    assert "next_token" not in second["meta"]
    assert first["data"][0]["attachments"] == {"media_keys": [f"13_{media_id}"]}
    assert first["data"][0]["created_at"].endswith("Z")
    assert first["includes"]["media"][0] == {"media_key": f"13_{media_id}", "type": "video"}
    too_few = api.get(f"/2/users/{me['id']}/tweets", params={"max_results": "3"})
    assert "is not between 5 and 100" in invalid_message(too_few)
    assert "[since] is not one of" in invalid_message(
        api.get(f"/2/users/{me['id']}/tweets", params={"since": "1"})
    )
    assert api.get("/2/users/42/tweets").status_code == 404


def test_lookup_reports_metrics_and_names_missing_posts(sandbox: XSandbox, api: httpx.Client) -> None:
    media_id = uploaded(api, video_bytes(300))
    post_id = tweet(api, "measured", media_id).json()["data"]["id"]
    params = {
        "ids": f"{post_id},123",
        "post.fields": "public_metrics",
        "expansions": "attachments.media_keys",
        "media.fields": "public_metrics",
    }
    body = api.get("/2/tweets", params=params).json()
    expected = sandbox.public_metrics(post_id)

    assert body["data"][0]["public_metrics"] == {k: v for k, v in expected.items() if k != "view_count"}
    assert body["includes"]["media"][0]["public_metrics"] == {"view_count": expected["view_count"]}
    assert body["errors"][0]["resource_id"] == "123"
    assert sandbox.public_metrics(post_id) == expected
    bad_field = api.get("/2/tweets", params={"ids": post_id, "tweet.fields": "views"})
    assert "[views] is not one of" in invalid_message(bad_field)
    assert "1 to 100" in invalid_message(api.get("/2/tweets", params={"ids": "abc"}))


def test_the_token_endpoint_refreshes_with_basic_auth_and_rotates(sandbox: XSandbox) -> None:
    grant = sandbox.issue_tokens()
    token_url = f"{sandbox.base_url}/2/oauth2/token"
    client_auth = (sandbox.client_id, sandbox.client_secret or "")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": grant.refresh_token,
        "client_id": sandbox.client_id,
    }

    wrong_secret = httpx.post(token_url, data=form, auth=(sandbox.client_id, "guess"))
    no_client_auth = httpx.post(token_url, data=form)
    as_json = httpx.post(token_url, json=form, auth=client_auth)
    refreshed = httpx.post(token_url, data=form, auth=client_auth)
    reused = httpx.post(token_url, data=form, auth=client_auth)

    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "unauthorized_client")
    assert no_client_auth.status_code == 401
    assert as_json.status_code == 400
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert body["refresh_token"] != grant.refresh_token
    assert "media.write" in body["scope"].split()
    assert reused.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid.",
    }
    sandbox.expire_tokens()
    me = httpx.get(
        f"{sandbox.base_url}/2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 401


def test_segments_in_order_are_hashed_as_they_arrive(sandbox: XSandbox, api: httpx.Client) -> None:
    data = video_bytes(200_000)

    media_id = uploaded(api, data)

    assert sandbox.media[media_id].hashed_as_segments_arrived
    assert sandbox.media[media_id].sha256 == hashlib.sha256(data).hexdigest()


def test_segments_out_of_order_still_hash_right(sandbox: XSandbox, api: httpx.Client) -> None:
    data = video_bytes(3000)
    media_id = initialize(api, len(data))
    for index in (1, 0, 2):
        assert append(api, media_id, index, data[index * 1000 : (index + 1) * 1000]).status_code == 200

    assert api.post(f"/2/media/upload/{media_id}/finalize").status_code == 200

    assert not sandbox.media[media_id].hashed_as_segments_arrived
    assert sandbox.media[media_id].sha256 == hashlib.sha256(data).hexdigest()


def test_a_refused_segment_leaves_nothing_behind(sandbox: XSandbox, api: httpx.Client) -> None:
    data = video_bytes(3000)
    media_id = initialize(api, len(data))
    assert append(api, media_id, 0, data[:1000]).status_code == 200
    assert append(api, media_id, 1, b"\xff" * (64 * 1024 + 1)).status_code == 400  # over the segment cap
    assert append(api, media_id, 1, data[1000:]).status_code == 200

    assert api.post(f"/2/media/upload/{media_id}/finalize").status_code == 200

    assert sandbox.media[media_id].hashed_as_segments_arrived
    assert sandbox.media[media_id].sha256 == hashlib.sha256(data).hexdigest()


# Hand-counted from twitter-text's config v3 (X's "Counting characters"): code points in U+0000-10FF,
# U+2000-200D, U+2010-201F and U+2032-2037 weigh 1, every other code point 2, an emoji sequence 2, a URL 23,
# after NFC normalization.
@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello world", 11),
        ("café", 4),  # é precomposed, U+00E9
        ("cafe\u0301", 4),  # e + combining acute: NFC makes it one code point
        ("Ελληνικά", 8),  # Greek is below U+10FF
        ("日本語", 6),  # CJK weighs 2 each
        ("한국어", 6),
        ("\u2014\u2019\u2033", 3),  # em dash, right quote, double prime: the light punctuation ranges
        ("\u2026", 2),  # the ellipsis U+2026 is outside them
        ("😀", 2),
        ("👍🏽", 2),  # emoji + skin tone: one emoji
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a ZWJ family sequence: one emoji
        ("🇫🇷", 2),  # two regional indicators: one flag
        ("1\ufe0f\u20e3", 2),  # keycap sequence
        ("\u00a9", 1),  # © as text is Latin-1
        ("\u00a9\ufe0f", 2),  # © with emoji presentation is an emoji
        ("https://example.com/a/very/long/path/that/is/longer/than/the/t.co/link", 23),
        ("see https://example.com/x now", 4 + 23 + 4),
        ("http://example.com", 23),  # shorter than 23, still 23
        ("example.com", 23),  # a bare domain with a generic TLD is linked too
        ("read example.com.", 5 + 23 + 1),  # trailing punctuation is not part of the URL
        ("me@example.com", 14),  # an e-mail address is not a link
        ("   ", 0),
    ],
)
def test_the_weighted_length_counts_as_x_documents(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 280, True),
        ("a" * 281, False),
        ("日" * 140, True),
        ("日" * 139 + "ab", True),  # 278 + 2 = 280
        ("日" * 139 + "abc", False),  # 281
        ("😀" * 140, True),
        ("😀" * 140 + "!", False),
        ("https://example.com/" + "x" * 300 + " " + "a" * 256, True),  # 23 + 1 + 256 = 280
        ("https://example.com/" + "x" * 300 + " " + "a" * 257, False),
        ("Straße" * 46 + "ßßßß", True),  # German letters are Latin-1: 276 + 4 = 280
        ("Straße" * 46 + "ßßßßß", False),
        ("no\ufeffbreak", False),  # a character twitter-text calls invalid
    ],
)
def test_a_post_is_refused_exactly_when_x_would_refuse_it(
    api: httpx.Client, text: str, accepted: bool
) -> None:
    answer = api.post("/2/tweets", json={"text": text})
    assert answer.status_code == (201 if accepted else 400), answer.text


def test_the_consent_page_lives_on_x_com_not_the_api_host(sandbox: XSandbox, api: httpx.Client) -> None:
    assert urlsplit(sandbox.url("consent")).netloc != urlsplit(sandbox.base_url).netloc
    assert sandbox.url("oauth") == sandbox.base_url  # the token endpoint is on api.x.com
    assert api.get("/i/oauth2/authorize").status_code == 404
    tweet_on_consent = httpx.post(
        sandbox.url("consent", "/2/tweets"), json={"text": "hi"}, headers=dict(api.headers)
    )
    assert tweet_on_consent.status_code == 404 and sandbox.posts == []
    assert "x-rate-limit-limit" not in tweet_on_consent.headers


def test_generic_fault_helpers_speak_problem_json(sandbox: XSandbox, api: httpx.Client) -> None:
    sandbox.fail_next("users_me", 503)
    sandbox.rate_limit_next("users_me", wait_s=45)
    failed, throttled = api.get("/2/users/me"), api.get("/2/users/me")
    assert failed.status_code == 503 and failed.json()["title"] == "Service Unavailable"
    assert throttled.status_code == 429 and throttled.json()["title"] == "Too Many Requests"
    assert 40 <= int(throttled.headers["x-rate-limit-reset"]) - time.time() <= 46
    sandbox.drop_next("users_me")
    with pytest.raises(httpx.TransportError):
        api.get("/2/users/me")
    assert api.get("/2/users/me").status_code == 200
