"""A local LinkedIn for tests and the demo: a SANDBOX, never used by production code paths.

It listens on one port for each of LinkedIn's two hosts. api.linkedin.com (the "api" root) serves the
Videos API (initializeUpload, finalizeUpload, video status), the Posts API (create, read, the `q=author`
finder), organization share statistics (lifetime, or by DAY/MONTH with Rest.li 2.0 `timeIntervals` within
the rolling 12 months), member creator post analytics (TOTAL, or one element a day), the member's
organization roles (organizationAcls, q=roleAssignee) and OpenID Connect's /v2/userinfo. www.linkedin.com
(the "oauth",
"consent" and "upload" roots) serves the consent page (GET /oauth/v2/authorization, approving at once;
sandbox/oauth.py), the OAuth token endpoint (authorization_code and refresh grants) and the pre-signed part
uploads (/dms-uploads/..., only ever the uploadUrls initializeUpload hands out).
It is strict where LinkedIn is (docs/reference/platform_protocols.md section 7): LinkedIn-Version must be
an active YYYYMM version (missing: 400, retired: 426), X-Restli-Protocol-Version must be 2.0.0, URNs in
paths must be URL-encoded, every part must be exactly its byte range, finalize must hand the parts' ETags
back in order, and error bodies have LinkedIn's `{"status","code","message"}` shape. Where LinkedIn's
documents are silent the choice is marked [U]. Uploaded bytes stream to disk, hashed as they arrive; memory
stays flat whatever the file's size. Parts arriving in order extend one running sha256 of the whole file (a
part waits while the parts before it are still arriving), so finalizeUpload answers at once; only a re-sent
part, or one whose predecessors are not on their way, leaves the hash to a read of the whole file at
finalize.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from sandbox.common import (
    READ_BLOCK,
    Fault,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenGrant,
    TokenRegistry,
    activity_between,
    bearer_token,
    lifetime_activity,
)
from sandbox.oauth import AuthorizationCodes, CodeRefusedError

PART_SIZE = 4 * 1024 * 1024
TURN_WAIT_S = 10.0  # the longest a part waits for the parts before it to finish arriving
MAX_FILE_BYTES = 500 * 1000 * 1000
COMMENTARY_MAX = 3000
DEFAULT_AUTHOR = "urn:li:organization:2414183"
DEFAULT_MEMBER = "urn:li:person:pellaciaSandbox1"
MEMBER_NAME = "Pellacia Sandbox"
ACL_ROLES = frozenset(
    {"ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER", "RECRUITING_POSTER", "LEAD_GEN_FORMS_MANAGER",
     "ANALYST", "CURATOR", "CONTENT_ADMINISTRATOR"}
)  # fmt: skip
RESERVED = frozenset("|{}@[]()<>\\*_~")
VISIBILITIES = frozenset({"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"})
FEED_DISTRIBUTIONS = frozenset({"MAIN_FEED", "NONE"})
LIFECYCLE_STATES = frozenset({"DRAFT", "PUBLISHED", "PUBLISH_REQUESTED", "PUBLISH_FAILED"})
MEMBER_METRICS = {
    "IMPRESSION": "impressionCount",
    "MEMBERS_REACHED": "uniqueImpressionsCount",
    "REACTION": "likeCount",
    "COMMENT": "commentCount",
    "RESHARE": "shareCount",
}
SCOPES = "r_organization_social,rw_organization_admin,w_member_social,w_organization_social"
KNOWN_SCOPES = frozenset(
    {"w_member_social", "w_organization_social", "r_organization_social", "rw_organization_admin",
     "r_member_postAnalytics"}
)  # fmt: skip
CODE_LIFETIME_S = 30 * 60.0  # [U] LinkedIn's authorization-code lifetime
# One answer for every refused code [S: reported by developers; LinkedIn's pages do not list it].
CODE_REFUSED = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. "
    "Or authorization code expired. Or external member binding exists"
)
THROTTLE_BODY = {
    "status": 429,
    "serviceErrorCode": 101,
    "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
}
API_HOST = "api.linkedin.com"
WWW_HOST = "www.linkedin.com"
_ENTITY = re.compile(r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)")
_LIST = re.compile(r"List\(([^()]*)\)")


def error(status: int, message: str, code: str | None = None, service_code: int | None = None) -> Response:
    """LinkedIn's error body: `{"status","serviceErrorCode","code","message"}` (fields present as known)."""
    body: dict[str, Any] = {"status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code is not None:
        body["code"] = code
    body["message"] = message
    return Response(status, body)


def invalid(path: str, problem: str) -> Response:
    return error(422, f"ERROR :: {path} :: {problem}", "UNPROCESSABLE_ENTITY")


def visible_text(commentary: str) -> str:
    """What a member sees of "little text": escapes resolved, nothing after an unescaped reserved character.

    LinkedIn accepts such commentary with 201 and silently drops the rest, the trap every client must avoid.
    """
    shown: list[str] = []
    escaped = False
    for char in commentary:
        if escaped:
            shown.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in RESERVED:
            break
        else:
            shown.append(char)
    return "".join(shown)


def active_versions(current: str, months: int) -> frozenset[str]:
    """The `months` YYYYMM versions up to `current`: LinkedIn serves each version about a year."""
    year, month = int(current[:4]), int(current[4:])
    versions = set()
    for _ in range(months):
        versions.add(f"{year}{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return frozenset(versions)


@dataclass
class SandboxVideo:
    urn: str
    owner: str
    size: int
    upload_token: str
    ranges: list[tuple[int, int]]
    expires_at_ms: int
    path: Path
    etags: dict[int, str] = field(default_factory=dict)
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0
    failure: str | None = None
    sha256: str | None = None
    # The sha256 of parts 0..hashed_parts-1 in order; None once a re-sent part made it unusable.
    running: Any = field(default_factory=hashlib.sha256)
    hashed_parts: int = 0
    receiving: set[int] = field(default_factory=set)


@dataclass
class SandboxPost:
    urn: str
    body: dict[str, Any]
    video: SandboxVideo
    created_at_ms: int

    def element(self) -> dict[str, Any]:
        """The post as GET /rest/posts answers it."""
        return {
            "id": self.urn,
            **self.body,
            "createdAt": self.created_at_ms,
            "lastModifiedAt": self.created_at_ms,
            "publishedAt": self.created_at_ms,
        }


class LinkedInSandbox(SandboxServer):
    """LinkedIn's publishing and analytics endpoints for one author, with fault injection for tests.

    Route names for `inject(Fault(route, ...))`: token, initialize_upload, part, finalize_upload, video,
    create_post, get_post, find_posts, share_statistics, member_analytics.
    """

    name = "linkedin"
    analytics_routes = ("share_statistics", "member_analytics")
    roots: ClassVar[Mapping[str, str]] = {
        "api": API_HOST,
        "oauth": WWW_HOST,
        "consent": WWW_HOST,
        "upload": WWW_HOST,
    }
    configured_roots = ("api", "oauth")
    consent_path = "/oauth/v2/authorization"

    def __init__(
        self,
        data_dir: Path,
        *,
        author: str = DEFAULT_AUTHOR,
        client_id: str = "sandbox-linkedin-client",
        client_secret: str = "sandbox-linkedin-secret",
        current_version: str | None = None,
        versions_served: int = 12,
        part_size: int = PART_SIZE,
        processing_polls: int = 1,
        token_lifetime_s: float = 60 * 86400.0,
        refresh_lifetime_s: float = 365 * 86400.0,
        url_lifetime_s: float = 86400.0,
        max_file_bytes: int = MAX_FILE_BYTES,
        member: str = DEFAULT_MEMBER,
    ) -> None:
        self.author = author
        # The member the tokens belong to (the author when a member posts), and their roles per organization.
        self.member = author if author.startswith("urn:li:person:") else member
        self.organization_roles: dict[str, str] = {} if author == self.member else {author: "ADMINISTRATOR"}
        self.client_id = client_id
        self.client_secret = client_secret
        self.versions = active_versions(
            current_version or datetime.now(UTC).strftime("%Y%m"), versions_served
        )
        self.part_size = part_size
        self.processing_polls = processing_polls
        self.refresh_lifetime_s = refresh_lifetime_s
        self.url_lifetime_s = url_lifetime_s
        self.max_file_bytes = max_file_bytes
        self.tokens = TokenRegistry("li", lifetime_s=token_lifetime_s)
        self.codes = AuthorizationCodes(
            client_id=client_id, scopes=KNOWN_SCOPES, code_lifetime_s=CODE_LIFETIME_S
        )
        self._issued: set[str] = set()
        self._refresh_expiry: dict[str, float] = {}
        self._signing_key = secrets.token_bytes(16)
        self._videos: dict[str, SandboxVideo] = {}
        self._posts: list[SandboxPost] = []
        self._rejection: str | None = None
        self._turns = threading.Condition()
        self._failing_parts: dict[int, tuple[int, int]] = {}
        self._parts_now = 0
        self.most_parts_at_once = 0
        super().__init__(data_dir)

    def routes(self) -> dict[str, list[Route]]:
        return {
            WWW_HOST: [
                ("GET", r"/oauth/v2/authorization", "consent", self.codes.consent),
                ("POST", r"/oauth/v2/accessToken", "token", self._token),
                (
                    "PUT",
                    r"/dms-uploads/sp/v2/(?P<video>[\w-]+)/uploadedVideo/(?P<part>\d+)",
                    "part",
                    self._part,
                ),
            ],
            API_HOST: self._api_routes(),
        }

    def _api_routes(self) -> list[Route]:
        return [
            ("POST", r"/rest/videos\?action=initializeUpload", "initialize_upload", self._initialize_upload),
            ("POST", r"/rest/videos\?action=finalizeUpload", "finalize_upload", self._finalize_upload),
            ("GET", r"/rest/videos/(?P<urn>[^/]+)", "video", self._video),
            ("POST", r"/rest/posts", "create_post", self._create_post),
            ("GET", r"/rest/posts", "find_posts", self._find_posts),
            ("GET", r"/rest/posts/(?P<urn>[^/]+)", "get_post", self._get_post),
            ("GET", r"/rest/organizationalEntityShareStatistics", "share_statistics", self._share_statistics),
            ("GET", r"/rest/memberCreatorPostAnalytics", "member_analytics", self._member_analytics),
            ("GET", r"/rest/organizationAcls", "organization_acls", self._organization_acls),
            ("GET", r"/v2/userinfo", "userinfo", self._userinfo),
        ]

    def dispatch(self, request: Request) -> tuple[Response | None, Fault | None]:
        """Rest.li actions share one path; routing on the action lets a fault aim at either of them."""
        if request.method == "POST" and request.path == "/rest/videos":
            request.path = f"{request.path}?action={request.query.get('action', '')}"
        if request.method != "PUT" or not request.path.startswith("/dms-uploads/"):
            return super().dispatch(request)
        with self._lock:
            self._parts_now += 1
            self.most_parts_at_once = max(self.most_parts_at_once, self._parts_now)
        try:
            return super().dispatch(request)
        finally:
            with self._lock:
                self._parts_now -= 1

    # --- Steering and inspection (tests, demo) ---------------------------------------------------------

    def issue_tokens(self) -> TokenGrant:
        """Tokens as the authorization-code grant would hand them out."""
        grant = self.tokens.issue()
        with self._lock:
            self._issued.add(grant.access_token)
            self._refresh_expiry[grant.refresh_token] = time.time() + self.refresh_lifetime_s
        return grant

    def throttle(self, route: str, times: int = 1) -> None:
        """LinkedIn's 429: no rate-limit headers, only the body naming the exhausted daily counter."""
        self.rate_limit_next(route, times=times)

    def throttled(self, wait_s: float | None, route: str) -> Response:
        """LinkedIn says nothing of how long to wait: the daily counters reset at midnight UTC."""
        return Response(429, dict(THROTTLE_BODY))

    def fail(self, route: str, status: int = 500, times: int = 1) -> None:
        """A server error on the next `times` calls of `route` (as fail_next)."""
        self.fail_next(route, status, times)

    def server_error(self, status: int, route: str) -> Response:
        """(body shape [U])"""
        return Response(status, {"status": status, "message": HTTPStatus(status).phrase})

    def fail_part(self, index: int, status: int = 500, times: int = 1) -> None:
        """A server error on the next `times` uploads of part `index` (of any video), aimed at one part."""
        with self._lock:
            self._failing_parts[index] = (status, times)

    def reject_next_processing(self, reason: str = "The video could not be transcoded") -> None:
        """The next finalized video ends in PROCESSING_FAILED with `reason`."""
        self._rejection = reason

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Every post: its fields as sent, the text a member sees, and the sha256 and size of its video."""
        with self._lock:
            return [
                {
                    "id": post.urn,
                    "author": post.body["author"],
                    "commentary": post.body["commentary"],
                    "text": visible_text(post.body["commentary"]),
                    "title": post.body["content"]["media"].get("title"),
                    "media_id": post.video.urn,
                    "visibility": post.body["visibility"],
                    "lifecycle_state": post.body["lifecycleState"],
                    "distribution": post.body["distribution"],
                    "sha256": post.video.sha256,
                    "size": post.video.size,
                }
                for post in self._posts
            ]

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every video upload: its size, parts announced and received, processing status and sha256, and
        whether the running hash holds every part (finalize then reads nothing back)."""
        with self._lock:
            return [
                {
                    "urn": video.urn,
                    "size": video.size,
                    "parts": len(video.ranges),
                    "uploaded_parts": len(video.etags),
                    "status": video.status,
                    "sha256": video.sha256,
                    "hashed_as_parts_arrived": video.running is not None
                    and video.hashed_parts == len(video.ranges),
                }
                for video in self._videos.values()
            ]

    def metrics_for(self, urn: str) -> dict[str, Any]:
        """A post's lifetime statistics as of the sandbox's now (a function of its URN and age: the
        same all day, growing with age)."""
        post = self._find(urn)
        published = self.now() if post is None else _posted(post)
        return _statistics(lifetime_activity(urn, published, self.now()))

    def daily_statistics(self, urn: str, first: date, last: date) -> dict[date, dict[str, Any]]:
        """A post's statistics for each day from `first` to `last` (from its publication day on)."""
        post = self._find(urn)
        if post is None:
            return {}
        return {
            day: _statistics(values)
            for day, values in activity_between(urn, _posted(post), first, last).items()
        }

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the post (its URN) was created `days` earlier."""
        with self._lock:
            post = next(post for post in self._posts if post.urn == post_id)
            post.created_at_ms -= round(days * 86_400_000)

    # --- Guards ----------------------------------------------------------------------------------------

    def _guard(self, request: Request) -> Response | None:
        """What every /rest call must carry: an active version, Rest.li 2.0, and a live access token."""
        version = request.headers.get("linkedin-version")
        if not version:
            return error(  # [U] wording
                400,
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        if version not in self.versions:
            shown = f"{version}01" if len(version) == 6 else version
            return error(426, f"Requested version {shown} is not active", "NONEXISTENT_VERSION")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":  # [U] status and wording
            return error(
                400, "X-Restli-Protocol-Version: 2.0.0 is required for Rest.li 2.0 syntax", "BAD_REQUEST"
            )
        token = bearer_token(request)
        if self.tokens.valid(token):
            return None
        if token in self._issued:
            return error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN")
        return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)

    def _denied(self, what: str) -> Response:
        return error(403, f"Not enough permissions to access: {what}", "ACCESS_DENIED", 100)

    @staticmethod
    def _path_urn(request: Request) -> str | None:
        """A URN path key; Rest.li 2.0 wants it URL-encoded, so a raw colon is refused."""
        raw = request.params["urn"]
        return None if ":" in raw else unquote(raw)

    # --- OAuth -----------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return Response(400, {"error": "invalid_request", "error_description": "expected a form body"})
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response(
                401, {"error": "invalid_client", "error_description": "Client authentication failed"}
            )
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form)
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        refresh_token = form.get("refresh_token", "")
        expires = self._refresh_expiry.get(refresh_token, 0.0)
        grant = self.tokens.refresh(refresh_token) if expires > time.time() else None
        if grant is None:
            return Response(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "The provided authorization grant or refresh token is invalid, "
                    "expired or revoked",
                },
            )
        with self._lock:
            self._issued.add(grant.access_token)
        return Response(
            200,
            {
                "access_token": grant.access_token,
                "expires_in": int(self.tokens.lifetime_s),
                "refresh_token": grant.refresh_token,
                "refresh_token_expires_in": int(expires - time.time()),
                "scope": SCOPES,
            },
        )

    def _code_grant(self, form: dict[str, str]) -> Response:
        """grant_type, code, client_id, client_secret, redirect_uri -> a 60-day token and a refresh token."""
        try:
            approved = self.codes.redeem(
                form.get("code", ""),
                client_id=form["client_id"],
                redirect_uri=form.get("redirect_uri", ""),
                verifier=form.get("code_verifier"),
            )
        except CodeRefusedError:
            return Response(400, {"error": "invalid_request", "error_description": CODE_REFUSED})
        grant = self.issue_tokens()
        return Response(
            200,
            {
                "access_token": grant.access_token,
                "expires_in": int(self.tokens.lifetime_s),
                "refresh_token": grant.refresh_token,
                "refresh_token_expires_in": int(self.refresh_lifetime_s),
                "scope": ",".join(approved.scopes),
            },
        )

    # --- Videos API ------------------------------------------------------------------------------------

    def _sign(self, video_id: str, index: int, expires_ms: int) -> str:
        message = f"{video_id}/{index}/{expires_ms}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()[:32]

    def _initialize_upload(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        body = _json(request)
        upload = body.get("initializeUploadRequest") if isinstance(body, dict) else None
        if not isinstance(upload, dict):
            return invalid("/initializeUploadRequest", "field is required but not found")
        owner, size = upload.get("owner"), upload.get("fileSizeBytes")
        if owner != self.author:
            return self._denied(f"videos.INITIALIZE_UPLOAD for owner {owner}")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= self.max_file_bytes:
            return invalid("/initializeUploadRequest/fileSizeBytes", f"must be 1-{self.max_file_bytes} bytes")
        for flag in ("uploadCaptions", "uploadThumbnail"):
            if not isinstance(upload.get(flag, False), bool):
                return invalid(f"/initializeUploadRequest/{flag}", "must be a boolean")
        video_id = f"D4E10AQ{self.next_id():05d}{secrets.token_hex(6)}"
        ranges = [(start, min(start + self.part_size, size) - 1) for start in range(0, size, self.part_size)]
        expires_ms = int((time.time() + self.url_lifetime_s) * 1000)
        path = self.stored_file(f"{video_id}.mp4")
        with path.open("wb") as handle:
            handle.truncate(size)
        video = SandboxVideo(
            urn=f"urn:li:video:{video_id}",
            owner=owner,
            size=size,
            upload_token=secrets.token_urlsafe(12) if len(ranges) > 1 else "",
            ranges=ranges,
            expires_at_ms=expires_ms,
            path=path,
        )
        with self._lock:
            self._videos[video.urn] = video
        instructions = [
            {
                "uploadUrl": self.url(
                    "upload",
                    f"/dms-uploads/sp/v2/{video_id}/uploadedVideo/{index}"
                    f"?ca=vector_feedshare&exp={expires_ms}&sig={self._sign(video_id, index, expires_ms)}",
                ),
                "firstByte": first,
                "lastByte": last,
            }
            for index, (first, last) in enumerate(ranges)
        ]
        return Response(
            200,
            {
                "value": {
                    "uploadUrlsExpireAt": expires_ms,
                    "video": video.urn,
                    "uploadInstructions": instructions,
                    "uploadToken": video.upload_token,
                }
            },
        )

    def _part(self, request: Request) -> Response:
        """A pre-signed part upload: no bearer token needed, exactly the part's bytes, an ETag back."""
        video_id, index = request.params["video"], int(request.params["part"])
        video = self._videos.get(f"urn:li:video:{video_id}")
        if video is None or index >= len(video.ranges):
            return error(404, "No such upload")
        expires = request.query.get("exp", "")
        signature = self._sign(video_id, index, int(expires)) if expires.isdigit() else ""
        if not signature or not hmac.compare_digest(signature, request.query.get("sig", "")):
            return error(403, "The upload URL's signature does not match")
        if int(expires) < time.time() * 1000:
            return error(403, "The upload URL has expired")
        if video.status != "WAITING_UPLOAD":
            return error(400, f"The upload of {video.urn} was already finalized")
        length = request.content_length
        if length is None:
            return error(411, "Content-Length is required")
        first, last = video.ranges[index]
        if length != last - first + 1:
            return error(
                400, f"Part {index} takes bytes {first}-{last} ({last - first + 1} bytes), got {length}"
            )
        with self._lock:
            status, times = self._failing_parts.pop(index, (200, 0))
            if times > 1:
                self._failing_parts[index] = (status, times - 1)
        if times:
            return error(status, "Internal Server Error")
        with self._turns:
            in_order = self._take_turn(video, index)
        digest = video.running.copy() if in_order else hashlib.sha256()
        copied = 0
        try:
            with video.path.open("r+b") as handle:
                handle.seek(first)
                copied = request.copy_body_to(handle, digest)
        finally:
            with self._turns:
                video.receiving.discard(index)
                if copied == length:
                    video.etags[index] = f"/ambry-video/{video_id}-{index}-{digest.hexdigest()[:16]}"
                    if in_order and video.running is not None:
                        video.running, video.hashed_parts = digest, index + 1
                    self._catch_up(video)
                self._turns.notify_all()
        if copied != length:
            return error(400, f"Part {index} ended after {copied} of {length} bytes")
        return Response(200, None, {"ETag": video.etags[index]})

    def _take_turn(self, video: SandboxVideo, index: int) -> bool:
        """Whether part `index` extends the running hash as it streams (call holding `_turns`).

        It waits while every part before it, back to the hash's end, is still arriving. An in-order part's
        ETag then digests the file up to its last byte, an out-of-order one's its own bytes ([U]: ETags are
        opaque).
        """
        if index in video.receiving or index < video.hashed_parts:
            video.running = None  # a re-sent part: the bytes already hashed may change
        video.receiving.add(index)
        self._turns.wait_for(
            lambda: (
                video.running is None
                or index <= video.hashed_parts
                or any(earlier not in video.receiving for earlier in range(video.hashed_parts, index))
            ),
            timeout=TURN_WAIT_S,
        )
        return video.running is not None and index == video.hashed_parts

    def _catch_up(self, video: SandboxVideo) -> None:
        """Fold parts that arrived ahead of their turn into the running hash, once their turn has come."""
        while (
            video.running is not None
            and video.hashed_parts in video.etags
            and video.hashed_parts not in video.receiving
        ):
            first, last = video.ranges[video.hashed_parts]
            with video.path.open("rb") as handle:
                handle.seek(first)
                remaining = last - first + 1
                while remaining > 0 and (block := handle.read(min(READ_BLOCK, remaining))):
                    video.running.update(block)
                    remaining -= len(block)
            video.hashed_parts += 1

    def _finalize_upload(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        body = _json(request)
        final = body.get("finalizeUploadRequest") if isinstance(body, dict) else None
        if not isinstance(final, dict):
            return invalid("/finalizeUploadRequest", "field is required but not found")
        video = self._videos.get(str(final.get("video")))
        if video is None:
            return error(404, f"Video {final.get('video')} does not exist", "NOT_FOUND")
        if video.owner != self.author:
            return self._denied(f"videos.FINALIZE_UPLOAD for {video.urn}")
        if video.status != "WAITING_UPLOAD":  # [U] status and wording
            return error(400, f"Video {video.urn} is not waiting for an upload (status {video.status})")
        if final.get("uploadToken", "") != video.upload_token:
            return invalid("/finalizeUploadRequest/uploadToken", "does not match the upload")
        missing = [index for index in range(len(video.ranges)) if index not in video.etags]
        if missing:
            return invalid("/finalizeUploadRequest/uploadedPartIds", f"parts {missing} were never uploaded")
        if final.get("uploadedPartIds") != [video.etags[index] for index in range(len(video.ranges))]:
            return invalid(
                "/finalizeUploadRequest/uploadedPartIds", "do not match the uploaded parts, in order"
            )
        with self._turns:
            whole = video.running is not None and video.hashed_parts == len(video.ranges)
            digest = video.running.hexdigest() if whole else None
        digest = digest or self.sha256(video.path)
        with self._lock:
            video.sha256 = digest
            video.status = "PROCESSING"
            video.polls_left = self.processing_polls
            video.failure, self._rejection = self._rejection, None
        return Response(200)

    def _video(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        urn = self._path_urn(request)
        if urn is None:
            return error(400, "URNs in the path must be URL-encoded (Rest.li 2.0)")
        video = self._videos.get(urn)
        if video is None:
            return error(404, f"Video {urn} does not exist", "NOT_FOUND")
        with self._lock:
            if video.status == "PROCESSING":
                if video.polls_left > 0:
                    video.polls_left -= 1
                else:
                    video.status = "AVAILABLE" if video.failure is None else "PROCESSING_FAILED"
            answer: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": video.status}
            if video.status == "PROCESSING_FAILED":
                answer["processingFailureReason"] = video.failure  # [U] field name
        return Response(200, answer)

    # --- Posts API -------------------------------------------------------------------------------------

    def _create_post(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        body = _json(request)
        if not isinstance(body, dict):
            return invalid("/", "a JSON object is required")
        if body.get("author") != self.author:
            return self._denied(f"partnerApiPostsExternal.CREATE for author {body.get('author')}")
        problem = _post_problem(body)
        if problem is not None:
            return problem
        media_id = body["content"]["media"]["id"]
        video = self._videos.get(media_id)
        if video is None or video.owner != self.author:
            return invalid("/content/media/id", f"{media_id} does not exist")
        if video.status != "AVAILABLE":  # [U] wording
            return invalid("/content/media/id", f"{media_id} is not ready (status {video.status})")
        with self._lock:
            earlier = next(
                (post for post in self._posts if post.body["commentary"] == body["commentary"]), None
            )
            if earlier is not None:
                return error(422, f"Content is a duplicate of {earlier.urn}", "DUPLICATE_POST")  # [U] code
            urn = f"urn:li:share:{7_400_000_000_000_000_000 + self.next_id()}"
            self._posts.append(SandboxPost(urn, body, video, int(self.now().timestamp() * 1000)))
        return Response(201, None, {"x-restli-id": urn})

    def _get_post(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        urn = self._path_urn(request)
        if urn is None:
            return error(400, "URNs in the path must be URL-encoded (Rest.li 2.0)")
        post = self._find(urn)
        if post is None:
            return error(404, f"Post {urn} does not exist", "NOT_FOUND")
        return Response(200, post.element())

    def _find_posts(self, request: Request) -> Response:
        """The `q=author` finder, newest first, paged with start/count."""
        if (refused := self._guard(request)) is not None:
            return refused
        if request.query.get("q") != "author":
            return error(400, f"Unsupported finder q={request.query.get('q')}")
        if request.query.get("author") != self.author:
            return self._denied(f"partnerApiPostsExternal.FINDER-author for {request.query.get('author')}")
        start_text, count_text = request.query.get("start", "0"), request.query.get("count", "10")
        if not (start_text.isdigit() and count_text.isdigit()) or not 1 <= int(count_text) <= 100:
            return error(400, "start must be >= 0 and count 1-100")
        start, count = int(start_text), int(count_text)
        with self._lock:
            newest_first = sorted(self._posts, key=lambda post: post.created_at_ms, reverse=True)
            elements = [post.element() for post in newest_first[start : start + count]]
        return Response(200, {"elements": elements, "paging": {"start": start, "count": count, "links": []}})

    def _find(self, urn: str) -> SandboxPost | None:
        with self._lock:
            return next((post for post in self._posts if post.urn == urn), None)

    # --- Who the token is: organization access control, OpenID Connect userinfo ---------------------------

    def _organization_acls(self, request: Request) -> Response:
        """The `q=roleAssignee` finder: the authenticated member's roles, filtered by `role` and `state`
        (only APPROVED ones exist here), paged with start/count."""
        if (refused := self._guard(request)) is not None:
            return refused
        query = request.query
        if query.get("q") != "roleAssignee":
            return error(400, f"Unsupported finder q={query.get('q')} (this sandbox serves q=roleAssignee)")
        role = query.get("role")
        if role is not None and role not in ACL_ROLES:
            return error(400, f"Invalid value {role} for role")
        start_text, count_text = query.get("start", "0"), query.get("count", "10")
        if not (start_text.isdigit() and count_text.isdigit()) or not 1 <= int(count_text) <= 100:
            return error(400, "start must be >= 0 and count 1-100")
        start, count = int(start_text), int(count_text)
        with self._lock:
            elements = [
                {"roleAssignee": self.member, "state": "APPROVED", "role": held, "organization": organization}
                for organization, held in sorted(self.organization_roles.items())
                if role in (None, held) and query.get("state", "APPROVED") == "APPROVED"
            ]
        return Response(
            200,
            {
                "elements": elements[start : start + count],
                "paging": {"start": start, "count": count, "total": len(elements), "links": []},
            },
        )

    def _userinfo(self, request: Request) -> Response:
        """OpenID Connect's userinfo (unversioned /v2): the member the token belongs to."""
        token = bearer_token(request)
        if not self.tokens.valid(token):
            if token in self._issued:
                return error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN")
            return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        given, _, family = MEMBER_NAME.partition(" ")
        return Response(
            200,
            {
                "sub": self.member.removeprefix("urn:li:person:"),
                "name": MEMBER_NAME,
                "given_name": given,
                "family_name": family,
                "locale": {"country": "US", "language": "en"},
                "email_verified": False,
            },
        )

    # --- Analytics -------------------------------------------------------------------------------------

    def _share_statistics(self, request: Request) -> Response:
        """Organic statistics of named shares: lifetime without timeIntervals, else per day (or month)
        within the rolling 12 months (this sandbox has no page totals)."""
        if (refused := self._guard(request)) is not None:
            return refused
        query = request.query
        organization = query.get("organizationalEntity")
        if query.get("q") != "organizationalEntity" or not organization:
            return error(400, "q=organizationalEntity and organizationalEntity are required")
        if not self.author.startswith("urn:li:organization:") or organization != self.author:
            return self._denied(f"organizationalEntityShareStatistics for {organization}")
        intervals = _time_intervals(query)
        if isinstance(intervals, Response):
            return intervals
        requested: list[tuple[str, str]] = []
        for parameter, key in (("shares", "share"), ("ugcPosts", "ugcPost")):
            if parameter in query:
                match = _LIST.fullmatch(query[parameter])
                if match is None:
                    return error(400, f"{parameter} must be List(urn,...)")
                requested += [(key, urn) for urn in match.group(1).split(",") if urn]
        if not requested:
            return error(400, "this sandbox serves per-post statistics only; name them in shares=List(...)")
        if intervals is None:
            elements = [
                {
                    "organizationalEntity": organization,
                    key: urn,
                    "totalShareStatistics": self.metrics_for(urn),
                }
                for key, urn in requested
                if self._find(urn) is not None
            ]
        else:
            start_ms, end_ms, granularity = intervals
            if start_ms < _ms(self.now() - timedelta(days=STATISTICS_HISTORY_DAYS)):
                return error(
                    400, "timeIntervals.timeRange.start must be within the past 12 months (a rolling window)"
                )
            elements = [
                element
                for key, urn in requested
                for element in self._interval_elements(organization, key, urn, start_ms, end_ms, granularity)
            ]
        return Response(
            200, {"elements": elements, "paging": {"start": 0, "count": len(elements), "links": []}}
        )

    def _interval_elements(
        self, organization: str, key: str, urn: str, start_ms: int, end_ms: int, granularity: str
    ) -> list[dict[str, Any]]:
        """Time-bound statistics of one post: one element per day (or month) of the range, up to now."""
        end_ms = min(end_ms, _ms(self.now()))
        if self._find(urn) is None or end_ms <= start_ms:
            return []
        first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
        last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
        buckets: dict[date, dict[str, Any]] = {}
        for day, values in self.daily_statistics(urn, first, last).items():
            bucket = day if granularity == "DAY" else day.replace(day=1)
            if bucket in buckets:
                totals = buckets[bucket]
                for name in COUNT_FIELDS:
                    totals[name] += values[name]
                totals["engagement"] = _engagement(totals)
            else:
                buckets[bucket] = dict(values)
        elements = []
        for bucket, statistics in buckets.items():
            following = bucket + timedelta(days=1) if granularity == "DAY" else _next_month(bucket)
            elements.append(
                {
                    "organizationalEntity": organization,
                    key: urn,
                    "timeRange": {"start": _ms(_midnight(bucket)), "end": _ms(_midnight(following))},
                    "totalShareStatistics": statistics,
                }
            )
        return elements

    def _member_analytics(self, request: Request) -> Response:
        """A member's post analytics: one metric per call, TOTAL or DAILY."""
        if (refused := self._guard(request)) is not None:
            return refused
        query = request.query
        if query.get("q") != "entity":
            return error(400, "q=entity is required")
        if not self.author.startswith("urn:li:person:"):
            return self._denied("memberCreatorPostAnalytics (the token's member has no such posts)")
        match = _ENTITY.fullmatch(query.get("entity", ""))
        metric, aggregation = query.get("queryType", ""), query.get("aggregation", "")
        if match is None or metric not in MEMBER_METRICS or aggregation not in ("TOTAL", "DAILY"):
            return error(
                400, "entity=(share:urn) or (ugc:urn), queryType and aggregation TOTAL|DAILY are required"
            )
        kind, urn = match.groups()
        post = self._find(urn)
        if post is None:
            return error(404, f"Post {urn} does not exist", "NOT_FOUND")
        if aggregation == "TOTAL":
            elements: list[dict[str, Any]] = [
                {
                    "count": self.metrics_for(urn)[MEMBER_METRICS[metric]],
                    "metricType": metric,
                    "targetEntity": {kind: urn},
                }
            ]
        else:
            days = self.daily_statistics(urn, _posted(post).date(), self.now().date())
            elements = [
                {
                    "count": values[MEMBER_METRICS[metric]],
                    "metricType": metric,
                    "targetEntity": {kind: urn},
                    "dateRange": {"start": _date(day), "end": _date(day + timedelta(days=1))},
                }
                for day, values in days.items()
            ]
        paging = {"start": 0, "count": len(elements), "links": []}
        return Response(200, {"elements": elements, "paging": paging})


def _json(request: Request) -> Any:
    """The JSON body, or None when it is missing or malformed (the handlers then answer 422)."""
    try:
        return request.json()
    except ValueError:
        return None


STATISTICS_HISTORY_DAYS = 365  # "only within the past 12 months, using a rolling 12-month window"
COUNT_FIELDS = (
    "impressionCount", "uniqueImpressionsCount", "likeCount", "commentCount", "shareCount", "clickCount"
)  # fmt: skip
_TIME_INTERVALS = re.compile(
    r"\(timeRange:\(start:(?P<start>\d+),end:(?P<end>\d+)\),timeGranularityType:(?P<kind>[A-Z]+)\)"
    r"|\(timeGranularityType:(?P<kind2>[A-Z]+),timeRange:\(start:(?P<start2>\d+),end:(?P<end2>\d+)\)\)"
)


def _statistics(values: dict[str, int]) -> dict[str, Any]:
    """totalShareStatistics from a post's activity (lifetime or one day's)."""
    statistics: dict[str, Any] = {
        "impressionCount": values["impressions"],
        "uniqueImpressionsCount": values["reach"],
        "likeCount": values["likes"],
        "commentCount": values["comments"],
        "shareCount": values["shares"],
        "clickCount": values["clicks"],
    }
    statistics["engagement"] = _engagement(statistics)
    return statistics


def _engagement(statistics: dict[str, Any]) -> float:
    engaged = sum(statistics[name] for name in ("likeCount", "commentCount", "shareCount", "clickCount"))
    return round(engaged / statistics["impressionCount"], 6) if statistics["impressionCount"] else 0.0


def _time_intervals(query: dict[str, str]) -> tuple[int, int, str] | Response | None:
    """timeIntervals in Rest.li 2.0 syntax `(timeRange:(start:MS,end:MS),timeGranularityType:DAY)`, or
    the older dotted parameters; None when absent (lifetime statistics)."""
    dotted = {name: value for name, value in query.items() if name.startswith("timeIntervals.")}
    if "timeIntervals" in query:
        match = _TIME_INTERVALS.fullmatch(query["timeIntervals"])
        if match is None:
            return error(
                400,
                "timeIntervals must be "
                "(timeRange:(start:<epoch ms>,end:<epoch ms>),timeGranularityType:DAY|MONTH)",
            )
        start = match.group("start") or match.group("start2")
        end = match.group("end") or match.group("end2")
        kind = match.group("kind") or match.group("kind2")
    elif dotted:
        start = dotted.get("timeIntervals.timeRange.start", "")
        end = dotted.get("timeIntervals.timeRange.end", "")
        kind = dotted.get("timeIntervals.timeGranularityType", "")
        if not (start.isdigit() and end.isdigit()):
            return error(400, "timeIntervals.timeRange.start and .end must be epoch milliseconds")
    else:
        return None
    if kind not in ("DAY", "MONTH"):
        return error(400, f"timeGranularityType {kind!r} is not one of DAY, MONTH")
    if int(start) >= int(end):
        return error(400, "timeIntervals.timeRange.start must be before its end")
    return int(start), int(end), kind


def _posted(post: SandboxPost) -> datetime:
    return datetime.fromtimestamp(post.created_at_ms / 1000, UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _date(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _post_problem(body: dict[str, Any]) -> Response | None:
    """The first rule of the Posts API schema that `body` breaks, as LinkedIn words it."""
    for name in ("commentary", "visibility", "distribution", "lifecycleState", "content"):
        if name not in body:
            return invalid(f"/{name}", "field is required but not found and has no default value")
    if not isinstance(body["commentary"], str):
        return invalid("/commentary", "must be a string")
    if len(body["commentary"]) > COMMENTARY_MAX:
        return error(400, f"/commentary is longer than {COMMENTARY_MAX} characters", "FIELD_LENGTH_TOO_LONG")
    if body["visibility"] not in VISIBILITIES:
        return invalid("/visibility", f"{body['visibility']!r} is not a valid enum symbol")
    distribution = body["distribution"]
    if not isinstance(distribution, dict) or distribution.get("feedDistribution") not in FEED_DISTRIBUTIONS:
        return invalid("/distribution/feedDistribution", "field is required and must be MAIN_FEED or NONE")
    if body["lifecycleState"] not in LIFECYCLE_STATES:
        return invalid("/lifecycleState", f"{body['lifecycleState']!r} is not a valid enum symbol")
    media = body["content"].get("media") if isinstance(body["content"], dict) else None
    if not isinstance(media, dict) or not isinstance(media.get("id"), str):
        return invalid("/content/media/id", "field is required but not found")
    return None
