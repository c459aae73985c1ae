"""What Instagram and Facebook share of Meta's Graph API: the error envelope, rupload auth, token exchange.

Graph answers almost every failure with HTTP 400 and an envelope
`{"error": {"message", "type", "code", "error_subcode", "error_user_msg", "fbtrace_id", "is_transient"}}`,
so the kind of failure comes from `code`/`error_subcode`, never from the HTTP status (spec 5.5, 4.6).
Throttling is HTTP 400 with code 4/17/32/613 (+ BUC 80001...), and the wait is in the usage headers'
`estimated_time_to_regain_access` minutes (spec 5.6). rupload hosts answer with `debug_info` instead.
Analytics reads (insights, a post's creation time) are metered: Meta's usage headers on every answer steer
the shared rate budget, and a throttle is waited out through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Unpack

import httpx

from resources.platforms.base import Progress, VideoPost
from resources.platforms.client_base import ClientOptions, PlatformClientBase
from resources.platforms.config import ACCOUNT_IDS, PlatformSettings
from resources.platforms.credentials import CredentialStore, Refresher, TokenSet, token_set_from_answer
from resources.platforms.errors import ErrorKind, PlatformError, kind_for_status, redact
from resources.platforms.http import (
    Classifier,
    PlatformHttp,
    RetryPolicy,
    file_chunks,
    json_object,
    wait_hint,
)

GRAPH_VERSION = "v25.0"
MISSING_NODE = "100/33"  # "Object with ID ... does not exist, cannot be loaded due to missing permissions"
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"  # Graph's datetimes, e.g. 2026-11-20T15:30:00+0000
DAILY_CAP_WINDOW_S = 24 * 3600.0  # publishing caps are counted over a rolling 24 h (spec 4.5, 5.2)

AUTH_CODES = frozenset({102, 104, 190})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
POLICY_CODES = frozenset({3, 10, 25, 368, *range(200, 300)})
INVALID_MEDIA_CODES = frozenset({100, 352, 9004, 36000, 36001, 36003})
DUPLICATE_CODES = frozenset({506})
# Subcodes that decide on their own, whatever the code says (spec 4.6).
DAILY_CAP_SUBCODES = frozenset({2207042})
RETRYABLE_SUBCODES = frozenset({2207003, 2207027, 2207032, 2207053})
EXPIRED_SUBCODES = frozenset({2207020})
INVALID_MEDIA_SUBCODES = frozenset({2207004, 2207005, 2207009, 2207026, 2207040, 2207052, 2207057})
POLICY_SUBCODES = frozenset({2207050})


def graph_path(path: str) -> str:
    """A documented Graph path under the pinned API version, e.g. `/v25.0/{ig-user-id}/media`."""
    return f"/{GRAPH_VERSION}{path}"


def oauth_header(token: str) -> dict[str, str]:
    """rupload hosts want `Authorization: OAuth <token>`; Graph accepts the same header, so both use it."""
    return {"Authorization": f"OAuth {token}"}


def error_code(code: int | None, subcode: int | None) -> str | None:
    """`code/subcode` as PlatformError.code, so callers can branch on the exact Graph error."""
    if code is None:
        return None
    return f"{code}/{subcode}" if subcode is not None else str(code)


def as_int(value: Any) -> int | None:
    """Graph sends numbers as numbers or strings, and sometimes not at all."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def graph_time(value: Any) -> datetime | None:
    """A Graph datetime field in UTC; None when it is missing or not one."""
    try:
        return datetime.strptime(str(value), GRAPH_TIME).astimezone(UTC)
    except ValueError:
        return None


def insight_values(answer: dict[str, Any]) -> dict[str, Any]:
    """An insights answer (`{"data": [{"name", "period", "values": [{"value"}]}]}`) as name -> latest value
    (a number, or a breakdown object); a metric Graph did not answer is absent, never a zero."""
    values: dict[str, Any] = {}
    for entry in answer.get("data") or []:
        points = entry.get("values") if isinstance(entry, dict) else None
        if isinstance(points, list) and points and isinstance(points[-1], dict) and "value" in points[-1]:
            values[str(entry.get("name"))] = points[-1]["value"]
    return values


def _kind(code: int | None, subcode: int | None, transient: bool, status: int) -> ErrorKind:
    if subcode in DAILY_CAP_SUBCODES or code == 9:
        return ErrorKind.RATE_LIMIT
    if subcode in RETRYABLE_SUBCODES or code == 9007:
        return ErrorKind.RETRYABLE
    if subcode in EXPIRED_SUBCODES or subcode in INVALID_MEDIA_SUBCODES:
        return ErrorKind.INVALID_MEDIA
    if subcode in POLICY_SUBCODES:
        return ErrorKind.POLICY
    if code in AUTH_CODES:
        return ErrorKind.AUTH
    if code in RATE_LIMIT_CODES:
        return ErrorKind.RATE_LIMIT
    if code in DUPLICATE_CODES:
        return ErrorKind.DUPLICATE
    if code in POLICY_CODES:
        return ErrorKind.POLICY
    if code in INVALID_MEDIA_CODES:
        return ErrorKind.INVALID_MEDIA
    if transient or code in TRANSIENT_CODES or code in (-1, -2):
        return ErrorKind.RETRYABLE
    return kind_for_status(status)


def _graph_error(platform: str, response: httpx.Response, error: dict[str, Any]) -> PlatformError:
    code, subcode = as_int(error.get("code")), as_int(error.get("error_subcode"))
    kind = _kind(code, subcode, bool(error.get("is_transient")), response.status_code)
    text = str(error.get("error_user_msg") or error.get("message") or "no message")
    if error.get("error_user_msg") and error.get("message"):
        text = f"{error['message']}: {text}"
    label = error_code(code, subcode) or "?"
    trace = f", fbtrace_id {error['fbtrace_id']}" if error.get("fbtrace_id") else ""
    kind_name = error.get("type", "unknown type")
    message = f"Graph error {label} ({kind_name}): {text} [HTTP {response.status_code}{trace}]"
    retry_after: float | None = None
    if kind is ErrorKind.RATE_LIMIT:
        retry_after = wait_hint(response)
        if retry_after is None and (code == 9 or subcode in DAILY_CAP_SUBCODES):
            retry_after = DAILY_CAP_WINDOW_S
    # 190/102 are answered with HTTP 400 by Graph; status 401 tells the transport to refresh once.
    status = 401 if kind is ErrorKind.AUTH else response.status_code
    return PlatformError(
        platform, kind, message, status=status, code=error_code(code, subcode), retry_after_s=retry_after
    )


class UploadRefusedError(PlatformError):
    """rupload's failure answer (`debug_info`); `offset` is the byte it says to resume from, if it says."""

    def __init__(self, *args: Any, offset: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offset = offset


def _upload_error(platform: str, response: httpx.Response, debug: dict[str, Any]) -> PlatformError:
    retriable = bool(debug.get("retriable"))
    if response.status_code == 401:
        kind = ErrorKind.AUTH
    elif retriable or response.status_code >= 500:
        kind = ErrorKind.RETRYABLE
    else:
        kind = ErrorKind.INVALID_MEDIA
    message = (
        f"upload refused ({debug.get('type', 'unknown')}): {debug.get('message', 'no message')} "
        f"[HTTP {response.status_code}]"
    )
    offset = debug.get("offset")
    return UploadRefusedError(
        platform,
        kind,
        message,
        status=response.status_code,
        code=debug.get("type"),
        offset=offset if isinstance(offset, int) and not isinstance(offset, bool) else None,
    )


def classify_graph(platform: str) -> Classifier:
    """The transport's classifier for Graph and rupload answers: None for success, else a PlatformError."""

    def classify(response: httpx.Response) -> PlatformError | None:
        status = response.status_code
        body = json_object(response)
        if status < 400 and not isinstance(body.get("error"), dict):
            return None
        if isinstance(body.get("error"), dict):
            return _graph_error(platform, response, body["error"])
        if isinstance(body.get("debug_info"), dict):
            return _upload_error(platform, response, body["debug_info"])
        kind = _kind(None, None, False, status)
        retry_after = wait_hint(response) if kind is ErrorKind.RATE_LIMIT else None
        return PlatformError(
            platform,
            kind,
            f"HTTP {status} without a Graph error body: {response.text[:200]}",
            status=status,
            retry_after_s=retry_after,
        )

    return classify


def token_refresher(settings: PlatformSettings, http: PlatformHttp) -> Refresher:
    """Exchange the long-lived user token for a fresh one at `{oauth}/v25.0/oauth/access_token`.

    Graph has no refresh tokens: `fb_exchange_token` takes a still-valid long-lived user token (kept as the
    TokenSet's refresh_token, from `pellacia-dist auth`) and returns `{"access_token", "token_type",
    "expires_in"}`. The new token becomes the access token; the long-lived one stays the token to exchange
    (refresh_token None keeps it), and once it has expired too, only a new login helps. `http` must carry
    no TokenProvider, so a refused exchange fails instead of refreshing again.
    """

    def refresh(current: TokenSet) -> TokenSet:
        if not settings.client_id or not settings.client_secret:
            raise PlatformError(
                settings.platform,
                ErrorKind.AUTH,
                f"the access token expired and PELLACIA_{settings.platform.upper()}_CLIENT_ID / "
                "_CLIENT_SECRET are not set, so it cannot be exchanged for a new one",
            )
        try:
            response = http.request(
                "GET",
                settings.url("oauth", graph_path("/oauth/access_token")),
                authenticated=False,
                params={
                    "grant_type": "fb_exchange_token",
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                    "fb_exchange_token": current.refresh_token or current.access_token,
                },
            )
        except PlatformError as error:
            reason = redact(
                str(error.args[0]), [settings.client_secret, current.access_token, current.refresh_token]
            )
            raise PlatformError(
                settings.platform,
                ErrorKind.AUTH,
                f"the token exchange was refused ({reason}); run `pellacia-dist auth {settings.platform}`",
                code=error.code,
            ) from error
        return token_set_from_answer(settings.platform, json_object(response))

    return refresh


class GraphClient(PlatformClientBase):
    """What the Instagram and Facebook clients share: Graph's classifier, OAuth-header transports, and
    Meta's token exchange (long-lived tokens renew themselves, there are no refresh tokens)."""

    self_renewing_tokens = True
    account_id_meaning: str  # what PELLACIA_<P>_<ACCOUNT ID> names, for the error when it is missing
    created_field: str  # the post node's creation time field (IG media `timestamp`, FB video `created_time`)

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        if not settings.account_id:
            raise PlatformError(
                self.platform,
                ErrorKind.AUTH,
                f"no account to publish to: set {ACCOUNT_IDS[self.platform]} to {self.account_id_meaning}",
            )
        super().__init__(settings, store, **kw)
        self.account_id = settings.account_id
        self.classify = classify_graph(self.platform)
        self._token_http = self.transport(self.classify, signed=False)
        self.http = self.transport(self.classify, auth=oauth_header)
        # rupload is resumed by the client from the offset the host reports, never re-sent as it was.
        self._upload_http = self.transport(
            self.classify, auth=oauth_header, retry=RetryPolicy(max_attempts=1)
        )

    def _refresh(self, current: TokenSet) -> TokenSet:
        return token_refresher(self.settings, self._token_http)(current)

    def _api(self, path: str) -> str:
        return self.settings.url("api", graph_path(path))

    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """Each shown post's own creation time, one metered node read a post; a post Graph does not show
        (deleted, or not this account's) is left out."""
        created: dict[str, datetime] = {}
        for post_id in dict.fromkeys(str(post_id) for post_id in post_ids):
            node = self._read(f"/{post_id}", {"fields": self.created_field}, "graph")
            moment = None if node is None else graph_time(node.get(self.created_field))
            if moment is not None:
                created[post_id] = moment
        return created

    def _read(self, path: str, params: dict[str, str] | None, call: str) -> dict[str, Any] | None:
        """A metered GET of a node or edge; None when Graph says the object does not exist for us."""
        try:
            response = self.http.request("GET", self._api(path), params=params, call=call)
        except PlatformError as error:
            if error.code == MISSING_NODE:
                return None
            raise
        return json_object(response)

    def _rupload(self, post: VideoPost, upload_url: str, offset: int, progress: Progress | None) -> None:
        """One POST of the file from `offset` on to a rupload URL, as its `offset`/`file_size` headers say."""
        size = post.size
        self._upload_http.request(
            "POST",
            upload_url,
            headers={
                "offset": str(offset),
                "file_size": str(size),
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size - offset),
            },
            content=file_chunks(post.video, offset, size - offset, self.chunk_size, progress),
        )
