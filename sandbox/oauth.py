"""SANDBOX ONLY (never used by production code): the consent side of the OAuth 2.0 authorization-code flow.

Every platform sandbox stands in for its platform's authorize page with `AuthorizationCodes.consent`: the
request is checked as an authorization server checks it (RFC 6749 4.1.1, RFC 7636 4.3): the client, a
registered redirect URI, response_type=code, known scopes, a state, and the PKCE challenge where the
platform uses PKCE. There is no person to ask in a sandbox, so a valid request is approved at once: a 302
to the redirect URI with a fresh code and the state. A bad client or redirect URI is answered on the page
itself (redirecting there would hand the error to an unverified site); every other problem is redirected
back with `error`, `error_description` and the state (RFC 6749 4.1.2.1).

The token endpoint redeems a code with `redeem`: once only (any attempt uses it up), within its lifetime,
for the client it was issued to, with the same redirect_uri, and with a verifier whose S256 (or plain)
transform is the challenge. Each sandbox turns a refusal into its platform's own error body.
Meta's code exchange (a GET without grant_type, Graph error envelopes) is here too, for the Instagram
and Facebook sandboxes alike.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode, urlsplit

from sandbox.common import Request, Response, TokenRegistry
from sandbox.graph import graph_error, invalid_parameter

# The loopback redirect `pellacia-dist auth` registers; a loopback URI matches on any port (RFC 8252 7.3).
LOOPBACK_CALLBACK = "http://127.0.0.1/callback"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 4.1 / 4.2

CodeRefusal = Literal["invalid", "used", "expired", "redirect_uri", "verifier"]


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def pkce_matches(verifier: str | None, challenge: str, method: str) -> bool:
    if verifier is None or not _PKCE_VALUE.fullmatch(verifier):
        return False
    expected = s256(verifier) if method == "S256" else verifier
    return secrets.compare_digest(expected, challenge)


def redirect_registered(redirect_uri: str, registered: Iterable[str]) -> bool:
    """Exact match, except that a registered loopback URI (no port) allows any port on that host."""
    if redirect_uri in registered:
        return True
    given = urlsplit(redirect_uri)
    try:
        given_port = given.port
    except ValueError:
        return False
    for allowed in registered:
        wanted = urlsplit(allowed)
        if (
            wanted.hostname in LOOPBACK_HOSTS
            and wanted.port is None
            and given_port is not None
            and (given.scheme, given.hostname, given.path, given.query)
            == (wanted.scheme, wanted.hostname, wanted.path, wanted.query)
        ):
            return True
    return False


@dataclass(frozen=True)
class Authorization:
    """What the person approved, as the code stands for it until the token endpoint redeems it."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    challenge_method: str | None
    expires_at: float
    options: dict[str, str] = field(default_factory=dict)


class CodeRefusedError(Exception):
    """The token endpoint must refuse this code; `reason` picks the platform's error body."""

    def __init__(self, reason: CodeRefusal, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


class AuthorizationCodes:
    """One sandbox's consent page and the single-use codes it hands out."""

    def __init__(
        self,
        *,
        client_id: str,
        scopes: Iterable[str],
        client_param: str = "client_id",
        scope_separator: str = " ",
        pkce: Literal["none", "optional", "required"] = "none",
        pkce_methods: tuple[str, ...] = ("S256",),
        redirect_uris: tuple[str, ...] = (LOOPBACK_CALLBACK,),
        code_lifetime_s: float = 600.0,
        options: tuple[str, ...] = (),
    ) -> None:
        """`options` names authorize parameters the token endpoint later needs (e.g. Google's access_type)."""
        self.client_id = client_id
        self.scopes = frozenset(scopes)
        self.client_param = client_param
        self.scope_separator = scope_separator
        self.pkce = pkce
        self.pkce_methods = pkce_methods
        self.redirect_uris = redirect_uris
        self.code_lifetime_s = code_lifetime_s
        self.options = options
        self._codes: dict[str, Authorization] = {}
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def consent(self, request: Request) -> Response:
        """The authorize page, auto-approving: 302 to redirect_uri with `code` and `state`, or an error."""
        query = request.query
        client_id = query.get(self.client_param, "")
        if client_id != self.client_id:
            return _page_error("invalid_client", f"{self.client_param} {client_id!r} is not a registered app")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_registered(redirect_uri, self.redirect_uris):
            return _page_error(
                "redirect_uri_mismatch", f"redirect_uri {redirect_uri!r} is not registered for this app"
            )
        state = query.get("state", "")
        problem = self._problem(query, state)
        if problem is not None:
            error, description = problem
            back = {"error": error, "error_description": description, **({"state": state} if state else {})}
            return _redirect(redirect_uri, back)
        challenge = query.get("code_challenge") or None
        approved = Authorization(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=tuple(query["scope"].split(self.scope_separator)),
            challenge=challenge,
            challenge_method=query.get("code_challenge_method", "plain") if challenge else None,
            expires_at=time.time() + self.code_lifetime_s,
            options={name: query[name] for name in self.options if name in query},
        )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = approved
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _problem(self, query: dict[str, str], state: str) -> tuple[str, str] | None:
        if query.get("response_type") != "code":
            return "unsupported_response_type", "response_type must be code"
        requested = [scope for scope in query.get("scope", "").split(self.scope_separator) if scope]
        if not requested:
            return "invalid_scope", "scope is required"
        unknown = sorted(set(requested) - self.scopes)
        if unknown:
            return "invalid_scope", f"unknown scope {unknown[0]!r}"
        if not state:
            return "invalid_request", "state is required"
        challenge = query.get("code_challenge") or None
        if challenge is None:
            return ("invalid_request", "code_challenge is required") if self.pkce == "required" else None
        if self.pkce == "none":
            return None
        method = query.get("code_challenge_method", "plain")
        if method not in self.pkce_methods:
            return "invalid_request", f"code_challenge_method must be {' or '.join(self.pkce_methods)}"
        if not _PKCE_VALUE.fullmatch(challenge):
            return "invalid_request", "code_challenge is malformed"
        return None

    def redeem(self, code: str, *, client_id: str, redirect_uri: str, verifier: str | None) -> Authorization:
        """The authorization behind `code`, used up whatever the outcome; CodeRefusedError when refused."""
        with self._lock:
            approved = self._codes.pop(code, None)
            used = code in self._used
            self._used.add(code)
        if used:
            raise CodeRefusedError("used", "The authorization code has already been used.")
        if approved is None or approved.client_id != client_id:
            raise CodeRefusedError("invalid", "The authorization code is invalid.")
        if approved.expires_at <= time.time():
            raise CodeRefusedError("expired", "The authorization code has expired.")
        if redirect_uri != approved.redirect_uri:
            raise CodeRefusedError(
                "redirect_uri", "redirect_uri does not match the one of the authorization request."
            )
        if approved.challenge is not None and not pkce_matches(
            verifier, approved.challenge, approved.challenge_method or "plain"
        ):
            raise CodeRefusedError("verifier", "The code_verifier does not match the code_challenge.")
        return approved

    def pending(self) -> int:
        """Codes handed out and not yet redeemed."""
        with self._lock:
            return len(self._codes)


def _page_error(error: str, description: str) -> Response:
    return Response(400, {"error": error, "error_description": description})


def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return Response(302, None, {"Location": f"{redirect_uri}{joiner}{urlencode(params)}"})


# Graph's answers to refused codes (all code 100) [U: seen in client code and forums, not on Meta's pages].
META_CODE_REFUSALS: dict[CodeRefusal, tuple[int | None, str]] = {
    "invalid": (None, "Invalid verification code format."),
    "used": (36009, "This authorization code has been used."),
    "expired": (36007, "This authorization code has expired."),
    "redirect_uri": (
        36008,
        "Error validating verification code. Please make sure your redirect_uri is identical to the one "
        "you used in the OAuth dialog request",
    ),
    "verifier": (None, "Invalid code verifier."),
}


def graph_code_exchange(
    params: dict[str, str],
    codes: AuthorizationCodes,
    tokens: TokenRegistry,
    client_secret: str,
) -> Response:
    """GET /oauth/access_token?client_id&redirect_uri&client_secret&code: a short-lived user token."""
    if params.get("client_id") != codes.client_id:
        return graph_error(101, "Error validating application. Invalid application ID.")
    if params.get("client_secret") != client_secret:
        return graph_error(1, "Error validating client secret.")
    if not params.get("redirect_uri"):
        return invalid_parameter("Missing redirect_uri parameter.")
    try:
        codes.redeem(
            params.get("code", ""),
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            verifier=params.get("code_verifier"),
        )
    except CodeRefusedError as refused:
        subcode, message = META_CODE_REFUSALS[refused.reason]
        return graph_error(100, message, subcode=subcode)
    grant = tokens.issue()
    expires_in = max(0, int(grant.expires_at - time.time()))
    return Response(
        200, {"access_token": grant.access_token, "token_type": "bearer", "expires_in": expires_in}
    )
