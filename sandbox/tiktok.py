"""A SANDBOX TikTok server for tests and demos: never used by production code paths.

It follows the documented protocol (docs/reference/platform_protocols.md section 3) strictly, with one
port for each of TikTok's hosts: www.tiktok.com (the "consent" root: the Login Kit consent page,
GET /v2/auth/authorize/, approving at once, PKCE S256 for desktop apps; sandbox/oauth.py),
open.tiktokapis.com (the "api" and "oauth" roots: OAuth v2 code exchange and refresh with rotating refresh
tokens, creator_info/query, Direct Post video/init with the chunk arithmetic, status/fetch with processing
and moderation spread over polls, the Display API's video/query: lifetime counters only, 600 a minute) and
open-upload.tiktokapis.com (the
"upload" root: the chunk PUTs to the upload_url init hands out; sequential, Content-Range checked,
206/201/416/403/404 as the media transfer guide says; a repeated chunk, the last one included, is answered
416 with the progress, so one upload_url never posts twice; a 5xx can be injected on the last chunk before
or after it is taken). Processing checks the received file with ffprobe
against the documented video restrictions. Every error uses TikTok's envelope
`{"data": {}, "error": {"code", "message", "log_id"}}`. Uploads stream to disk in blocks and are hashed on
the way, so a 1 GB upload costs no memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from sandbox.common import (
    Fault,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenGrant,
    TokenRegistry,
    bearer_token,
    lifetime_activity,
)
from sandbox.oauth import AuthorizationCodes, CodeRefusedError

PUBLIC_ACCOUNT_OPTIONS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
PRIVACY_LEVELS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)
UPLOAD_MIME_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
POST_INFO_BOOLEANS = (
    "disable_duet",
    "disable_stitch",
    "disable_comment",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
MAX_TITLE_UTF16 = 2200
MAX_VIDEO_BYTES = 4 * 1000**3
MAX_QUERY_IDS = 20
REFRESH_LIFETIME_S = 180 * 24 * 3600
SCOPES = "user.info.basic,video.publish,video.upload,video.list"
KNOWN_SCOPES = frozenset(
    {"user.info.basic", "user.info.profile", "user.info.stats", "video.publish", "video.upload", "video.list"}
)
VIDEO_FIELDS = frozenset(
    {
        "id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height",
        "width", "title", "embed_html", "embed_link", "like_count", "comment_count", "share_count",
        "view_count",
    }
)  # fmt: skip
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
OPEN_HOST = "open.tiktokapis.com"
UPLOAD_HOST = "open-upload.tiktokapis.com"
WWW_HOST = "www.tiktok.com"
FFPROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class VideoFacts:
    """What TikTok's processing checks of a received file (spec 3.4's video restrictions)."""

    duration_s: float
    width: int
    height: int
    fps: float | None


def probe_video(path: Path) -> VideoFacts | None:
    """The first video stream's size and frame rate and the file's duration, read with
    `ffprobe -of json`; None when ffprobe cannot read the file as a video."""
    command = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)]
    try:
        result = subprocess.run(command, capture_output=True, timeout=FFPROBE_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise RuntimeError("the TikTok sandbox checks uploads with ffprobe: install ffmpeg") from error
    if result.returncode != 0:
        return None
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return None
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    if (
        video is None
        or not str(video.get("width", "")).isdigit()
        or not str(video.get("height", "")).isdigit()
    ):
        return None
    durations = [data.get("format", {}).get("duration"), video.get("duration")]
    duration = next((float(value) for value in durations if value not in (None, "N/A")), 0.0)
    return VideoFacts(duration, int(video["width"]), int(video["height"]), _frame_rate(video))


def _frame_rate(stream: dict[str, Any]) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        numerator, _, denominator = str(stream.get(key, "0/0")).partition("/")
        if numerator.isdigit() and denominator.isdigit() and int(numerator) and int(denominator):
            return float(Fraction(int(numerator), int(denominator)))
    return None


def log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()


def error_body(code: str, message: str) -> dict[str, Any]:
    """TikTok's v2 error envelope."""
    return {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}


def ok(data: dict[str, Any]) -> Response:
    return Response(200, {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})


def failure(status: int, code: str, message: str) -> Response:
    return Response(status, error_body(code, message))


def rate_limit_fault(route: str, times: int = 1) -> Fault:
    """TikTok throttling as documented: HTTP 429, `rate_limit_exceeded`, no rate-limit headers."""
    return Fault(
        route,
        status=429,
        body=error_body(
            "rate_limit_exceeded", "Your request is blocked due to exceeding the API rate limit."
        ),
        times=times,
    )


@dataclass
class UploadTask:
    """One init: its upload session, the bytes received so far and, once uploaded, processing state."""

    publish_id: str
    upload_id: str
    upload_token: str
    post_info: dict[str, Any]
    video_size: int
    chunk_size: int
    total_chunk_count: int
    path: Path
    expires_at: float
    digest: Any = field(default_factory=hashlib.sha256)
    received: int = 0
    state: str = "uploading"  # uploading -> processing -> complete | failed
    polls_left: int = 0
    moderation_left: int = 0
    verdict: str | None = None
    post_id: int | None = None
    media: dict[str, Any] = field(default_factory=dict)

    def chunk_end(self, start: int) -> int:
        index = start // self.chunk_size
        return self.video_size if index >= self.total_chunk_count - 1 else start + self.chunk_size

    def status_data(self) -> dict[str, Any]:
        public = self.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE"
        visible = self.state == "complete" and public and self.moderation_left == 0
        data: dict[str, Any] = {
            "status": {"complete": "PUBLISH_COMPLETE", "failed": "FAILED"}.get(
                self.state, "PROCESSING_UPLOAD"
            ),
            "publicaly_available_post_id": [self.post_id] if visible else [],  # sic, as documented
            "uploaded_bytes": self.received,
        }
        if self.state == "failed":
            data["fail_reason"] = self.verdict
        return data


class TikTokSandbox(SandboxServer):
    """TikTok's open API (with its OAuth endpoint), its upload host and its consent page, each on a
    local port of its own (a sandbox)."""

    name = "tiktok"
    analytics_routes = ("video_query",)
    video_query_per_minute = 600  # Display API: 600 requests a minute per app, sliding (spec 3.4)
    roots: ClassVar[Mapping[str, str]] = {
        "api": OPEN_HOST,
        "oauth": OPEN_HOST,
        "upload": UPLOAD_HOST,
        "consent": WWW_HOST,
    }
    configured_roots = ("api", "oauth")
    consent_path = "/v2/auth/authorize/"

    def __init__(
        self,
        data_dir: Path,
        *,
        client_key: str = "sandbox-client-key",
        client_secret: str = "sandbox-client-secret",
        username: str = "pellacia.sandbox",
        privacy_level_options: tuple[str, ...] = PUBLIC_ACCOUNT_OPTIONS,
        max_video_post_duration_sec: int = 300,
        processing_polls: int = 1,
        moderation_polls: int = 0,
        token_lifetime_s: float = 7200.0,
        upload_url_lifetime_s: float = 3600.0,
        strict_megabytes: bool = False,
    ) -> None:
        self.client_key = client_key
        self.client_secret = client_secret
        self.username = username
        self.open_id = f"sandbox-open-id-{secrets.token_hex(6)}"
        self.privacy_level_options = privacy_level_options
        self.max_video_post_duration_sec = max_video_post_duration_sec
        self.processing_polls = processing_polls
        self.moderation_polls = moderation_polls
        self.upload_url_lifetime_s = upload_url_lifetime_s
        # The docs do not say whether "MB" means 10^6 or 2^20 bytes (spec 3.2): strict mode takes 2^20.
        megabyte = 1024 * 1024 if strict_megabytes else 1000 * 1000
        self.min_chunk = 5 * megabyte
        self.max_chunk = 64 * megabyte
        self.tokens = TokenRegistry("act", lifetime_s=token_lifetime_s, rotate_refresh=True)
        self.codes = AuthorizationCodes(
            client_id=client_key,
            client_param="client_key",
            scopes=KNOWN_SCOPES,
            scope_separator=",",
            pkce="optional",
        )
        self._tasks: dict[str, UploadTask] = {}
        self._final_chunk_failures: list[tuple[int, bool]] = []
        self._rejections: list[str] = []
        self._posts: list[dict[str, Any]] = []
        super().__init__(data_dir)
        self._query_times: list[float] = []

    def routes(self) -> dict[str, list[Route]]:
        return {
            WWW_HOST: [("GET", r"/v2/auth/authorize/", "consent", self.codes.consent)],
            OPEN_HOST: [
                ("POST", r"/v2/oauth/token/", "token", self._token),
                ("POST", r"/v2/post/publish/creator_info/query/", "creator_info", self._creator_info),
                ("POST", r"/v2/post/publish/video/init/", "init", self._init),
                ("POST", r"/v2/post/publish/status/fetch/", "status", self._status),
                ("POST", r"/v2/video/query/", "video_query", self._video_query),
            ],
            UPLOAD_HOST: [("PUT", r"/video/", "upload", self._upload)],
        }

    # --- steering and inspection (tests, demo) ---------------------------------------------------------

    def throttled(self, wait_s: float | None, route: str) -> Response:
        """HTTP 429 `rate_limit_exceeded`; TikTok documents no header saying how long to wait."""
        return failure(
            429, "rate_limit_exceeded", "Your request is blocked due to exceeding the API rate limit."
        )

    def server_error(self, status: int, route: str) -> Response:
        return failure(status, "internal_error", "Something went wrong. Please try again later.")

    def expire_upload_urls(self) -> None:
        """Every upload_url issued so far is past its hour: further PUTs get 403."""
        with self._lock:
            for task in self._tasks.values():
                task.expires_at = 0.0

    def fail_final_chunk(self, status: int = 503, *, after_commit: bool = False, times: int = 1) -> None:
        """The next `times` last chunks (the PUT that starts the posting) answer `status` with TikTok's
        error body: before the bytes are taken (nothing changes), or `after_commit`, once they are taken and
        the posting has started. Either way a re-sent last chunk cannot post twice: the upload is keyed by
        its upload_url, and a chunk that no longer matches the progress is answered 416 (spec 3.2)."""
        with self._lock:
            self._final_chunk_failures.extend([(status, after_commit)] * times)

    def reject_next_processing(self, reason: str) -> None:
        """The next upload to finish fails processing with this documented fail_reason."""
        with self._lock:
            self._rejections.append(reason)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Published posts: id, publish_id, sha256, size, caption, privacy_level, post_info, media facts."""
        with self._lock:
            return [dict(post) for post in self._posts]

    @property
    def uploads_completed(self) -> int:
        with self._lock:
            return sum(task.state != "uploading" for task in self._tasks.values())

    def video_object(self, video_id: str) -> dict[str, Any]:
        """The Display API video object of a stored post; its counters are lifetime totals as of the
        sandbox's now (a function of the id and the post's age: the same all day, growing with age)."""
        post = next(post for post in self.posts if post["id"] == video_id)
        published = dt.datetime.fromtimestamp(post["create_time"], dt.UTC)
        totals = lifetime_activity(video_id, published, self.now())
        return {
            "id": video_id,
            "create_time": post["create_time"],
            "title": post["caption"][:150],
            "video_description": post["caption"][:150],
            "duration": round(post["duration"]),
            "width": post["width"],
            "height": post["height"],
            "share_url": f"https://www.tiktok.com/@{self.username}/video/{video_id}",
            "embed_link": f"https://www.tiktok.com/player/v1/{video_id}",
            "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video_id}"></blockquote>',
            "cover_image_url": f"{self.base_url}/cover/{video_id}.jpeg",
            "view_count": totals["views"],
            "like_count": totals["likes"],
            "comment_count": totals["comments"],
            "share_count": totals["shares"],
        }

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the video was posted `days` earlier (its create_time moves)."""
        with self._lock:
            post = next(post for post in self._posts if post["id"] == post_id)
            post["create_time"] -= round(days * 86400)

    # --- helpers -----------------------------------------------------------------------------------------

    def _unauthorised(self, request: Request) -> Response | None:
        if self.tokens.valid(bearer_token(request)):
            return None
        return failure(
            401, "access_token_invalid", "The access token is invalid or not found in the request."
        )

    @staticmethod
    def _json_body(request: Request) -> dict[str, Any] | Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return failure(400, "invalid_param", "Content-Type must be application/json; charset=UTF-8")
        try:
            body = request.json() if request.content_length else {}
        except ValueError:
            return failure(400, "invalid_param", "the request body is not valid JSON")
        return body if isinstance(body, dict) else failure(400, "invalid_param", "the body must be an object")

    # --- OAuth -------------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self._oauth_error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = request.form()
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return self._oauth_error(401, "invalid_client", "Client key or secret is incorrect.")
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form)
        if form.get("grant_type") != "refresh_token":
            return self._oauth_error(
                400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token."
            )
        if not form.get("refresh_token"):
            return self._oauth_error(400, "invalid_request", "refresh_token is required.")
        grant = self.tokens.refresh(form["refresh_token"])
        if grant is None:
            return self._oauth_error(400, "invalid_grant", "Refresh token is invalid or expired.")
        return self._token_answer(grant, SCOPES)

    def _code_grant(self, form: dict[str, str]) -> Response:
        """client_key, client_secret, code, redirect_uri (+ code_verifier for desktop apps) -> tokens."""
        if not form.get("code") or not form.get("redirect_uri"):
            return self._oauth_error(400, "invalid_request", "code and redirect_uri are required.")
        try:
            approved = self.codes.redeem(
                form["code"],
                client_id=form["client_key"],
                redirect_uri=form["redirect_uri"],
                verifier=form.get("code_verifier"),
            )
        except CodeRefusedError as refused:
            return self._oauth_error(400, "invalid_grant", refused.description)
        return self._token_answer(self.tokens.issue(), ",".join(approved.scopes))

    def _token_answer(self, grant: TokenGrant, scope: str) -> Response:
        """The flat token JSON both grants answer with (no `data` wrapper)."""
        return Response(
            200,
            {
                "open_id": self.open_id,
                "scope": scope,
                "access_token": grant.access_token,
                "expires_in": int(self.tokens.lifetime_s),
                "refresh_token": grant.refresh_token,
                "refresh_expires_in": REFRESH_LIFETIME_S,
                "token_type": "Bearer",
            },
        )

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return Response(status, {"error": error, "error_description": description, "log_id": log_id()})

    # --- Content Posting API -----------------------------------------------------------------------------

    def _creator_info(self, request: Request) -> Response:
        refused = self._unauthorised(request) or self._json_refusal(request)
        if refused is not None:
            return refused
        return ok(
            {
                "creator_avatar_url": f"{self.base_url}/avatar/{self.username}.jpeg",
                "creator_username": self.username,
                "creator_nickname": "Pellacia Sandbox",
                "privacy_level_options": list(self.privacy_level_options),
                "comment_disabled": False,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": self.max_video_post_duration_sec,
            }
        )

    def _json_refusal(self, request: Request) -> Response | None:
        body = self._json_body(request)
        return body if isinstance(body, Response) else None

    def _init(self, request: Request) -> Response:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        body = self._json_body(request)
        if isinstance(body, Response):
            return body
        post_info, source_info = body.get("post_info"), body.get("source_info")
        if not isinstance(post_info, dict) or not isinstance(source_info, dict):
            return failure(400, "invalid_param", "post_info and source_info are required objects")
        problem = self._post_info_problem(post_info)
        if problem is not None:
            return failure(400, "invalid_param", problem)
        if post_info.get("privacy_level") not in self.privacy_level_options:
            return failure(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is not specified or not among the options from creator_info/query",
            )
        if source_info.get("source") == "PULL_FROM_URL":
            return failure(
                403, "url_ownership_unverified", "the sandbox has no verified domain or URL prefix"
            )
        if source_info.get("source") != "FILE_UPLOAD":
            return failure(400, "invalid_param", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL")
        sizes = [source_info.get(key) for key in ("video_size", "chunk_size", "total_chunk_count")]
        numbers = [
            value for value in sizes if isinstance(value, int) and not isinstance(value, bool) and value > 0
        ]
        if len(numbers) != len(sizes):
            return failure(
                400, "invalid_param", "video_size, chunk_size and total_chunk_count must be positive integers"
            )
        video_size, chunk_size, count = numbers
        problem = self.chunk_rule_problem(video_size, chunk_size, count)
        if problem is not None:
            return failure(400, "invalid_param", problem)
        return ok(self._new_task(post_info, video_size, chunk_size, count))

    @staticmethod
    def _post_info_problem(post_info: dict[str, Any]) -> str | None:
        title = post_info.get("title", "")
        if not isinstance(title, str):
            return "post_info.title must be a string"
        if len(title.encode("utf-16-le")) // 2 > MAX_TITLE_UTF16:
            return f"post_info.title is longer than {MAX_TITLE_UTF16} UTF-16 runes"
        if post_info.get("privacy_level") is not None and post_info["privacy_level"] not in PRIVACY_LEVELS:
            return f"post_info.privacy_level {post_info['privacy_level']!r} is not a privacy level"
        if "brand_content_toggle" not in post_info:
            return "post_info.brand_content_toggle is required"
        wrong = [
            name for name in POST_INFO_BOOLEANS if name in post_info and not isinstance(post_info[name], bool)
        ]
        if wrong:
            return f"post_info.{wrong[0]} must be a boolean"
        cover = post_info.get("video_cover_timestamp_ms")
        if cover is not None and (not isinstance(cover, int) or isinstance(cover, bool) or cover < 0):
            return "post_info.video_cover_timestamp_ms must be a non-negative int32"
        return None

    def chunk_rule_problem(self, video_size: int, chunk_size: int, count: int) -> str | None:
        """The media transfer guide's chunk restrictions.

        Two of them follow from the others and need no check of their own: with chunks of at most 64 MB
        and `total_chunk_count = video_size // chunk_size`, the final chunk stays under 128 MB; with at
        least 5 MB per chunk and at most 4 GB in all, there are never more than 1000 chunks.
        """
        if video_size > MAX_VIDEO_BYTES:
            return f"video_size {video_size} is over the 4 GB limit"
        if video_size < self.min_chunk:
            if chunk_size != video_size or count != 1:
                return (
                    "videos under 5 MB must be uploaded whole: chunk_size = video_size, total_chunk_count = 1"
                )
            return None
        if chunk_size > video_size:
            return "chunk_size is larger than video_size"
        if count != video_size // chunk_size:
            return "total_chunk_count must equal video_size divided by chunk_size, rounded down"
        if count > 1 and not self.min_chunk <= chunk_size <= self.max_chunk:
            return "each chunk must be at least 5 MB and at most 64 MB"
        if video_size > self.max_chunk and count < 2:
            return "videos over 64 MB must be uploaded in multiple chunks"
        return None

    def _new_task(
        self, post_info: dict[str, Any], video_size: int, chunk_size: int, count: int
    ) -> dict[str, str]:
        with self._lock:
            number = self.next_id()
            task = UploadTask(
                publish_id=f"v_pub_file~v2-1.{7_300_000_000 + number}",
                upload_id=str(60_000 + number),
                upload_token=secrets.token_urlsafe(12),
                post_info=dict(post_info),
                video_size=video_size,
                chunk_size=chunk_size,
                total_chunk_count=count,
                path=self.stored_file(f"upload-{number}"),
                expires_at=time.time() + self.upload_url_lifetime_s,
            )
            task.path.write_bytes(b"")
            self._tasks[task.publish_id] = task
        upload_url = self.url(
            "upload", f"/video/?upload_id={task.upload_id}&upload_token={task.upload_token}"
        )
        return {"publish_id": task.publish_id, "upload_url": upload_url}

    def _upload(self, request: Request) -> Response:
        """One chunk PUT: sequential, Content-Range and Content-Length consistent with the init."""
        with self._lock:
            task = next(
                (
                    t
                    for t in self._tasks.values()
                    if t.upload_id == request.query.get("upload_id")
                    and t.upload_token == request.query.get("upload_token")
                ),
                None,
            )
        if task is None:
            return self._refuse_chunk(
                request, failure(404, "invalid_param", "no upload task for this upload_url")
            )
        if time.time() > task.expires_at:
            return self._refuse_chunk(request, failure(403, "invalid_param", "the upload_url has expired"))
        length = request.content_length
        if length is None:
            closing = failure(
                400, "invalid_param", "Content-Length is required (no chunked transfer encoding)"
            )
            closing.headers["Connection"] = "close"
            return closing
        if request.headers.get("content-type", "").split(";")[0].strip() not in UPLOAD_MIME_TYPES:
            return self._refuse_chunk(
                request,
                failure(
                    400, "invalid_param", "Content-Type must be video/mp4, video/quicktime or video/webm"
                ),
            )
        match = _CONTENT_RANGE.fullmatch(request.headers.get("content-range", "").strip())
        if match is None:
            return self._refuse_chunk(
                request, failure(400, "invalid_param", "Content-Range is missing or malformed")
            )
        first, last, total = (int(group) for group in match.groups())
        if total != task.video_size or last < first or last - first + 1 != length:
            return self._refuse_chunk(
                request,
                failure(
                    400, "invalid_param", "Content-Range disagrees with Content-Length or the video_size"
                ),
            )
        if task.state != "uploading" or first != task.received:
            return self._refuse_chunk(
                request,
                Response(
                    416,
                    error_body("invalid_param", "Content-Range does not reflect the actual upload progress"),
                    {"Content-Range": self._progress_range(task)},
                ),
            )
        if last + 1 != task.chunk_end(first):
            return self._refuse_chunk(
                request,
                failure(400, "invalid_param", f"this chunk must end at byte {task.chunk_end(first) - 1}"),
            )
        final = last + 1 == task.video_size
        with self._lock:
            failure_now = self._final_chunk_failures.pop(0) if final and self._final_chunk_failures else None
        if failure_now is not None and not failure_now[1]:
            return self._refuse_chunk(request, self.server_error(failure_now[0], "upload"))
        digest = task.digest.copy()
        with task.path.open("ab") as target:
            copied = request.copy_body_to(target, digest)
            if copied != length:
                target.truncate(task.received)
                return failure(400, "invalid_param", "the body is shorter than Content-Length")
        with self._lock:
            task.digest = digest
            task.received = last + 1
            if task.received < task.video_size:
                return Response(206, None, {"Content-Range": self._progress_range(task)})
            self._finish_upload(task)
        if failure_now is not None:
            return self.server_error(failure_now[0], "upload")
        return Response(201, None, {"Content-Range": self._progress_range(task)})

    @staticmethod
    def _refuse_chunk(request: Request, response: Response) -> Response:
        """Read a refused chunk off the socket into nothing, so the connection stays usable."""
        request.drain()
        return response

    @staticmethod
    def _progress_range(task: UploadTask) -> str:
        if task.received == 0:
            return f"bytes */{task.video_size}"
        return f"bytes 0-{task.received - 1}/{task.video_size}"

    def _finish_upload(self, task: UploadTask) -> None:
        """All bytes are in: the posting starts, and its outcome is decided now but told over the polls."""
        task.state = "processing"
        task.polls_left = self.processing_polls
        task.verdict = self._rejections.pop(0) if self._rejections else self._media_verdict(task)

    def _media_verdict(self, task: UploadTask) -> str | None:
        """TikTok's processing checks (video restrictions, spec 3.4) on the received file."""
        info = probe_video(task.path)
        if info is None:
            return "file_format_check_failed"
        task.media = {"duration": info.duration_s, "width": info.width, "height": info.height}
        if info.duration_s > self.max_video_post_duration_sec:
            return "duration_check_failed"
        if info.fps is None or not 23 <= info.fps <= 60:
            return "frame_rate_check_failed"
        if not (360 <= info.width <= 4096 and 360 <= info.height <= 4096):
            return "picture_size_check_failed"
        return None

    def _status(self, request: Request) -> Response:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        body = self._json_body(request)
        if isinstance(body, Response):
            return body
        with self._lock:
            task = self._tasks.get(str(body.get("publish_id", "")))
            if task is None:
                return failure(400, "invalid_publish_id", "The publish_id does not exist")
            self._advance(task)
            return ok(task.status_data())

    def _advance(self, task: UploadTask) -> None:
        """One poll's worth of simulated time: processing, then (public posts) moderation."""
        if task.state == "processing":
            if task.polls_left > 0:
                task.polls_left -= 1
                return
            if task.verdict is not None:
                task.state = "failed"
                return
            task.state = "complete"
            task.post_id = 7_380_000_000_000_000_000 + self.next_id()
            task.moderation_left = self.moderation_polls
            self._posts.append(
                {
                    "id": str(task.post_id),
                    "publish_id": task.publish_id,
                    "sha256": task.digest.hexdigest(),
                    "size": task.received,
                    "caption": task.post_info.get("title", ""),
                    "privacy_level": task.post_info.get("privacy_level"),
                    "post_info": dict(task.post_info),
                    "create_time": int(self.now().timestamp()),
                    "duration": task.media.get("duration", 0.0),
                    "width": task.media.get("width"),
                    "height": task.media.get("height"),
                }
            )
        elif task.state == "complete" and task.moderation_left > 0:
            task.moderation_left -= 1

    # --- Display API ---------------------------------------------------------------------------------------

    def _video_query(self, request: Request) -> Response:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        now = time.monotonic()
        with self._lock:
            self._query_times = [moment for moment in self._query_times if moment > now - 60.0]
            if len(self._query_times) >= self.video_query_per_minute:
                return self.throttled(None, "video_query")
            self._query_times.append(now)
        fields = [name for name in request.query.get("fields", "").split(",") if name]
        if not fields or not set(fields) <= VIDEO_FIELDS:
            return failure(
                400, "invalid_params", f"fields must be a comma-separated subset of {sorted(VIDEO_FIELDS)}"
            )
        body = self._json_body(request)
        if isinstance(body, Response):
            return body
        filters = body.get("filters")
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_QUERY_IDS
            or not all(isinstance(i, str) for i in ids)
        ):
            return failure(
                400, "invalid_params", f"filters.video_ids must list 1 to {MAX_QUERY_IDS} id strings"
            )
        known = {post["id"] for post in self.posts}
        videos = [
            {name: value for name, value in self.video_object(video_id).items() if name in fields}
            for video_id in ids
            if video_id in known
        ]
        return ok({"videos": videos, "cursor": 0, "has_more": False})
