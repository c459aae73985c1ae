"""`pellacia-dist auth <platform>`: the OAuth authorization-code consent flow with a local redirect.

The operator opens the platform's consent page, the platform redirects the browser to a one-shot listener
on 127.0.0.1, and the code is exchanged at the platform's token endpoint (under PELLACIA_<P>_OAUTH_URL).
The listener is bound before the page is shown, so a busy port fails before anyone consents. Meta's code
gives a short-lived user token, which is exchanged at once for a long-lived one (kept as the token to
exchange again) and, for a Facebook Page, turned into that Page's token. The tokens go straight into the
encrypted credential store; they are never printed, logged, or part of an error.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import TokenSet, token_set_from_answer
from resources.platforms.errors import ErrorKind, PlatformError, redact
from resources.platforms.facebook import page_token_refresher
from resources.platforms.graph import classify_graph, token_refresher
from resources.platforms.http import PlatformHttp, basic_auth

CALLBACK_PATH = "/callback"
TOKEN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class OAuthFlow:
    """One platform's authorization-code flow, as its documentation describes it.

    `graph`: Meta's variant: the code is exchanged with a GET carrying client_id, redirect_uri,
    client_secret and code (no grant_type), for a short-lived user token.
    """

    authorize_url: str
    token_path: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    client_id_param: str = "client_id"
    pkce: bool = False
    basic_auth: bool = False
    graph: bool = False
    secret_required: bool = True
    extra_authorize: tuple[tuple[str, str], ...] = ()


# Sources: docs/reference/platform_protocols.md sections 2.1, 3.1, 4.1, 5.1, 6.2, 7.1.
FLOWS: dict[str, OAuthFlow] = {
    "youtube": OAuthFlow(
        "https://accounts.google.com/o/oauth2/v2/auth",
        "/token",
        (
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.readonly",
            "https://www.googleapis.com/auth/yt-analytics.readonly",
        ),
        extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
    ),
    "tiktok": OAuthFlow(
        "https://www.tiktok.com/v2/auth/authorize/",
        "/v2/oauth/token/",
        ("user.info.basic", "video.publish", "video.upload", "video.list"),
        scope_separator=",",
        client_id_param="client_key",
        pkce=True,
    ),
    "instagram": OAuthFlow(
        "https://www.facebook.com/v25.0/dialog/oauth",
        "/v25.0/oauth/access_token",
        (
            "instagram_basic",
            "instagram_content_publish",
            "instagram_manage_insights",
            "pages_read_engagement",
        ),
        scope_separator=",",
        graph=True,
    ),
    "facebook": OAuthFlow(
        "https://www.facebook.com/v25.0/dialog/oauth",
        "/v25.0/oauth/access_token",
        ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights"),
        scope_separator=",",
        graph=True,
    ),
    "x": OAuthFlow(
        "https://x.com/i/oauth2/authorize",
        "/2/oauth2/token",
        ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
        pkce=True,
        basic_auth=True,
        secret_required=False,
    ),
    "linkedin": OAuthFlow(
        "https://www.linkedin.com/oauth/v2/authorization",
        "/oauth/v2/accessToken",
        ("w_member_social", "w_organization_social", "r_organization_social", "rw_organization_admin"),
    ),
}


@dataclass(frozen=True)
class Consent:
    """One consent attempt: the URL to open and the values the redirect must bring back."""

    platform: str
    url: str
    state: str
    verifier: str | None
    redirect_uri: str


def check_settings(platform: str, settings: PlatformSettings) -> None:
    """Refuse, before anyone consents, what would make the code exchange fail."""
    flow = FLOWS[platform]
    prefix = f"PELLACIA_{platform.upper()}_"
    if not settings.client_id:
        raise PlatformError(platform, ErrorKind.AUTH, f"set {prefix}CLIENT_ID first")
    if flow.secret_required and not settings.client_secret:
        raise PlatformError(platform, ErrorKind.AUTH, f"set {prefix}CLIENT_SECRET first")
    if platform == "facebook" and not settings.account_id:
        raise PlatformError(
            platform, ErrorKind.AUTH, "set PELLACIA_FACEBOOK_PAGE_ID first: its Page token is what is stored"
        )


def consent_url(
    platform: str, settings: PlatformSettings, redirect_uri: str, authorize_url: str | None = None
) -> Consent:
    flow = FLOWS[platform]
    check_settings(platform, settings)
    state = secrets.token_urlsafe(16)
    params = {
        flow.client_id_param: settings.client_id or "",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": flow.scope_separator.join(flow.scopes),
        "state": state,
        **dict(flow.extra_authorize),
    }
    verifier = None
    if flow.pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return Consent(
        platform, f"{authorize_url or flow.authorize_url}?{urlencode(params)}", state, verifier, redirect_uri
    )


def exchange_code(platform: str, settings: PlatformSettings, consent: Consent, code: str) -> TokenSet:
    """Trade the authorization code for tokens at the platform's token endpoint."""
    flow = FLOWS[platform]
    hidden = [settings.client_secret, code, consent.verifier]
    url = settings.url("oauth", flow.token_path)
    client_id = settings.client_id or ""
    fields = {flow.client_id_param: client_id, "code": code, "redirect_uri": consent.redirect_uri}
    if flow.graph:
        fields["client_secret"] = settings.client_secret or ""
        body = _token_answer(platform, hidden, lambda client: client.get(url, params=fields))
        return _graph_tokens(platform, settings, str(body["access_token"]))
    fields["grant_type"] = "authorization_code"
    if consent.verifier:
        fields["code_verifier"] = consent.verifier
    headers: dict[str, str] = {}
    if flow.basic_auth and settings.client_secret:
        headers |= basic_auth(client_id, settings.client_secret)
    elif settings.client_secret:
        fields["client_secret"] = settings.client_secret
    body = _token_answer(platform, hidden, lambda client: client.post(url, data=fields, headers=headers))
    return token_set_from_answer(platform, body)


def _token_answer(
    platform: str, hidden: list[str | None], send: Callable[[httpx.Client], httpx.Response]
) -> dict[str, Any]:
    """The token endpoint's JSON, or a PlatformError that names the refusal and none of the secrets."""
    try:
        with httpx.Client(timeout=TOKEN_TIMEOUT_S) as client:
            response = send(client)
    except httpx.HTTPError as error:
        raise PlatformError(
            platform,
            ErrorKind.RETRYABLE,
            f"the token endpoint could not be reached ({type(error).__name__}: {redact(str(error), hidden)})",
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict) or not body.get("access_token"):
        reason = _oauth_error(body, response) if isinstance(body, dict) else response.reason_phrase
        raise PlatformError(
            platform,
            ErrorKind.AUTH,
            f"the token endpoint refused the authorization code (HTTP {response.status_code}: "
            f"{redact(reason, hidden)}); run `pellacia-dist auth {platform}` again",
            status=response.status_code,
        )
    return body


def _oauth_error(body: dict[str, Any], response: httpx.Response) -> str:
    """RFC 6749 `error`/`error_description`, or Graph's `error.message` envelope."""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "refused")
    if error or body.get("error_description"):
        return ": ".join(str(part) for part in (error, body.get("error_description")) if part)
    return "no access token in the answer" if response.status_code < 400 else response.reason_phrase


def _graph_tokens(platform: str, settings: PlatformSettings, short_lived: str) -> TokenSet:
    """Meta: the short-lived user token -> a long-lived one (the token to exchange later) -> Page token."""
    with_secrets = [settings.client_secret, short_lived]
    http = PlatformHttp(platform, classify_graph(platform))
    exchange = token_refresher(settings, http)

    def long_lived(current: TokenSet) -> TokenSet:
        user = exchange(current)
        return replace(user, refresh_token=user.access_token)

    try:
        if platform == "facebook":
            return page_token_refresher(settings, http, long_lived)(TokenSet(short_lived))
        return long_lived(TokenSet(short_lived))
    except PlatformError as error:
        raise PlatformError(
            platform, ErrorKind.AUTH, redact(str(error.args[0]).removeprefix(f"{platform}: "), with_secrets)
        ) from None
    finally:
        http.close()


class RedirectListener:
    """127.0.0.1:`port`, bound at once, answering the one redirect to /callback the consent ends with."""

    def __init__(self, platform: str, port: int) -> None:
        self.platform = platform
        self.result: dict[str, str] = {}
        self._state: str | None = None
        try:
            self.server = HTTPServer(("127.0.0.1", port), self._handler())
        except OSError as error:
            raise PlatformError(
                platform,
                ErrorKind.AUTH,
                f"cannot listen on 127.0.0.1:{port} for the redirect ({error.strerror}); "
                "choose another --port and register its http://127.0.0.1:PORT/callback",
            ) from None

    @property
    def redirect_uri(self) -> str:
        """The URI the consent must redirect to (port 0 asks the system for a free port)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.server_close()

    def wait(self, consent: Consent, timeout_s: float = 300.0) -> str:
        """Serve until the redirect comes; its `code` if its `state` is the consent's, else PlatformError."""
        self._state = consent.state
        deadline = time.monotonic() + timeout_s
        while not self.result and time.monotonic() < deadline:
            self.server.timeout = max(0.1, deadline - time.monotonic())
            self.server.handle_request()
        if "code" not in self.result:
            missing = f"no redirect within {timeout_s:.0f} s"
            raise PlatformError(self.platform, ErrorKind.AUTH, self.result.get("error", missing))
        return self.result["code"]

    def _outcome(self, query: dict[str, str]) -> None:
        if self._state is None or query.get("state") != self._state:
            self.result["error"] = (
                f"the redirect's state does not match this consent; run `pellacia-dist auth {self.platform}` "
                "again"
            )
        elif "code" not in query:
            refusal = query.get("error_description") or query.get("error") or "no code in the redirect"
            self.result["error"] = f"the consent was not given: {refusal}"
        else:
            self.result["code"] = query["code"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Callback(BaseHTTPRequestHandler):
            timeout = 10.0

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self._answer(404, "not found")
                    return
                listener._outcome({k: v[-1] for k, v in parse_qs(parts.query).items()})
                ok = "code" in listener.result
                self._answer(
                    200 if ok else 400,
                    "Pellacia: authorised, you can close this tab." if ok else listener.result["error"],
                )

            def _answer(self, status: int, message: str) -> None:
                payload = message.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Callback


def authorise(
    platform: str,
    settings: PlatformSettings,
    port: int,
    show: Callable[[str], None],
    authorize_url: str | None = None,
    timeout_s: float = 300.0,
) -> TokenSet:
    """The whole consent flow: listen, show the URL, wait for the redirect, exchange the code."""
    check_settings(platform, settings)
    with RedirectListener(platform, port) as listener:
        consent = consent_url(platform, settings, listener.redirect_uri, authorize_url)
        show(consent.url)
        code = listener.wait(consent, timeout_s)
    return exchange_code(platform, settings, consent, code)
