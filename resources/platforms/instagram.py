"""The Instagram client: Reels published through the Graph API with Facebook Login (spec section 4).

Flow, as documented: read `content_publishing_limit` (a full quota stops us before anything is created),
create a resumable REELS container (`{id, uri}`, journaled at once), POST the file to the returned rupload
`uri` with `offset` / `file_size` headers, poll the container's `status_code` until FINISHED, then
`media_publish` it. A failed upload resumes as documented (spec 4.2): the container's status says whether
it still takes the upload (IN_PROGRESS), already holds it (FINISHED) or is gone (EXPIRED: a new container),
and the file is POSTed again with an `offset` header: the offset the failed answer's `debug_info` named, or
0 (the whole file again) when the connection broke without an answer. The rupload URI is only ever POSTed
to: its documentation describes no GET. After an ambiguous
`media_publish` the container tells whether it was published (`PUBLISHED`), and the account's own media
list, matched by caption, gives the media id: the container does not expose it.

Analytics (spec 4.7): `/{ig-media-id}/insights` gives a Reel's lifetime totals, one metered request a
media; Instagram keeps no per-day series per media, so the factory's daily snapshots build the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Unpack

from pellacia_assets.rendering.probe import MediaInfo
from resources.platforms.base import Journal, MetricReading, Progress, PublishedPost, VideoPost
from resources.platforms.client_base import ClientOptions
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialStore
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.graph import MISSING_NODE, GraphClient, UploadRefusedError, insight_values
from resources.platforms.http import json_object
from resources.platforms.video_limits import video_problems

PLATFORM = "instagram"
# A Reel's lifetime insights (spec 4.7); the watch times are in milliseconds.
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
# core metric -> the insight it is read from
CORE_INSIGHTS = {
    "views": "views",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "saved",
    "reach": "reach",
}
WATCH_TIME_MS = "ig_reels_video_view_total_time"
NO_IMPRESSIONS = "Instagram deprecated impressions for media in April 2025 (views replaced them)"
RECENT_MEDIA = 50  # how far back reconcile looks for a published Reel by caption
CONTAINER_EXPIRED = "-2/2207020"


@dataclass(frozen=True)
class Container:
    """A media container; `uploaded` when its status said it already holds the whole file (FINISHED)."""

    id: str
    uri: str
    uploaded: bool = False


class ContainerExpiredError(Exception):
    """The container passed its 24 hours before it was published: a new one is needed."""


class InstagramClient(GraphClient):
    """One Instagram professional account (settings.account_id = PELLACIA_INSTAGRAM_USER_ID).

    rupload takes the whole file in one request, so `chunk_size` is the block streamed from disk (memory
    stays at one block). PELLACIA_INSTAGRAM_SHARE_TO_FEED=false keeps Reels out of the main feed.
    """

    platform = PLATFORM
    account_id_meaning = "the professional account's IG user id"
    created_field = "timestamp"
    no_history_reason = "Instagram's media insights are lifetime totals only, with no daily series per media"

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        super().__init__(settings, store, **kw)
        self.user_id = self.account_id

    # --- PlatformClient --------------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        """Refuse, before any request, a file Instagram would reject (spec 4.3, 4.4)."""
        info = self._probe(post)
        problems = video_problems(PLATFORM, info, info.size_bytes) + _reel_problems(info)
        self._check_rules(post, problems, self._caption(post), "cannot be a Reel")

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """Container -> rupload -> processing -> media_publish, resuming from the journal's ids."""
        caption = self._caption(post)
        self._check_quota()
        container = self._resumable_container(journal)
        resuming = container is not None
        if container is None:
            container = self._create_container(caption, journal)
        for _ in range(2):
            try:
                self._upload(post, container, journal, progress, resuming)
                journal.set_state("processing")
                published = self._await_processing(container, caption, journal)
                if published is not None:
                    return published
                return self._publish_container(container, journal)
            except ContainerExpiredError:
                container, resuming = self._create_container(caption, journal), False
        raise PlatformError(PLATFORM, ErrorKind.RETRYABLE, "two media containers expired before publishing")

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """Did an earlier attempt publish? By media id if we got one, else by container state + caption."""
        media_id = journal.get("media_id")
        if media_id:
            found = self._media(media_id)
            if found is not None:
                return found
        container_id = journal.get("container_id")
        if not container_id:
            return None  # without a container nothing can have been published
        status = self._status(container_id)
        if status is None or status.get("status_code") != "PUBLISHED":
            return None
        found = self._recent_media_with_caption(self._caption(post))
        if found is None:
            raise PlatformError(
                PLATFORM,
                ErrorKind.AMBIGUOUS,
                f"container {container_id} was published, but no Reel with this caption is among the "
                f"account's {RECENT_MEDIA} most recent media; check the account before publishing again",
            )
        journal.put("media_id", found.post_id)
        return found

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Each Reel's lifetime insights, one metered request a media (Graph takes one media per insights
        call); a media Graph does not show (deleted, another account's) is left out."""
        readings: dict[str, MetricReading] = {}
        for post_id in dict.fromkeys(str(post_id) for post_id in post_ids):
            answer = self._read(f"/{post_id}/insights", {"metric": ",".join(INSIGHT_METRICS)}, "insights")
            if answer is not None:
                readings[post_id] = _reading(insight_values(answer), datetime.now(UTC))
        return readings

    # --- steps -----------------------------------------------------------------------------------------

    def verify_access(self) -> str:
        """GET /{ig-user-id}?fields=id,username: the Instagram professional account the token reaches."""
        user = json_object(
            self.http.request("GET", self._api(f"/{self.user_id}"), params={"fields": "id,username"})
        )
        return f"account {user.get('id', self.user_id)} (@{user.get('username') or '?'})"

    def _caption(self, post: VideoPost) -> str:
        """A Reel has no title field: its caption begins with the title (limits.post_caption)."""
        return post.caption_for(PLATFORM)

    def _check_quota(self) -> None:
        """content_publishing_limit: with the 24 h quota used up, media_publish would fail with 9/2207042."""
        response = self.http.request(
            "GET",
            self._api(f"/{self.user_id}/content_publishing_limit"),
            params={"fields": "config,quota_usage"},
        )
        entries = response.json().get("data") or [{}]
        usage = int(entries[0].get("quota_usage") or 0)
        config = entries[0].get("config") or {}
        total = int(config.get("quota_total") or 50)
        window = float(config.get("quota_duration") or 86400)
        if usage >= total:
            raise PlatformError(
                PLATFORM,
                ErrorKind.RATE_LIMIT,
                f"the account already published {usage} of the {total} posts allowed per rolling "
                f"{window / 3600:g} h; try again later",
                retry_after_s=window,
            )

    def _resumable_container(self, journal: Journal) -> Container | None:
        """The journal's container while it can still be uploaded to or published, else None."""
        container_id, uri = journal.get("container_id"), journal.get("upload_uri")
        if not container_id or not uri:
            return None
        status = self._status(container_id)
        code = None if status is None else status.get("status_code")
        if code == "PUBLISHED":
            raise PlatformError(
                PLATFORM,
                ErrorKind.DUPLICATE,
                f"container {container_id} is already published; reconcile the ledger instead of publishing",
            )
        if code not in ("IN_PROGRESS", "FINISHED"):
            return None
        return Container(container_id, uri, uploaded=code == "FINISHED")

    def _create_container(self, caption: str, journal: Journal) -> Container:
        """POST /{ig-user-id}/media (resumable REELS). Not a post, so a lost answer is simply retried."""
        journal.set_state("uploading")
        response = self.http.request(
            "POST",
            self._api(f"/{self.user_id}/media"),
            data={
                "media_type": "REELS",
                "upload_type": "resumable",
                "caption": caption,
                "share_to_feed": self.settings.options.get("share_to_feed", "true"),
            },
        )
        body = response.json()
        container = Container(str(body["id"]), str(body["uri"]))
        journal.put("container_id", container.id)
        journal.put("upload_uri", container.uri)
        return container

    def _upload(
        self,
        post: VideoPost,
        container: Container,
        journal: Journal,
        progress: Progress | None,
        resuming: bool,
    ) -> None:
        """Stream the file to rupload; after a failure, ask the container and POST again from an offset.

        `resuming` (a container from the journal) starts at offset 0 unless its status said FINISHED: no
        documented call tells how many bytes an earlier process got through, and 0 is always a valid offset.
        """
        if journal.get("uploaded_container") == container.id:
            return
        size = post.size
        offset = size if resuming and container.uploaded else 0
        attempt = 0
        while offset < size:
            try:
                self._rupload(post, container.uri, offset, progress)
                break
            except PlatformError as error:
                attempt += 1
                self.sleep(self.retry.delay(error, attempt))
                offset = self._resume_offset(container, error, size)
        journal.put("uploaded_container", container.id)

    def _resume_offset(self, container: Container, failure: PlatformError, size: int) -> int:
        """Where to POST from after `failure`: the container's status (GET /{container}?fields=status_code)
        says whether it still takes the upload; the failed answer's `debug_info.offset`, if it named one,
        says from where (else 0, the whole file again). `size` means the upload needs nothing more."""
        status = self._status(container.id)
        code = None if status is None else status.get("status_code")
        if code in (None, "EXPIRED"):
            raise ContainerExpiredError(container.id)
        if code != "IN_PROGRESS":
            return size  # FINISHED (or ERROR, PUBLISHED): the file arrived; processing tells the rest
        offset = failure.offset if isinstance(failure, UploadRefusedError) else None
        return offset if offset is not None and 0 <= offset <= size else 0

    def _status(self, container_id: str) -> dict[str, Any] | None:
        """The container's status_code/status, or None when Graph no longer knows it."""
        try:
            response = self.http.request(
                "GET", self._api(f"/{container_id}"), params={"fields": "status_code,status"}
            )
        except PlatformError as error:
            if error.code == MISSING_NODE:
                return None
            raise
        body: dict[str, Any] = response.json()
        return body

    def _await_processing(self, container: Container, caption: str, journal: Journal) -> PublishedPost | None:
        """Poll status_code until FINISHED (None: ours to publish); ERROR is a rejection, EXPIRED needs a new
        container, and PUBLISHED means someone published it already (another process, an earlier attempt):
        that Reel, found on the account, is the post, and nothing more is sent."""
        for _poll in self._polls():
            status = self._status(container.id) or {"status_code": "EXPIRED"}
            code = status.get("status_code")
            if code == "FINISHED":
                return None
            if code == "PUBLISHED":
                return self._published_container(container, caption, journal)
            if code == "ERROR":
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.INVALID_MEDIA,
                    "Instagram rejected the video while processing it: "
                    f"{status.get('status') or 'no reason given'}",
                )
            if code == "EXPIRED":
                raise ContainerExpiredError(container.id)
        raise self._still_waiting(f"container {container.id} was still processing")

    def _published_container(self, container: Container, caption: str, journal: Journal) -> PublishedPost:
        """The Reel of a container that is already published: the container does not name its media, so
        the account's recent media are matched by caption (as `reconcile` does)."""
        found = self._recent_media_with_caption(caption)
        if found is None:
            raise PlatformError(
                PLATFORM,
                ErrorKind.AMBIGUOUS,
                f"container {container.id} was published, but no Reel with this caption is among the "
                f"account's {RECENT_MEDIA} most recent media; check the account before publishing again",
            )
        journal.put("media_id", found.post_id)
        return found

    def _publish_container(self, container: Container, journal: Journal) -> PublishedPost:
        try:
            response = self.http.request(
                "POST",
                self._api(f"/{self.user_id}/media_publish"),
                creates=True,
                data={"creation_id": container.id},
            )
        except PlatformError as error:
            if error.code == CONTAINER_EXPIRED:
                raise ContainerExpiredError(container.id) from error
            raise
        media_id = str(response.json()["id"])
        journal.put("media_id", media_id)
        found = self._media(media_id)
        return found or PublishedPost(PLATFORM, media_id, "")

    def _media(self, media_id: str) -> PublishedPost | None:
        try:
            response = self.http.request("GET", self._api(f"/{media_id}"), params={"fields": "id,permalink"})
        except PlatformError as error:
            if error.code == MISSING_NODE:
                return None
            raise
        body = response.json()
        return PublishedPost(PLATFORM, str(body["id"]), str(body.get("permalink") or ""))

    def _recent_media_with_caption(self, caption: str) -> PublishedPost | None:
        response = self.http.request(
            "GET",
            self._api(f"/{self.user_id}/media"),
            params={"fields": "id,caption,permalink,timestamp", "limit": str(RECENT_MEDIA)},
        )
        for media in response.json().get("data", []):
            if media.get("caption") == caption:
                return PublishedPost(PLATFORM, str(media["id"]), str(media.get("permalink") or ""))
        return None


def _count(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reading(values: dict[str, Any], as_of: datetime) -> MetricReading:
    """Insights as lifetime core values; an insight missing from the answer is no zero."""
    found = {core: _count(values.get(name)) for core, name in CORE_INSIGHTS.items()}
    watched_ms = _count(values.get(WATCH_TIME_MS))
    found["watch_time_s"] = None if watched_ms is None else watched_ms / 1000.0
    names = {**CORE_INSIGHTS, "watch_time_s": WATCH_TIME_MS}
    unavailable = {"impressions": NO_IMPRESSIONS} | {
        core: f"Instagram's insights answer held no {names[core]} for this media"
        for core, value in found.items()
        if value is None
    }
    kept = {core: value for core, value in found.items() if value is not None}
    return MetricReading("lifetime", dict(values), kept, unavailable, as_of)


def _reel_problems(info: MediaInfo) -> list[str]:
    """Reels rules beyond the shared video limits: moov atom first, AAC audio (spec 4.4)."""
    problems = []
    if not info.faststart:
        problems.append("the moov atom must come before the media data (encode with -movflags +faststart)")
    if info.has_audio and info.audio_codec != "aac":
        problems.append(f"audio must be AAC, not {info.audio_codec}")
    return problems
