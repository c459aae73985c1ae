"""The YouTube client: resumable `videos.insert` through google-api-python-client, processing, analytics.

Flow (docs/reference/platform_protocols.md section 2): the metadata opens a resumable session (POST
/upload/youtube/v3/videos?uploadType=resumable), whose URI is journaled the moment the platform hands it
out; the file follows in 256 KiB-aligned chunks (308 + Range until the last, which answers the Video);
then videos.list is polled until YouTube has processed the video, and the post's thumbnail (if any) is
sent with thumbnails.set (POST /upload/youtube/v3/thumbnails/set?videoId=ID, a JPEG or PNG of at most
2 MB), once: the journal records it, and a 403 (custom thumbnails need a verified channel) or any other
failure of it is logged while the video still counts as published. The session URI is what makes this
exactly-once: after any failure, `PUT <session> Content-Range: bytes */<size>` tells whether the video
exists (200/201 + Video) or how many bytes to resume from (308 + Range).

The services are built from the discovery documents bundled with google-api-python-client, with their
`rootUrl`/`baseUrl` replaced by the configured roots: overriding only `api_endpoint` would keep sending
uploads to the real host (see docs/reference/client_library_notes.md). Retries follow Google's own
upload sample (catch, back off, call `next_chunk()` again, which first asks for the committed range),
never `next_chunk(num_retries=...)`, which re-sends an emptied chunk and hangs.

Through a VPN/proxy exit (`proxy`, see exits.py) httplib2 connects with PySocks (its `ProxyInfo`), so the
upload, data and analytics calls all take the exit, as the token endpoint (httpx) does; an exit that
fails (PySocks' ProxyError) is a dropped connection like any other.

Analytics (section 2.9): lifetime views, likes and comments from videos.list `statistics` (50 ids a call);
shares and watch time only YouTube Analytics has, so `reports.query` by day over the video's life adds
them (its days stop at the reporting delay: `raw["analytics_through"]` says where); daily history is one
`reports.query` by day per video. Every analytics call spends the project's quota units through the
account's rate budget when one is set.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import mimetypes
import re
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, Unpack, cast
from zoneinfo import ZoneInfo

import httplib2
import httpx
import socks
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, build_http

from resources.platforms.base import (
    HistoryWindow,
    Journal,
    MetricReading,
    Progress,
    PublishedPost,
    VideoPost,
)
from resources.platforms.client_base import ClientOptions, PlatformClientBase
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialStore, TokenSet
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError, redact, region_blocked
from resources.platforms.exits import parse_proxy_url
from resources.platforms.http import TokenProvider, wait_hint
from resources.platforms.video_limits import video_problems

PLATFORM = "youtube"
CHUNK_ALIGNMENT = 256 * 1024  # Google's resumable protocol: every chunk but the last a multiple of this
DEFAULT_CHUNK_SIZE = 32 * CHUNK_ALIGNMENT  # 8 MiB: one chunk in memory, few requests for a short
WATCH_URL = "https://www.youtube.com/watch?v={}"
PRIVACY_STATUSES = ("public", "unlisted", "private")
DEFAULT_CATEGORY_ID = "22"  # People & Blogs; a category, not a declaration, so a default is harmless
REAUTHORISE = "re-authorise with `pellacia-dist auth youtube`"
DAILY_METRICS = (
    "views", "engagedViews", "likes", "dislikes", "comments", "shares", "estimatedMinutesWatched",
    "averageViewDuration", "subscribersGained", "subscribersLost",
)  # fmt: skip
LIFETIME_ANALYTICS = ("shares", "estimatedMinutesWatched", "engagedViews")  # totals the Data API lacks
IDS_PER_LIST = 50  # videos.list takes up to 50 ids
QUOTA_BUCKET = "units"  # budget.BUCKETS: the project's 10,000 daily units
HISTORY = HistoryWindow(None, 2, "YouTube Analytics reports every day of a video's life")
NO_SAVES = "YouTube reports no saves for a video (playlist adds are not saves)"
NO_IMPRESSIONS = (
    "YouTube reports thumbnail impressions only in bulk Reporting API files, not in reports.query"
)
NO_REACH = "YouTube Analytics reports no reach (unique viewers) for a video"
NOT_REPORTED_YET = (
    "YouTube Analytics has reported no day of this video yet (days arrive after a delay of about 2 days)"
)
# thumbnails.set (POST /upload/youtube/v3/thumbnails/set?videoId=ID): "Maximum file size: 2MB", JPEG or PNG.
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
THUMBNAIL_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
THUMBNAIL_SET = "set"  # journal["thumbnail"]: sent and accepted
THUMBNAIL_REFUSED = "refused"  # journal["thumbnail"]: the channel may not set custom thumbnails (403)
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RESOURCE_EXHAUSTED"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")  # daily quotas reset at midnight Pacific time
CHANNEL_CAP_WAIT_S = 24 * 3600.0  # uploadLimitExceeded: "try again in 24 hours"
TRANSPORT_ERRORS = (
    httplib2.HttpLib2Error,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    ssl.SSLError,
    socks.ProxyError,  # an exit that refused, failed or dropped (an IOError, not a ConnectionError)
)
_TAG = re.compile(r"<[^>]+>")
_T = TypeVar("_T")

log = logging.getLogger("pellacia.platforms.youtube")


def option_variable(option: str) -> str:
    return f"PELLACIA_YOUTUBE_{option.upper()}"


# --- configuration: the declarations YouTube asks for are never guessed -----------------------------------


def _config_error(message: str) -> PlatformError:
    return PlatformError(PLATFORM, ErrorKind.POLICY, message, code="configuration")


def _required(options: Mapping[str, str], option: str, meaning: str) -> str:
    value = options.get(option, "").strip()
    if not value:
        raise _config_error(
            f"{option_variable(option)} is not set: {meaning}; YouTube requires this declaration and it is "
            "never assumed"
        )
    return value


def _flag(options: Mapping[str, str], option: str, meaning: str) -> bool:
    value = _required(options, option, meaning).lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise _config_error(f"{option_variable(option)}={value!r} is not true or false ({meaning})")


def _publish_time(value: str) -> str:
    """`publishAt` as RFC 3339 UTC; a scheduled time must name its timezone and lie in the future."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _config_error(
            f"{option_variable('publish_at')}={value!r} is not an RFC 3339 time with a timezone "
            "(e.g. 2026-12-01T18:00:00Z)"
        )
    if moment <= dt.datetime.now(dt.UTC):
        raise _config_error(f"{option_variable('publish_at')}={value!r} is in the past")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class UploadSettings:
    """The `status` and category of every upload, from PELLACIA_YOUTUBE_* variables (section 2.5)."""

    privacy: str
    made_for_kids: bool
    synthetic_media: bool
    publish_at: str | None = None
    category_id: str = DEFAULT_CATEGORY_ID

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> UploadSettings:
        privacy = _required(options, "privacy", "the privacy status (public, unlisted or private)").lower()
        if privacy not in PRIVACY_STATUSES:
            raise _config_error(
                f"{option_variable('privacy')}={privacy!r} is not one of {', '.join(PRIVACY_STATUSES)}"
            )
        publish_at = options.get("publish_at", "").strip() or None
        if publish_at is not None and privacy != "private":
            raise _config_error(
                f"{option_variable('publish_at')} schedules a private video's publication, but "
                f"{option_variable('privacy')} is {privacy!r}; set it to private or drop the schedule"
            )
        return cls(
            privacy=privacy,
            made_for_kids=_flag(options, "made_for_kids", "whether the videos are made for kids (COPPA)"),
            synthetic_media=_flag(
                options, "synthetic_media", "whether the videos contain realistic altered or synthetic media"
            ),
            publish_at=None if publish_at is None else _publish_time(publish_at),
            category_id=options.get("category_id", "").strip() or DEFAULT_CATEGORY_ID,
        )

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "privacyStatus": self.privacy,
            "selfDeclaredMadeForKids": self.made_for_kids,
            "containsSyntheticMedia": self.synthetic_media,
        }
        if self.publish_at is not None:
            status["publishAt"] = self.publish_at
        return status


# --- errors: Google's JSON error format, and the OAuth endpoint's ------------------------------------------


def seconds_until_quota_reset(now: dt.datetime | None = None) -> float:
    local = (now or dt.datetime.now(dt.UTC)).astimezone(QUOTA_TIMEZONE)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=QUOTA_TIMEZONE)
    return (midnight - local).total_seconds()


def _error_details(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) from a Google API error or an OAuth error body."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text.strip()[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error, str(body.get("error_description") or error)
    if not isinstance(error, dict):
        return "", response.reason_phrase
    details = error.get("errors") or []
    reason = str(details[0].get("reason", "")) if details and isinstance(details[0], dict) else ""
    message = _TAG.sub("", str(error.get("message") or response.reason_phrase))
    return reason or str(error.get("status", "")), message


def classify(response: httpx.Response) -> PlatformError | None:
    """A YouTube answer sorted into the publisher's error kinds; None when it succeeded."""
    status = response.status_code
    if status < 400:
        return None
    reason, message = _error_details(response)
    text = f"HTTP {status} {reason}: {message}" if reason else f"HTTP {status}: {message}"
    if status == 451:
        return region_blocked(PLATFORM, "the YouTube API")

    def error(kind: ErrorKind, detail: str = text, retry_after_s: float | None = None) -> PlatformError:
        return PlatformError(
            PLATFORM, kind, detail, status=status, code=reason or None, retry_after_s=retry_after_s
        )

    if reason in ("invalid_grant", "invalid_client", "unauthorized_client"):
        return error(ErrorKind.AUTH, f"the token endpoint refused the refresh ({text}); {REAUTHORISE}")
    if status == 401 or reason in SCOPE_REASONS:
        return error(ErrorKind.AUTH, f"{text}; {REAUTHORISE} if this persists")
    if reason == "quotaExceeded":
        wait = seconds_until_quota_reset()
        detail = f"{text} The project's daily quota resets at midnight Pacific time, in {wait / 3600:.1f} h"
        return error(ErrorKind.RATE_LIMIT, detail, wait)
    if reason == "uploadLimitExceeded":
        return error(ErrorKind.RATE_LIMIT, f"{text} (the channel's upload cap)", CHANNEL_CAP_WAIT_S)
    if status == 429 or reason in RATE_LIMIT_REASONS:
        return error(ErrorKind.RATE_LIMIT, text, wait_hint(response))
    if status >= 500 or status == 408:
        return error(ErrorKind.RETRYABLE, text, wait_hint(response))
    if status in (403, 404):
        return error(ErrorKind.POLICY)
    return error(ErrorKind.INVALID_MEDIA)


def _as_response(error: HttpError) -> httpx.Response:
    headers = {name: str(value) for name, value in error.resp.items() if name != "status"}
    return httpx.Response(int(error.resp.status), headers=headers, content=error.content or b"")


def _labelled(failure: PlatformError, label: str) -> PlatformError:
    message = str(failure.args[0]).split(": ", 1)[-1]
    return PlatformError(
        PLATFORM,
        failure.kind,
        f"{label}: {message}",
        status=failure.status,
        code=failure.code,
        retry_after_s=failure.retry_after_s,
    )


# --- transport under googleapiclient ---------------------------------------------------------------------


class _GoogleTransport:
    """The httplib2 object googleapiclient sends through: the account's bearer token on every request.

    A chunk arrives as a file slice and is read into bytes here (one chunk in memory): httplib2 silently
    re-sends a request once after the server closed the connection, and a re-sent, already-read slice
    would be empty under a Content-Length that promises a whole chunk; the server would wait forever.
    """

    def __init__(self, tokens: TokenProvider, proxy: str | None = None) -> None:
        self._http = build_http()  # 308 is "Resume Incomplete" here, not a redirect
        if proxy is not None:
            self._http.proxy_info = httplib2.ProxyInfo(*parse_proxy_url(proxy).pysocks())
        self._tokens = tokens

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> tuple[Any, bytes]:
        send = {**(headers or {}), "authorization": f"Bearer {self._tokens.access_token()}"}
        payload = body.read() if hasattr(body, "read") else body
        response, content = self._http.request(uri, method, body=payload, headers=send, **options)
        return response, cast(bytes, content)


class _SessionRecorder:
    """Journals the resumable session URI the moment the platform hands it out, before a byte is sent."""

    def __init__(self, transport: _GoogleTransport, journal: Journal) -> None:
        self._transport = transport
        self._journal = journal

    def request(self, uri: str, method: str = "GET", *args: Any, **options: Any) -> tuple[Any, bytes]:
        response, content = self._transport.request(uri, method, *args, **options)
        started = method == "POST" and response.status == 200
        if "location" in response and (started or response.status == 308):
            self._journal.put("session_uri", response["location"])
        return response, content


def _service(name: str, version: str, root: str, transport: _GoogleTransport) -> Any:
    """A googleapiclient service from the bundled discovery document, rooted at `root`."""
    document = json.loads(get_static_doc(name, version))
    root = root.rstrip("/") + "/"
    document["rootUrl"] = document["baseUrl"] = root
    document["mtlsRootUrl"] = root
    return build_from_document(document, http=transport)


@dataclass(frozen=True)
class SessionState:
    """What YouTube holds of a resumable session: the Video once complete, else the committed bytes."""

    committed: int
    video: dict[str, Any] | None = None
    expired: bool = False


def _committed(range_header: str | None) -> int:
    """Bytes persisted, from a 308's `Range: bytes=0-N`; no header means none."""
    return 0 if not range_header else int(range_header.rsplit("-", 1)[1]) + 1


def _thumbnail_problem(path: Path) -> str | None:
    """Why thumbnails.set would refuse this file (not a JPEG or PNG, missing, over 2 MB); None if fine."""
    if path.suffix.lower() not in THUMBNAIL_TYPES:
        return f"{path.name} is not a JPEG or PNG"
    if not path.is_file():
        return f"{path} does not exist"
    size = path.stat().st_size
    if size == 0 or size > THUMBNAIL_MAX_BYTES:
        return f"{path.name} is {size} bytes; thumbnails.set takes 1 byte to 2 MB"
    return None


def _processed(video: dict[str, Any]) -> bool:
    """True once YouTube processed the video; a clear error when it failed or was rejected."""
    video_id = video.get("id", "?")
    status = video.get("status", {})
    upload_status = status.get("uploadStatus")
    if upload_status == "processed":
        return True
    if upload_status == "rejected":
        reason = status.get("rejectionReason", "unknown")
        kind = {"duplicate": ErrorKind.DUPLICATE, "length": ErrorKind.INVALID_MEDIA}.get(
            reason, ErrorKind.POLICY
        )
        raise PlatformError(
            PLATFORM, kind, f"YouTube rejected video {video_id} (rejectionReason={reason})", code=reason
        )
    if upload_status == "failed":
        reason = status.get("failureReason", "unknown")
        raise PlatformError(
            PLATFORM,
            ErrorKind.INVALID_MEDIA,
            f"YouTube could not process video {video_id} (failureReason={reason})",
            code=reason,
        )
    if upload_status == "deleted":
        raise PlatformError(
            PLATFORM, ErrorKind.POLICY, f"video {video_id} was deleted on YouTube", code="deleted"
        )
    processing = video.get("processingDetails", {})
    if processing.get("processingStatus") in ("failed", "terminated"):
        reason = processing.get("processingFailureReason", "unknown")
        raise PlatformError(
            PLATFORM,
            ErrorKind.INVALID_MEDIA,
            f"YouTube's processing of video {video_id} stopped (processingFailureReason={reason})",
            code=reason,
        )
    return False


# --- the client -------------------------------------------------------------------------------------------


class YouTubeClient(PlatformClientBase):
    """One YouTube channel (account): check, publish exactly once, reconcile, and read metrics."""

    platform = PLATFORM
    history_window: HistoryWindow | None = HISTORY

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        chunk_size = kw.setdefault("chunk_size", DEFAULT_CHUNK_SIZE)
        if chunk_size <= 0 or chunk_size % CHUNK_ALIGNMENT:
            raise ValueError(
                f"chunk_size {chunk_size} must be a positive multiple of 256 KiB ({CHUNK_ALIGNMENT})"
            )
        super().__init__(settings, store, **kw)
        self._oauth = self.transport(classify, signed=False)
        self._transport = _GoogleTransport(self.tokens, self.proxy)
        self._uploads = _service("youtube", "v3", settings.urls["upload"], self._transport)
        self._data = _service("youtube", "v3", settings.urls["api"], self._transport)
        self._analytics = _service("youtubeAnalytics", "v2", settings.urls["analytics"], self._transport)

    def _refresh(self, current: TokenSet) -> TokenSet:
        """Google's refresh grant: POST {oauth}/token; the refresh token itself stays the same."""
        return self._refresh_grant(self._oauth, "/token", current)

    # --- before a byte is sent ----------------------------------------------------------------------------

    def verify_access(self) -> str:
        """channels.list part=id,snippet mine=true: the channel the token uploads to (1 quota unit)."""
        request = self._data.channels().list(part="id,snippet", mine=True)
        items = self._retrying("channels.list", request.execute).get("items") or []
        if not items:
            raise PlatformError(
                PLATFORM,
                ErrorKind.POLICY,
                f"channels.list: the token's Google account has no YouTube channel; {REAUTHORISE} as the "
                "channel's owner",
                code="noChannel",
            )
        channel = items[0]
        title = (channel.get("snippet") or {}).get("title") or "untitled"
        return f"channel {channel['id']} ({title})"

    def upload_settings(self) -> UploadSettings:
        return UploadSettings.from_options(self.settings.options)

    def check(self, post: VideoPost) -> None:
        """Refuse missing declarations, a file YouTube would reject, or copy over its limits."""
        self.upload_settings()
        problems = video_problems(PLATFORM, self._probe(post), post.size)
        self._check_rules(post, problems, post.caption(), "refused before upload")

    def _video_resource(self, post: VideoPost, upload: UploadSettings) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "title": post.title,
            "description": post.caption(),
            "categoryId": upload.category_id,
        }
        tags = [tag.lstrip("#") for tag in post.hashtags]
        if tags:
            snippet["tags"] = tags
        return {"snippet": snippet, "status": upload.status()}

    # --- publishing -----------------------------------------------------------------------------------------

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """Upload (resuming the journaled session, if any), then wait until YouTube processed the video."""
        self.check(post)
        video_id = journal.get("video_id")
        if video_id is None:
            video = self._upload(post, journal, progress)
            video_id = str(video["id"])
            journal.put("video_id", video_id)
        journal.set_state("processing")
        self._await_processing(video_id)
        self._set_thumbnail(post, journal, video_id)
        return PublishedPost(PLATFORM, video_id, WATCH_URL.format(video_id))

    def _set_thumbnail(self, post: VideoPost, journal: Journal, video_id: str) -> None:
        """thumbnails.set with the post's thumbnail, once: the journal's "thumbnail" says it was sent (or
        refused), so a resumed publish does not send it again. A custom thumbnail is a finish, not the post:
        a 403 (a channel must be verified to set custom thumbnails) or any other failure is logged and the
        published video still counts."""
        thumbnail = post.thumbnail
        if thumbnail is None or journal.get("thumbnail") is not None:
            return
        path = Path(thumbnail)
        problem = _thumbnail_problem(path)
        if problem is not None:
            log.warning("youtube: video %s keeps YouTube's own thumbnail: %s", video_id, problem)
            return
        media = MediaFileUpload(str(path), mimetype=THUMBNAIL_TYPES[path.suffix.lower()], resumable=False)
        try:
            request = self._uploads.thumbnails().set(videoId=video_id, media_body=media)
            self._retrying("thumbnails.set", request.execute)
        except PlatformError as failure:
            if failure.status == 403 and failure.kind is ErrorKind.POLICY:
                journal.put("thumbnail", THUMBNAIL_REFUSED)
                log.warning(
                    "youtube: video %s is published without its custom thumbnail: %s (custom thumbnails "
                    "need a verified channel: youtube.com/verify)",
                    video_id,
                    failure,
                )
            else:
                log.warning(
                    "youtube: video %s is published; its thumbnail was not set: %s", video_id, failure
                )
            return
        finally:
            media.stream().close()
        journal.put("thumbnail", THUMBNAIL_SET)
        log.info("youtube: set the custom thumbnail of video %s from %s", video_id, path.name)

    def _upload(self, post: VideoPost, journal: Journal, progress: Progress | None) -> dict[str, Any]:
        total = post.size
        mimetype = mimetypes.guess_type(post.video.name)[0] or "application/octet-stream"
        media = MediaFileUpload(str(post.video), mimetype=mimetype, chunksize=self.chunk_size, resumable=True)
        try:
            request = self._uploads.videos().insert(
                part="snippet,status",
                body=self._video_resource(post, self.upload_settings()),
                media_body=media,
            )
            session_uri = journal.get("session_uri")
            if session_uri is not None:
                state = self.session_state(session_uri, total)
                if state.video is not None:
                    return state.video
                if state.expired:
                    log.info("youtube: the journaled upload session expired; starting a new one")
                else:
                    request.resumable_uri = session_uri
                    request.resumable_progress = state.committed
            journal.set_state("uploading")
            return self._send_chunks(request, _SessionRecorder(self._transport, journal), total, progress)
        finally:
            media.stream().close()

    def _send_chunks(
        self, request: Any, recorder: _SessionRecorder, total: int, progress: Progress | None
    ) -> dict[str, Any]:
        """Google's upload loop: after a failure back off and call next_chunk() again (it asks the range)."""
        while True:
            reaches_end = request.resumable_progress + self.chunk_size >= total
            try:
                _status, video = self._retrying("upload", lambda: request.next_chunk(http=recorder))
            except PlatformError as failure:
                if reaches_end and request.resumable_uri is not None and failure.kind is ErrorKind.RETRYABLE:
                    raise AmbiguousOutcomeError(
                        PLATFORM, f"the last chunk may have completed the upload ({failure.args[0]})"
                    ) from failure
                raise
            if progress is not None:
                progress(total if video is not None else request.resumable_progress, total)
            if video is not None:
                return cast(dict[str, Any], video)

    def session_state(self, session_uri: str, total: int) -> SessionState:
        """Ask a resumable session what it holds: `PUT Content-Range: bytes */<total>`."""

        def ask() -> SessionState:
            headers = {"Content-Range": f"bytes */{total}", "Content-Length": "0"}
            response, content = self._transport.request(session_uri, "PUT", headers=headers)
            if response.status in (200, 201):
                return SessionState(total, video=json.loads(content))
            if response.status == 308:
                return SessionState(_committed(response.get("range")))
            if response.status in (404, 410):
                return SessionState(0, expired=True)
            raise HttpError(response, content)

        return self._retrying("upload session query", ask)

    def _retrying(self, label: str, call: Callable[[], _T], metered: str | None = None) -> _T:
        """Run one API call with Google's retry rules: 5xx, 429, 403 rate limits, dropped connections.

        A `metered` call (a kind in budget.COSTS) waits for its place in the rate budget before each try
        and reports each refusal to it: a throttle the budget now holds back is waited out there, not by
        backoff; a spent daily quota is marked spent until midnight Pacific and raised at once."""
        gate = self.gate if metered is not None else None
        attempt = 0
        refreshed = False
        while True:
            if gate is not None and metered is not None:
                gate.before(metered)
            held_s = 0.0
            try:
                return call()
            except HttpError as error:
                response = _as_response(error)
                if gate is not None and metered is not None:
                    held_s = gate.after(metered, response.headers, response.status_code)
                failure = classify(response) or PlatformError(
                    PLATFORM,
                    ErrorKind.RETRYABLE,
                    f"unexpected HTTP {error.resp.status} answer",
                    status=error.resp.status,
                )
            except TRANSPORT_ERRORS as error:
                detail = redact(str(error), list(self.tokens.secrets()))
                failure = PlatformError(
                    PLATFORM, ErrorKind.RETRYABLE, f"connection failed: {type(error).__name__} {detail}"
                )
            failure = _labelled(failure, label)
            if failure.kind is ErrorKind.AUTH and failure.status == 401 and not refreshed:
                log.info("youtube: access token refused; refreshing it")
                self.tokens.refresh()
                refreshed = True
                continue
            attempt += 1
            if gate is not None and failure.kind is ErrorKind.RATE_LIMIT:
                if failure.code == "quotaExceeded":
                    gate.spent(QUOTA_BUCKET)
                    raise failure
                if held_s > 0:
                    if attempt >= self.retry.max_attempts:
                        raise failure
                    log.warning("%s; waiting as YouTube asked (attempt %d)", failure, attempt)
                    continue
            delay = self.retry.delay(failure, attempt)
            log.warning("%s; retrying in %.1f s (attempt %d)", failure, delay, attempt)
            self.sleep(delay)

    def _video(self, video_id: str, part: str) -> dict[str, Any] | None:
        request = self._data.videos().list(part=part, id=video_id)
        response = self._retrying("videos.list", request.execute)
        items = response.get("items") or []
        return cast(dict[str, Any], items[0]) if items else None

    def _await_processing(self, video_id: str) -> None:
        for _poll in self._polls():
            video = self._video(video_id, "status,processingDetails")
            if video is None:
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.POLICY,
                    f"video {video_id} is no longer on the channel (deleted?); it is not uploaded again "
                    "unless its ledger entry is cleared",
                )
            if _processed(video):
                return
        raise self._still_waiting(f"video {video_id} was still processing")

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """The video of an earlier attempt, found through its journaled id or upload session."""
        video_id = journal.get("video_id")
        if video_id is None:
            session_uri = journal.get("session_uri")
            if session_uri is None:
                return None
            state = self.session_state(session_uri, post.size)
            if state.video is None:
                return None
            video_id = str(state.video["id"])
            journal.put("video_id", video_id)
        elif self._video(video_id, "id") is None:
            return None
        journal.set_state("processing")
        self._await_processing(video_id)
        self._set_thumbnail(post, journal, video_id)
        return PublishedPost(PLATFORM, video_id, WATCH_URL.format(video_id))

    # --- analytics -----------------------------------------------------------------------------------------

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """videos.list statistics (views, likes, comments as of now) and the YouTube Analytics totals of
        every reported day (shares, watch time), which stop at the reporting delay."""
        as_of = dt.datetime.now(dt.UTC)
        readings: dict[str, MetricReading] = {}
        for video in self._listed(post_ids, "snippet,statistics"):
            published = _published(video)
            days = self._report(str(video["id"]), published.date(), as_of.date(), LIFETIME_ANALYTICS)
            readings[str(video["id"])] = _lifetime_reading(video, days, as_of)
        return readings

    def daily_metrics(
        self, post_ids: Sequence[str], first: dt.date, last: dt.date
    ) -> dict[str, dict[dt.date, MetricReading]]:
        """One reports.query by day per video from `first` to `last` (not past today): the days YouTube
        Analytics has reported (the latest days are missing until the delay has passed)."""
        last = min(last, dt.datetime.now(dt.UTC).date())
        history: dict[str, dict[dt.date, MetricReading]] = {}
        if first > last:
            return history
        for video_id in dict.fromkeys(post_ids):
            days = self._report(video_id, first, last, DAILY_METRICS)
            if days:
                history[video_id] = {day: _daily_reading(row) for day, row in days.items()}
        return history

    def created_times(self, post_ids: Sequence[str]) -> dict[str, dt.datetime]:
        """Each video's snippet.publishedAt (videos.list, 50 ids a call)."""
        return {str(video["id"]): _published(video) for video in self._listed(post_ids, "snippet")}

    def _listed(self, post_ids: Sequence[str], part: str) -> Iterator[dict[str, Any]]:
        """The videos of the channel among `post_ids` (a video YouTube does not show is not listed)."""
        ids = list(dict.fromkeys(post_ids))
        for offset in range(0, len(ids), IDS_PER_LIST):
            request = self._data.videos().list(part=part, id=",".join(ids[offset : offset + IDS_PER_LIST]))
            response = self._retrying("videos.list", request.execute, metered="videos.list")
            yield from (item for item in response.get("items") or [] if isinstance(item, dict))

    def _report(
        self, video_id: str, first: dt.date, last: dt.date, metrics: Sequence[str]
    ) -> dict[dt.date, dict[str, Any]]:
        """reports.query by day for one video: each reported day's metrics, by name."""
        request = self._analytics.reports().query(
            ids="channel==MINE",
            startDate=first.isoformat(),
            endDate=max(first, last).isoformat(),
            metrics=",".join(metrics),
            dimensions="day",
            filters=f"video=={video_id}",
            sort="day",
        )
        table = self._retrying("reports.query", request.execute, metered="reports.query")
        names = [str(header["name"]) for header in table.get("columnHeaders", [])]
        days: dict[dt.date, dict[str, Any]] = {}
        for row in table.get("rows") or []:
            values = dict(zip(names, row, strict=True))
            days[dt.date.fromisoformat(str(values.pop("day")))] = values
        return days


def _published(video: dict[str, Any]) -> dt.datetime:
    text = str(video["snippet"]["publishedAt"])
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _number(value: Any) -> float | None:
    """A count as YouTube sends it (statistics are uint64 strings); None when absent or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _reading(
    kind: Literal["measured", "lifetime"],
    raw: dict[str, Any],
    found: Mapping[str, float | str],
    as_of: dt.datetime | None = None,
) -> MetricReading:
    """`found`: each core metric YouTube reports, as its value or (a str) why there is none."""
    values = {name: value for name, value in found.items() if not isinstance(value, str)}
    unavailable = {name: why for name, why in found.items() if isinstance(why, str)}
    unavailable |= {"saves": NO_SAVES, "impressions": NO_IMPRESSIONS, "reach": NO_REACH}
    return MetricReading(kind, raw, values, unavailable, as_of)


def _lifetime_reading(
    video: dict[str, Any], days: Mapping[dt.date, Mapping[str, Any]], as_of: dt.datetime
) -> MetricReading:
    """Views, likes and comments from `statistics`; shares and watch time summed over the reported days
    (a table row holds every metric asked for)."""
    statistics = video.get("statistics") or {}
    found: dict[str, float | str] = {}
    for metric, field in (("views", "viewCount"), ("likes", "likeCount"), ("comments", "commentCount")):
        value = _number(statistics.get(field))
        found[metric] = value if value is not None else f"YouTube's statistics of this video carry no {field}"
    totals = {name: sum(float(row[name]) for row in days.values()) for name in LIFETIME_ANALYTICS}
    if days:
        found["shares"] = totals["shares"]
        found["watch_time_s"] = totals["estimatedMinutesWatched"] * 60
    else:
        found["shares"] = found["watch_time_s"] = NOT_REPORTED_YET
    raw = {
        "statistics": statistics,
        "analytics": totals if days else {},
        "analytics_through": max(days).isoformat() if days else None,
        "publishedAt": video["snippet"]["publishedAt"],
    }
    return _reading("lifetime", raw, found, as_of)


def _daily_reading(row: Mapping[str, Any]) -> MetricReading:
    """One reported day: views, likes, comments, shares, and watch time (its minutes in seconds)."""
    found: dict[str, float | str] = {
        metric: float(row[metric]) for metric in ("views", "likes", "comments", "shares")
    }
    found["watch_time_s"] = float(row["estimatedMinutesWatched"]) * 60
    return _reading("measured", dict(row), found)
