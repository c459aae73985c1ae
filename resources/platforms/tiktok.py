"""The TikTok client: Content Posting API (Direct Post, FILE_UPLOAD), Display API metrics, OAuth v2 refresh.

Flow (spec section 3.2): `creator_info/query` -> `video/init` (publish_id + upload_url, both written to the
journal at once) -> PUT the chunks to the upload_url with `Content-Range` -> poll `status/fetch` until
PUBLISH_COMPLETE. There is no separate publish call: the last chunk starts the posting, so that PUT is the
call that "creates". Only a lost connection or a timeout there leaves the outcome unknown; a 5xx *answer*
is TikTok saying "retry the chunk" (spec 3.2), and the chunk is sent again: the upload is keyed by its
upload_url, so a last chunk that did arrive is answered 416 with the full range, never posted twice.
TikTok hands out the publish_id before a single byte is sent, so the journal always holds the id that
reconciling needs; a task whose upload never finished can never publish.

Refresh tokens rotate (spec 3.1): the old one dies when a new one is issued, so AccountTokens persists
every refresh at once.

Analytics (spec 3.5): the Display API's video/query gives each video's lifetime counters (views, likes,
comments, shares) and its create_time, 20 ids a request, 600 requests a minute per app; those calls are
metered (`video.query`) through the shared rate budget. TikTok keeps no daily history: the factory's daily
snapshots build it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Unpack

import httpx

from resources.platforms.base import Journal, MetricReading, Progress, PublishedPost, VideoPost
from resources.platforms.client_base import ClientOptions, PlatformClientBase
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialStore, TokenSet
from resources.platforms.errors import ErrorKind, PlatformError, kind_for_status
from resources.platforms.http import file_chunks, json_object, wait_hint
from resources.platforms.video_limits import video_problems

PLATFORM = "tiktok"
log = logging.getLogger("pellacia.platforms.tiktok")

CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
INIT_PATH = "/v2/post/publish/video/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
VIDEO_QUERY_PATH = "/v2/video/query/"
TOKEN_PATH = "/v2/oauth/token/"
JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
METRIC_FIELDS = "id,title,create_time,duration,view_count,like_count,comment_count,share_count"
CREATED_FIELDS = "id,create_time"
MAX_QUERY_IDS = 20  # video/query takes at most 20 ids, of the user's own videos (spec 3.5)
# The core metrics the Display API's video object counts (spec 3.5), and why it has none of the others.
COUNTERS = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
}
NOT_REPORTED = {
    "saves": "TikTok's Display API reports no saves (its video object has no favourites count)",
    "impressions": "TikTok's Display API reports no impressions",
    "reach": "TikTok's Display API reports no reach",
    "watch_time_s": "TikTok's Display API reports no watch time (only the video's duration)",
}

# Chunk rules (spec 3.2). The docs do not say whether "MB" is 10^6 or 2^20 bytes, so the client stays
# inside both readings: chunks of at least 5 MiB and at most 64,000,000 bytes.
MIN_CHUNK_BYTES = 5 * 1024 * 1024
MAX_CHUNK_BYTES = 64 * 1000 * 1000
DEFAULT_CHUNK_BYTES = 10 * 1000 * 1000
UPLOAD_URL_LIFETIME_S = 3600.0
UPLOAD_URL_MARGIN_S = 120.0

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PUBLIC = "PUBLIC_TO_EVERYONE"
MIME_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}
DAILY_CAP_WAIT_S = 24 * 3600.0  # the posting caps count over 24 hours (spec 3.4)

# error.code -> kind (spec 3.2, 3.3); codes not listed fall back on the HTTP status.
CODE_KINDS: dict[str, ErrorKind] = {
    "access_token_invalid": ErrorKind.AUTH,
    "scope_not_authorized": ErrorKind.AUTH,
    "scope_permission_missed": ErrorKind.AUTH,
    "rate_limit_exceeded": ErrorKind.RATE_LIMIT,
    "spam_risk_too_many_posts": ErrorKind.RATE_LIMIT,
    "reached_active_user_cap": ErrorKind.RATE_LIMIT,
    "spam_risk_too_many_pending_share": ErrorKind.RATE_LIMIT,
    "spam_risk_user_banned_from_posting": ErrorKind.POLICY,
    "unaudited_client_can_only_post_to_private_accounts": ErrorKind.POLICY,
    "url_ownership_unverified": ErrorKind.POLICY,
    "privacy_level_option_mismatch": ErrorKind.POLICY,
    "token_not_authorized_for_specified_publish_id": ErrorKind.POLICY,
    "invalid_param": ErrorKind.INVALID_MEDIA,
    "invalid_params": ErrorKind.INVALID_MEDIA,
    "invalid_file_upload": ErrorKind.INVALID_MEDIA,
    "invalid_publish_id": ErrorKind.INVALID_MEDIA,
    "internal_error": ErrorKind.RETRYABLE,
}
DAILY_CAP_CODES = frozenset(
    {"spam_risk_too_many_posts", "reached_active_user_cap", "spam_risk_too_many_pending_share"}
)
# status/fetch fail_reason -> kind (spec 3.2, "Fail reasons").
FAIL_REASON_KINDS: dict[str, ErrorKind] = {
    "file_format_check_failed": ErrorKind.INVALID_MEDIA,
    "duration_check_failed": ErrorKind.INVALID_MEDIA,
    "frame_rate_check_failed": ErrorKind.INVALID_MEDIA,
    "picture_size_check_failed": ErrorKind.INVALID_MEDIA,
    "internal": ErrorKind.RETRYABLE,
    "auth_removed": ErrorKind.AUTH,
    "spam_risk_too_many_posts": ErrorKind.RATE_LIMIT,
    "spam_risk_user_banned_from_posting": ErrorKind.POLICY,
    "spam_risk_text": ErrorKind.POLICY,
    "spam_risk": ErrorKind.POLICY,
}
# A task that FAILED for one of these published nothing and may be started again with a new init.
RESTARTABLE_FAIL_REASONS = frozenset({"internal", "spam_risk_too_many_posts"})
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+)")


def _kind_for_status(status: int) -> ErrorKind:
    """TikTok answers a malformed request (a bad parameter, chunk or range) with 400."""
    return kind_for_status(status, ErrorKind.INVALID_MEDIA if status == 400 else ErrorKind.POLICY)


def classify(response: httpx.Response) -> PlatformError | None:
    """The v2 envelope `{"data", "error": {"code", "message", "log_id"}}`: any code but "ok" is a failure,
    even under HTTP 200 (creator_info answers spam-risk states that way)."""
    body = json_object(response)
    error = body.get("error")
    code = str(error.get("code")) if isinstance(error, dict) and error.get("code") else None
    status = response.status_code
    if status < 400 and code in (None, "ok"):
        return None
    details = error if isinstance(error, dict) else {}
    kind = CODE_KINDS.get(code or "", _kind_for_status(status))
    where = f"{response.request.method} {response.request.url.path}"
    text = f"{where}: {code or f'HTTP {status}'}"
    if details.get("message"):
        text += f": {details['message']}"
    text += f" (HTTP {status}" + (f", log_id {details['log_id']})" if details.get("log_id") else ")")
    retry_after = None
    if code in DAILY_CAP_CODES:
        retry_after = DAILY_CAP_WAIT_S
    elif kind is ErrorKind.RATE_LIMIT:
        retry_after = wait_hint(response)
    return PlatformError(PLATFORM, kind, text, status=status, code=code, retry_after_s=retry_after)


# The upload host's own answers (spec 3.2, "PUT responses"): the client acts on these itself.
UPLOAD_HANDLED = frozenset({201, 206, 403, 404, 416})
UPLOAD_URL_HINT = "TikTok keys the upload by its upload_url, so a repeated chunk cannot post twice"


def classify_upload(response: httpx.Response) -> PlatformError | None:
    """Chunk PUTs: 5xx is retried (the same chunk), 429 waited out, 400 is a malformed request."""
    status = response.status_code
    if status in UPLOAD_HANDLED:
        return None
    kind = _kind_for_status(status)
    message = f"upload of a chunk answered HTTP {status}"
    if status == 400:
        message += " (malformed Content-Range/Content-Length or a chunk that breaks the chunk rules)"
    retry_after = wait_hint(response) if kind is ErrorKind.RATE_LIMIT else None
    return PlatformError(PLATFORM, kind, message, status=status, retry_after_s=retry_after)


def classify_final_upload(response: httpx.Response) -> PlatformError | None:
    """The last chunk: a 5xx is an answer ("5xx: retry the chunk", spec 3.2) that the client re-sends
    itself, so the transport hands it back instead of calling the outcome ambiguous."""
    return None if response.status_code >= 500 else classify_upload(response)


def classify_oauth(response: httpx.Response) -> PlatformError | None:
    """The token endpoint answers flat JSON; failures carry `error` (a string) and `error_description`."""
    body = json_object(response)
    error = body.get("error")
    status = response.status_code
    failed = status >= 400 or (isinstance(error, str) and error) or "access_token" not in body
    if not failed:
        return None
    code = error if isinstance(error, str) and error else None
    kind = kind_for_status(status, ErrorKind.AUTH)
    description = body.get("error_description") or "no access token in the answer"
    message = (
        f"the token endpoint refused the refresh ({code or f'HTTP {status}'}: {description}); "
        f"run `pellacia-dist auth {PLATFORM}` to authorise the account again"
    )
    retry_after = wait_hint(response) if kind is ErrorKind.RATE_LIMIT else None
    return PlatformError(PLATFORM, kind, message, status=status, code=code, retry_after_s=retry_after)


@dataclass(frozen=True)
class ChunkPlan:
    """An init's source_info: total_chunk_count = video_size // chunk_size; the last chunk takes the rest."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    @classmethod
    def for_size(cls, video_size: int, preferred_chunk: int) -> ChunkPlan:
        """Whole under 5 MB or when one chunk holds it. The final chunk takes the rest, so it stays under
        2 x 64 MB = 128 MB; 4 GB (TikTok's limit) in chunks of 5 MiB or more is at most 763 of the 1000
        chunks allowed."""
        if video_size < MIN_CHUNK_BYTES or video_size <= preferred_chunk:
            return cls(video_size, video_size, 1)
        return cls(video_size, preferred_chunk, video_size // preferred_chunk)

    def span(self, offset: int) -> tuple[int, int]:
        """(first byte, end exclusive) of the chunk that starts at `offset`."""
        index = offset // self.chunk_size
        if offset % self.chunk_size or index >= self.total_chunk_count:
            raise PlatformError(
                PLATFORM,
                ErrorKind.RETRYABLE,
                f"the upload server reported {offset} bytes received, which is not a chunk boundary "
                f"(chunks of {self.chunk_size} bytes); start the upload again",
            )
        last = index == self.total_chunk_count - 1
        return offset, self.video_size if last else offset + self.chunk_size

    def committed(self, content_range: str | None) -> int | None:
        """Bytes the server holds, from its `Content-Range: bytes 0-{UPLOADED_BYTES}/{TOTAL}` header.

        The docs leave open whether UPLOADED_BYTES is the last byte's index (HTTP's reading) or a count;
        chunks are at least 5 MB apart, so only one reading lands on a chunk boundary, and that one wins.
        """
        match = _CONTENT_RANGE.fullmatch((content_range or "").strip())
        if match is None:
            return None
        if match.group(2) is None:
            return 0
        last = int(match.group(2))
        for candidate in (last + 1, last):
            if candidate == self.video_size or (
                candidate % self.chunk_size == 0 and candidate // self.chunk_size < self.total_chunk_count
            ):
                return candidate
        return None


class UploadUrlGoneError(Exception):
    """The upload_url answered 403 (expired after 1 h) or 404 (no upload task): only a new init helps."""


@dataclass(frozen=True)
class PostStatus:
    """One status/fetch answer."""

    status: str
    fail_reason: str | None
    post_ids: tuple[str, ...]
    uploaded_bytes: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PostStatus:
        return cls(
            status=str(data.get("status", "")),
            fail_reason=data.get("fail_reason") or None,
            post_ids=tuple(str(i) for i in data.get("publicaly_available_post_id") or ()),  # sic, per spec
            uploaded_bytes=int(data.get("uploaded_bytes") or 0),
        )


def processing_failure(reason: str | None) -> PlatformError:
    kind = FAIL_REASON_KINDS.get(reason or "", ErrorKind.POLICY)
    return PlatformError(
        PLATFORM,
        kind,
        f"TikTok rejected the video while processing it ({reason or 'no reason given'})",
        code=reason,
        retry_after_s=DAILY_CAP_WAIT_S if reason == "spam_risk_too_many_posts" else None,
    )


class TikTokClient(PlatformClientBase):
    """Publishes to one TikTok account through the Content Posting API; usable without Dagster."""

    platform = PLATFORM
    rotating_refresh_tokens = True  # spec 3.1: "The previous refresh token stops working"
    no_history_reason = (
        "TikTok's Display API reports only lifetime counters (video/query), no daily history per video"
    )

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        chunk_size = kw.setdefault("chunk_size", DEFAULT_CHUNK_BYTES)
        if not MIN_CHUNK_BYTES <= chunk_size <= MAX_CHUNK_BYTES:
            raise ValueError(
                f"TikTok chunks must be {MIN_CHUNK_BYTES}-{MAX_CHUNK_BYTES} bytes; got {chunk_size}"
            )
        super().__init__(settings, store, **kw)
        self.oauth_http = self.transport(classify_oauth, signed=False)
        self.http = self.transport(classify)
        self.upload_http = self.transport(classify_upload, signed=False)
        self.final_upload_http = self.transport(classify_final_upload, signed=False)

    def _refresh(self, current: TokenSet) -> TokenSet:
        """POST /v2/oauth/token/ with grant_type=refresh_token (spec 3.1); the refresh token rotates."""
        return self._refresh_grant(
            self.oauth_http,
            TOKEN_PATH,
            current,
            client_id_field="client_key",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
        )

    # --- checks ----------------------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        """Every rule that can be checked offline: file, format, TikTok's video limits, caption, privacy."""
        if not post.video.is_file():
            raise PlatformError(PLATFORM, ErrorKind.INVALID_MEDIA, f"the video {post.video} does not exist")
        if post.video.suffix.lower() not in MIME_TYPES:
            raise PlatformError(
                PLATFORM,
                ErrorKind.INVALID_MEDIA,
                f"{post.video.name}: TikTok accepts only MP4, MOV and WebM files",
            )
        info = self._probe(post)
        self._check_rules(
            post, video_problems(PLATFORM, info, post.size), self._caption(post), "cannot go to TikTok"
        )
        wanted = self._wanted_privacy()
        if wanted not in PRIVACY_LEVELS:
            raise PlatformError(
                PLATFORM,
                ErrorKind.POLICY,
                f"privacy level {wanted or '(not set)'} is not a TikTok privacy level; set "
                f"PELLACIA_TIKTOK_PRIVACY_LEVEL to one of {', '.join(PRIVACY_LEVELS)} (TikTok requires an "
                "explicit choice, so there is no default)",
            )

    @staticmethod
    def _caption(post: VideoPost) -> str:
        """post_info.title is the caption, the only text field: it begins with the post's title."""
        return post.caption_for(PLATFORM)

    def _wanted_privacy(self) -> str:
        return self.settings.options.get("privacy_level", "").strip().upper()

    # --- publishing ------------------------------------------------------------------------------------

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """creator_info -> init -> chunks -> status polls, resuming from the journal's publish_id."""
        creator = self._creator_info()
        privacy = self._privacy_level(creator)
        self._check_creator_limits(post, creator)
        journal.put("creator_username", str(creator.get("creator_username", "")))
        url_alive = True
        for _round in range(2):
            offset = self._uploaded_so_far(post, journal)
            if offset is not None and offset < post.size and not (url_alive and self._url_valid(journal)):
                log.info("tiktok: the upload URL expired before the upload finished; starting a new upload")
                offset = None
            if offset is None:
                journal.set_state("uploading")
                self._init(post, journal, creator, privacy)
                offset = 0
            try:
                self._transfer(post, journal, offset, progress)
            except UploadUrlGoneError:
                url_alive = False
                continue
            journal.set_state("processing")
            final = self._poll(journal)
            if final.status == "FAILED":
                raise processing_failure(final.fail_reason)
            return self._published(final, journal)
        raise PlatformError(
            PLATFORM,
            ErrorKind.RETRYABLE,
            "the new upload URL was refused too (HTTP 403/404) before the upload finished; try again later",
        )

    def verify_access(self) -> str:
        """creator_info/query (read-only, scope video.publish): the creator the token posts as; the
        spam-risk states TikTok answers there (posting refused) are raised like any refusal."""
        creator = self._creator_info()
        username = creator.get("creator_username") or "?"
        nickname = creator.get("creator_nickname")
        return f"creator @{username}" + (f" ({nickname})" if nickname else "")

    def _creator_info(self) -> dict[str, Any]:
        response = self.http.request(
            "POST", self.settings.url("api", CREATOR_INFO_PATH), headers=JSON_HEADERS
        )
        data: dict[str, Any] = json_object(response).get("data") or {}
        return data

    def _privacy_level(self, creator: dict[str, Any]) -> str:
        """The configured privacy level, if the creator offers it; TikTok forbids picking one for the user."""
        options = [str(option) for option in creator.get("privacy_level_options") or ()]
        wanted = self._wanted_privacy()
        if wanted not in options:
            raise PlatformError(
                PLATFORM,
                ErrorKind.POLICY,
                f"privacy level {wanted or '(not set)'} is not offered by "
                f"@{creator.get('creator_username', '?')}; set PELLACIA_TIKTOK_PRIVACY_LEVEL to one of: "
                f"{', '.join(options) or '(none offered)'}",
                code="privacy_level_option_mismatch",
            )
        return wanted

    def _check_creator_limits(self, post: VideoPost, creator: dict[str, Any]) -> None:
        longest = creator.get("max_video_post_duration_sec")
        if longest is None:
            return
        duration = self._probe(post).duration_s
        if duration > float(longest):
            raise PlatformError(
                PLATFORM,
                ErrorKind.INVALID_MEDIA,
                f"{post.video.name} is {duration:.1f} s long; @{creator.get('creator_username', '?')} may "
                f"post at most {longest} s",
            )

    def _init(self, post: VideoPost, journal: Journal, creator: dict[str, Any], privacy: str) -> None:
        plan = ChunkPlan.for_size(post.size, self.chunk_size)
        body = {
            "post_info": {
                "title": self._caption(post),
                "privacy_level": privacy,
                "disable_duet": bool(creator.get("duet_disabled", False)),
                "disable_stitch": bool(creator.get("stitch_disabled", False)),
                "disable_comment": bool(creator.get("comment_disabled", False)),
                # The factory's narration and script are machine-made; TikTok asks for the AIGC label.
                "is_aigc": self.settings.options.get("is_aigc", "true").strip().lower() != "false",
                # No paid partnership and no self-promotion: the two disclosure toggles stay off.
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            },
        }
        response = self.http.request(
            "POST", self.settings.url("api", INIT_PATH), headers=JSON_HEADERS, json_body=body
        )
        data = json_object(response).get("data") or {}
        if not data.get("publish_id") or not data.get("upload_url"):
            raise PlatformError(
                PLATFORM, ErrorKind.RETRYABLE, "video/init answered without publish_id/upload_url"
            )
        journal.put("publish_id", str(data["publish_id"]))
        journal.put("upload_url", str(data["upload_url"]))
        journal.put("upload_url_expires_at", str(time.time() + UPLOAD_URL_LIFETIME_S))
        journal.put("chunk_size", str(plan.chunk_size))
        journal.put("privacy_level", privacy)

    @staticmethod
    def _url_valid(journal: Journal) -> bool:
        expires_at = journal.get("upload_url_expires_at")
        return expires_at is not None and float(expires_at) - UPLOAD_URL_MARGIN_S > time.time()

    def _uploaded_so_far(self, post: VideoPost, journal: Journal) -> int | None:
        """Bytes TikTok holds for the journal's publish_id, or None when a new init is needed."""
        publish_id = journal.get("publish_id")
        if not publish_id:
            return None
        current = self._status(publish_id)
        if current.status == "PUBLISH_COMPLETE":
            return post.size
        if current.status == "FAILED":
            if current.fail_reason in RESTARTABLE_FAIL_REASONS:
                log.info("tiktok: the earlier upload failed (%s); starting a new one", current.fail_reason)
                return None
            raise processing_failure(current.fail_reason)
        return min(current.uploaded_bytes, post.size)

    def _transfer(self, post: VideoPost, journal: Journal, offset: int, progress: Progress | None) -> None:
        """PUT the chunks from `offset` on, sequentially; 416 resumes from the offset the server reports."""
        chunk_size = int(journal.get("chunk_size") or post.size)
        plan = ChunkPlan(post.size, chunk_size, post.size // chunk_size)
        upload_url = journal.get("upload_url") or ""
        mime = MIME_TYPES[post.video.suffix.lower()]
        while offset < post.size:
            start, end = plan.span(offset)
            response = self._put_chunk(post, upload_url, mime, start, end)
            status = response.status_code
            if status in (403, 404):
                raise UploadUrlGoneError
            reported = plan.committed(response.headers.get("content-range"))
            if status == 416:
                if reported is None:
                    reported = min(self._status(journal.get("publish_id") or "").uploaded_bytes, post.size)
                if reported == offset:
                    raise PlatformError(
                        PLATFORM,
                        ErrorKind.RETRYABLE,
                        f"the upload server refuses the chunk at byte {offset} but reports no other progress",
                        status=416,
                    )
                log.info("tiktok: the server holds %d bytes, not %d; resuming there", reported, offset)
                offset = reported
                continue
            offset = post.size if status == 201 else (reported if reported is not None else end)
            if progress is not None:
                progress(offset, post.size)

    def _put_chunk(self, post: VideoPost, upload_url: str, mime: str, start: int, end: int) -> httpx.Response:
        """PUT bytes start..end-1. The last chunk starts the posting: only a lost connection or a timeout
        there leaves the outcome unknown (AmbiguousOutcomeError); a 5xx answer is re-sent with backoff,
        since the upload_url keys the upload and a repeated last chunk is answered 416, never posted twice."""
        last = end == post.size
        http = self.final_upload_http if last else self.upload_http
        attempt = 0
        while True:
            response = http.request(
                "PUT",
                upload_url,
                authenticated=False,
                creates=last,
                headers={
                    "Content-Type": mime,
                    "Content-Length": str(end - start),
                    "Content-Range": f"bytes {start}-{end - 1}/{post.size}",
                },
                content=file_chunks(post.video, start, end - start),
            )
            if response.status_code < 500:
                return response
            attempt += 1
            failure = PlatformError(
                PLATFORM,
                ErrorKind.RETRYABLE,
                f"upload of the last chunk answered HTTP {response.status_code}; {UPLOAD_URL_HINT}",
                status=response.status_code,
            )
            delay = self.retry.delay(failure, attempt)
            log.warning("%s; sending it again in %.1f s (attempt %d)", failure, delay, attempt)
            self.sleep(delay)

    def _status(self, publish_id: str) -> PostStatus:
        response = self.http.request(
            "POST",
            self.settings.url("api", STATUS_PATH),
            headers=JSON_HEADERS,
            json_body={"publish_id": publish_id},
        )
        return PostStatus.from_data(json_object(response).get("data") or {})

    def _poll(self, journal: Journal) -> PostStatus:
        """status/fetch until FAILED, or PUBLISH_COMPLETE with the public post id (non-public: none comes)."""
        publish_id = journal.get("publish_id") or ""
        public = journal.get("privacy_level") == PUBLIC
        state = "unknown"
        for _poll in self._polls():
            current = self._status(publish_id)
            if current.status == "FAILED" or (
                current.status == "PUBLISH_COMPLETE" and (current.post_ids or not public)
            ):
                return current
            state = current.status
        waiting = "moderation" if state == "PUBLISH_COMPLETE" else "processing"
        raise self._still_waiting(f"still waiting for TikTok's {waiting} ({state})")

    def _published(self, final: PostStatus, journal: Journal) -> PublishedPost:
        """A public post by its id; a non-public one by its publish_id (TikTok gives those no post id)."""
        username = journal.get("creator_username") or ""
        if final.post_ids:
            return PublishedPost(
                PLATFORM, final.post_ids[0], f"https://www.tiktok.com/@{username}/video/{final.post_ids[0]}"
            )
        return PublishedPost(PLATFORM, journal.get("publish_id") or "", f"https://www.tiktok.com/@{username}")

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """Ask status/fetch about the journal's publish_id; a finished upload is followed until it is live."""
        publish_id = journal.get("publish_id")
        if not publish_id:
            return None
        try:
            current = self._status(publish_id)
        except PlatformError as error:
            if error.code == "invalid_publish_id":
                return None
            raise
        if current.status == "FAILED":
            log.info("tiktok: publish %s failed (%s); nothing was posted", publish_id, current.fail_reason)
            return None
        if current.status != "PUBLISH_COMPLETE" and current.uploaded_bytes < post.size:
            return None
        final = self._poll(journal)
        return None if final.status == "FAILED" else self._published(final, journal)

    # --- analytics -------------------------------------------------------------------------------------

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Lifetime counters from the Display API's video/query (spec 3.5), 20 videos a request."""
        as_of = datetime.now(UTC)
        return {str(video["id"]): _reading(video, as_of) for video in self._videos(post_ids, METRIC_FIELDS)}

    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """Each shown video's `create_time` (unix seconds), read through video/query too."""
        return {
            str(video["id"]): datetime.fromtimestamp(int(video["create_time"]), UTC)
            for video in self._videos(post_ids, CREATED_FIELDS)
            if isinstance(video.get("create_time"), int)
        }

    def _videos(self, post_ids: Sequence[str], fields: str) -> list[dict[str, Any]]:
        """The video objects video/query shows of `post_ids` (each id asked once, 20 a request, metered);
        a video it does not show (deleted, private, another account's, a publish_id) is simply absent."""
        ids = list(dict.fromkeys(str(post_id) for post_id in post_ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), MAX_QUERY_IDS):
            batch = ids[start : start + MAX_QUERY_IDS]
            response = self.http.request(
                "POST",
                self.settings.url("api", VIDEO_QUERY_PATH),
                params={"fields": fields},
                headers=JSON_HEADERS,
                json_body={"filters": {"video_ids": batch}},
                call="video.query",
            )
            videos = (json_object(response).get("data") or {}).get("videos") or []
            found.extend(v for v in videos if isinstance(v, dict) and str(v.get("id")) in batch)
        return found


def _reading(video: dict[str, Any], as_of: datetime) -> MetricReading:
    """A video object's counters as lifetime values; a counter missing from the answer is no zero."""
    values: dict[str, float] = {}
    unavailable = dict(NOT_REPORTED)
    for core, field_name in COUNTERS.items():
        count = video.get(field_name)
        if isinstance(count, int | float) and not isinstance(count, bool):
            values[core] = float(count)
        else:
            unavailable[core] = f"TikTok's video/query answer held no {field_name} for this video"
    return MetricReading("lifetime", dict(video), values, unavailable, as_of)
