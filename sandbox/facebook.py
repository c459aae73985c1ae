"""SANDBOX ONLY (never used by production code): Facebook Page video publishing as Graph documents it.

Serves spec section 5 on four hosts, one port each, as Meta does:
www.facebook.com (the "consent" root)
- GET  /v25.0/dialog/oauth                   Facebook Login's consent page, approving at once
rupload.facebook.com (the "upload" root: only ever the `upload_url` a Reel's start hands out)
- POST /video-upload/v25.0/{video-id}        rupload: Authorization: OAuth, offset, file_size (sandbox/graph)
- GET  /video-upload/v25.0/{video-id}        refused with 405: rupload documents no GET
graph-video.facebook.com (the "video" root)
- POST /v25.0/{page-id}/videos               graph-video chunked flow: start (file_size) -> session + range;
                                             transfer (multipart video_file_chunk at start_offset) -> the
                                             next range, or error subcode 1363037 naming the range it wants;
                                             finish (upload_session_id, title, description)
graph.facebook.com (the "api" and "oauth" roots)
- GET  /v25.0/oauth/access_token             code -> a user token; fb_exchange_token: a long-lived one
- GET  /v25.0/{page-id}?fields=access_token  the Page token, read with a user token
- POST /v25.0/{page-id}/video_reels          upload_phase=start -> {video_id, upload_url};
                                             upload_phase=finish&video_id&video_state=PUBLISHED -> success
- GET  /v25.0/{video-id}?fields=status,permalink_url   uploading / processing / publishing phases
                                             (and created_time: when the video was published)
- GET  /v25.0/{video-id}/video_insights      deterministic lifetime metrics (Reels and other videos differ)

Strictness beyond the documents is marked [U] where it is a choice: the processing error codes, the error
for the 30-Reels-per-24-h cap (documented, its error is not: code 32 with usage headers here), and
exact-range chunks on /videos (the business SDK always sends exactly [start_offset, end_offset)). Every
Graph answer carries X-App-Usage / X-Business-Use-Case-Usage; uploaded bytes stream to `data_dir` and are
hashed as they arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sandbox.common import (
    DropConnectionError,
    Fault,
    MultipartError,
    Request,
    Response,
    Route,
    SandboxServer,
    TokenGrant,
    TokenRegistry,
    insights_body,
    lifetime_activity,
    read_multipart,
)
from sandbox.graph import (
    GRAPH_HOST,
    GRAPH_PREFIX,
    GRAPH_VIDEO_HOST,
    RUPLOAD_HOST,
    WWW_HOST,
    Interruption,
    RollingUsage,
    RuploadSession,
    graph_error,
    graph_params,
    graph_server_error,
    invalid_parameter,
    missing_node,
    nonexisting_field,
    request_token,
    rupload_auth_error,
    rupload_error,
    rupload_get_refused,
    throttle_fault,
    throttled_response,
    token_error,
    token_exchange,
    usage_headers,
)
from sandbox.oauth import AuthorizationCodes, graph_code_exchange

REELS_WINDOW_S = 24 * 3600.0
RANGE_MISMATCH_SUBCODE = 1363037
MULTIPART_OVERHEAD = 64 * 1024
USER_TOKEN_LIFETIME_S = 60 * 86400.0
PAGE_FIELDS = frozenset({"id", "name", "access_token"})
# Facebook Login permissions for Page publishing and insights (spec 5.1).
KNOWN_SCOPES = frozenset(
    {"pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights", "business_management"}
)
VIDEO_FIELDS = frozenset(
    {"id", "title", "description", "status", "permalink_url", "published", "created_time"}
)
REELS_METRICS = (
    "blue_reels_play_count",
    "fb_reels_total_plays",
    "fb_reels_replay_count",
    "post_impressions_unique",
    "post_video_avg_time_watched",
    "post_video_view_time",
    "post_video_social_actions",
    "post_video_likes_by_reaction_type",
)
VIDEO_METRICS = (
    "total_video_views",
    "total_video_impressions",
    "total_video_avg_time_watched",
    "total_video_reactions_by_type_total",
    "total_video_stories_by_action_type",
)
_PREFIX = re.escape(GRAPH_PREFIX)


@dataclass
class ChunkedSession:
    """A graph-video upload session: the range it wants next, bytes on disk, their running sha256."""

    id: str
    path: Path
    file_size: int
    chunk_bytes: int
    received: int = 0
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)

    @property
    def complete(self) -> bool:
        return self.received == self.file_size

    def wanted(self) -> tuple[int, int]:
        return self.received, min(self.received + self.chunk_bytes, self.file_size)

    def take(self, chunk: bytes) -> None:
        with self.path.open("ab") as target:
            target.write(chunk)
        self._digest.update(chunk)
        self.received += len(chunk)

    @property
    def sha256(self) -> str:
        return str(self._digest.hexdigest())


@dataclass
class Video:
    """One uploaded video of the Page, Reel or not, and where it is in upload, processing and publishing."""

    id: str
    kind: str  # "reel" (video_reels) or "video" (chunked /videos)
    created_at: float
    upload: RuploadSession | None = None
    chunked: ChunkedSession | None = None
    title: str = ""
    description: str = ""
    processing: str = "not_started"
    publishing: str = "not_started"
    polls_left: int = 0
    rejection: tuple[str, str] | None = None  # (phase, reason)
    errors: dict[str, str] = field(default_factory=dict)
    published_at: float | None = None

    @property
    def received(self) -> int:
        if self.upload is not None:
            return self.upload.received
        return self.chunked.received if self.chunked is not None else 0

    @property
    def uploaded(self) -> bool:
        if self.upload is not None:
            return self.upload.complete
        return self.chunked is not None and self.chunked.complete

    @property
    def sha256(self) -> str | None:
        if self.upload is not None:
            return self.upload.sha256
        return self.chunked.sha256 if self.chunked is not None and self.chunked.complete else None

    def video_status(self) -> str:
        if "processing" in self.errors or "publishing" in self.errors:
            return "error"
        if not self.uploaded:
            return "upload_in_progress"
        return "ready" if self.processing == "complete" else "processing"

    def status_body(self) -> dict[str, Any]:
        publishing: dict[str, Any] = {
            "status": self.publishing,
            "publish_status": "published" if self.publishing == "complete" else "not_published",
        }
        if self.published_at is not None:
            publishing["publish_time"] = int(self.published_at)
        body: dict[str, Any] = {
            "video_status": self.video_status(),
            "uploading_phase": {
                "status": "complete"
                if self.uploaded
                else ("in_progress" if self.received else "not_started"),
                "bytes_transferred": self.received,
            },
            "processing_phase": {"status": self.processing},
            "publishing_phase": publishing,
        }
        for phase, reason in self.errors.items():
            code = 6000 if phase == "processing" else 368
            body[f"{phase}_phase"]["errors"] = [{"code": code, "message": reason}]
        return body


class FacebookSandbox(SandboxServer):
    """A strict local stand-in for graph.facebook.com, graph-video.facebook.com and rupload (Page videos)."""

    name = "facebook"
    analytics_routes = ("insights",)
    roots: ClassVar[Mapping[str, str]] = {
        "api": GRAPH_HOST,
        "oauth": GRAPH_HOST,
        "video": GRAPH_VIDEO_HOST,
        "upload": RUPLOAD_HOST,
        "consent": WWW_HOST,
    }
    configured_roots = ("api", "oauth", "video")
    consent_path = "/v25.0/dialog/oauth"

    def __init__(
        self,
        data_dir: Path,
        *,
        page_id: str = "104000000000001",
        page_name: str = "PellaciaPress",
        client_id: str = "facebook-sandbox-app",
        client_secret: str = "facebook-sandbox-secret",
        processing_polls: int = 1,
        reels_per_day: int = 30,
        transfer_chunk_bytes: int = 1024 * 1024,
        token_lifetime_s: float = 3600.0,
    ) -> None:
        self.page_id = page_id
        self.page_name = page_name
        self.client_id = client_id
        self.client_secret = client_secret
        self.processing_polls = processing_polls
        self.reels_per_day = reels_per_day
        self.transfer_chunk_bytes = transfer_chunk_bytes
        self.users = TokenRegistry("fbuser", lifetime_s=USER_TOKEN_LIFETIME_S)
        self.pages = TokenRegistry("fbpage", lifetime_s=token_lifetime_s)
        self.tokens = self.pages  # what publishing takes; expire_tokens() ends them, user tokens stay
        self.codes = AuthorizationCodes(client_id=client_id, scopes=KNOWN_SCOPES, scope_separator=",")
        self._videos: dict[str, Video] = {}
        self._sessions: dict[str, Video] = {}
        self._reels_elsewhere: list[float] = []
        self.usage = RollingUsage()  # 200 calls an hour, as the usage headers report it
        self._rejection: tuple[str, str] | None = None
        self._interruption: Interruption | None = None
        self._phase_faults: list[Fault] = []
        self.upload_offsets: list[int] = []
        super().__init__(data_dir)
        self._posted_at: dict[str, dt.datetime] = {}

    def routes(self) -> dict[str, list[Route]]:
        return {
            WWW_HOST: [("GET", f"{_PREFIX}/dialog/oauth", "consent", self.codes.consent)],
            GRAPH_HOST: [
                ("GET", f"{_PREFIX}/oauth/access_token", "token", self._token),
                ("POST", rf"{_PREFIX}/(?P<page>\d+)/video_reels", "reels", self._reels),
                ("GET", rf"{_PREFIX}/(?P<node>\d+)/video_insights", "insights", self._insights),
                ("GET", rf"{_PREFIX}/(?P<node>\d+)", "node", self._node),
            ],
            GRAPH_VIDEO_HOST: [("POST", rf"{_PREFIX}/(?P<page>\d+)/videos", "videos", self._videos_edge)],
            RUPLOAD_HOST: [
                ("POST", rf"/video-upload{_PREFIX}/(?P<video>\d+)", "upload", self._upload),
                ("GET", rf"/video-upload{_PREFIX}/(?P<video>\d+)", "upload_get", rupload_get_refused),
            ],
        }

    # --- steering and inspection (tests, demo) -------------------------------------------------------

    def issue_tokens(self) -> TokenGrant:
        """A Page token to publish with, and (as `refresh_token`) the long-lived user token it came from."""
        user = self.users.issue()
        page = self.pages.issue()
        return TokenGrant(page.access_token, user.access_token, page.expires_at)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Finished (committed) publications, oldest first: id, kind, title, description, sha256, size..."""
        with self._lock:
            return [
                {
                    "id": video.id,
                    "kind": video.kind,
                    "title": video.title,
                    "description": video.description,
                    "sha256": video.sha256,
                    "size": video.received,
                    "permalink_url": self._permalink(video),
                    "published": video.publishing == "complete",
                    "published_at": video.published_at,
                }
                for video in sorted(self._videos.values(), key=lambda v: v.published_at or 0.0)
                if video.published_at is not None
            ]

    def video(self, video_id: str) -> Video:
        return self._videos[video_id]

    def metrics(self, video_id: str) -> dict[str, Any]:
        """The lifetime metrics /video_insights reports for a published video, as of the sandbox's now
        (a function of its id and age: the same all day, growing with age)."""
        with self._lock:
            video = self._videos[video_id]
            posted = self._posted_at.get(video_id, self.now())
        return _metrics(video, lifetime_activity(video_id, posted, self.now()))

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the video was published `days` earlier (the Reels 24-hour cap, counted on the real
        clock, is unaffected)."""
        with self._lock:
            self._posted_at[post_id] = self._posted_at[post_id] - dt.timedelta(days=days)

    def reject_next_processing(
        self, reason: str = "The video file is corrupt.", phase: str = "processing"
    ) -> None:
        """The next uploaded video fails in `phase`: "processing" (bad media) or "publishing" (refused)."""
        if phase not in ("processing", "publishing"):
            raise ValueError("phase must be 'processing' or 'publishing'")
        self._rejection = (phase, reason)

    def interrupt_next_upload(self, after_bytes: int, *, drop: bool = False) -> None:
        """The next rupload keeps `after_bytes`, then answers 500 (or drops the connection)."""
        self._interruption = Interruption(after_bytes, drop)

    def fail_phase(self, fault: Fault) -> None:
        """A fault for one upload phase: route "reels_start", "reels_finish", "video_start",
        "video_transfer" or "video_finish" (the path-level routes "reels"/"videos" hit any phase)."""
        with self._lock:
            self._phase_faults.append(fault)

    def throttle(self, route: str, *, code: int = 4, regain_minutes: float = 1.0, times: int = 1) -> None:
        """Meta throttling on `route`: HTTP 400, code 4/17/32/613, usage headers with the wait."""
        self.inject(
            throttle_fault(
                route, self.page_id, code=code, regain_minutes=regain_minutes, times=times, use_case="pages"
            )
        )

    def throttled(self, wait_s: float | None, route: str) -> Response:
        regain_minutes = 1.0 if wait_s is None else wait_s / 60
        return throttled_response(self.page_id, regain_minutes=regain_minutes, use_case="pages")

    def server_error(self, status: int, route: str) -> Response:
        if route == "upload":
            return rupload_error(status, "ProcessingFailedError", "Request processing failed", retriable=True)
        return graph_server_error(status)

    def use_reels_quota(self, reels: int) -> None:
        """Count `reels` published elsewhere (another app, the Page's own tools) in the current 24 h."""
        self._reels_elsewhere.extend([time.time()] * reels)

    # --- Graph plumbing -----------------------------------------------------------------------------

    def _graph(self, response: Response) -> Response:
        usage = usage_headers(self.page_id, call_count=self.usage.count_call(), use_case="pages")
        response.headers.update(
            {name: value for name, value in usage.items() if name not in response.headers}
        )
        return response

    def _authorised(
        self, request: Request, params: dict[str, str], page: str | None = None
    ) -> Response | None:
        failure = token_error(request_token(request, params), self.pages)
        if failure is None and page is not None and page != self.page_id:
            failure = missing_node(page, request.method.lower())
        return failure

    def _phase_fault(self, phase: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._phase_faults if f.route == phase), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._phase_faults.remove(fault)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
            return None
        return fault

    def _token(self, request: Request) -> Response:
        """A `code` from the consent page gives a user token (no grant_type, as documented); a user token
        gives a long-lived one with fb_exchange_token. Page tokens are read with it from the Page node."""
        params = graph_params(request)
        if "code" in params:
            return self._graph(graph_code_exchange(params, self.codes, self.users, self.client_secret))
        return self._graph(token_exchange(params, self.users, self.client_id, self.client_secret))

    # --- Reels ---------------------------------------------------------------------------------------

    def _reels(self, request: Request) -> Response:
        params = graph_params(request)
        failure = self._authorised(request, params, request.params["page"])
        if failure is not None:
            return self._graph(failure)
        phase = params.get("upload_phase", "")
        if phase not in ("start", "finish"):
            return self._graph(invalid_parameter("upload_phase must be one of start, finish"))
        fault = self._phase_fault(f"reels_{phase}")
        before = _before_commit(fault)
        if before is not None:
            return self._graph(before)
        answer = self._start_reel() if phase == "start" else self._finish_reel(params)
        _after_commit(fault)
        return self._graph(answer)

    def _start_reel(self) -> Response:
        with self._lock:
            video_id = self._new_video_id()
            self._videos[video_id] = Video(
                video_id, "reel", time.time(), upload=RuploadSession(self.stored_file(f"{video_id}.mp4"))
            )
        upload_url = self.url("upload", f"/video-upload{GRAPH_PREFIX}/{video_id}")
        return Response(200, {"video_id": video_id, "upload_url": upload_url})

    def _finish_reel(self, params: dict[str, str]) -> Response:
        video_id = params.get("video_id", "")
        with self._lock:
            video = self._videos.get(video_id)
            if not video_id or video is None or video.kind != "reel":
                return invalid_parameter(f"video_id {video_id!r} is not a reel uploaded to this Page")
            state = params.get("video_state")
            if state != "PUBLISHED":
                return invalid_parameter(
                    f"video_state {state!r} is not served by this sandbox; use video_state=PUBLISHED"
                )
            problem = self._unfinishable(video) or self._reels_cap_reached()
            if problem is not None:
                return problem
            self._commit(video, params.get("title", ""), params.get("description", ""))
        return Response(200, {"success": True, "post_id": f"{self.page_id}_{video_id}"})

    def _reels_cap_reached(self) -> Response | None:
        """30 API-published Reels in a moving 24 h [V]; the error for it is undocumented [U]."""
        since = time.time() - REELS_WINDOW_S
        moments = sorted(
            [v.published_at for v in self._videos.values() if v.kind == "reel" and v.published_at is not None]
            + self._reels_elsewhere
        )
        recent = [moment for moment in moments if moment >= since]
        if len(recent) < self.reels_per_day:
            return None
        regain_minutes = max(1.0, (recent[0] + REELS_WINDOW_S - time.time()) / 60.0)
        return graph_error(
            32,
            "(#32) Page request limit reached",
            user_title="Reels publishing limit reached",
            user_msg=f"A Page can publish {self.reels_per_day} reels through the API in 24 hours.",
            headers=usage_headers(
                self.page_id, call_count=100, regain_minutes=regain_minutes, use_case="pages"
            ),
        )

    def _upload(self, request: Request) -> Response:
        video = self._videos.get(request.params["video"])
        failure = rupload_auth_error(request, self.pages)
        if failure is None and (video is None or video.upload is None):
            failure = rupload_error(404, "NotFound", "no reel upload with this id", retriable=False)
        elif failure is None and video is not None and video.published_at is not None:
            failure = rupload_error(400, "BadRequest", "the reel was already finished", retriable=False)
        if failure is not None:
            request.drain()
            return failure
        assert video is not None and video.upload is not None
        offset = request.headers.get("offset", "")
        if offset.isdigit():
            self.upload_offsets.append(int(offset))
        interruption, self._interruption = self._interruption, None
        response = video.upload.receive(request, interruption)
        if video.upload.complete:
            self._uploaded(video)
        return response

    # --- other Page videos (graph-video, chunked) ---------------------------------------------------

    def _videos_edge(self, request: Request) -> Response:
        chunk: bytes | None = None
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            params = graph_params(request)
        elif (request.content_length or 0) > self.transfer_chunk_bytes + MULTIPART_OVERHEAD:
            request.drain()
            return self._graph(invalid_parameter("the body is larger than any range this session asks for"))
        else:
            # A transfer holds one range of at most transfer_chunk_bytes (larger bodies are refused
            # unread above), so the chunk is kept in memory: bounded by the range, not by the file.
            received = io.BytesIO()
            try:
                fields, files = read_multipart(
                    request,
                    files=("video_file_chunk",),
                    open_file=lambda _name, _fields: nullcontext(received),
                )
            except MultipartError:
                return self._graph(invalid_parameter("the multipart/form-data body could not be read"))
            params = {**request.query, **fields}
            chunk = received.getvalue() if "video_file_chunk" in files else None
        failure = self._authorised(request, params, request.params["page"])
        if failure is not None:
            return self._graph(failure)
        phase = params.get("upload_phase", "")
        if phase not in ("start", "transfer", "finish"):
            return self._graph(
                invalid_parameter(
                    "this sandbox serves the chunked upload: upload_phase start, transfer, finish"
                )
            )
        fault = self._phase_fault(f"video_{phase}")
        before = _before_commit(fault)
        if before is not None:
            return self._graph(before)
        if phase == "start":
            answer = self._start_video(params)
        elif phase == "transfer":
            answer = self._transfer(params, chunk)
        else:
            answer = self._finish_video(params)
        _after_commit(fault)
        return self._graph(answer)

    def _start_video(self, params: dict[str, str]) -> Response:
        size = params.get("file_size", "")
        if not size.isdigit() or int(size) == 0:
            return invalid_parameter("The parameter file_size is required (bytes, more than 0)")
        with self._lock:
            video_id = self._new_video_id()
            session = ChunkedSession(
                str(secrets.randbelow(10**15) + 10**15),
                self.stored_file(f"{video_id}.mp4"),
                int(size),
                self.transfer_chunk_bytes,
            )
            video = Video(video_id, "video", time.time(), chunked=session)
            self._videos[video_id] = video
            self._sessions[session.id] = video
        start, end = session.wanted()
        return Response(
            200,
            {
                "upload_session_id": session.id,
                "video_id": video_id,
                "start_offset": str(start),
                "end_offset": str(end),
            },
        )

    def _transfer(self, params: dict[str, str], chunk: bytes | None) -> Response:
        with self._lock:
            video = self._sessions.get(params.get("upload_session_id", ""))
            if video is None or video.chunked is None:
                return invalid_parameter("Invalid upload_session_id")
            session = video.chunked
            start, end = session.wanted()
            offset = params.get("start_offset", "")
            if chunk is None:
                return invalid_parameter("The parameter video_file_chunk is required")
            if session.complete or offset != str(start) or len(chunk) != end - start:
                return _range_mismatch(start, end)
            session.take(chunk)
            if session.complete:
                self._uploaded(video)
            start, end = session.wanted()
        return Response(200, {"start_offset": str(start), "end_offset": str(end)})

    def _finish_video(self, params: dict[str, str]) -> Response:
        with self._lock:
            video = self._sessions.get(params.get("upload_session_id", ""))
            if video is None:
                return invalid_parameter("Invalid upload_session_id")
            problem = self._unfinishable(video)
            if problem is not None:
                return problem
            self._commit(video, params.get("title", ""), params.get("description", ""))
        return Response(200, {"success": True})

    # --- shared lifecycle ----------------------------------------------------------------------------

    def _new_video_id(self) -> str:
        return str(1234567890000000 + self.next_id())

    def _unfinishable(self, video: Video) -> Response | None:
        if video.published_at is not None:
            return invalid_parameter("This video has already been published")
        if not video.uploaded:
            return graph_error(
                6000,
                "There was a problem uploading your video file. Please try again.",
                user_msg=f"Only {video.received} bytes of the video have arrived; finish after the upload.",
            )
        if video.errors:
            return graph_error(6000, "The video failed processing and cannot be published")
        return None

    def _uploaded(self, video: Video) -> None:
        with self._lock:
            if video.processing == "not_started":
                video.processing = "in_progress"
                video.polls_left = self.processing_polls
                video.rejection, self._rejection = self._rejection, None

    def _commit(self, video: Video, title: str, description: str) -> None:
        video.title, video.description = title, description
        video.publishing = "in_progress"
        video.published_at = time.time()
        self._posted_at[video.id] = self.now()
        self._advance(video, poll=False)

    def _advance(self, video: Video, *, poll: bool = True) -> None:
        """Processing moves on with each status poll once the upload is complete; publishing follows it."""
        if video.processing == "in_progress":
            if video.polls_left > 0:
                video.polls_left -= int(poll)
            elif video.rejection is not None and video.rejection[0] == "processing":
                video.processing = "error"
                video.errors["processing"] = video.rejection[1]
            else:
                video.processing = "complete"
        if video.processing == "complete" and video.publishing == "in_progress":
            if video.rejection is not None and video.rejection[0] == "publishing":
                video.publishing = "error"
                video.errors["publishing"] = video.rejection[1]
            else:
                video.publishing = "complete"

    def _permalink(self, video: Video) -> str:
        return f"/reel/{video.id}" if video.kind == "reel" else f"/{self.page_name}/videos/{video.id}/"

    # --- reading -------------------------------------------------------------------------------------

    def _node(self, request: Request) -> Response:
        params = graph_params(request)
        node = request.params["node"]
        fields = _fields(params)
        if node == self.page_id:
            return self._graph(self._page(request, params, fields))
        failure = self._authorised(request, params)
        if failure is not None:
            return self._graph(failure)
        with self._lock:
            video = self._videos.get(node)
            if video is None:
                return self._graph(missing_node(node))
            unknown = fields - VIDEO_FIELDS
            if unknown:
                return self._graph(nonexisting_field(sorted(unknown)[0], "Video"))
            if "status" in fields:
                self._advance(video)
            values: dict[str, Any] = {
                "id": video.id,
                "title": video.title,
                "description": video.description,
                "status": video.status_body(),
                "permalink_url": self._permalink(video),
                "published": video.publishing == "complete",
                "created_time": self._posted_at.get(video.id, self.now()).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            }
        return self._graph(Response(200, {name: values[name] for name in sorted(fields)}))

    def _page(self, request: Request, params: dict[str, str], fields: set[str]) -> Response:
        """The Page node; its `access_token` field needs the token of a user who manages the Page."""
        unknown = fields - PAGE_FIELDS
        if unknown:
            return nonexisting_field(sorted(unknown)[0], "Page")
        token = request_token(request, params)
        if "access_token" in fields:
            failure = token_error(token, self.users)
        else:
            failure = None if self.users.valid(token) else token_error(token, self.pages)
        if failure is not None:
            return failure
        values = {"id": self.page_id, "name": self.page_name}
        if "access_token" in fields:
            values["access_token"] = self.pages.issue().access_token
        return Response(200, {name: values[name] for name in sorted(fields)})

    def _insights(self, request: Request) -> Response:
        params = graph_params(request)
        failure = self._authorised(request, params)
        if failure is not None:
            return self._graph(failure)
        video = self._videos.get(request.params["node"])
        if video is None or video.publishing != "complete":
            return self._graph(missing_node(request.params["node"]))
        available = REELS_METRICS if video.kind == "reel" else VIDEO_METRICS
        requested = [name for name in params.get("metric", "").split(",") if name] or list(available)
        for index, name in enumerate(requested):
            if name not in available:
                return self._graph(
                    invalid_parameter(
                        f"metric[{index}] must be one of the following values: {', '.join(available)}"
                    )
                )
        if params.get("period", "lifetime") != "lifetime":
            return self._graph(invalid_parameter("video insights are lifetime only; period must be lifetime"))
        posted = self._posted_at.get(video.id, self.now())
        if self.now() - posted > dt.timedelta(days=INSIGHTS_HISTORY_DAYS):
            # "Data is only available for the past 2 years" (spec 5.7): an older video reports nothing
            return self._graph(Response(200, insights_body(video.id, "video_insights", {}, paging=True)))
        values = self.metrics(video.id)
        return self._graph(
            Response(
                200,
                insights_body(
                    video.id, "video_insights", {name: values[name] for name in requested}, paging=True
                ),
            )
        )


def _before_commit(fault: Fault | None) -> Response | None:
    if fault is None:
        return None
    if fault.kind == "drop":
        raise DropConnectionError
    if fault.kind == "status":
        return Response(fault.status, fault.body, dict(fault.headers))
    return None


def _after_commit(fault: Fault | None) -> None:
    if fault is not None and fault.kind == "drop_after_commit":
        raise DropConnectionError


def _range_mismatch(start: int, end: int) -> Response:
    """The business SDK's resume signal: subcode 1363037 with the range the session wants [V]."""
    response = graph_error(
        6001,
        "There was a problem uploading your video. Please try again.",
        subcode=RANGE_MISMATCH_SUBCODE,
        user_title="Video upload out of order",
        user_msg=f"Send bytes {start}..{end} next.",
    )
    response.body["error"]["error_data"] = {"start_offset": str(start), "end_offset": str(end)}
    return response


def _fields(params: dict[str, str]) -> set[str]:
    return {name.strip() for name in (params.get("fields") or "id").split(",") if name.strip()}


INSIGHTS_HISTORY_DAYS = 730


def _metrics(video: Video, totals: dict[str, int]) -> dict[str, Any]:
    """A video's lifetime insights from its lifetime activity (Reels and other videos differ)."""
    views, likes, comments, shares = totals["views"], totals["likes"], totals["comments"], totals["shares"]
    loves = likes // 4
    watched_ms = totals["watch_seconds"] * 1000
    average_ms = watched_ms // max(views, 1)
    if video.kind == "reel":
        return {
            "blue_reels_play_count": views,
            "fb_reels_total_plays": views + views // 5,
            "fb_reels_replay_count": views // 5,
            "post_impressions_unique": totals["reach"],
            "post_video_avg_time_watched": average_ms,
            "post_video_view_time": watched_ms,
            "post_video_social_actions": {"COMMENT": comments, "SHARE": shares},
            "post_video_likes_by_reaction_type": {"REACTION_LIKE": likes, "REACTION_LOVE": loves},
        }
    return {
        "total_video_views": views,
        "total_video_impressions": totals["impressions"],
        "total_video_avg_time_watched": average_ms,
        "total_video_reactions_by_type_total": {"like": likes, "love": loves},
        "total_video_stories_by_action_type": {"share": shares, "like": likes + loves, "comment": comments},
    }
