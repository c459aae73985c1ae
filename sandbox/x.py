"""SANDBOX ONLY: a local X API v2 server for tests and demos; no production code path ever talks to it.

It follows platform_protocols.md section 6 strictly, with one port for each of X's hosts: x.com (the
"consent" root: the authorize page) and api.x.com (the "api" and "oauth" roots: everything else). It serves
the v2 chunked media upload (initialize with a schema that allows no other property, append as
multipart/form-data or base64 JSON, finalize, STATUS with processing states over polls), POST /2/tweets
(280 weighted characters counted as twitter-text's config v3 counts them, processed media only, duplicate
content refused with 403), the GETs the client reconciles and measures with (users/me, a user's timeline,
tweet lookup with lifetime public metrics, and GET /2/tweets/analytics: daily, hourly, weekly or total
series of each post's metrics from its creation on, start_time within the last 30 days), and OAuth 2.0: the
consent page (GET /i/oauth2/authorize, approving at
once, PKCE required; sandbox/oauth.py), the authorization_code grant (30-second codes, a refresh token only
with offline.access) and the refresh grant with rotating refresh tokens.
Every api.x.com response carries x-rate-limit-limit/remaining/reset of a real 15-minute per-user window;
errors are X's Problem JSON (or the legacy `{"errors":[{"code":88}]}` body on request). Rules marked [U] in
the spec (5 MB segment cap, failure detail in processing_info) are flags here.
Segments that arrive in order are appended to one file under a running sha256, so FINALIZE answers at once
as X's does; a re-sent or out-of-order segment is kept in a file of its own, and only then does FINALIZE
join the segments and hash them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from sandbox.common import (
    READ_BLOCK,
    Fault,
    Handler,
    MultipartError,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenRegistry,
    activity_between,
    bearer_token,
    lifetime_activity,
    read_multipart,
)
from sandbox.oauth import AuthorizationCodes, CodeRefusedError

PROBLEMS = "https://api.x.com/2/problems/"
MIB = 1024 * 1024
TWITTER_EPOCH_MS = 1288834974657
WINDOW_S = 15 * 60
DAY_S = 24 * 3600
MAX_TOTAL_BYTES = 17179869184
MAX_SEGMENT_INDEX = 999
MAX_TWEET_WEIGHT = 280
APP_TWEETS_PER_DAY = 10_000
SCOPES = "tweet.read tweet.write users.read media.write offline.access"
CODE_LIFETIME_S = 30.0  # "the authorization code is valid for 30 seconds" (spec 6.2)
API_HOST = "api.x.com"
WWW_HOST = "x.com"

# How X counts a post's text: twitter-text's configuration v3 (github.com/twitter/twitter-text,
# config/v3.json, and X's "Counting characters" page): weights per `scale` 100, `defaultWeight` 200, 100
# for code points in these ranges (Latin to Georgian, general-punctuation spaces, hyphens and quotes),
# every URL `transformedURLLength` 23, every emoji (a whole sequence) the default weight; text is NFC
# normalized first. Characters twitter-text calls invalid make a post invalid whatever its length.
WEIGHT_SCALE = 100
DEFAULT_WEIGHT = 200
LIGHT_WEIGHT = 100
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
TRANSFORMED_URL_LENGTH = 23
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff\u202a\u202b\u202c\u202d\u202e")
# Generic TLDs a URL without a protocol is recognised by (a subset of twitter-text's list).
GENERIC_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|aero|coop|museum|mobi|asia|tel|travel|jobs|app|dev|"
    "blog|news|shop|store|online|site|tech|xyz"
)
_URL = re.compile(
    r"(?<![\w@$#./-])"
    r"(?:https?://[\w-]+(?:\.[\w-]+)+|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:" + GENERIC_TLDS + r")\b)"
    r"(?::\d{1,5})?(?:[/?#]\S*?)?"
    r"(?=[.,:;!?'\")\]]*(?:\s|$))",
    re.IGNORECASE,
)
# Emoji sequences as Unicode's UTS #51 builds them: flags (two regional indicators), keycaps, tag
# sequences, and pictographs with an optional presentation selector and skin tone, joined by ZWJ.
_PICTOGRAPH = (
    "(?:[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299]|[\u00a9\u00ae](?=\ufe0f))"
    "\ufe0f?[\U0001f3fb-\U0001f3ff]?"
)
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"
    "|[0-9#*]\ufe0f?\u20e3"
    "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
    f"|{_PICTOGRAPH}(?:\u200d{_PICTOGRAPH})*"
)


def _code_point_weight(char: str) -> int:
    code = ord(char)
    return LIGHT_WEIGHT if any(low <= code <= high for low, high in LIGHT_RANGES) else DEFAULT_WEIGHT


def weighted_length(text: str) -> int:
    """A post's length as X counts it against its 280 (see the constants above)."""
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        return 0
    urls = {match.start(): match.end() for match in _URL.finditer(text)}
    total, position = 0, 0
    while position < len(text):
        if position in urls:
            total += TRANSFORMED_URL_LENGTH * WEIGHT_SCALE
            position = urls[position]
            continue
        emoji = _EMOJI.match(text, position)
        if emoji is not None:
            total += DEFAULT_WEIGHT
            position = emoji.end()
            continue
        total += _code_point_weight(text[position])
        position += 1
    return total // WEIGHT_SCALE


def has_invalid_characters(text: str) -> bool:
    return any(char in INVALID_CHARACTERS for char in unicodedata.normalize("NFC", text))


# Per-user limits per 15 minutes (spec 6.7; users/me and user timelines from X's rate-limit table).
RATE_LIMITS: dict[str, int] = {
    "oauth_token": 10_000,
    "media_initialize": 1875,
    "media_append": 1875,
    "media_finalize": 1875,
    "media_status": 1000,
    "tweets_create": 100,
    "tweets_lookup": 5000,
    "users_me": 75,
    "users_tweets": 900,
    "tweets_analytics": 300,
    "unrouted": 900,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MEDIA_TYPES = _words(
    "video/mp4 video/webm video/mp2t video/quicktime text/srt text/vtt image/jpeg image/gif image/bmp "
    "image/png image/webp image/pjpeg image/tiff model/gltf-binary model/vnd.usdz+zip"
)
MEDIA_CATEGORIES = _words(
    "amplify_video tweet_gif tweet_image tweet_video dm_gif dm_image dm_video subtitles"
)
VIDEO_CATEGORIES = _words("amplify_video tweet_video dm_video")
INITIALIZE_PROPERTIES = _words("media_type total_bytes media_category additional_owners shared")
TWEET_PROPERTIES = _words(
    "text media reply_settings made_with_ai reply quote_tweet_id poll card_uri for_super_followers_only "
    "nullcast paid_partnership community_id geo edit_options direct_message_deep_link share_with_followers"
)
TWEET_MEDIA_PROPERTIES = _words("media_ids tagged_user_ids")
REPLY_SETTINGS = _words("following mentionedUsers subscribers verified")
TWEET_FIELDS = _words(
    "article attachments author_id card_uri community_id context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang "
    "media_metadata non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics "
    "public_metrics referenced_tweets reply_settings scopes source text withheld"
)
MEDIA_FIELDS = _words(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width"
)
USER_FIELDS = _words(
    "created_at description id name profile_image_url protected public_metrics username verified "
    "verified_type"
)
TWEET_EXPANSIONS = _words(
    "attachments.media_keys attachments.poll_ids author_id geo.place_id in_reply_to_user_id "
    "referenced_tweets.id referenced_tweets.id.author_id edit_history_tweet_ids"
)
FIELD_PARAMETERS = {
    "tweet.fields": TWEET_FIELDS,
    "post.fields": TWEET_FIELDS,
    "media.fields": MEDIA_FIELDS,
    "user.fields": USER_FIELDS,
    "expansions": TWEET_EXPANSIONS,
}
EXPANSION_PARAMETERS = _words(
    "tweet.fields post.fields expansions media.fields user.fields place.fields poll.fields"
)
LOOKUP_PARAMETERS = EXPANSION_PARAMETERS | {"ids"}
ME_PARAMETERS = _words("user.fields expansions tweet.fields")
TIMELINE_PARAMETERS = EXPANSION_PARAMETERS | _words(
    "max_results pagination_token since_id until_id start_time end_time exclude"
)
_DIGITS = re.compile(r"[0-9]{1,19}")


class _RefusalError(Exception):
    """A request the real API would refuse; carries the response X sends for it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def problem(
    status: int, kind: str | None, title: str, detail: str, errors: list[Any] | None = None
) -> Response:
    """X's Problem JSON; `kind` None gives the `about:blank` type X uses for 401/403/429."""
    body: dict[str, Any] = {
        "title": title,
        "type": PROBLEMS + kind if kind else "about:blank",
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(status, body, content_type="application/problem+json")


def invalid(message: str, parameters: dict[str, list[str]] | None = None) -> _RefusalError:
    error: dict[str, Any] = {"message": message}
    if parameters:
        error["parameters"] = parameters
    return _RefusalError(
        problem(
            400,
            "invalid-request",
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            [error],
        )
    )


def not_found(resource_type: str, value: str) -> _RefusalError:
    detail = f"Could not find {resource_type} with id: [{value}]."
    error = {
        "resource_type": resource_type,
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "type": PROBLEMS + "resource-not-found",
    }
    return _RefusalError(problem(404, "resource-not-found", "Not Found Error", detail, [error]))


ANALYTICS_FIELDS = (
    "impressions", "engagements", "likes", "retweets", "replies", "quote_tweets", "bookmarks", "shares",
    "url_clicks", "user_profile_clicks", "media_views", "detail_expands",
)  # fmt: skip
ANALYTICS_GRANULARITIES = ("hourly", "daily", "weekly", "total")
ANALYTICS_PARAMETERS = frozenset({"ids", "start_time", "end_time", "granularity", "analytics.fields"})
ANALYTICS_WINDOW_DAYS = 30  # spec 6.8: the history window is not stated; planned as the 30 days of
# non-public metrics


def _analytics_metrics(values: dict[str, int]) -> dict[str, int]:
    """One day's analytics fields, from the post's activity that day."""
    metrics = {
        "impressions": values["impressions"],
        "likes": values["likes"],
        "retweets": values["shares"],
        "replies": values["comments"],
        "quote_tweets": values["shares"] // 4,
        "bookmarks": values["saves"],
        "shares": values["shares"] // 3,
        "url_clicks": values["clicks"],
        "user_profile_clicks": values["clicks"] // 3,
        "media_views": values["views"],
        "detail_expands": values["clicks"] // 2,
    }
    metrics["engagements"] = sum(
        metrics[name] for name in ("likes", "retweets", "replies", "quote_tweets", "bookmarks", "url_clicks")
    )
    return metrics


def _hour_share(value: int, hour: int) -> int:
    """Hour `hour`'s part of a day's `value`: the 24 parts add up to it."""
    base, rest = divmod(value, 24)
    return base + (1 if hour < rest else 0)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _query_time(query: dict[str, str], name: str) -> datetime:
    """An RFC 3339 query time (YYYY-MM-DDTHH:mm:ssZ, with or without fractions or an offset)."""
    text = query[name]
    if not _RFC3339.fullmatch(text):
        raise invalid(
            f"The `{name}` query parameter value [{text}] is not a valid RFC 3339 date-time", {name: [text]}
        )
    return _parse_time(text)


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def snowflake(sequence: int) -> str:
    """An id shaped like X's: milliseconds since X's epoch, shifted, plus a sequence number."""
    return str(((int(time.time() * 1000) - TWITTER_EPOCH_MS) << 22) | (sequence & 0x3FFFFF))


@dataclass
class _Window:
    limit: int
    remaining: int
    reset: int


@dataclass
class MediaUpload:
    """One media id's upload: its segments on disk, then its processing."""

    id: str
    media_type: str
    total_bytes: int
    expires_at: float
    directory: Path
    segments: dict[int, int] = field(default_factory=dict)
    # Segments 0..len(appended)-1, as first received, lie end to end in `combined` under `running`; a
    # segment stored on its own (in `loose`) makes `running` None: FINALIZE then joins and hashes.
    appended: list[int] = field(default_factory=list)
    running: Any = field(default_factory=hashlib.sha256)
    appending: bool = False
    loose: set[int] = field(default_factory=set)
    finalized: bool = False
    state: str = "uploading"
    polls_left: int = 0
    failure: str | None = None
    sha256: str | None = None

    @property
    def key(self) -> str:
        return f"13_{self.id}" if self.media_type.startswith("video/") else f"3_{self.id}"

    @property
    def received(self) -> int:
        return sum(self.segments.values())

    @property
    def hashed_as_segments_arrived(self) -> bool:
        """Whether every segment went into the running hash (FINALIZE then reads nothing back)."""
        return self.running is not None and not self.loose

    @property
    def combined(self) -> Path:
        return self.directory / "combined"


class _Sink:
    """Where one APPEND's media bytes go: the end of the combined file (hashed on the way), or a file of
    their own when the segment is not the next in order.
    """

    def __init__(self, upload: MediaUpload, lock: threading.RLock) -> None:
        self.upload = upload
        self.lock = lock
        self.partial = upload.directory / f"incoming-{secrets.token_hex(8)}"
        self.in_order = False
        self.digest: Any = None

    def open(self, fields: dict[str, str]) -> _SegmentWriter:
        """Claims the combined file's end when `fields` name the next segment and no other is writing it."""
        upload = self.upload
        with self.lock:
            self.in_order = (
                upload.running is not None
                and not upload.appending
                and fields.get("segment_index") == str(len(upload.appended))
            )
            if self.in_order:
                upload.appending = True
                self.digest = upload.running.copy()
        if not self.in_order:
            return _SegmentWriter(self.partial.open("wb"), None)
        handle = upload.combined.open("ab")
        handle.truncate(sum(upload.appended))
        return _SegmentWriter(handle, self.digest)

    def keep(self, index: int, size: int) -> None:
        """The checked segment becomes part of the upload (call holding the lock)."""
        upload = self.upload
        if self.in_order:
            upload.running = self.digest
            upload.appended.append(size)
            upload.appending = False
        else:
            self.partial.replace(upload.directory / f"segment-{index:04d}")
            upload.loose.add(index)
            upload.running = None
        upload.segments[index] = size

    def discard(self) -> None:
        """A refused or broken segment leaves no trace."""
        self.partial.unlink(missing_ok=True)
        with self.lock:
            if self.in_order and self.upload.appending:
                with self.upload.combined.open("ab") as handle:
                    handle.truncate(sum(self.upload.appended))
                self.upload.appending = False


class _SegmentWriter:
    """A segment's file, hashing what is written when a digest is given."""

    def __init__(self, handle: BinaryIO, digest: Any | None) -> None:
        self.handle = handle
        self.digest = digest

    def write(self, block: bytes | memoryview) -> int:
        if self.digest is not None:
            self.digest.update(block)
        return self.handle.write(block)

    def __enter__(self) -> _SegmentWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.handle.close()


class XSandbox(SandboxServer):
    """The X API v2 as a local server (SANDBOX). Route names for `inject(Fault(route=...))`:
    consent, oauth_token, media_initialize, media_append, media_finalize, media_status, tweets_create,
    tweets_lookup, tweets_analytics, users_me, users_tweets.
    """

    name = "x"
    analytics_routes = ("tweets_analytics",)
    roots: ClassVar[Mapping[str, str]] = {"api": API_HOST, "oauth": API_HOST, "consent": WWW_HOST}
    configured_roots = ("api", "oauth")
    consent_path = "/i/oauth2/authorize"

    def __init__(
        self,
        data_dir: Path,
        *,
        client_id: str = "pellacia-sandbox-client",
        client_secret: str | None = "pellacia-sandbox-secret",
        username: str = "pellacia_sandbox",
        processing_polls: int = 1,
        check_after_secs: int = 1,
        max_segment_bytes: int | None = 5 * MIB,
        max_video_bytes: int | None = 512 * MIB,
        media_lifetime_s: int = DAY_S,
        token_lifetime_s: float = 7200.0,
        rotate_refresh: bool = True,
        rate_limits: dict[str, int] | None = None,
    ) -> None:
        # The consent route is registered by the base class, so the code store must exist first.
        self.codes = AuthorizationCodes(
            client_id=client_id,
            scopes=SCOPES.split(),
            pkce="required",
            pkce_methods=("S256", "plain"),
            code_lifetime_s=CODE_LIFETIME_S,
        )
        super().__init__(data_dir)
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.user_id = "1600000000000000001"
        self.processing_polls = processing_polls
        self.check_after_secs = check_after_secs
        self.max_segment_bytes = max_segment_bytes
        self.max_video_bytes = max_video_bytes
        self.media_lifetime_s = media_lifetime_s
        self.tokens = TokenRegistry("x-sandbox", lifetime_s=token_lifetime_s, rotate_refresh=rotate_refresh)
        self.rate_limits = {**RATE_LIMITS, **(rate_limits or {})}
        self.media: dict[str, MediaUpload] = {}
        self.appends: list[tuple[str, int]] = []
        self._posts: list[dict[str, Any]] = []
        self._windows: dict[str, _Window] = {}
        self._tweets_today = 0
        self._rejections: list[str] = []
        self._state_lock = threading.RLock()

    # --- what tests steer and inspect -----------------------------------------------------------------

    def routes(self) -> dict[str, list[Route]]:
        return {
            WWW_HOST: [("GET", r"/i/oauth2/authorize", "consent", self.codes.consent)],
            API_HOST: self._api_routes(),
        }

    def _api_routes(self) -> list[Route]:
        return [
            ("POST", r"/2/oauth2/token", "oauth_token", self._token),
            ("POST", r"/2/media/upload/initialize", "media_initialize", self._authorised(self._initialize)),
            (
                "POST",
                r"/2/media/upload/(?P<media_id>[^/]+)/append",
                "media_append",
                self._authorised(self._append),
            ),
            (
                "POST",
                r"/2/media/upload/(?P<media_id>[^/]+)/finalize",
                "media_finalize",
                self._authorised(self._finalize),
            ),
            ("GET", r"/2/media/upload", "media_status", self._authorised(self._status)),
            ("POST", r"/2/tweets", "tweets_create", self._authorised(self._create_tweet)),
            ("GET", r"/2/tweets", "tweets_lookup", self._authorised(self._lookup)),
            ("GET", r"/2/tweets/analytics", "tweets_analytics", self._authorised(self._analytics)),
            ("GET", r"/2/users/me", "users_me", self._authorised(self._me)),
            ("GET", r"/2/users/(?P<user_id>[^/]+)/tweets", "users_tweets", self._authorised(self._timeline)),
        ]

    def reject_next_processing(self, reason: str = "Unsupported video format") -> None:
        """The next finalized media fails processing with `reason`."""
        with self._state_lock:
            self._rejections.append(reason)

    def rate_limit_next(
        self, route: str, wait_s: float | None = 30, times: int = 1, legacy_body: bool = False
    ) -> None:
        """The next `times` requests of `route` answer 429 with X's headers, reset `wait_s` from now
        (`legacy_body`: the v1.1 `{"errors": [{"code": 88}]}` body instead of Problem JSON)."""
        response = self.throttled(wait_s, route)
        if legacy_body:
            response.body = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        self.inject(Fault(route, status=429, body=response.body, headers=response.headers, times=times))

    def throttled(self, wait_s: float | None, route: str) -> Response:
        refused = problem(429, None, "Too Many Requests", "Too Many Requests")
        limit = self.rate_limits.get(route, RATE_LIMITS["unrouted"])
        reset = int(time.time()) + math.ceil(30 if wait_s is None else wait_s)
        refused.headers.update(
            {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
        )
        return refused

    def server_error(self, status: int, route: str) -> Response:
        phrase = HTTPStatus(status).phrase
        return problem(status, None, phrase, phrase)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Every created post: id, text, media_ids, media_key, sha256, size, author_id, created_at."""
        with self._state_lock:
            return [dict(post) for post in self._posts]

    def public_metrics(self, post_id: str) -> dict[str, int]:
        """A post's lifetime counters as GET /2/tweets reports them, as of the sandbox's now: the sum of
        its daily analytics since it was posted (the same on every call of a day, growing with age)."""
        totals = lifetime_activity(post_id, self._created(post_id), self.now())
        return {
            "retweet_count": totals["shares"],
            "reply_count": totals["comments"],
            "like_count": totals["likes"],
            "quote_count": totals["shares"] // 4,
            "bookmark_count": totals["saves"],
            "impression_count": totals["impressions"],
            "view_count": totals["views"],
        }

    def daily_analytics(self, post_id: str, first: date, last: date) -> dict[date, dict[str, int]]:
        """What GET /2/tweets/analytics reports for each day from `first` to `last` (all its fields)."""
        return {
            day: _analytics_metrics(values)
            for day, values in activity_between(post_id, self._created(post_id), first, last).items()
        }

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the post was created `days` earlier (its created_at moves; its id keeps its time)."""
        with self._state_lock:
            post = next(post for post in self._posts if post["id"] == post_id)
            moved = _parse_time(post["created_at"]) - timedelta(days=days)
            post["created_at"] = moved.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _created(self, post_id: str) -> datetime:
        with self._state_lock:
            post = next(post for post in self._posts if post["id"] == post_id)
            return _parse_time(post["created_at"])

    # --- GET /2/tweets/analytics -----------------------------------------------------------------------

    def _analytics(self, request: Request) -> Response:
        query = request.query
        _refuse_unknown(query, ANALYTICS_PARAMETERS)
        ids = [value for value in query.get("ids", "").split(",") if value]
        if not 1 <= len(ids) <= 100 or not all(_DIGITS.fullmatch(value) for value in ids):
            raise invalid("The `ids` query parameter needs 1 to 100 comma-separated post ids", {"ids": ids})
        for name in ("start_time", "end_time", "granularity", "analytics.fields"):
            if not query.get(name):
                raise invalid(f"The `{name}` query parameter can not be empty", {name: [""]})
        granularity = query["granularity"]
        if granularity not in ANALYTICS_GRANULARITIES:
            raise invalid(
                f"The `granularity` query parameter value [{granularity}] is not one of "
                f"[{', '.join(ANALYTICS_GRANULARITIES)}]",
                {"granularity": [granularity]},
            )
        fields = [name for name in query["analytics.fields"].split(",") if name]
        unknown = [name for name in fields if name not in ANALYTICS_FIELDS]
        if unknown or not fields:
            raise invalid(
                f"The `analytics.fields` query parameter value [{(unknown or [''])[0]}] is not one of "
                f"[{', '.join(ANALYTICS_FIELDS)}]",
                {"analytics.fields": unknown},
            )
        start, end = (_query_time(query, name) for name in ("start_time", "end_time"))
        now = self.now()
        if start >= end:
            raise invalid("The `start_time` query parameter value must be before the `end_time` value")
        if start < now - timedelta(days=ANALYTICS_WINDOW_DAYS):
            raise invalid(
                "The `start_time` query parameter value must be within the last "
                f"{ANALYTICS_WINDOW_DAYS} days",
                {"start_time": [query["start_time"]]},
            )
        end = min(end, now)
        with self._state_lock:
            known = {post["id"] for post in self._posts}
        data = [
            {"id": post_id, "timestamped_metrics": self._series(post_id, start, end, granularity, fields)}
            for post_id in ids
            if post_id in known
        ]
        body: dict[str, Any] = {"data": data} if data else {}
        missing = [value for value in ids if value not in known]
        if missing:
            body["errors"] = [
                {
                    "value": value,
                    "detail": f"Could not find tweet with ids: [{value}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": value,
                    "type": PROBLEMS + "resource-not-found",
                }
                for value in missing
            ]
        return Response(200, body)

    def _series(
        self, post_id: str, start: datetime, end: datetime, granularity: str, fields: list[str]
    ) -> list[dict[str, Any]]:
        """The post's metrics in buckets of `granularity` between `start` and `end`."""
        if end <= start:
            return []
        days = self.daily_analytics(post_id, start.date(), (end - timedelta(microseconds=1)).date())
        buckets: list[tuple[datetime, dict[str, int]]] = []
        if granularity == "hourly":
            for day, values in days.items():
                midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
                for hour in range(24):
                    moment = midnight + timedelta(hours=hour)
                    if start <= moment + timedelta(hours=1) and moment < end:
                        buckets.append((moment, {k: _hour_share(v, hour) for k, v in values.items()}))
        elif granularity == "total":
            totals = dict.fromkeys(ANALYTICS_FIELDS, 0)
            for values in days.values():
                for name in ANALYTICS_FIELDS:
                    totals[name] += values[name]
            buckets.append((start, totals))
        else:
            size = 7 if granularity == "weekly" else 1
            for day, values in days.items():
                index = (day - start.date()).days // size
                bucket_day = start.date() + timedelta(days=index * size)
                moment = datetime(bucket_day.year, bucket_day.month, bucket_day.day, tzinfo=UTC)
                if buckets and buckets[-1][0] == moment:
                    for name in ANALYTICS_FIELDS:
                        buckets[-1][1][name] += values[name]
                else:
                    buckets.append((moment, dict(values)))
        return [
            {
                "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "metrics": {name: values[name] for name in fields},
            }
            for moment, values in buckets
        ]

    # --- every response: rate-limit window headers ----------------------------------------------------

    def dispatch(self, request: Request) -> tuple[Response | None, Fault | None]:
        if request.host == WWW_HOST:
            return super().dispatch(request)
        route = self.route_name(request) or "unrouted"
        window = self._window(route)
        if window.remaining <= 0:
            self.requests.append((route, request.method))
            refused = problem(429, None, "Too Many Requests", "Too Many Requests")
            refused.headers.update(self._limit_headers(route, window))
            return refused, None
        with self._state_lock:
            window.remaining -= 1
        response, fault = super().dispatch(request)
        if response is not None:
            for name, value in self._limit_headers(route, window).items():
                response.headers.setdefault(name, value)
            if response.status in (411, 413):
                response.headers["Connection"] = "close"
        return response, fault

    def _window(self, route: str) -> _Window:
        now = int(time.time())
        with self._state_lock:
            window = self._windows.get(route)
            if window is None or window.reset <= now:
                limit = self.rate_limits.get(route, RATE_LIMITS["unrouted"])
                window = _Window(limit, limit, now + WINDOW_S)
                self._windows[route] = window
            return window

    def _limit_headers(self, route: str, window: _Window) -> dict[str, str]:
        headers = {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(max(window.remaining, 0)),
            "x-rate-limit-reset": str(window.reset),
        }
        if route == "tweets_create":
            headers |= {
                "x-app-limit-24hour-limit": str(APP_TWEETS_PER_DAY),
                "x-app-limit-24hour-remaining": str(APP_TWEETS_PER_DAY - self._tweets_today),
                "x-app-limit-24hour-reset": str(int(time.time()) + DAY_S),
            }
        return headers

    # --- OAuth 2.0 token endpoint ---------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _oauth_error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = request.form()
        client_id = self._client_of(request, form)
        if client_id is None:
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(client_id, form)
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(400, "invalid_request", "Missing required parameter [grant_type].")
        grant = self.tokens.refresh(form.get("refresh_token", ""))
        if grant is None:
            return _oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        return Response(
            200,
            {
                "token_type": "bearer",
                "expires_in": int(self.tokens.lifetime_s),
                "access_token": grant.access_token,
                "scope": SCOPES,
                "refresh_token": grant.refresh_token,
            },
        )

    def _code_grant(self, client_id: str, form: dict[str, str]) -> Response:
        """code, redirect_uri and code_verifier (client_id in the form or the Basic header) -> tokens."""
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                return _oauth_error(400, "invalid_request", f"Missing required parameter [{name}].")
        try:
            approved = self.codes.redeem(
                form["code"],
                client_id=client_id,
                redirect_uri=form["redirect_uri"],
                verifier=form["code_verifier"],
            )
        except CodeRefusedError as refused:
            return _oauth_error(400, "invalid_request", refused.description)
        grant = self.tokens.issue()
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(self.tokens.lifetime_s),
            "access_token": grant.access_token,
            "scope": " ".join(approved.scopes),
        }
        if "offline.access" in approved.scopes:
            body["refresh_token"] = grant.refresh_token
        return Response(200, body)

    def _client_of(self, request: Request, form: dict[str, str]) -> str | None:
        """The authenticated client: Basic auth for a confidential client, `client_id` for a public one."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return client_id if (client_id, secret) == (self.client_id, self.client_secret) else None
        if self.client_secret is None and form.get("client_id") == self.client_id:
            return self.client_id
        return None

    def _authorised(self, handler: Handler) -> Handler:
        def guarded(request: Request) -> Response:
            if not self.tokens.valid(bearer_token(request)):
                return problem(401, None, "Unauthorized", "Unauthorized")
            try:
                return handler(request)
            except _RefusalError as refusal:
                return refusal.response

        return guarded

    # --- media upload ---------------------------------------------------------------------------------

    def _initialize(self, request: Request) -> Response:
        body = _json_object(request)
        unknown = sorted(set(body) - INITIALIZE_PROPERTIES)
        if unknown:
            raise invalid(
                f"$.{unknown[0]}: is not defined in the schema and the schema does not allow additional "
                "properties"
            )
        media_type, total, category = (
            body.get("media_type"),
            body.get("total_bytes"),
            body.get("media_category"),
        )
        if media_type not in MEDIA_TYPES:
            raise invalid(f"$.media_type: does not have a value in the enumeration {sorted(MEDIA_TYPES)}")
        if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= MAX_TOTAL_BYTES:
            raise invalid(f"$.total_bytes: must be an integer between 0 and {MAX_TOTAL_BYTES}")
        if category is not None and category not in MEDIA_CATEGORIES:
            raise invalid(
                f"$.media_category: does not have a value in the enumeration {sorted(MEDIA_CATEGORIES)}"
            )
        if str(media_type).startswith("video/") and category not in VIDEO_CATEGORIES:
            raise invalid("video uploads need media_category tweet_video, amplify_video or dm_video")
        if str(media_type).startswith("video/") and self.max_video_bytes and total > self.max_video_bytes:
            raise invalid(f"File size exceeds {self.max_video_bytes} bytes.")
        with self._state_lock:
            media_id = snowflake(self.next_id())
            directory = self.data_dir / "media" / media_id
            directory.mkdir(parents=True)
            upload = MediaUpload(
                media_id,
                str(media_type),
                total,
                time.time() + self.media_lifetime_s,
                directory,
            )
            self.media[media_id] = upload
        return Response(
            200,
            {"data": {"id": media_id, "media_key": upload.key, "expires_after_secs": self.media_lifetime_s}},
        )

    def _upload(self, media_id: str) -> MediaUpload:
        with self._state_lock:
            upload = self.media.get(media_id)
        if upload is None or upload.expires_at <= time.time():
            raise not_found("media", media_id)
        return upload

    def _append(self, request: Request) -> Response:
        upload = self._upload(request.params["media_id"])
        if upload.finalized:
            raise invalid(f"media {upload.id} is already finalized; no more segments can be appended")
        if request.content_length is None:
            raise _RefusalError(
                problem(411, "invalid-request", "Length Required", "Content-Length is required")
            )
        content_type = request.headers.get("content-type", "")
        sink = _Sink(upload, self._state_lock)
        kept = False
        try:
            if content_type.startswith("multipart/form-data"):
                fields, size = self._read_multipart(request, sink)
            elif content_type.startswith("application/json"):
                fields, size = _read_json_segment(request, sink)
            else:
                raise invalid("append takes multipart/form-data or application/json")
            index = _segment_index(fields.get("segment_index"))
            if size < 0:
                raise invalid("the `media` field is required")
            if self.max_segment_bytes is not None and size > self.max_segment_bytes:
                raise invalid(f"segment {index} is {size} bytes; the limit is {self.max_segment_bytes} bytes")
            with self._state_lock:
                others = upload.received - upload.segments.get(index, 0)
                if others + size > upload.total_bytes:
                    raise invalid(
                        f"segments add up to {others + size} bytes, more than total_bytes "
                        f"{upload.total_bytes}"
                    )
                sink.keep(index, size)
                kept = True
                self.appends.append((upload.id, index))
        finally:
            if not kept:
                sink.discard()
        return Response(200, {"data": {"expires_at": int(upload.expires_at)}})

    @staticmethod
    def _read_multipart(request: Request, sink: _Sink) -> tuple[dict[str, str], int]:
        """Fields and the `media` size (-1: none); the media part streams to `sink`, never into memory."""
        try:
            fields, files = read_multipart(
                request, files=("media",), open_file=lambda _name, fields: sink.open(fields)
            )
        except MultipartError as error:
            raise invalid(str(error)) from None
        return fields, files.get("media", -1)

    def _finalize(self, request: Request) -> Response:
        upload = self._upload(request.params["media_id"])
        if request.content_length:
            raise invalid("finalize takes no body")
        with self._state_lock:
            if not upload.finalized:
                self._complete(upload)
        return Response(200, {"data": self._media_status(upload, advance=False)})

    def _complete(self, upload: MediaUpload) -> None:
        indexes = sorted(upload.segments)
        if not indexes or indexes != list(range(len(indexes))):
            raise invalid(f"segments {indexes} are not a contiguous run from 0")
        if upload.received != upload.total_bytes:
            raise invalid(
                f"File size mismatch: received {upload.received} bytes, expected {upload.total_bytes}."
            )
        if upload.running is not None and len(upload.appended) == len(indexes):
            digest = upload.running
            with upload.combined.open("rb") as handle:
                head = handle.read(12)
        else:
            digest, head = _joined_sha256(upload, indexes)
        upload.sha256 = digest.hexdigest()
        upload.finalized = True
        if self._rejections:
            upload.failure = self._rejections.pop(0)
        elif upload.media_type == "video/mp4" and head[4:8] != b"ftyp":
            upload.failure = "Unsupported video format: the file is not an MP4 container"
        upload.polls_left = self.processing_polls
        upload.state = "pending" if upload.polls_left > 0 else "failed" if upload.failure else "succeeded"

    def _status(self, request: Request) -> Response:
        _refuse_unknown(request.query, frozenset({"command", "media_id"}))
        if request.query.get("command", "STATUS") != "STATUS":
            raise invalid(
                "The `command` query parameter value must be STATUS", {"command": [request.query["command"]]}
            )
        media_id = request.query.get("media_id")
        if not media_id:
            raise invalid("The `media_id` query parameter is required")
        upload = self._upload(media_id)
        if not upload.finalized:
            raise invalid(f"media {media_id} has not been finalized")
        with self._state_lock:
            return Response(200, {"data": self._media_status(upload, advance=True)})

    def _media_status(self, upload: MediaUpload, advance: bool) -> dict[str, Any]:
        """The media object; each STATUS poll moves processing one step (pending -> in_progress -> done)."""
        if advance and upload.state in ("pending", "in_progress"):
            upload.polls_left -= 1
            upload.state = (
                "in_progress" if upload.polls_left > 0 else "failed" if upload.failure else "succeeded"
            )
        data: dict[str, Any] = {
            "id": upload.id,
            "media_key": upload.key,
            "size": upload.total_bytes,
            "expires_after_secs": max(0, int(upload.expires_at - time.time())),
        }
        if self.processing_polls == 0 and upload.state == "succeeded":
            return data
        info: dict[str, Any] = {"state": upload.state}
        if upload.state in ("pending", "in_progress"):
            done = self.processing_polls - upload.polls_left
            info |= {
                "check_after_secs": self.check_after_secs,
                "progress_percent": int(100 * done / max(self.processing_polls, 1)),
            }
        else:
            info["progress_percent"] = 100
        if upload.state == "failed":
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": upload.failure}
        data["processing_info"] = info
        return data

    # --- posts ----------------------------------------------------------------------------------------

    def _create_tweet(self, request: Request) -> Response:
        body = _json_object(request)
        unknown = sorted(set(body) - TWEET_PROPERTIES)
        if unknown:
            raise invalid(
                f"$.{unknown[0]}: is not defined in the schema and the schema does not allow additional "
                "properties"
            )
        text = body.get("text")
        media = body.get("media")
        if text is not None and not isinstance(text, str):
            raise invalid("$.text: string expected")
        if text is None and media is None:
            raise invalid("a post needs `text` or `media`")
        if text is not None and has_invalid_characters(text):
            raise invalid("$.text: contains characters a post cannot carry", {"text": [text]})
        if text is not None and weighted_length(text) > MAX_TWEET_WEIGHT:
            raise invalid(
                f"Tweet text is too long: {weighted_length(text)} weighted characters, "
                f"the limit is {MAX_TWEET_WEIGHT}",
                {"text": [text]},
            )
        if "reply_settings" in body and body["reply_settings"] not in REPLY_SETTINGS:
            raise invalid(
                f"$.reply_settings: does not have a value in the enumeration {sorted(REPLY_SETTINGS)}"
            )
        media_ids = self._check_media(media, body) if media is not None else []
        with self._state_lock:
            for earlier in self._posts:
                if earlier["text"] == (text or "") and earlier["media_ids"] == media_ids:
                    return problem(
                        403,
                        None,
                        "Forbidden",
                        "You are not allowed to create a Tweet with duplicate content.",
                    )
            tweet_id = snowflake(self.next_id())
            upload = self.media[media_ids[0]] if media_ids else None
            self._posts.append(
                {
                    "id": tweet_id,
                    "text": text or "",
                    "media_ids": media_ids,
                    "media_key": upload.key if upload else None,
                    "sha256": upload.sha256 if upload else None,
                    "size": upload.total_bytes if upload else 0,
                    "author_id": self.user_id,
                    "created_at": self.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
            )
            self._tweets_today += 1
        return Response(
            201, {"data": {"id": tweet_id, "text": text or "", "edit_history_tweet_ids": [tweet_id]}}
        )

    def _check_media(self, media: Any, body: dict[str, Any]) -> list[str]:
        if not isinstance(media, dict) or set(media) - TWEET_MEDIA_PROPERTIES:
            raise invalid("$.media: only media_ids and tagged_user_ids are allowed")
        if {"quote_tweet_id", "poll", "card_uri"} & set(body):
            raise invalid("media cannot be combined with quote_tweet_id, poll or card_uri")
        media_ids = media.get("media_ids")
        if (
            not isinstance(media_ids, list)
            or not 1 <= len(media_ids) <= 4
            or not all(isinstance(value, str) and _DIGITS.fullmatch(value) for value in media_ids)
        ):
            raise invalid("$.media.media_ids: 1 to 4 numeric strings expected")
        with self._state_lock:
            uploads = [self.media.get(value) for value in media_ids]
        unusable = [
            value
            for value, upload in zip(media_ids, uploads, strict=True)
            if upload is None or upload.state != "succeeded" or upload.expires_at <= time.time()
        ]
        if unusable:
            raise invalid("Your media IDs are invalid.", {"media.media_ids": unusable})
        videos = [
            upload for upload in uploads if upload is not None and upload.media_type.startswith("video/")
        ]
        if videos and len(media_ids) > 1:
            raise invalid("a post carries 4 photos or 1 GIF or 1 video", {"media.media_ids": media_ids})
        return list(media_ids)

    def _lookup(self, request: Request) -> Response:
        _refuse_unknown(request.query, LOOKUP_PARAMETERS)
        fields = _fields(request.query)
        ids = [value for value in request.query.get("ids", "").split(",") if value]
        if not 1 <= len(ids) <= 100 or not all(_DIGITS.fullmatch(value) for value in ids):
            raise invalid("The `ids` query parameter needs 1 to 100 comma-separated post ids", {"ids": ids})
        with self._state_lock:
            by_id = {post["id"]: post for post in self._posts}
        found = [by_id[value] for value in ids if value in by_id]
        missing = [value for value in ids if value not in by_id]
        body = self._tweets_body(found, fields)
        if missing:
            body["errors"] = [
                {
                    "value": value,
                    "detail": f"Could not find tweet with ids: [{value}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": value,
                    "type": PROBLEMS + "resource-not-found",
                }
                for value in missing
            ]
        return Response(200, body)

    def _me(self, request: Request) -> Response:
        _refuse_unknown(request.query, ME_PARAMETERS)
        _fields(request.query)
        return Response(
            200, {"data": {"id": self.user_id, "name": "Pellacia Sandbox", "username": self.username}}
        )

    def _timeline(self, request: Request) -> Response:
        _refuse_unknown(request.query, TIMELINE_PARAMETERS)
        fields = _fields(request.query)
        raw = request.query.get("max_results", "10")
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            raise invalid(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
                {"max_results": [raw]},
            )
        if request.params["user_id"] != self.user_id:
            raise not_found("user", request.params["user_id"])
        start = 0
        token = request.query.get("pagination_token")
        if token is not None:
            if not token.isdigit():
                raise invalid(f"The `pagination_token` query parameter value [{token}] is not valid")
            start = int(token)
        with self._state_lock:
            newest_first = list(reversed(self._posts))
        page = newest_first[start : start + int(raw)]
        body = self._tweets_body(page, fields)
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + int(raw) < len(newest_first):
            meta["next_token"] = str(start + int(raw))
        body["meta"] = meta
        return Response(200, body)

    def _tweets_body(self, posts: list[dict[str, Any]], fields: dict[str, set[str]]) -> dict[str, Any]:
        tweet_fields = fields.get("tweet.fields", set()) | fields.get("post.fields", set())
        body: dict[str, Any] = {}
        if posts:
            body["data"] = [self._tweet_json(post, tweet_fields) for post in posts]
        if "attachments.media_keys" in fields.get("expansions", set()):
            media = [
                self._media_json(post, fields.get("media.fields", set()))
                for post in posts
                if post["media_key"]
            ]
            if media:
                body["includes"] = {"media": media}
        return body

    def _tweet_json(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        tweet: dict[str, Any] = {
            "id": post["id"],
            "text": post["text"],
            "edit_history_tweet_ids": [post["id"]],
        }
        if "attachments" in fields and post["media_key"]:
            tweet["attachments"] = {"media_keys": [post["media_key"]]}
        if "created_at" in fields:
            tweet["created_at"] = post["created_at"]
        if "author_id" in fields:
            tweet["author_id"] = post["author_id"]
        if "public_metrics" in fields:
            counters = self.public_metrics(post["id"])
            counters.pop("view_count")
            tweet["public_metrics"] = counters
        return tweet

    def _media_json(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        media: dict[str, Any] = {"media_key": post["media_key"], "type": "video"}
        if "public_metrics" in fields:
            media["public_metrics"] = {"view_count": self.public_metrics(post["id"])["view_count"]}
        return media


def _joined_sha256(upload: MediaUpload, indexes: list[int]) -> tuple[Any, bytes]:
    """The sha256 and first bytes of the segments in order, each from its own file or the combined one."""
    digest = hashlib.sha256()
    head = b""
    offset = 0
    for index in indexes:
        if index in upload.loose:
            path, start, length = upload.directory / f"segment-{index:04d}", 0, upload.segments[index]
        else:
            path, start, length = upload.combined, offset, upload.appended[index]
        if index < len(upload.appended):
            offset += upload.appended[index]
        with path.open("rb") as handle:
            handle.seek(start)
            while length > 0 and (block := handle.read(min(READ_BLOCK, length))):
                head = head or block[:12]
                digest.update(block)
                length -= len(block)
    return digest, head


def _read_json_segment(request: Request, sink: _Sink) -> tuple[dict[str, str], int]:
    """The JSON form of APPEND: `media` base64 and `segment_index` (the official xdk sends this)."""
    body = _json_object(request)
    if set(body) - {"media", "segment_index"}:
        raise invalid("$: only media and segment_index are allowed")
    if not isinstance(body.get("media"), str):
        return {"segment_index": str(body.get("segment_index"))}, -1
    try:
        data = base64.b64decode(body["media"], validate=True)
    except binascii.Error as error:
        raise invalid(f"$.media: not valid base64 ({error})") from error
    fields = {"segment_index": str(body.get("segment_index"))}
    with sink.open(fields) as target:
        target.write(data)
    return fields, len(data)


def _segment_index(raw: str | None) -> int:
    if raw is None or not raw.isdigit() or not 0 <= int(raw) <= MAX_SEGMENT_INDEX:
        raise invalid(
            f"segment_index must be an integer from 0 to {MAX_SEGMENT_INDEX}", {"segment_index": [str(raw)]}
        )
    return int(raw)


def _json_object(request: Request) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise invalid("Content-Type must be application/json")
    try:
        body = request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise invalid(f"the body is not valid JSON ({error})") from error
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


def _refuse_unknown(query: dict[str, str], allowed: frozenset[str]) -> None:
    for name in sorted(query):
        if name not in allowed:
            raise invalid(
                f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
                {name: [query[name]]},
            )


def _fields(query: dict[str, str]) -> dict[str, set[str]]:
    """The requested *.fields and expansions, each value checked against what X knows."""
    chosen: dict[str, set[str]] = {}
    for name, known in FIELD_PARAMETERS.items():
        if name not in query:
            continue
        values = {value for value in query[name].split(",") if value}
        unknown = sorted(values - known)
        if unknown:
            raise invalid(
                f"The `{name}` query parameter value [{unknown[0]}] is not one of {sorted(known)}",
                {name: [query[name]]},
            )
        chosen[name] = values
    return chosen


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})
