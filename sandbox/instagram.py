"""SANDBOX ONLY (never used by production code): Instagram Reels publishing as the Graph API documents it.

Serves spec section 4 on three hosts, one port each, as Meta does:
www.facebook.com (the "consent" root)
- GET  /v25.0/dialog/oauth                             Facebook Login's consent page, approving at once
rupload.facebook.com (the "upload" root: only ever the `uri` a container hands out)
- POST /ig-api-upload/v25.0/{container}                rupload: Authorization: OAuth, offset, file_size
- GET  /ig-api-upload/v25.0/{container}                refused with 405: rupload documents no GET
graph.facebook.com (the "api" and "oauth" roots)
- GET  /v25.0/oauth/access_token                       code -> user token; fb_exchange_token (long-lived)
- GET  /v25.0/{ig-user-id}?fields=id,username         the IG User node (the account a token reaches)
- GET  /v25.0/{ig-user-id}/content_publishing_limit    quota_usage / config (quota_total, quota_duration)
- POST /v25.0/{ig-user-id}/media                       media_type=REELS&upload_type=resumable -> {id, uri}
- GET  /v25.0/{container}?fields=status_code,status    IN_PROGRESS -> FINISHED | ERROR | EXPIRED | PUBLISHED
- POST /v25.0/{ig-user-id}/media_publish               creation_id -> {id}; 9007/2207027 before FINISHED
- GET  /v25.0/{ig-user-id}/media, GET /v25.0/{media}   the account's media (id, caption, permalink, ...)
- GET  /v25.0/{media}/insights?metric=...              deterministic lifetime metrics
Every failure is a Graph error envelope with HTTP 400 and the documented code; every Graph answer carries
X-App-Usage / X-Business-Use-Case-Usage. Uploaded bytes stream to `data_dir` and are hashed as they arrive.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sandbox.common import (
    Request,
    Response,
    Route,
    SandboxServer,
    TokenRegistry,
    insights_body,
    lifetime_activity,
)
from sandbox.graph import (
    GRAPH_HOST,
    GRAPH_PREFIX,
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

CAPTION_MAX = 2200
HASHTAGS_MAX = 30
MENTIONS_MAX = 20
COLLABORATORS_MAX = 3
QUOTA_DURATION_S = 86400
CONTAINER_FIELDS = frozenset({"id", "status_code", "status"})
MEDIA_FIELDS = frozenset(
    {"id", "caption", "media_type", "media_product_type", "permalink", "shortcode", "timestamp", "username"}
)
USER_FIELDS = frozenset({"id", "username", "name", "media_count", "followers_count"})
INSIGHT_METRICS = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
    "reposts",
    "follows",
    "profile_visits",
)
# Facebook Login permissions for Instagram publishing and insights (spec 4.1).
KNOWN_SCOPES = frozenset(
    {"instagram_basic", "instagram_content_publish", "instagram_manage_insights", "pages_read_engagement",
     "pages_show_list", "business_management"}
)  # fmt: skip
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_PREFIX = re.escape(GRAPH_PREFIX)
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass
class Container:
    """An IG media container: its upload, its caption, and where it is in its lifecycle."""

    id: str
    caption: str
    share_to_feed: bool
    upload: RuploadSession
    created_at: float
    status_code: str = "IN_PROGRESS"
    status: str = "In Progress: waiting for the video upload"
    polls_left: int = 0
    rejection: str | None = None


class InstagramSandbox(SandboxServer):
    """A strict local stand-in for graph.facebook.com + rupload.facebook.com (Instagram Reels)."""

    name = "instagram"
    analytics_routes = ("insights",)
    roots: ClassVar[Mapping[str, str]] = {
        "api": GRAPH_HOST,
        "oauth": GRAPH_HOST,
        "upload": RUPLOAD_HOST,
        "consent": WWW_HOST,
    }
    configured_roots = ("api", "oauth")
    consent_path = "/v25.0/dialog/oauth"

    def __init__(
        self,
        data_dir: Path,
        *,
        user_id: str = "17841400000000001",
        username: str = "pellacia.press",
        client_id: str = "instagram-sandbox-app",
        client_secret: str = "instagram-sandbox-secret",
        quota_total: int = 50,
        processing_polls: int = 1,
        token_lifetime_s: float = 3600.0,
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.client_id = client_id
        self.client_secret = client_secret
        self.quota_total = quota_total
        self.processing_polls = processing_polls
        self.tokens = TokenRegistry("ig", lifetime_s=token_lifetime_s)
        self.codes = AuthorizationCodes(client_id=client_id, scopes=KNOWN_SCOPES, scope_separator=",")
        self._containers: dict[str, Container] = {}
        self._media: dict[str, dict[str, Any]] = {}
        self._published_elsewhere: list[float] = []
        self.usage = RollingUsage()  # 200 calls an hour, as the usage headers report it
        self._rejection: str | None = None
        self._interruption: Interruption | None = None
        super().__init__(data_dir)
        self._posted_at: dict[str, dt.datetime] = {}

    def routes(self) -> dict[str, list[Route]]:
        return {
            WWW_HOST: [("GET", f"{_PREFIX}/dialog/oauth", "consent", self.codes.consent)],
            GRAPH_HOST: [
                ("GET", f"{_PREFIX}/oauth/access_token", "token", self._token),
                (
                    "GET",
                    rf"{_PREFIX}/(?P<user>\d+)/content_publishing_limit",
                    "publishing_limit",
                    self._limit,
                ),
                ("POST", rf"{_PREFIX}/(?P<user>\d+)/media", "create_container", self._create_container),
                ("GET", rf"{_PREFIX}/(?P<user>\d+)/media", "list_media", self._list_media),
                ("POST", rf"{_PREFIX}/(?P<user>\d+)/media_publish", "publish", self._publish),
                ("GET", rf"{_PREFIX}/(?P<node>\d+)/insights", "insights", self._insights),
                ("GET", rf"{_PREFIX}/(?P<node>\d+)", "node", self._node),
            ],
            RUPLOAD_HOST: [
                ("POST", rf"/ig-api-upload{_PREFIX}/(?P<container>\d+)", "upload", self._upload),
                ("GET", rf"/ig-api-upload{_PREFIX}/(?P<container>\d+)", "upload_get", rupload_get_refused),
            ],
        }

    # --- steering and inspection (tests, demo) -------------------------------------------------------
    # issue_tokens() gives a long-lived user token pair: `refresh_token` is the token exchanged later.

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Published Reels, oldest first: id, container_id, caption, sha256, size, permalink, timestamp."""
        with self._lock:
            return [dict(media) for media in self._media.values()]

    def container(self, container_id: str) -> Container:
        return self._containers[container_id]

    def reject_next_processing(self, reason: str = "The video format is not supported.") -> None:
        """The next container to finish processing ends in ERROR with this reason."""
        self._rejection = reason

    def interrupt_next_upload(self, after_bytes: int, *, drop: bool = False) -> None:
        """The next rupload keeps `after_bytes`, then answers 500 (or drops the connection)."""
        self._interruption = Interruption(after_bytes, drop)

    def throttle(self, route: str, *, code: int = 4, regain_minutes: float = 1.0, times: int = 1) -> None:
        """Meta throttling on `route`: HTTP 400, code 4/17/32/613, usage headers with the wait."""
        self.inject(
            throttle_fault(route, self.user_id, code=code, regain_minutes=regain_minutes, times=times)
        )

    def throttled(self, wait_s: float | None, route: str) -> Response:
        regain_minutes = 1.0 if wait_s is None else wait_s / 60
        return throttled_response(self.user_id, regain_minutes=regain_minutes)

    def server_error(self, status: int, route: str) -> Response:
        if route.startswith("upload"):
            return rupload_error(status, "ProcessingFailedError", "Request processing failed", retriable=True)
        return graph_server_error(status)

    def use_quota(self, posts: int) -> None:
        """Count `posts` publications from elsewhere in the current 24 h window."""
        self._published_elsewhere.extend([time.time()] * posts)

    def expire_containers(self) -> None:
        """Every unpublished container passes its 24 hours."""
        with self._lock:
            for container in self._containers.values():
                if container.status_code != "PUBLISHED":
                    container.status_code, container.status = (
                        "EXPIRED",
                        "Expired: the container is over 24 h old",
                    )

    # --- Graph plumbing -----------------------------------------------------------------------------

    def metrics_for(self, media_id: str) -> dict[str, int]:
        """The lifetime insights /{media-id}/insights reports for a published media, as of now."""
        with self._lock:
            posted = self._posted_at[media_id]
        return lifetime_insights(media_id, posted, self.now())

    def backdate(self, post_id: str, days: float) -> None:
        """Pretend the media was published `days` earlier (its timestamp moves; the publishing quota,
        counted on the real clock, does not)."""
        with self._lock:
            posted = self._posted_at[post_id] - dt.timedelta(days=days)
            self._posted_at[post_id] = posted
            self._media[post_id]["timestamp"] = posted.strftime("%Y-%m-%dT%H:%M:%S+0000")

    def _graph(self, response: Response) -> Response:
        response.headers.update(usage_headers(self.user_id, call_count=self.usage.count_call()))
        return response

    def _authorised(
        self, request: Request, user: str | None = None
    ) -> tuple[dict[str, str], Response | None]:
        params = graph_params(request)
        failure = token_error(request_token(request, params), self.tokens)
        if failure is None and user is not None and user != self.user_id:
            failure = missing_node(user, request.method.lower())
        return params, failure

    def _token(self, request: Request) -> Response:
        """A `code` from the consent page (no grant_type, as documented), or fb_exchange_token."""
        params = graph_params(request)
        if "code" in params:
            return self._graph(graph_code_exchange(params, self.codes, self.tokens, self.client_secret))
        return self._graph(token_exchange(params, self.tokens, self.client_id, self.client_secret))

    def _quota_usage(self) -> int:
        since = time.time() - QUOTA_DURATION_S
        published = [m["published_at"] for m in self._media.values()] + self._published_elsewhere
        return sum(1 for moment in published if moment >= since)

    def _limit(self, request: Request) -> Response:
        params, failure = self._authorised(request, request.params["user"])
        if failure is not None:
            return self._graph(failure)
        fields = _fields(params, default="quota_usage")
        unknown = fields - {"quota_usage", "config"}
        if unknown:
            return self._graph(nonexisting_field(sorted(unknown)[0], "ContentPublishingLimit"))
        entry: dict[str, Any] = {}
        if "quota_usage" in fields:
            entry["quota_usage"] = self._quota_usage()
        if "config" in fields:
            entry["config"] = {"quota_total": self.quota_total, "quota_duration": QUOTA_DURATION_S}
        return self._graph(Response(200, {"data": [entry]}))

    # --- containers and upload ----------------------------------------------------------------------

    def _create_container(self, request: Request) -> Response:
        params, failure = self._authorised(request, request.params["user"])
        if failure is None:
            failure = _container_problem(params)
        if failure is not None:
            return self._graph(failure)
        with self._lock:
            container_id = str(17889455560000000 + self.next_id())
            self._containers[container_id] = Container(
                id=container_id,
                caption=params.get("caption", ""),
                share_to_feed=params.get("share_to_feed", "true") == "true",
                upload=RuploadSession(self.stored_file(f"{container_id}.mp4")),
                created_at=time.time(),
            )
        uri = self.url("upload", f"/ig-api-upload{GRAPH_PREFIX}/{container_id}")
        return self._graph(Response(200, {"id": container_id, "uri": uri}))

    def _upload(self, request: Request) -> Response:
        failure = rupload_auth_error(request, self.tokens)
        if failure is not None:
            return failure
        container = self._containers.get(request.params["container"])
        if container is None:
            return rupload_error(404, "NotFound", "no media container with this id", retriable=False)
        if container.status_code != "IN_PROGRESS":
            return rupload_error(
                400, "BadRequest", f"the container is {container.status_code}", retriable=False
            )
        interruption, self._interruption = self._interruption, None
        was_complete = container.upload.complete
        response = container.upload.receive(request, interruption)
        if container.upload.complete and not was_complete:
            with self._lock:
                container.polls_left = self.processing_polls
                container.status = "In Progress: Media is still being processed."
                container.rejection, self._rejection = self._rejection, None
        return response

    def _advance(self, container: Container) -> None:
        """One status poll: processing moves on only after the whole file arrived."""
        if container.status_code != "IN_PROGRESS" or not container.upload.complete:
            return
        if container.polls_left > 0:
            container.polls_left -= 1
            return
        if container.rejection is not None:
            container.status_code, container.status = "ERROR", f"Error: {container.rejection}"
        else:
            container.status_code = "FINISHED"
            container.status = "Finished: Media has been uploaded and it is ready to be published."

    # --- publishing and reading ---------------------------------------------------------------------

    def _publish(self, request: Request) -> Response:
        params, failure = self._authorised(request, request.params["user"])
        if failure is not None:
            return self._graph(failure)
        creation_id = params.get("creation_id", "")
        with self._lock:
            failure = self._publish_problem(creation_id)
            if failure is not None:
                return self._graph(failure)
            media = self._store(self._containers[creation_id])
        return self._graph(Response(200, {"id": media["id"]}))

    def _publish_problem(self, creation_id: str) -> Response | None:
        if not creation_id:
            return invalid_parameter("The parameter creation_id is required")
        container = self._containers.get(creation_id)
        if container is None:
            return invalid_parameter(f"Param creation_id {creation_id} is not a media container")
        if self._quota_usage() >= self.quota_total:
            return graph_error(
                9,
                "Application request limit reached",
                subcode=2207042,
                user_title="Max publishing limit reached",
                user_msg=f"Maximum number of posts reached: {self.quota_total} in 24 hours.",
            )
        return _not_publishable(container)

    def _store(self, container: Container) -> dict[str, Any]:
        media_id = str(17920238420000000 + self.next_id())
        shortcode = _shortcode(int(media_id))
        now = time.time()
        posted = self.now()
        self._posted_at[media_id] = posted
        media = {
            "id": media_id,
            "container_id": container.id,
            "caption": container.caption,
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "shortcode": shortcode,
            "permalink": f"https://www.instagram.com/reel/{shortcode}/",
            "timestamp": posted.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": self.username,
            "sha256": container.upload.sha256,
            "size": container.upload.received,
            "path": str(container.upload.path),
            "published_at": now,
        }
        self._media[media_id] = media
        container.status_code, container.status = "PUBLISHED", "Published: the media is live."
        return media

    def _node(self, request: Request) -> Response:
        params, failure = self._authorised(request)
        if failure is not None:
            return self._graph(failure)
        node = request.params["node"]
        fields = _fields(params, default="id")
        if node == self.user_id:
            return self._graph(self._user_node(fields))
        with self._lock:
            container = self._containers.get(node)
            if container is not None:
                unknown = fields - CONTAINER_FIELDS
                if unknown:
                    return self._graph(nonexisting_field(sorted(unknown)[0], "ShadowIGMediaBuilder"))
                if fields & {"status_code", "status"}:
                    self._advance(container)
                values = {
                    "id": container.id,
                    "status_code": container.status_code,
                    "status": container.status,
                }
                return self._graph(Response(200, {name: values[name] for name in sorted(fields)}))
            media = self._media.get(node)
        if media is None:
            return self._graph(missing_node(node))
        unknown = fields - MEDIA_FIELDS
        if unknown:
            return self._graph(nonexisting_field(sorted(unknown)[0], "IGMedia"))
        return self._graph(Response(200, {name: media[name] for name in sorted(fields)}))

    def _user_node(self, fields: set[str]) -> Response:
        """The IG User node (`GET /{ig-user-id}?fields=id,username`): the fields this sandbox models."""
        unknown = fields - USER_FIELDS
        if unknown:
            return nonexisting_field(sorted(unknown)[0], "IGUser")
        with self._lock:
            media_count = len(self._media)
        values = {
            "id": self.user_id,
            "username": self.username,
            "name": "Pellacia Press",
            "media_count": media_count,
            "followers_count": 0,
        }
        return Response(200, {name: values[name] for name in sorted(fields)})

    def _list_media(self, request: Request) -> Response:
        params, failure = self._authorised(request, request.params["user"])
        if failure is not None:
            return self._graph(failure)
        fields = _fields(params, default="id")
        unknown = fields - MEDIA_FIELDS
        if unknown:
            return self._graph(nonexisting_field(sorted(unknown)[0], "IGMedia"))
        limit = params.get("limit", "25")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return self._graph(invalid_parameter("limit must be between 1 and 100"))
        with self._lock:
            newest_first = sorted(
                self._media.values(), key=lambda m: (m["published_at"], m["id"]), reverse=True
            )
        after = params.get("after")
        if after:
            ids = [m["id"] for m in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
        page = newest_first[: int(limit)]
        body: dict[str, Any] = {"data": [{name: m[name] for name in sorted(fields)} for m in page]}
        if page:
            body["paging"] = {"cursors": {"before": page[0]["id"], "after": page[-1]["id"]}}
            if len(newest_first) > len(page):
                body["paging"]["next"] = (
                    f"{self.base_url}{request.path}?fields={','.join(sorted(fields))}&limit={limit}"
                    f"&after={page[-1]['id']}"
                )
        return self._graph(Response(200, body))

    def _insights(self, request: Request) -> Response:
        params, failure = self._authorised(request)
        if failure is not None:
            return self._graph(failure)
        media = self._media.get(request.params["node"])
        if media is None:
            return self._graph(missing_node(request.params["node"]))
        requested = [name for name in params.get("metric", "").split(",") if name]
        if not requested:
            return self._graph(invalid_parameter("The parameter metric is required"))
        for index, name in enumerate(requested):
            if name not in INSIGHT_METRICS:
                return self._graph(
                    invalid_parameter(
                        f"metric[{index}] must be one of the following values: {', '.join(INSIGHT_METRICS)}"
                    )
                )
        values = self.metrics_for(media["id"])
        return self._graph(
            Response(200, insights_body(media["id"], "insights", {n: values[n] for n in requested}))
        )


def _fields(params: dict[str, str], default: str) -> set[str]:
    return {name.strip() for name in (params.get("fields") or default).split(",") if name.strip()}


def _container_problem(params: dict[str, str]) -> Response | None:
    """What the real /media edge refuses for a resumable Reel (spec 4.2, 4.3), or None."""
    media_type = params.get("media_type")
    if not media_type:
        return invalid_parameter("The parameter media_type is required")
    if media_type == "VIDEO":
        return invalid_parameter("The VIDEO media type is no longer supported for single videos; use REELS")
    if media_type != "REELS":
        return invalid_parameter(f"media_type {media_type} is not served by this sandbox (Reels only)")
    if params.get("upload_type") != "resumable":
        if params.get("video_url"):
            return invalid_parameter("the sandbox cannot fetch video_url; use upload_type=resumable")
        return invalid_parameter("The parameter video_url is required")
    caption = params.get("caption", "")
    if len(caption) > CAPTION_MAX:
        return invalid_parameter(
            f"The caption is {len(caption)} characters long",
            user_msg=f"Captions can have at most {CAPTION_MAX} characters.",
        )
    if len(_HASHTAG.findall(caption)) > HASHTAGS_MAX:
        return invalid_parameter(
            "Too many tags", subcode=2207040, user_msg=f"Captions can have at most {HASHTAGS_MAX} hashtags."
        )
    if len(_MENTION.findall(caption)) > MENTIONS_MAX:
        return invalid_parameter(
            "Too many tags", subcode=2207040, user_msg=f"Captions can have at most {MENTIONS_MAX} @ tags."
        )
    if params.get("share_to_feed", "true") not in ("true", "false"):
        return invalid_parameter("share_to_feed must be true or false")
    offset = params.get("thumb_offset", "0")
    if not offset.lstrip("-").isdigit():
        return invalid_parameter("thumb_offset must be an integer (milliseconds)")
    if int(offset) < 0:
        return graph_error(
            1, "An unknown error occurred", subcode=2207057, user_msg="Thumbnail offset is negative."
        )
    collaborators = [c for c in params.get("collaborators", "").strip("[]").split(",") if c.strip()]
    if len(collaborators) > COLLABORATORS_MAX:
        return invalid_parameter(f"At most {COLLABORATORS_MAX} collaborators may be invited")
    return None


def _not_publishable(container: Container) -> Response | None:
    if container.status_code == "FINISHED":
        return None
    if container.status_code == "IN_PROGRESS":
        return graph_error(
            9007,
            "Media ID is not available",
            subcode=2207027,
            user_title="Media not ready for publishing",
            user_msg="The media is not ready for publishing, please wait for a moment",
        )
    if container.status_code == "EXPIRED":
        return graph_error(-2, "Media expired", subcode=2207020, user_msg="The media container has expired.")
    if container.status_code == "PUBLISHED":
        return invalid_parameter("The media container was already published")
    return invalid_parameter(
        "The media container failed processing and cannot be published", user_msg=container.status
    )


def _shortcode(number: int) -> str:
    code = ""
    while number:
        number, digit = divmod(number, 64)
        code = _SHORTCODE_ALPHABET[digit] + code
    return code


def lifetime_insights(media_id: str, posted: dt.datetime, now: dt.datetime) -> dict[str, int]:
    """Lifetime insights of one media as of `now`: a function of its id and age, the same all day."""
    totals = lifetime_activity(media_id, posted, now)
    views, likes, comments = totals["views"], totals["likes"], totals["comments"]
    shares, saved = totals["shares"], totals["saves"]
    return {
        "views": views,
        "reach": totals["reach"],
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saved": saved,
        "total_interactions": likes + comments + shares + saved,
        "ig_reels_avg_watch_time": totals["watch_seconds"] * 1000 // max(views, 1),
        "ig_reels_video_view_total_time": totals["watch_seconds"] * 1000,
        "reposts": shares // 4,
        "follows": views // 200,
        "profile_visits": totals["clicks"],
    }
