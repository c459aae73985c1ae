"""The shared Graph helpers: error-envelope classification, rupload auth, and the token exchange."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.graph import (
    GRAPH_VERSION,
    classify_graph,
    graph_path,
    oauth_header,
    token_refresher,
)
from resources.platforms.http import PlatformHttp, RetryPolicy
from resources.platforms.instagram import InstagramClient
from sandbox.common import running
from sandbox.instagram import InstagramSandbox

classify = classify_graph("instagram")


def graph_answer(
    code: int,
    subcode: int | None = None,
    *,
    status: int = 400,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    error: dict[str, Any] = {
        "message": "boom",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "T1",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers=headers)


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (190, 463, ErrorKind.AUTH),
        (102, None, ErrorKind.AUTH),
        (4, None, ErrorKind.RATE_LIMIT),
        (17, None, ErrorKind.RATE_LIMIT),
        (32, None, ErrorKind.RATE_LIMIT),
        (613, None, ErrorKind.RATE_LIMIT),
        (80001, None, ErrorKind.RATE_LIMIT),
        (9, 2207042, ErrorKind.RATE_LIMIT),
        (1, None, ErrorKind.RETRYABLE),
        (2, None, ErrorKind.RETRYABLE),
        (9007, 2207027, ErrorKind.RETRYABLE),
        (-1, 2207032, ErrorKind.RETRYABLE),
        (10, None, ErrorKind.POLICY),
        (200, None, ErrorKind.POLICY),
        (299, None, ErrorKind.POLICY),
        (368, None, ErrorKind.POLICY),
        (25, 2207050, ErrorKind.POLICY),
        (506, None, ErrorKind.DUPLICATE),
        (352, 2207026, ErrorKind.INVALID_MEDIA),
        (36000, 2207004, ErrorKind.INVALID_MEDIA),
        (100, 2207040, ErrorKind.INVALID_MEDIA),
        (1, 2207057, ErrorKind.INVALID_MEDIA),
        (-2, 2207020, ErrorKind.INVALID_MEDIA),
    ],
)
def test_graph_codes_decide_the_kind_not_the_http_status(
    code: int, subcode: int | None, kind: ErrorKind
) -> None:
    error = classify(graph_answer(code, subcode))
    assert error is not None
    assert error.kind is kind
    assert error.code == (f"{code}/{subcode}" if subcode is not None else str(code))
    assert "fbtrace_id T1" in str(error)


def test_an_expired_token_answered_with_400_asks_the_transport_to_refresh() -> None:
    error = classify(graph_answer(190, 463))
    assert error is not None
    assert error.status == 401


def test_transient_errors_are_retryable_whatever_their_code() -> None:
    error = classify(graph_answer(12345, is_transient=True))
    assert error is not None and error.kind is ErrorKind.RETRYABLE


def test_throttling_waits_the_longest_estimated_time_to_regain_access() -> None:
    usage = {"17841": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    app = {"call_count": 100, "total_time": 40, "total_cputime": 10, "estimated_time_to_regain_access": 1}
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage), "X-App-Usage": json.dumps(app)}
    error = classify(graph_answer(4, headers=headers))
    assert error is not None
    assert (error.kind, error.retry_after_s) == (ErrorKind.RATE_LIMIT, 180.0)


def test_the_daily_publishing_cap_waits_out_the_24_hour_window() -> None:
    error = classify(graph_answer(9, 2207042))
    assert error is not None and error.retry_after_s == 24 * 3600


def test_the_user_message_is_shown_with_the_developer_message() -> None:
    error = classify(graph_answer(100, error_user_msg="Captions can have at most 30 hashtags."))
    assert error is not None
    assert "boom: Captions can have at most 30 hashtags." in str(error)


def test_success_is_none_and_rupload_failures_follow_their_retriable_flag() -> None:
    assert classify(httpx.Response(200, json={"id": "1"})) is None
    retriable = classify(
        httpx.Response(500, json={"debug_info": {"retriable": True, "type": "ProcessingFailedError"}})
    )
    final = classify(httpx.Response(400, json={"debug_info": {"retriable": False, "type": "BadRequest"}}))
    auth = classify(httpx.Response(401, json={"debug_info": {"retriable": False, "type": "OAuthException"}}))
    assert retriable is not None and retriable.kind is ErrorKind.RETRYABLE
    assert final is not None and final.kind is ErrorKind.INVALID_MEDIA
    assert auth is not None and (auth.kind, auth.status) == (ErrorKind.AUTH, 401)


@pytest.mark.parametrize(
    ("status", "kind"), [(503, ErrorKind.RETRYABLE), (401, ErrorKind.AUTH), (429, ErrorKind.RATE_LIMIT)]
)
def test_answers_without_an_envelope_fall_back_to_the_http_status(status: int, kind: ErrorKind) -> None:
    error = classify(httpx.Response(status, text="<html>oops</html>"))
    assert error is not None and error.kind is kind


def test_paths_carry_the_pinned_version_and_rupload_uses_the_oauth_scheme() -> None:
    assert graph_path("/123/media") == f"/{GRAPH_VERSION}/123/media" == "/v25.0/123/media"
    assert oauth_header("abc") == {"Authorization": "OAuth abc"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[InstagramSandbox]:
    with running(InstagramSandbox(tmp_path / "graph")) as server:
        assert isinstance(server, InstagramSandbox)
        yield server


def settings_for(sandbox: InstagramSandbox, **changes: Any) -> PlatformSettings:
    values: dict[str, Any] = {
        "platform": "instagram",
        "urls": {"api": sandbox.base_url, "oauth": sandbox.base_url},
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "account_id": sandbox.user_id,
        **changes,
    }
    return PlatformSettings(**values)


def plain_http() -> PlatformHttp:
    return PlatformHttp("instagram", classify, sleep=lambda _: None, retry=RetryPolicy(max_attempts=1))


def test_the_long_lived_token_is_exchanged_for_a_working_one(sandbox: InstagramSandbox) -> None:
    grant = sandbox.issue_tokens()
    sandbox.tokens.expire_all()
    refreshed = token_refresher(settings_for(sandbox), plain_http())(TokenSet("dead", grant.refresh_token))
    assert sandbox.tokens.valid(refreshed.access_token)
    assert refreshed.refresh_token is None  # AccountTokens keeps the long-lived token to exchange next time
    assert refreshed.expires_at is not None


def test_a_refused_exchange_is_an_auth_error_that_names_no_secret(sandbox: InstagramSandbox) -> None:
    refresh = token_refresher(settings_for(sandbox, client_secret="wrong-secret"), plain_http())
    with pytest.raises(PlatformError, match="token exchange was refused") as raised:
        refresh(TokenSet("access-token-value", "long-lived-value"))
    assert raised.value.kind is ErrorKind.AUTH
    for secret in ("wrong-secret", "access-token-value", "long-lived-value"):
        assert secret not in str(raised.value)


def test_without_app_credentials_the_exchange_says_what_to_set(sandbox: InstagramSandbox) -> None:
    refresh = token_refresher(settings_for(sandbox, client_id=None), plain_http())
    with pytest.raises(PlatformError, match="PELLACIA_INSTAGRAM_CLIENT_ID"):
        refresh(TokenSet("a", "b"))
    assert sandbox.requests == []


def test_an_environment_token_is_also_the_token_to_exchange(sandbox: InstagramSandbox) -> None:
    client = InstagramClient(settings_for(sandbox, access_token="from-env"))
    assert client.tokens.current == TokenSet("from-env", "from-env")
    client.close()
    with pytest.raises(PlatformError, match="PELLACIA_INSTAGRAM_USER_ID"):
        InstagramClient(settings_for(sandbox, access_token="t", account_id=None))
