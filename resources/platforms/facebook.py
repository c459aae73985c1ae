"""The Facebook Page client: Reels through start -> rupload -> finish, other videos through chunked /videos.

Protocol (docs/reference/platform_protocols.md, section 5; [V] verified, [S] secondary, [U] unverified):
- Reels, for vertical videos of 3-90 s [V]: `POST {api}/v25.0/{page-id}/video_reels upload_phase=start` gives
  `video_id` and `upload_url`; the file goes to `upload_url` in one POST with `Authorization: OAuth`, `offset`
  and `file_size` headers; `upload_phase=finish&video_state=PUBLISHED` publishes it [V]. An interrupted upload
  resumes at the `status.uploading_phase.bytes_transferred` that `GET /{video-id}?fields=status` reports [U].
- Other videos (landscape, square, or longer than 90 s): the chunked flow of Meta's business SDK [V] on the
  graph-video host, `POST {video}/v25.0/{page-id}/videos` with upload_phase=start / transfer / finish; the
  platform names every range it wants next, and error subcode 1363037 names it again after a mismatch.
- Either way the video is processed after finish; `GET /{video-id}?fields=status,permalink_url` is polled
  until it is published, or failed in processing (bad media) or publishing (refused).
- Analytics (spec 5.7): `GET /{video-id}/video_insights` gives a video's lifetime totals (Reels and other
  videos name them differently), one metered request a video, and only for videos of the past 2 years;
  Facebook keeps no per-day series per video, so the factory's daily snapshots build the history.
Graph errors, throttling waits and the token exchange come from `resources.platforms.graph`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

import httpx

from pellacia_assets.rendering.probe import MediaInfo
from resources.platforms.base import CORE_METRICS, Journal, MetricReading, Progress, PublishedPost, VideoPost
from resources.platforms.client_base import ClientOptions
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialStore, Refresher, TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.graph import (
    GraphClient,
    as_int,
    graph_path,
    insight_values,
    oauth_header,
)
from resources.platforms.http import Classifier, PlatformHttp, file_chunks, json_object, multipart_body
from resources.platforms.video_limits import MB, VIDEO_LIMITS, video_problems

PLATFORM = "facebook"
PUBLIC_ROOT = "https://www.facebook.com"
REELS_MAX_SECONDS = VIDEO_LIMITS[PLATFORM].max_seconds
# Page videos outside Reels: 10 GB and 4 hours [S: ayrshare's Facebook Pages media guidelines].
CLASSIC_MAX_BYTES = 10_000 * MB
CLASSIC_MIN_SECONDS = 1.0
CLASSIC_MAX_SECONDS = 4 * 3600.0
RANGE_MISMATCH_SUBCODE = 1363037
OBJECT_MISSING_CODE = "100"
INSIGHTS_WINDOW = timedelta(days=730)  # "Data is only available for the past 2 years" (spec 5.7)
# Where each core metric is read from: a Reel's insight name first, then a Page video's.
VIEWS = ("blue_reels_play_count", "total_video_views")
REACTIONS = ("post_video_likes_by_reaction_type", "total_video_reactions_by_type_total")
ACTIONS = ("post_video_social_actions", "total_video_stories_by_action_type")
REACH = ("post_impressions_unique", "total_video_impressions_unique")
WATCH_TIME_MS = ("post_video_view_time", "total_video_view_time")
NO_SAVES = "Facebook's video insights report no saves"


def is_reel(info: MediaInfo) -> bool:
    """Vertical and at most 90 s: what the Reels API takes; everything else is an ordinary Page video."""
    if info.width is None or info.height is None:
        return False
    return info.height > info.width and info.duration_s <= REELS_MAX_SECONDS


def classic_video_problems(info: MediaInfo, size_bytes: int) -> list[str]:
    """The rules for a Page video that is not a Reel (chunked /videos flow)."""
    problems = []
    if size_bytes > CLASSIC_MAX_BYTES:
        problems.append(f"{size_bytes / MB:.1f} MB is over the {CLASSIC_MAX_BYTES / MB:.0f} MB limit")
    if not CLASSIC_MIN_SECONDS <= info.duration_s <= CLASSIC_MAX_SECONDS:
        problems.append(
            f"{info.duration_s:.1f} s is outside {CLASSIC_MIN_SECONDS:g}-{CLASSIC_MAX_SECONDS:g} s"
        )
    if not info.has_video:
        problems.append("no video stream")
    return problems


def page_token_refresher(settings: PlatformSettings, http: PlatformHttp, exchange: Refresher) -> Refresher:
    """Renew the user token through Graph's exchange, then read the Page's own token with it.

    A Page is published to with a Page access token; one read with a long-lived user token does not expire,
    so the TokenSet keeps the user token's expiry to renew the pair before the user token runs out [S].
    """

    def refresh(current: TokenSet) -> TokenSet:
        user = exchange(current)
        try:
            response = http.request(
                "GET",
                settings.url("api", graph_path(f"/{settings.account_id}")),
                authenticated=False,
                headers=oauth_header(user.access_token),
                params={"fields": "access_token"},
            )
        except PlatformError as error:
            raise PlatformError(
                PLATFORM,
                ErrorKind.AUTH,
                f"the renewed user token could not read Page {settings.account_id}'s token "
                f"({error.args[0].removeprefix(f'{PLATFORM}: ')}); run `pellacia-dist auth facebook`",
                code=error.code,
            ) from error
        page_token = json_object(response).get("access_token")
        if not page_token:
            raise PlatformError(
                PLATFORM,
                ErrorKind.AUTH,
                f"the user cannot manage Page {settings.account_id} (no Page access token in the answer); "
                "run `pellacia-dist auth facebook` with a Page admin",
            )
        return TokenSet(str(page_token), user.refresh_token, user.expires_at, dict(current.extra))

    return refresh


def range_mismatch_passes(classify: Classifier) -> Classifier:
    """`classify`, except that error 1363037 (with the offsets the session wants) reaches the caller."""

    def transfer_classify(response: httpx.Response) -> PlatformError | None:
        error = json_object(response).get("error")
        if isinstance(error, dict) and as_int(error.get("error_subcode")) == RANGE_MISMATCH_SUBCODE:
            data = error.get("error_data")
            if isinstance(data, dict) and "start_offset" in data and "end_offset" in data:
                return None
        return classify(response)

    return transfer_classify


class FacebookClient(GraphClient):
    """Publishes to one Facebook Page (settings.account_id) with that Page's access token.

    `chunk_size` is the block streamed from disk; the transfer ranges are Facebook's to choose.
    """

    platform = PLATFORM
    account_id_meaning = "the id of the Page"
    created_field = "created_time"
    no_history_reason = (
        "Facebook's video insights are lifetime totals only (past 2 years), with no daily series per video"
    )

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        if "video" not in settings.urls:
            raise PlatformError(
                PLATFORM, ErrorKind.AUTH, "no graph-video root: set PELLACIA_FACEBOOK_VIDEO_URL"
            )
        super().__init__(settings, store, **kw)
        self.page_id = self.account_id
        self._transfer_http = self.transport(range_mismatch_passes(self.classify), auth=oauth_header)

    def _refresh(self, current: TokenSet) -> TokenSet:
        return page_token_refresher(self.settings, self._token_http, super()._refresh)(current)

    # --- PlatformClient ------------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        info = self._probe(post)
        size = post.size
        if is_reel(info):
            self._check_rules(
                post, video_problems(PLATFORM, info, size), post.caption(), "cannot go out as a Reel"
            )
        else:
            problems = classic_video_problems(info, size)
            self._check_rules(post, problems, post.caption(), "cannot go out as a Page video")

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        journal.set_state("uploading")
        if is_reel(self._probe(post)):
            video_id = self._publish_reel(post, journal, progress)
        else:
            video_id = self._publish_page_video(post, journal, progress)
        journal.set_state("processing")
        return self._published(video_id, self._wait_until_published(video_id))

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """Ask for the journalled video: published, or finished and still processing, counts as existing."""
        video_id = journal.get("video_id")
        if video_id is None:
            return None
        try:
            video = self._video(video_id)
        except PlatformError as error:
            if error.code is not None and error.code.split("/")[0] == OBJECT_MISSING_CODE:
                return None
            raise
        publishing = _phase(video.get("status"), "publishing_phase")
        if publishing.get("status") in (None, "not_started"):
            return None
        return self._published(video_id, self._wait_until_published(video_id))

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Each video's lifetime /video_insights, one metered request a video; a video Graph does not show
        (deleted, unpublished, another Page's) is left out. Facebook answers nothing for a video older than
        2 years: every metric is then unavailable, saying so."""
        readings: dict[str, MetricReading] = {}
        for post_id in dict.fromkeys(str(post_id) for post_id in post_ids):
            answer = self._read(f"/{post_id}/video_insights", None, "insights")
            if answer is None:
                continue
            values, as_of = insight_values(answer), datetime.now(UTC)
            if values:
                readings[post_id] = _reading(values, as_of)
            else:
                reason = self._no_insights_reason(post_id, as_of)
                readings[post_id] = MetricReading(
                    "lifetime", {}, {}, dict.fromkeys(CORE_METRICS, reason), as_of
                )
        return readings

    def verify_access(self) -> str:
        """GET /{page-id}?fields=id,name: the Page the token publishes to."""
        page = json_object(
            self.http.request("GET", self._api(f"/{self.page_id}"), params={"fields": "id,name"})
        )
        return f"page {page.get('id', self.page_id)} ({page.get('name') or 'unnamed'})"

    def _no_insights_reason(self, post_id: str, now: datetime) -> str:
        """Why /video_insights answered nothing: the 2-year window, when the video's age says so."""
        created = self.created_times([post_id]).get(post_id)
        if created is not None and now - created > INSIGHTS_WINDOW:
            return (
                f"Facebook keeps video insights for 2 years only; this video was created on "
                f"{created.date().isoformat()}"
            )
        return "Facebook's video_insights answered no metrics for this video"

    # --- Reels ---------------------------------------------------------------------------------------

    def _publish_reel(self, post: VideoPost, journal: Journal, progress: Progress | None) -> str:
        video_id, upload_url = journal.get("video_id"), journal.get("upload_url")
        resuming = video_id is not None and upload_url is not None
        if video_id is None or upload_url is None:
            started = json_object(
                self.http.request(
                    "POST", self._api(f"/{self.page_id}/video_reels"), data={"upload_phase": "start"}
                )
            )
            video_id, upload_url = _field(started, "video_id"), _field(started, "upload_url")
            journal.put("video_id", video_id)
            journal.put("upload_url", upload_url)
        self._upload_reel(post, video_id, upload_url, resuming, progress)
        finished = json_object(
            self.http.request(
                "POST",
                self._api(f"/{self.page_id}/video_reels"),
                creates=True,
                data={
                    "upload_phase": "finish",
                    "video_id": video_id,
                    "video_state": "PUBLISHED",
                    "title": post.title,
                    "description": post.caption(),
                },
            )
        )
        if finished.get("post_id"):
            journal.put("post_id", str(finished["post_id"]))
        return video_id

    def _upload_reel(
        self, post: VideoPost, video_id: str, upload_url: str, resuming: bool, progress: Progress | None
    ) -> None:
        """One POST of the rest of the file; after a failure, resume where Facebook says the bytes end."""
        size = post.size
        offset = self._bytes_received(video_id) if resuming else 0
        attempts = self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            if offset >= size:
                return
            try:
                self._rupload(post, upload_url, offset, progress)
            except PlatformError as error:
                self.sleep(self.retry.delay(error, attempt))
            offset = self._bytes_received(video_id)
        if offset < size:
            raise PlatformError(
                PLATFORM,
                ErrorKind.RETRYABLE,
                f"the Reel upload stopped at {offset} of {size} bytes after {attempts} attempts",
            )

    def _bytes_received(self, video_id: str) -> int:
        uploading = _phase(self._video(video_id).get("status"), "uploading_phase")
        return _count(uploading.get("bytes_transferred"))

    # --- Other Page videos (chunked) -----------------------------------------------------------------

    def _publish_page_video(self, post: VideoPost, journal: Journal, progress: Progress | None) -> str:
        url = self._video_url(f"/{self.page_id}/videos")
        size = post.size
        session_id, video_id = journal.get("upload_session_id"), journal.get("video_id")
        offsets = journal.get("transfer_offsets")
        if session_id is None or video_id is None or offsets is None:
            started = json_object(
                self.http.request("POST", url, data={"upload_phase": "start", "file_size": str(size)})
            )
            offsets = f"{_count(started.get('start_offset'))}-{_count(started.get('end_offset'))}"
            video_id, session_id = _field(started, "video_id"), _field(started, "upload_session_id")
            journal.put("transfer_offsets", offsets)
            journal.put("video_id", video_id)
            journal.put("upload_session_id", session_id)
        start, end = (int(value) for value in offsets.split("-"))
        mismatches = 0
        while start < end:
            answer = self._transfer(url, post, session_id, start, end, progress)
            error = answer.get("error")
            if isinstance(error, dict):
                mismatches += 1
                if mismatches > self.retry.max_attempts:
                    raise PlatformError(
                        PLATFORM,
                        ErrorKind.RETRYABLE,
                        f"the upload session kept asking for another range than {start}-{end}",
                        code=str(RANGE_MISMATCH_SUBCODE),
                    )
                answer = error["error_data"]
            else:
                mismatches = 0
            start, end = _count(answer.get("start_offset")), _count(answer.get("end_offset"))
            journal.put("transfer_offsets", f"{start}-{end}")
        self.http.request(
            "POST",
            url,
            creates=True,
            data={
                "upload_phase": "finish",
                "upload_session_id": session_id,
                "title": post.title,
                "description": post.caption(),
            },
        )
        return video_id

    def _transfer(
        self, url: str, post: VideoPost, session_id: str, start: int, end: int, progress: Progress | None
    ) -> dict[str, Any]:
        headers, body = multipart_body(
            {"upload_phase": "transfer", "upload_session_id": session_id, "start_offset": str(start)},
            "video_file_chunk",
            file_chunks(post.video, start, end - start, self.chunk_size, progress),
            end - start,
        )
        return json_object(self._transfer_http.request("POST", url, headers=headers, content=body))

    # --- Shared --------------------------------------------------------------------------------------

    def _wait_until_published(self, video_id: str) -> dict[str, Any]:
        for _poll in self._polls():
            video = self._video(video_id)
            status = _mapping(video.get("status"))
            failure = _processing_failure(video_id, status)
            if failure is not None:
                raise failure
            publishing = _phase(status, "publishing_phase")
            if status.get("video_status") == "ready" and publishing.get("status") == "complete":
                return video
        raise self._still_waiting(f"video {video_id} was still processing")

    def _video(self, video_id: str) -> dict[str, Any]:
        return json_object(
            self.http.request("GET", self._api(f"/{video_id}"), params={"fields": "status,permalink_url"})
        )

    def _published(self, video_id: str, video: Mapping[str, Any]) -> PublishedPost:
        permalink = str(video.get("permalink_url") or f"/{video_id}")
        url = permalink if permalink.startswith("http") else PUBLIC_ROOT + permalink
        return PublishedPost(PLATFORM, video_id, url)

    def _video_url(self, path: str) -> str:
        return self.settings.url("video", graph_path(path))


def _first(values: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    return next((values[name] for name in names if name in values), None)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reading(values: dict[str, Any], as_of: datetime) -> MetricReading:
    """Lifetime insights as core values. Likes are all reactions (Facebook's like is one of them); a
    metric, or a breakdown entry, missing from the answer is unavailable, never a zero."""
    kind = "Reel" if VIEWS[0] in values else "video"
    said = f"Facebook's video insights for this {kind}"
    reactions = _lower_keys(_first(values, REACTIONS))
    counts = [_number(count) for count in reactions.values()]
    actions = _lower_keys(_first(values, ACTIONS))
    watched_ms = _number(_first(values, WATCH_TIME_MS))
    found: dict[str, float | None] = {
        "views": _number(_first(values, VIEWS)),
        "likes": sum(c for c in counts if c is not None) if counts and None not in counts else None,
        "comments": _number(actions.get("comment")),
        "shares": _number(actions.get("share")),
        "impressions": _number(values.get("total_video_impressions")),
        "reach": _number(_first(values, REACH)),
        "watch_time_s": None if watched_ms is None else watched_ms / 1000.0,
    }
    missing = {
        "views": f"{said} held no play count",
        "likes": f"{said} held no reactions",
        "comments": f"{said} named no comment count",
        "shares": f"{said} named no share count",
        "impressions": "Facebook's Reels insights report reach (post_impressions_unique), not impressions"
        if kind == "Reel"
        else f"{said} held no impressions",
        "reach": f"{said} held no reach",
        "watch_time_s": f"{said} gave only an average watch time, no total"
        if "total_video_avg_time_watched" in values or "post_video_avg_time_watched" in values
        else f"{said} held no watch time",
    }
    unavailable = {"saves": NO_SAVES} | {
        core: missing[core] for core, value in found.items() if value is None
    }
    kept = {core: value for core, value in found.items() if value is not None}
    return MetricReading("lifetime", dict(values), kept, unavailable, as_of)


def _processing_failure(video_id: str, status: Mapping[str, Any]) -> PlatformError | None:
    """Bad media fails in processing; a refusal to publish (policy, copyright) fails in publishing."""
    publishing = _phase(status, "publishing_phase")
    if publishing.get("status") == "error":
        return PlatformError(
            PLATFORM,
            ErrorKind.POLICY,
            f"Facebook refused to publish video {video_id}: {_reasons(publishing)}",
        )
    failed = [
        _phase(status, name)
        for name in ("uploading_phase", "processing_phase")
        if _phase(status, name).get("status") == "error"
    ]
    if failed or status.get("video_status") in ("error", "expired"):
        reasons = (
            "; ".join(_reasons(phase) for phase in failed) or f"video_status {status.get('video_status')}"
        )
        return PlatformError(
            PLATFORM, ErrorKind.INVALID_MEDIA, f"Facebook could not process video {video_id}: {reasons}"
        )
    return None


def _reasons(phase: Mapping[str, Any]) -> str:
    errors = phase.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(
            f"{error.get('message', 'no message')} (code {error.get('code', '?')})"
            for error in errors
            if isinstance(error, dict)
        )
    return "no reason given"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _phase(status: Any, name: str) -> dict[str, Any]:
    return _mapping(_mapping(status).get(name))


def _field(answer: Mapping[str, Any], name: str) -> str:
    value = answer.get(name)
    if value in (None, ""):
        raise PlatformError(PLATFORM, ErrorKind.RETRYABLE, f"Graph answered without `{name}`")
    return str(value)


def _count(value: Any) -> int:
    return as_int(value) or 0


def _lower_keys(value: Any) -> dict[str, Any]:
    return {str(key).lower(): item for key, item in value.items()} if isinstance(value, dict) else {}
