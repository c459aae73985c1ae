"""The sandboxes' consent pages and authorization-code grants: what they accept, refuse, and answer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from resources.platforms import PLATFORMS
from resources.platforms.oauth import FLOWS
from sandbox.common import Request, Response, SandboxServer, running
from sandbox.linkedin import CODE_REFUSED
from sandbox.oauth import AuthorizationCodes, CodeRefusedError, pkce_matches, redirect_registered, s256
from sandbox.platforms import CLIENT_ID, CLIENT_SECRET, build_servers

CALLBACK = "http://127.0.0.1:8765/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def consent_request(**query: str) -> Request:
    return Request("GET", "/authorize", query, {}, {}, io.BytesIO())


def location(response: Response) -> dict[str, str]:
    assert response.status == 302
    parts = urlsplit(response.headers["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


@pytest.fixture
def codes() -> AuthorizationCodes:
    return AuthorizationCodes(client_id="app", scopes={"read", "write"}, pkce="required")


def approve(codes: AuthorizationCodes, **overrides: str) -> dict[str, str]:
    query = {
        "client_id": "app",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "read write",
        "state": "s1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return location(codes.consent(consent_request(**{k: v for k, v in query.items() if v})))


# --- the shared pieces -------------------------------------------------------------------------------


def test_s256_is_the_rfc_7636_transform() -> None:
    assert s256(VERIFIER) == CHALLENGE
    assert pkce_matches(VERIFIER, CHALLENGE, "S256")
    assert pkce_matches(VERIFIER, VERIFIER, "plain")
    assert not pkce_matches(VERIFIER[::-1], CHALLENGE, "S256")
    assert not pkce_matches(None, CHALLENGE, "S256")
    assert not pkce_matches("short", "short", "plain")


def test_loopback_redirects_match_on_any_port_others_exactly() -> None:
    registered = ("http://127.0.0.1/callback", "https://app.example/oauth")
    assert redirect_registered("http://127.0.0.1:51234/callback", registered)
    assert redirect_registered("https://app.example/oauth", registered)
    assert not redirect_registered("http://127.0.0.1:51234/other", registered)
    assert not redirect_registered("https://127.0.0.1:51234/callback", registered)
    assert not redirect_registered("https://app.example:8443/oauth", registered)
    assert not redirect_registered("http://127.0.0.1:notaport/callback", registered)


def test_an_approved_consent_redirects_with_a_code_that_redeems_once(codes: AuthorizationCodes) -> None:
    answer = approve(codes)
    assert answer["state"] == "s1"
    approved = codes.redeem(answer["code"], client_id="app", redirect_uri=CALLBACK, verifier=VERIFIER)
    assert approved.scopes == ("read", "write")
    assert approved.challenge_method == "S256"
    with pytest.raises(CodeRefusedError) as refused:
        codes.redeem(answer["code"], client_id="app", redirect_uri=CALLBACK, verifier=VERIFIER)
    assert refused.value.reason == "used"


@pytest.mark.parametrize(
    ("client_id", "redirect_uri", "verifier", "reason"),
    [
        ("other-app", CALLBACK, VERIFIER, "invalid"),
        ("app", "http://127.0.0.1:9/callback", VERIFIER, "redirect_uri"),
        ("app", CALLBACK, VERIFIER[::-1], "verifier"),
        ("app", CALLBACK, None, "verifier"),
    ],
)
def test_a_code_is_refused_for_another_client_redirect_or_verifier_and_is_then_used_up(
    codes: AuthorizationCodes, client_id: str, redirect_uri: str, verifier: str | None, reason: str
) -> None:
    code = approve(codes)["code"]
    with pytest.raises(CodeRefusedError) as refused:
        codes.redeem(code, client_id=client_id, redirect_uri=redirect_uri, verifier=verifier)
    assert refused.value.reason == reason
    with pytest.raises(CodeRefusedError, match="already been used"):
        codes.redeem(code, client_id="app", redirect_uri=CALLBACK, verifier=VERIFIER)


def test_an_expired_code_is_refused() -> None:
    short_lived = AuthorizationCodes(client_id="app", scopes={"read"}, code_lifetime_s=0.0)
    code = approve(short_lived, scope="read", code_challenge="", code_challenge_method="")["code"]
    with pytest.raises(CodeRefusedError, match="expired"):
        short_lived.redeem(code, client_id="app", redirect_uri=CALLBACK, verifier=None)


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"response_type": "token"}, "unsupported_response_type", "response_type must be code"),
        ({"scope": "read delete"}, "invalid_scope", "unknown scope 'delete'"),
        ({"scope": ""}, "invalid_scope", "scope is required"),
        ({"state": ""}, "invalid_request", "state is required"),
        ({"code_challenge": ""}, "invalid_request", "code_challenge is required"),
        ({"code_challenge_method": "plain"}, "invalid_request", "code_challenge_method must be S256"),
        ({"code_challenge": "too-short"}, "invalid_request", "code_challenge is malformed"),
    ],
)
def test_a_bad_request_is_redirected_back_with_the_error_and_no_code(
    codes: AuthorizationCodes, overrides: dict[str, str], error: str, description: str
) -> None:
    answer = approve(codes, **overrides)
    assert (answer["error"], answer["error_description"]) == (error, description)
    assert "code" not in answer
    assert answer.get("state") == (overrides.get("state", "s1") or None)
    assert codes.pending() == 0


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "unknown"}, "invalid_client"),
        ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri_mismatch"),
    ],
)
def test_an_unknown_client_or_redirect_is_answered_on_the_page_never_redirected(
    codes: AuthorizationCodes, overrides: dict[str, str], error: str
) -> None:
    query = {"client_id": "app", "redirect_uri": CALLBACK, "response_type": "code", "scope": "read",
             "state": "s1", "code_challenge": CHALLENGE, **overrides}  # fmt: skip
    answer = codes.consent(consent_request(**query))
    assert answer.status == 400
    assert "Location" not in answer.headers
    assert answer.body["error"] == error
    assert codes.pending() == 0


# --- each sandbox, over HTTP -------------------------------------------------------------------------


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(platform: str, tmp_path: Path) -> Iterator[SandboxServer]:
    sandbox = build_servers(tmp_path)[platform]
    with running(sandbox):
        yield sandbox


def consent(platform: str, server: SandboxServer, **overrides: str) -> httpx.Response:
    """The documented authorize request at the documented path (with PKCE where the platform uses it)."""
    flow = FLOWS[platform]
    query = {
        flow.client_id_param: CLIENT_ID,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": flow.scope_separator.join(flow.scopes),
        "state": "state-1",
        **dict(flow.extra_authorize),
        **({"code_challenge": CHALLENGE, "code_challenge_method": "S256"} if flow.pkce else {}),
        **overrides,
    }
    path = urlsplit(flow.authorize_url).path
    sent = {name: value for name, value in query.items() if value}
    return httpx.get(f"{server.url('consent', path)}?{urlencode(sent)}", follow_redirects=False)


def granted(platform: str, server: SandboxServer, **overrides: str) -> str:
    answer = consent(platform, server, **overrides)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["state-1"]
    return query["code"][0]


def redeem(platform: str, server: SandboxServer, code: str, redirect_uri: str = CALLBACK) -> httpx.Response:
    """The authorization_code grant exactly as each platform documents it (spec 2.1 ... 7.1)."""
    url = server.url("oauth", FLOWS[platform].token_path)
    if platform in ("instagram", "facebook"):
        return httpx.get(url, params={"client_id": CLIENT_ID, "redirect_uri": redirect_uri,
                                      "client_secret": CLIENT_SECRET, "code": code})  # fmt: skip
    form = {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
    if platform == "x":
        form |= {"client_id": CLIENT_ID, "code_verifier": VERIFIER}
        return httpx.post(url, data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    if platform == "tiktok":
        form |= {"client_key": CLIENT_ID, "client_secret": CLIENT_SECRET, "code_verifier": VERIFIER}
        return httpx.post(url, data=form)
    return httpx.post(url, data={**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})


TOKEN_FIELDS = {
    "youtube": {"access_token", "expires_in", "refresh_token", "scope", "token_type"},
    "tiktok": {"open_id", "scope", "access_token", "expires_in", "refresh_token", "refresh_expires_in",
               "token_type"},
    "instagram": {"access_token", "token_type", "expires_in"},
    "facebook": {"access_token", "token_type", "expires_in"},
    "x": {"token_type", "expires_in", "access_token", "scope", "refresh_token"},
    "linkedin": {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"},
}  # fmt: skip


def refusal(platform: str, answer: httpx.Response) -> Any:
    """The documented part of a refused code: RFC 6749 `error`, or Graph's code/subcode."""
    assert answer.status_code == 400
    body = answer.json()
    if platform in ("instagram", "facebook"):
        return body["error"]["code"], body["error"].get("error_subcode")
    return body["error"]


def test_the_consent_page_redirects_to_the_loopback_callback_with_a_code(
    platform: str, server: SandboxServer
) -> None:
    answer = consent(platform, server)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"{CALLBACK}?code=")


def test_a_code_buys_the_documented_token_answer_once(platform: str, server: SandboxServer) -> None:
    code = granted(platform, server)
    answer = redeem(platform, server, code)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == TOKEN_FIELDS[platform]
    again = redeem(platform, server, code)
    expected = {"instagram": (100, 36009), "facebook": (100, 36009), "x": "invalid_request",
                "linkedin": "invalid_request"}.get(platform, "invalid_grant")  # fmt: skip
    assert refusal(platform, again) == expected


def test_a_code_for_another_redirect_uri_is_refused(platform: str, server: SandboxServer) -> None:
    code = granted(platform, server)
    answer = redeem(platform, server, code, redirect_uri="http://127.0.0.1:9/callback")
    expected = {"youtube": "redirect_uri_mismatch", "tiktok": "invalid_grant", "instagram": (100, 36008),
                "facebook": (100, 36008), "x": "invalid_request", "linkedin": "invalid_request"}  # fmt: skip
    assert refusal(platform, answer) == expected[platform]
    if platform == "linkedin":
        assert answer.json()["error_description"] == CODE_REFUSED


def test_an_unknown_scope_is_sent_back_as_invalid_scope(platform: str, server: SandboxServer) -> None:
    answer = consent(platform, server, scope="everything")
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == ["state-1"]


@pytest.mark.parametrize("platform", ["x", "tiktok"], indirect=True)
def test_a_wrong_verifier_is_refused(platform: str, server: SandboxServer) -> None:
    code = granted(platform, server, code_challenge=s256("another-verifier-" + "v" * 40))
    assert refusal(platform, redeem(platform, server, code)) in ("invalid_request", "invalid_grant")


@pytest.mark.parametrize("platform", ["x"], indirect=True)
def test_x_requires_pkce_and_gives_a_refresh_token_only_for_offline_access(
    platform: str, server: SandboxServer
) -> None:
    without_pkce = consent(platform, server, code_challenge="", code_challenge_method="")
    assert parse_qs(urlsplit(without_pkce.headers["location"]).query)["error"] == ["invalid_request"]
    code = granted(platform, server, scope="tweet.read tweet.write users.read media.write")
    assert "refresh_token" not in redeem(platform, server, code).json()


@pytest.mark.parametrize("platform", ["youtube"], indirect=True)
def test_google_gives_a_refresh_token_only_for_offline_access(platform: str, server: SandboxServer) -> None:
    code = granted(platform, server, access_type="online")
    body = redeem(platform, server, code).json()
    assert "refresh_token" not in body
    assert body["token_type"] == "Bearer"


def test_the_consent_page_is_on_the_host_the_client_opens_and_only_there(
    platform: str, server: SandboxServer
) -> None:
    """The authorize page is on its own host (except LinkedIn's www.linkedin.com, which also takes the
    token request), and the sandbox says where, for `pellacia-dist auth --authorize-url`."""
    assert server.consent_path == urlsplit(FLOWS[platform].authorize_url).path
    separate = urlsplit(server.url("consent")).netloc != urlsplit(server.url("oauth")).netloc
    assert separate == (platform != "linkedin")
    assert urlsplit(server.url("consent")).netloc != urlsplit(server.url("api")).netloc
    on_api_host = httpx.get(server.url("api", server.consent_path), follow_redirects=False)
    assert on_api_host.status_code == 404
