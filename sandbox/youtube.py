"""SANDBOX ONLY: a local YouTube Data API v3 + Analytics v2 + Google OAuth server for tests and demos.

No production code path ever talks to it. It follows platform_protocols.md section 2 strictly, with one
port for each of Google's hosts: youtube.googleapis.com (the "api" root: videos.list), www.googleapis.com
(the "upload" root: the resumable uploads, and the session URIs it hands out), oauth2.googleapis.com
(token), youtubeanalytics.googleapis.com (reports) and accounts.google.com (the consent page); a path asked
of the wrong host is 404 there. The resumable `videos.insert` (POST
/upload/youtube/v3/videos?uploadType=resumable with X-Upload-Content-Length/-Type and the Video metadata,
validated as YouTube validates it; PUT <session> with Content-Range, 308 + Range until the last byte,
then the Video; `bytes */<total>` queries), `videos.list` with processing simulated over polls,
`channels.list` (mine=true or id: the sandbox's one channel), `thumbnails.set` (POST
/upload/youtube/v3/thumbnails/set?videoId=ID&uploadType=media, the image as the body: image/jpeg, image/png
or application/octet-stream whose bytes are a JPEG or PNG, at most 2 MB as the method's page documents;
400 invalidImage / mediaBodyRequired, 404 videoNotFound, and the documented 403 forbidden of a channel not
allowed custom thumbnails, which an unverified channel is: `custom_thumbnails=False`),
`reports.query` with deterministic daily rows from the video's upload day (the last `reporting_delay_days`,
2 by default, not yet reported; lifetime `statistics` are those days summed through today), Google's
consent page (GET /o/oauth2/v2/auth, approving at
once; see sandbox/oauth.py) and its token endpoint (POST /token: the authorization_code grant, a refresh
token only after access_type=offline, and the refresh grant, without rotation).
Errors use Google's JSON error format. The videos.insert quota follows the current model (its own
bucket of 100 a day). Rules the spec marks [U] are flags: the 256 KiB alignment of non-final chunks, and
that session PUTs are authorised by the session's upload_id alone (as for Google Cloud Storage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, cast
from urllib.parse import quote

from sandbox.common import (
    DropConnectionError,
    Fault,
    Handler,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenRegistry,
    bearer_token,
    seed_of,
)
from sandbox.oauth import AuthorizationCodes, CodeRefusedError

CHUNK_ALIGNMENT = 256 * 1024
MAX_UPLOAD_BYTES = 274877906944  # discovery mediaUpload.maxSize (256 GiB)
# thumbnails.set: "Maximum file size: 2MB" on the method's page (its discovery maxSize says 50 MB).
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png", "application/octet-stream"})
THUMBNAIL_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
THUMBNAIL_FORBIDDEN = (
    "The authenticated user doesn't have permissions to upload and set custom video thumbnails."
)
MAX_TITLE_CHARACTERS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARACTERS = 500
MAX_LIST_IDS = 50
PRIVACY_STATUSES = frozenset({"public", "unlisted", "private"})
# Assignable categories of the US region (videoCategories.list); others are refused with invalidCategoryId.
CATEGORY_IDS = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
VIDEO_PARTS = frozenset(
    [
        "contentDetails",
        "fileDetails",
        "id",
        "liveStreamingDetails",
        "localizations",
        "paidProductPlacementDetails",
        "player",
        "processingDetails",
        "recordingDetails",
        "snippet",
        "statistics",
        "status",
        "suggestions",
        "topicDetails",
    ]
)
REPORT_METRICS = frozenset(
    [
        "views",
        "engagedViews",
        "estimatedMinutesWatched",
        "averageViewDuration",
        "likes",
        "dislikes",
        "comments",
        "shares",
        "subscribersGained",
        "subscribersLost",
    ]
)
CHANNEL_PARTS = frozenset(
    {"auditDetails", "brandingSettings", "contentDetails", "contentOwnerDetails", "id", "localizations",
     "snippet", "statistics", "status", "topicDetails"}
)  # fmt: skip
CHANNEL_FILTERS = ("categoryId", "forHandle", "forUsername", "id", "managedByMe", "mine")
CHANNEL_TITLE = "Pellacia Sandbox"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly "
    "https://www.googleapis.com/auth/yt-analytics.readonly"
)
# Scopes the consent page knows (spec 2.1, from the discovery documents).
KNOWN_SCOPES = frozenset(
    f"https://www.googleapis.com/auth/{name}"
    for name in (
        "youtube", "youtube.upload", "youtube.readonly", "youtube.force-ssl", "youtubepartner",
        "yt-analytics.readonly", "yt-analytics-monetary.readonly",
    )
)  # fmt: skip
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
INVALID_TOKEN_CHALLENGE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
_CONTENT_RANGE = re.compile(r"bytes (?:\*|(?P<first>\d+)-(?P<last>\d+))/(?P<total>\d+|\*)")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATA_HOST = "youtube.googleapis.com"
UPLOAD_HOST = "www.googleapis.com"
TOKEN_HOST = "oauth2.googleapis.com"
ANALYTICS_HOST = "youtubeanalytics.googleapis.com"
ACCOUNTS_HOST = "accounts.google.com"


def tags_length(tags: list[str]) -> int:
    """What snippet.tags counts against its 500 characters, as the videos resource documents it: the
    characters of every tag, a tag with a space as though wrapped in quotation marks (the quotes count),
    and the commas between tags ("Foo-Baz" is seven characters, "Foo Baz" nine)."""
    quoted = sum(len(tag) + 2 if " " in tag else len(tag) for tag in tags)
    return quoted + max(0, len(tags) - 1)


def google_error(
    code: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Google's JSON error format: `error.code/message/errors[{domain, reason, message}]/status`."""
    detail: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    if location is not None:
        detail |= {"location": location, "locationType": location_type or "parameter"}
    body: dict[str, Any] = {"error": {"code": code, "message": message, "errors": [detail]}}
    if code in STATUS_NAMES:
        body["error"]["status"] = STATUS_NAMES[code]
    return Response(code, body, dict(headers or {}))


def oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


class _RefusalError(Exception):
    """A request the real API would refuse; carries the answer YouTube sends for it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _bad(reason: str, message: str, **where: str) -> _RefusalError:
    return _RefusalError(
        google_error(400, reason, message, location=where.get("location"), location_type=where.get("kind"))
    )


@dataclass
class _Session:
    upload_id: str
    resource: dict[str, Any]
    parts: tuple[str, ...]
    total: int
    content_type: str
    path: Path
    digest: Any = field(default_factory=hashlib.sha256)
    committed: int = 0
    video_id: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Video:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    sha256: str
    size: int
    path: Path
    uploaded_at: dt.datetime
    polls_left: int
    outcome: tuple[str, str | None] = ("processed", None)


@dataclass(frozen=True)
class ThumbnailSet:
    """One accepted thumbnails.set: the video, the image's type as sniffed, its size and sha256."""

    video_id: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class SessionPut:
    """One PUT to an upload session: a chunk (first..last) or a status query (first None)."""

    upload_id: str
    first: int | None
    last: int | None
    status: int


class _ChunkSink:
    """A chunk's body on its way to disk: bytes already committed are dropped, at most `keep` new kept."""

    def __init__(self, target: BinaryIO, digest: Any, skip: int, keep: int) -> None:
        self.target = target
        self.digest = digest
        self.skip = skip
        self.keep = keep
        self.kept = 0

    def write(self, block: bytes) -> int:
        size = len(block)
        if self.skip:
            cut = min(self.skip, size)
            block = block[cut:]
            self.skip -= cut
        block = block[: self.keep - self.kept]
        if block:
            self.target.write(block)
            self.digest.update(block)
            self.kept += len(block)
        return size


class YouTubeSandbox(SandboxServer):
    """YouTube as a local server (SANDBOX). Route names for `inject(Fault(route=...))`:
    consent, oauth_token, upload_start, upload_session, videos_list, channels_list, reports_query,
    thumbnails_set.
    """

    name = "youtube"
    analytics_routes = ("reports_query",)
    roots: ClassVar[Mapping[str, str]] = {
        "api": DATA_HOST,
        "upload": UPLOAD_HOST,
        "oauth": TOKEN_HOST,
        "analytics": ANALYTICS_HOST,
        "consent": ACCOUNTS_HOST,
    }
    configured_roots = ("api", "upload", "oauth", "analytics")
    consent_path = "/o/oauth2/v2/auth"

    def __init__(
        self,
        data_dir: Path,
        *,
        client_id: str = "pellacia-sandbox.apps.googleusercontent.com",
        client_secret: str = "pellacia-sandbox-secret",
        channel_id: str = "UCpellaciaSandboxChannel",
        processing_polls: int = 1,
        insert_quota: int = 100,
        token_lifetime_s: float = 3599.0,
        strict_chunk_alignment: bool = True,
        reject_duplicates: bool = True,
        reporting_delay_days: int = 2,
        custom_thumbnails: bool = True,
    ) -> None:
        # The consent route is registered by the base class, so the code store must exist first.
        self.codes = AuthorizationCodes(client_id=client_id, scopes=KNOWN_SCOPES, options=("access_type",))
        super().__init__(data_dir)
        self.client_id = client_id
        self.client_secret = client_secret
        self.channel_id = channel_id
        self.processing_polls = processing_polls
        self.insert_quota = insert_quota
        self.strict_chunk_alignment = strict_chunk_alignment
        self.reject_duplicates = reject_duplicates
        self.reporting_delay_days = reporting_delay_days
        self.custom_thumbnails = custom_thumbnails  # False: an unverified channel (thumbnails.set is 403)
        self.thumbnail_sets: list[ThumbnailSet] = []
        self.thumbnail_refusals = 0
        self.tokens = TokenRegistry("ya29.sandbox", lifetime_s=token_lifetime_s)
        self.session_puts: list[SessionPut] = []
        self.inserts_today = 0
        self._sessions: dict[str, _Session] = {}
        self._videos: dict[str, _Video] = {}
        self._outcomes: list[tuple[str, str]] = []
        self._partial_next: int | None = None
        self._state = threading.RLock()

    def routes(self) -> dict[str, list[Route]]:
        return {
            ACCOUNTS_HOST: [("GET", r"/o/oauth2/v2/auth", "consent", self.codes.consent)],
            TOKEN_HOST: [("POST", r"/token", "oauth_token", self._guarded(self._token))],
            UPLOAD_HOST: [
                ("POST", r"/upload/youtube/v3/videos", "upload_start", self._authorised(self._start)),
                ("PUT", r"/upload/youtube/v3/videos", "upload_session", self._guarded(self._session_put)),
                (
                    "POST",
                    r"/upload/youtube/v3/thumbnails/set",
                    "thumbnails_set",
                    self._authorised(self._set_thumbnail),
                ),
            ],
            DATA_HOST: [
                ("GET", r"/youtube/v3/videos", "videos_list", self._authorised(self._list)),
                ("GET", r"/youtube/v3/channels", "channels_list", self._authorised(self._channels)),
            ],
            ANALYTICS_HOST: [("GET", r"/v2/reports", "reports_query", self._authorised(self._reports))],
        }

    # --- what tests steer and inspect -----------------------------------------------------------------

    def reject_next_processing(self, reason: str = "duplicate") -> None:
        """The next uploaded video ends `uploadStatus=rejected` with this `rejectionReason`."""
        with self._state:
            self._outcomes.append(("rejected", reason))

    def fail_next_processing(self, reason: str = "codec") -> None:
        """The next uploaded video ends `uploadStatus=failed` with this `failureReason`."""
        with self._state:
            self._outcomes.append(("failed", reason))

    def fail_next_chunk_after(self, persisted_bytes: int) -> None:
        """The next chunk keeps only its first `persisted_bytes` new bytes, then answers 503 backendError."""
        with self._state:
            self._partial_next = persisted_bytes

    def server_error(self, status: int, route: str) -> Response:
        """A 5xx backendError (fail_next(route, 503) is what the resumable guide says to retry)."""
        return google_error(status, "backendError", "Backend Error")

    def throttled(self, wait_s: float | None, route: str) -> Response:
        return self._rate_limited(403, wait_s)

    def rate_limit_next(
        self,
        route: str,
        *,
        wait_s: float | None = None,
        times: int = 1,
        status: int = 403,
        retry_after_s: int | None = None,
    ) -> None:
        """The next `times` requests of `route` are throttled: 403 (or 429) rateLimitExceeded, with a
        Retry-After of `wait_s` (or `retry_after_s`) seconds when one is given."""
        wait = wait_s if wait_s is not None else retry_after_s
        response = self._rate_limited(status, wait)
        self.inject(Fault(route, status=status, body=response.body, headers=response.headers, times=times))

    @staticmethod
    def _rate_limited(status: int, wait_s: float | None) -> Response:
        message = (
            "Rate Limit Exceeded" if status == 403 else "Resource has been exhausted (e.g. check quota)."
        )
        headers = {} if wait_s is None else {"Retry-After": str(math.ceil(wait_s))}
        return google_error(status, "rateLimitExceeded", message, domain="usageLimits", headers=headers)

    def age_post(self, video_id: str, days: float) -> None:
        """Pretend the video was uploaded `days` earlier (for daily analytics history)."""
        with self._state:
            video = self._videos[video_id]
            video.uploaded_at -= dt.timedelta(days=days)

    def backdate(self, post_id: str, days: float) -> None:
        self.age_post(post_id, days)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Every uploaded video: id, sha256, size, path, title, description, tags, category_id, status."""
        with self._state:
            return [
                {
                    "id": video.id,
                    "sha256": video.sha256,
                    "size": video.size,
                    "path": video.path,
                    "title": video.snippet["title"],
                    "description": video.snippet.get("description", ""),
                    "tags": list(video.snippet.get("tags", [])),
                    "category_id": video.snippet["categoryId"],
                    "status": dict(video.status),
                }
                for video in self._videos.values()
            ]

    def statistics(self, video_id: str) -> dict[str, int]:
        """Lifetime counters of a video as of the sandbox's now: the sum of its daily reports from its
        upload day through today (the Data API has no reporting delay), so they grow with its age and
        are the same on every call of the same day."""
        with self._state:
            uploaded = self._videos[video_id].uploaded_at
        today = self.now().date()
        totals = {"views": 0, "likes": 0, "dislikes": 0, "comments": 0}
        day = uploaded.date()
        while day <= today:
            values = self.daily_report(video_id, day)
            for name in totals:
                totals[name] += values[name]
            day += dt.timedelta(days=1)
        return {
            "viewCount": totals["views"],
            "likeCount": totals["likes"],
            "dislikeCount": totals["dislikes"],
            "favoriteCount": 0,
            "commentCount": totals["comments"],
        }

    def daily_report(self, video_id: str, day: dt.date) -> dict[str, int]:
        """Deterministic Analytics metrics of one video on one day."""
        seed = seed_of(f"{video_id}:{day.isoformat()}")
        views = 20 + seed % 2000
        duration = 5 + (seed >> 12) % 50
        return {
            "views": views,
            "engagedViews": views * 3 // 4,
            "estimatedMinutesWatched": views * duration // 60,
            "averageViewDuration": duration,
            "likes": views // 15,
            "dislikes": views // 400,
            "comments": (seed >> 24) % 25,
            "shares": (seed >> 32) % 40,
            "subscribersGained": (seed >> 40) % 10,
            "subscribersLost": (seed >> 44) % 3,
        }

    # --- guards ---------------------------------------------------------------------------------------

    def _guarded(self, handler: Handler) -> Handler:
        def guarded(request: Request) -> Response:
            try:
                return handler(request)
            except _RefusalError as refusal:
                return refusal.response

        return guarded

    def _authorised(self, handler: Handler) -> Handler:
        def authorised(request: Request) -> Response:
            if not self.tokens.valid(bearer_token(request)):
                return google_error(
                    401,
                    "authError",
                    "Invalid Credentials",
                    location="Authorization",
                    location_type="header",
                    headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
                )
            return handler(request)

        return self._guarded(authorised)

    # --- OAuth: the authorization-code and refresh grants --------------------------------------------

    def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return oauth_error(400, "invalid_request", "Invalid Content-Type; expected form data")
        form = request.form()
        if not form.get("client_id"):
            return oauth_error(400, "invalid_request", "Could not determine client ID from request.")
        if form["client_id"] != self.client_id:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("client_secret") != self.client_secret:
            return oauth_error(401, "invalid_client", "Unauthorized")
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form)
        if form.get("grant_type") != "refresh_token":
            return oauth_error(
                400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"
            )
        if not form.get("refresh_token"):
            return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        grant = self.tokens.refresh(form["refresh_token"])
        if grant is None:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        return Response(
            200,
            {
                "access_token": grant.access_token,
                "expires_in": int(self.tokens.lifetime_s),
                "scope": SCOPES,
                "token_type": "Bearer",
            },
        )

    def _code_grant(self, form: dict[str, str]) -> Response:
        """code, client_id, client_secret, redirect_uri -> tokens; refresh_token only for offline access."""
        if not form.get("code"):
            return oauth_error(400, "invalid_request", "Missing required parameter: code")
        try:
            approved = self.codes.redeem(
                form["code"],
                client_id=form["client_id"],
                redirect_uri=form.get("redirect_uri", ""),
                verifier=form.get("code_verifier"),
            )
        except CodeRefusedError as refused:
            if refused.reason == "redirect_uri":
                return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
            return oauth_error(400, "invalid_grant", refused.description)
        grant = self.tokens.issue()
        body: dict[str, Any] = {
            "access_token": grant.access_token,
            "expires_in": int(self.tokens.lifetime_s),
            "scope": " ".join(approved.scopes),
            "token_type": "Bearer",
        }
        if approved.options.get("access_type") == "offline":
            body["refresh_token"] = grant.refresh_token
        return Response(200, body)

    # --- videos.insert, resumable ----------------------------------------------------------------------

    def _start(self, request: Request) -> Response:
        if request.query.get("uploadType") != "resumable":
            raise _bad(
                "invalidParameter",
                "This server takes uploadType=resumable uploads only.",
                location="uploadType",
            )
        parts = self._parts(request)
        with self._state:
            if self.inserts_today >= self.insert_quota:
                raise _RefusalError(google_error(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota"))
            self.inserts_today += 1
        total = self._declared_length(request)
        content_type = request.headers.get("x-upload-content-type", "")
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            raise _bad(
                "badContent",
                f"Media type '{content_type}' is not supported. "
                "Valid media types: [video/*, application/octet-stream]",
            )
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise _bad("parseError", "The metadata must be sent as application/json.")
        try:
            resource = request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _bad("parseError", "Parse Error") from None
        if not isinstance(resource, dict):
            raise _bad("parseError", "Parse Error")
        self._validate_metadata(resource, parts)
        upload_id = secrets.token_urlsafe(24)
        session = _Session(
            upload_id=upload_id,
            resource=resource,
            parts=parts,
            total=total,
            content_type=content_type,
            path=self.stored_file(f"{upload_id}.part"),
        )
        session.path.touch()
        with self._state:
            self._sessions[upload_id] = session
        location = self.url(
            "upload",
            f"/upload/youtube/v3/videos?uploadType=resumable&part={quote(','.join(parts))}"
            f"&upload_id={upload_id}",
        )
        return Response(200, None, {"Location": location, "X-GUploader-UploadID": upload_id})

    def _parts(self, request: Request) -> tuple[str, ...]:
        value = request.query.get("part", "")
        if not value:
            raise _bad("required", "Required parameter: part", location="part")
        parts = tuple(part.strip() for part in value.split(",") if part.strip())
        unknown = [part for part in parts if part not in VIDEO_PARTS]
        if unknown:
            raise _bad("unknownPart", unknown[0], location="part")
        return parts

    def _declared_length(self, request: Request) -> int:
        value = request.headers.get("x-upload-content-length", "")
        if not value.isdigit():
            raise _bad(
                "required",
                "X-Upload-Content-Length must give the size of the video in bytes",
                location="X-Upload-Content-Length",
                kind="header",
            )
        total = int(value)
        if total == 0:
            raise _bad("mediaBodyRequired", "The request does not include the video content.")
        if total > MAX_UPLOAD_BYTES:
            raise _bad("uploadTooLarge", f"Media larger than: {MAX_UPLOAD_BYTES}")
        return total

    def _validate_metadata(self, resource: dict[str, Any], parts: tuple[str, ...]) -> None:
        snippet = resource.get("snippet") if "snippet" in parts else None
        if not isinstance(snippet, dict):
            raise _bad("invalidVideoMetadata", "The request metadata is invalid: the snippet is missing.")
        title = snippet.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _bad("invalidTitle", "The request metadata specifies an invalid or empty video title.")
        if len(title) > MAX_TITLE_CHARACTERS or "<" in title or ">" in title:
            raise _bad("invalidTitle", "The request metadata specifies an invalid video title.")
        description = snippet.get("description", "")
        if (
            not isinstance(description, str)
            or len(description.encode()) > MAX_DESCRIPTION_BYTES
            or "<" in description
            or ">" in description
        ):
            raise _bad("invalidDescription", "The request metadata specifies an invalid video description.")
        tags = snippet.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise _bad("invalidTags", "The request metadata specifies invalid video keywords.")
        if tags_length(tags) > MAX_TAGS_CHARACTERS:
            raise _bad("invalidTags", "The request metadata specifies invalid video keywords.")
        category = snippet.get("categoryId")
        if category is None:
            raise _bad(
                "invalidVideoMetadata", "The request metadata is invalid: snippet.categoryId is missing."
            )
        if str(category) not in CATEGORY_IDS:
            raise _bad(
                "invalidCategoryId",
                "The snippet.categoryId property specifies an invalid category ID. "
                "Use the videoCategories.list method to retrieve supported categories.",
            )
        status = resource.get("status", {}) if "status" in parts else {}
        if not isinstance(status, dict):
            raise _bad("invalidVideoMetadata", "The request metadata is invalid: status is not an object.")
        privacy = status.get("privacyStatus", "public")
        if privacy not in PRIVACY_STATUSES:
            raise _bad("invalidVideoMetadata", f"The request metadata is invalid: privacyStatus {privacy!r}.")
        for flag in (
            "selfDeclaredMadeForKids",
            "containsSyntheticMedia",
            "embeddable",
            "publicStatsViewable",
        ):
            if flag in status and not isinstance(status[flag], bool):
                raise _bad("invalidVideoMetadata", f"The request metadata is invalid: status.{flag}.")
        if "publishAt" in status:
            self._validate_publish_at(status["publishAt"], privacy)

    @staticmethod
    def _validate_publish_at(value: Any, privacy: str) -> None:
        message = "The request metadata specifies an invalid scheduled publishing time."
        if privacy != "private":
            raise _bad("invalidPublishAt", f"{message} publishAt can be set only for private videos.")
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _bad("invalidPublishAt", message) from None
        if moment.tzinfo is None or moment <= dt.datetime.now(dt.UTC):
            raise _bad("invalidPublishAt", message)

    def _session_put(self, request: Request) -> Response:
        upload_id = request.query.get("upload_id", "")
        with self._state:
            session = self._sessions.get(upload_id)
        if session is None:
            return google_error(404, "notFound", "The upload session does not exist or has expired.")
        content_range = _CONTENT_RANGE.fullmatch(request.headers.get("content-range", ""))
        if content_range is None:
            raise _bad("badRequest", "Content-Range must be 'bytes first-last/total' or 'bytes */total'.")
        if content_range["total"] != str(session.total):
            raise _bad("badRequest", f"Content-Range total must be the declared size {session.total}.")
        with session.lock:
            if content_range["first"] is None:
                return self._answer_query(request, session)
            return self._receive_chunk(
                request, session, int(content_range["first"]), int(content_range["last"])
            )

    def _answer_query(self, request: Request, session: _Session) -> Response:
        if request.content_length:
            raise _bad("badRequest", "A status query ('bytes */total') carries no content.")
        response = self._session_answer(session)
        self._log_put(session, None, None, response.status)
        return response

    def _receive_chunk(self, request: Request, session: _Session, first: int, last: int) -> Response:
        length = request.content_length
        if last < first or last >= session.total or length != last - first + 1:
            raise _bad("badRequest", "Content-Range does not match Content-Length and the declared size.")
        if first > session.committed:
            raise _bad(
                "badRequest",
                f"The chunk starts at byte {first} but {session.committed} bytes are committed; "
                "query the session.",
            )
        final = last + 1 == session.total
        if not final and length % CHUNK_ALIGNMENT and self.strict_chunk_alignment:
            raise _bad(
                "badRequest", f"Every chunk but the last must be a multiple of {CHUNK_ALIGNMENT} bytes."
            )
        with self._state:
            keep, self._partial_next = (
                (self._partial_next, None) if self._partial_next is not None else (length, None)
            )
        with session.path.open("ab") as target:
            sink = _ChunkSink(target, session.digest, skip=session.committed - first, keep=keep)
            received = request.copy_body_to(cast(BinaryIO, sink))
        session.committed += sink.kept
        if received < length:
            raise DropConnectionError
        if session.committed == session.total and session.video_id is None:
            self._complete(session)
        response = (
            google_error(503, "backendError", "Backend Error")
            if keep < length and session.video_id is None
            else self._session_answer(session)
        )
        self._log_put(session, first, last, response.status)
        return response

    def _session_answer(self, session: _Session) -> Response:
        if session.video_id is not None:
            with self._state:
                return Response(200, self._resource(self._videos[session.video_id], session.parts))
        headers = {"Range": f"bytes=0-{session.committed - 1}"} if session.committed else {}
        return Response(308, None, headers)

    def _log_put(self, session: _Session, first: int | None, last: int | None, status: int) -> None:
        with self._state:
            self.session_puts.append(SessionPut(session.upload_id, first, last, status))

    def _complete(self, session: _Session) -> None:
        sha256 = session.digest.hexdigest()
        with self._state:
            video_id = secrets.token_urlsafe(8)[:11]
            path = session.path.rename(self.stored_file(f"{video_id}.video"))
            duplicate = self.reject_duplicates and any(v.sha256 == sha256 for v in self._videos.values())
            outcome: tuple[str, str | None] = (
                self._outcomes.pop(0)
                if self._outcomes
                else ("rejected", "duplicate")
                if duplicate
                else ("processed", None)
            )
            snippet = dict(session.resource["snippet"])
            status = dict(session.resource.get("status", {})) if "status" in session.parts else {}
            status.setdefault("privacyStatus", "public")
            self._videos[video_id] = _Video(
                id=video_id,
                snippet=snippet,
                status=status,
                sha256=sha256,
                size=session.total,
                path=path,
                uploaded_at=self.now(),
                polls_left=self.processing_polls,
                outcome=outcome,
            )
            session.video_id = video_id

    # --- thumbnails.set --------------------------------------------------------------------------------

    def _set_thumbnail(self, request: Request) -> Response:
        """A simple media upload of the image for `videoId`, checked as the method's page documents."""
        if request.query.get("uploadType", "media") != "media":
            raise _bad(
                "invalidParameter",
                "This server takes uploadType=media thumbnails only.",
                location="uploadType",
            )
        video_id = request.query.get("videoId", "")
        if not video_id:
            raise _bad("required", "Required parameter: videoId", location="videoId")
        with self._state:
            known = video_id in self._videos
        if not known:
            raise _RefusalError(
                google_error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
            )
        if not self.custom_thumbnails:
            with self._state:
                self.thumbnail_refusals += 1
            raise _RefusalError(google_error(403, "forbidden", THUMBNAIL_FORBIDDEN))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in THUMBNAIL_TYPES:
            raise _bad(
                "invalidImage",
                f"Media type '{content_type}' is not supported. "
                "Valid media types: [image/jpeg, image/png, application/octet-stream]",
            )
        length = request.content_length or 0
        if length == 0:
            raise _bad("mediaBodyRequired", "The request does not include the image content.")
        if length > MAX_THUMBNAIL_BYTES:
            raise _RefusalError(
                google_error(413, "uploadTooLarge", f"Media larger than: {MAX_THUMBNAIL_BYTES}")
            )
        image = request.body()
        sniffed = next(
            (kind for magic, kind in THUMBNAIL_SIGNATURES.items() if image.startswith(magic)), None
        )
        if (
            len(image) != length
            or sniffed is None
            or content_type not in (sniffed, "application/octet-stream")
        ):
            raise _bad("invalidImage", "The provided image content is invalid.")
        digest = hashlib.sha256(image).hexdigest()
        with self._state:
            self.thumbnail_sets.append(ThumbnailSet(video_id, sniffed, len(image), digest))
        url = f"https://i.ytimg.com/vi/{video_id}/maxresdefault.jpg"
        return Response(
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "etag": digest[:27],
                "items": [
                    {
                        "default": {
                            "url": url.replace("maxresdefault", "default"),
                            "width": 120,
                            "height": 90,
                        },
                        "medium": {
                            "url": url.replace("maxresdefault", "mqdefault"),
                            "width": 320,
                            "height": 180,
                        },
                        "high": {
                            "url": url.replace("maxresdefault", "hqdefault"),
                            "width": 480,
                            "height": 360,
                        },
                        "maxres": {"url": url, "width": 1280, "height": 720},
                    }
                ],
            },
        )

    # --- videos.list -----------------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        parts = self._parts(request)
        ids = [video_id for video_id in request.query.get("id", "").split(",") if video_id]
        if not ids:
            raise _bad("missingRequiredParameter", "No filter selected. Expected one of: myRating, chart, id")
        if len(ids) > MAX_LIST_IDS:
            raise _bad("invalidParameter", f"At most {MAX_LIST_IDS} ids are allowed.", location="id")
        observes = "status" in parts or "processingDetails" in parts
        with self._state:
            videos = [self._videos[video_id] for video_id in ids if video_id in self._videos]
            items = [self._resource(video, parts, observe=observes) for video in videos]
        return Response(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": hashlib.sha1(json.dumps(items, sort_keys=True).encode()).hexdigest(),
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )

    # --- channels.list ---------------------------------------------------------------------------------

    def _channels(self, request: Request) -> Response:
        """channels.list with `mine=true` (the token's channel) or `id`; the parts this sandbox models are
        id, snippet and statistics (others are accepted and left out)."""
        value = request.query.get("part", "")
        if not value:
            raise _bad("required", "Required parameter: part", location="part")
        parts = {part.strip() for part in value.split(",") if part.strip()}
        unknown = sorted(parts - CHANNEL_PARTS)
        if unknown:
            raise _bad("unknownPart", unknown[0], location="part")
        filters = [name for name in CHANNEL_FILTERS if name in request.query]
        if len(filters) != 1:
            raise _bad(
                "incompatibleParameters" if filters else "missingRequiredParameter",
                f"Expected exactly one of: {', '.join(CHANNEL_FILTERS)}",
            )
        if filters[0] == "mine":
            mine = request.query["mine"].lower() == "true"
        else:
            mine = self.channel_id in request.query["id"].split(",")
        items = [self._channel(parts)] if mine else []
        return Response(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": hashlib.sha1(json.dumps(items, sort_keys=True).encode()).hexdigest(),
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            },
        )

    def _channel(self, parts: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "youtube#channel",
            "etag": self.channel_id[:27],
            "id": self.channel_id,
        }
        if "snippet" in parts:
            item["snippet"] = {
                "title": CHANNEL_TITLE,
                "description": "",
                "customUrl": "@pellaciasandbox",
                "publishedAt": "2024-01-01T00:00:00Z",
                "localized": {"title": CHANNEL_TITLE, "description": ""},
            }
        if "statistics" in parts:
            with self._state:
                count = len(self._videos)
            item["statistics"] = {
                "viewCount": "0",
                "subscriberCount": "0",
                "hiddenSubscriberCount": False,
                "videoCount": str(count),
            }
        return item

    def _resource(self, video: _Video, parts: tuple[str, ...], observe: bool = False) -> dict[str, Any]:
        """The Video resource with the requested parts; `observe` is one processing poll."""
        stage, reason = ("processing", None) if video.polls_left > 0 else video.outcome
        if observe and video.polls_left > 0:
            video.polls_left -= 1
        item: dict[str, Any] = {"kind": "youtube#video", "etag": video.sha256[:27], "id": video.id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": video.uploaded_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channelId": self.channel_id,
                "title": video.snippet["title"],
                "description": video.snippet.get("description", ""),
                "thumbnails": {
                    "default": {
                        "url": f"https://i.ytimg.com/vi/{video.id}/default.jpg",
                        "width": 120,
                        "height": 90,
                    }
                },
                "channelTitle": "Pellacia Sandbox",
                "tags": list(video.snippet.get("tags", [])),
                "categoryId": str(video.snippet["categoryId"]),
                "liveBroadcastContent": "none",
                "localized": {
                    "title": video.snippet["title"],
                    "description": video.snippet.get("description", ""),
                },
            }
        if "status" in parts:
            item["status"] = self._status(video, stage, reason)
        if "processingDetails" in parts:
            item["processingDetails"] = self._processing(video, stage)
        if "statistics" in parts:
            item["statistics"] = {name: str(value) for name, value in self.statistics(video.id).items()}
        return item

    @staticmethod
    def _status(video: _Video, stage: str, reason: str | None) -> dict[str, Any]:
        upload_status = {"processing": "uploaded"}.get(stage, stage)
        status: dict[str, Any] = {
            "uploadStatus": upload_status,
            "privacyStatus": video.status["privacyStatus"],
            "license": "youtube",
            "embeddable": video.status.get("embeddable", True),
            "publicStatsViewable": video.status.get("publicStatsViewable", True),
            "selfDeclaredMadeForKids": video.status.get("selfDeclaredMadeForKids", False),
            "madeForKids": video.status.get("selfDeclaredMadeForKids", False),
        }
        if "containsSyntheticMedia" in video.status:
            status["containsSyntheticMedia"] = video.status["containsSyntheticMedia"]
        if "publishAt" in video.status:
            status["publishAt"] = video.status["publishAt"]
        if stage == "rejected":
            status["rejectionReason"] = reason
        if stage == "failed":
            status["failureReason"] = reason
        return status

    def _processing(self, video: _Video, stage: str) -> dict[str, Any]:
        if stage == "processing":
            done = self.processing_polls - video.polls_left
            return {
                "processingStatus": "processing",
                "processingProgress": {
                    "partsTotal": str(self.processing_polls + 1),
                    "partsProcessed": str(done),
                    "timeLeftMs": str(video.polls_left * 5000),
                },
            }
        if stage == "failed":
            return {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"}
        return {"processingStatus": "terminated" if stage == "rejected" else "succeeded"}

    # --- reports.query (YouTube Analytics v2) ------------------------------------------------------------

    def _reports(self, request: Request) -> Response:
        query = request.query
        for name in ("ids", "startDate", "endDate", "metrics"):
            if not query.get(name):
                raise _bad("required", f"Required parameter: {name}", location=name)
        if query["ids"] not in ("channel==MINE", f"channel=={self.channel_id}"):
            raise _RefusalError(google_error(403, "forbidden", "Forbidden"))
        dates: list[dt.date] = []
        for name in ("startDate", "endDate"):
            try:
                if not _ISO_DAY.fullmatch(query[name]):
                    raise ValueError(name)
                dates.append(dt.date.fromisoformat(query[name]))
            except ValueError:
                raise _bad(
                    "invalid",
                    f"Invalid value '{query[name]}'. Values must match the format YYYY-MM-DD.",
                    location=name,
                ) from None
        start, end = dates
        if start > end:
            raise _bad("invalid", "The query is not supported: startDate is after endDate.")
        metrics = query["metrics"].split(",")
        unknown = [metric for metric in metrics if metric not in REPORT_METRICS]
        if unknown:
            raise _bad("invalid", f"Unknown identifier ({unknown[0]}) given in field parameters.metrics.")
        dimensions = query.get("dimensions", "")
        if dimensions not in ("", "day"):
            raise _bad("invalid", "The query is not supported.", location="dimensions")
        video_ids = self._filtered_videos(query.get("filters", ""))
        last_day = min(end, self.now().date() - dt.timedelta(days=self.reporting_delay_days))
        daily: dict[dt.date, dict[str, int]] = {}
        with self._state:
            for video_id in video_ids:
                video = self._videos.get(video_id)
                if video is None:
                    continue
                day = max(start, video.uploaded_at.date())
                while day <= last_day:
                    totals = daily.setdefault(day, dict.fromkeys(metrics, 0))
                    values = self.daily_report(video_id, day)
                    for metric in metrics:
                        totals[metric] += values[metric]
                    day += dt.timedelta(days=1)
        headers = [{"name": metric, "columnType": "METRIC", "dataType": "INTEGER"} for metric in metrics]
        if dimensions:
            headers.insert(0, {"name": "day", "columnType": "DIMENSION", "dataType": "STRING"})
        if dimensions:
            rows = [[day.isoformat(), *(totals[m] for m in metrics)] for day, totals in sorted(daily.items())]
        else:
            rows = [[sum(totals[m] for totals in daily.values()) for m in metrics]] if daily else []
        body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if rows:
            body["rows"] = rows
        return Response(200, body)

    def _filtered_videos(self, filters: str) -> list[str]:
        if not filters:
            with self._state:
                return list(self._videos)
        name, _, value = filters.partition("==")
        if name != "video" or not value:
            raise _bad("invalid", "The query is not supported.", location="filters")
        return value.split(",")
