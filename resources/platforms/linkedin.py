"""The LinkedIn client: a video uploaded in pre-signed parts, then one post through the Posts API.

Flow (docs/reference/platform_protocols.md section 7): `initializeUpload` hands out the video URN and one
pre-signed URL per 4 MiB part; each part is PUT as returned and its ETag kept, in order; `finalizeUpload`
sends the ETags back; the video is polled until AVAILABLE; `POST /rest/posts` answers 201 with the post URN
in the `x-restli-id` header. Every /rest call carries `LinkedIn-Version` and `X-Restli-Protocol-Version`.
LinkedIn documents no rate-limit headers (its daily counters reset at midnight UTC), so a 429 backs off
exponentially unless a Retry-After arrives. A re-sent post is refused as "a duplicate of urn:li:share:...",
which names the post that already exists.

Analytics (section 7.5): an organization's posts through organizationalEntityShareStatistics (lifetime
without timeIntervals, by DAY within the rolling 12 months; many posts a call), a member's through
memberCreatorPostAnalytics (one metric type a call, TOTAL or DAILY). Every analytics call is metered
through the account's rate budget.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Unpack
from urllib.parse import quote

import httpx

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
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError
from resources.platforms.http import file_chunks, json_object, wait_hint
from resources.platforms.limits import escape_little_text
from resources.platforms.video_limits import video_problems

PLATFORM = "linkedin"
DEFAULT_VERSION = "202611"
RESTLI_PROTOCOL = "2.0.0"
POST_URL = "https://www.linkedin.com/feed/update/{urn}/"
UPLOADED = ("PROCESSING", "AVAILABLE")
URL_EXPIRY_MARGIN_S = 600.0
FINDER_PAGE_SIZE = 10
FINDER_PAGES = 3
ACL_PAGE_SIZE = 100  # organizationAcls: the member's roles, one page is plenty
PARTS_IN_FLIGHT = 2
STATISTICS_PER_CALL = 20  # posts named in one share statistics call (shares=List(...), ugcPosts=List(...))
STATISTICS_WINDOW_DAYS = 365  # "only within the past 12 months, using a rolling 12-month window"
# The oldest whole day inside the rolling window is 364 days back: an older one would be cut short.
HISTORY = HistoryWindow(
    STATISTICS_WINDOW_DAYS - 1, 1, "LinkedIn serves daily post statistics for a rolling 12 months only"
)
# The core metric each share statistics field, and each member analytics metric type, measures.
ORGANIZATION_FIELDS = {
    "likes": "likeCount",
    "comments": "commentCount",
    "shares": "shareCount",
    "impressions": "impressionCount",
    "reach": "uniqueImpressionsCount",
}
MEMBER_METRICS = {
    "impressions": "IMPRESSION",
    "reach": "MEMBERS_REACHED",
    "likes": "REACTION",
    "comments": "COMMENT",
    "shares": "RESHARE",
}
NOT_REPORTED = {
    "views": "LinkedIn's post statistics count impressions, not video views (those are in videoAnalytics, "
    "not read)",
    "saves": "LinkedIn's post statistics report no saves",
    "watch_time_s": "LinkedIn's post statistics report no watch time",
}

_AUTHOR = re.compile(r"urn:li:(organization|person):[^\s:]+")
_VERSION = re.compile(r"\d{6}")
_DUPLICATE = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):[\w-]+)")


def classify(response: httpx.Response) -> PlatformError | None:
    """LinkedIn's `{"status","serviceErrorCode","code","message"}` (OAuth: `error`) as a PlatformError."""
    status = response.status_code
    if status < 400:
        return None
    body = json_object(response)
    code = str(body.get("code") or body.get("error") or body.get("serviceErrorCode") or "") or None
    detail = str(body.get("message") or body.get("error_description") or response.reason_phrase or "")
    where = f"{response.request.method} {response.request.url.path}"
    said = f"{detail} ({code})" if code else detail
    if "error" in body and status in (400, 401):
        return PlatformError(
            PLATFORM,
            ErrorKind.AUTH,
            f"the token endpoint refused to refresh: {said}; run `pellacia-dist auth linkedin`",
            status=status,
            code=code,
        )
    if status == 401:
        return PlatformError(
            PLATFORM, ErrorKind.AUTH, f"{where}: access token refused: {said}", status=401, code=code
        )
    if status == 403:
        return PlatformError(
            PLATFORM,
            ErrorKind.POLICY,
            f"{where}: permission denied: {said}; posting as an organization needs w_organization_social "
            "(and an administrator or content admin role), as a member w_member_social",
            status=403,
            code=code,
        )
    if status == 426:
        version = response.request.headers.get("LinkedIn-Version", "?")
        return PlatformError(
            PLATFORM,
            ErrorKind.POLICY,
            f"LinkedIn-Version {version} is no longer served ({said}); set PELLACIA_LINKEDIN_VERSION to a "
            "current YYYYMM version",
            status=426,
            code=code,
        )
    if status == 429:
        return PlatformError(
            PLATFORM,
            ErrorKind.RATE_LIMIT,
            f"{where}: throttled: {said}; LinkedIn's daily limits reset at midnight UTC",
            status=429,
            code=code,
            retry_after_s=wait_hint(response),
        )
    if status == 422 and _DUPLICATE.search(detail):
        return PlatformError(PLATFORM, ErrorKind.DUPLICATE, f"{where}: {said}", status=422, code=code)
    if status == 408 or status >= 500:
        return PlatformError(PLATFORM, ErrorKind.RETRYABLE, f"{where}: HTTP {status}: {said}", status=status)
    return PlatformError(
        PLATFORM,
        ErrorKind.INVALID_MEDIA,
        f"{where}: rejected (HTTP {status}): {said}",
        status=status,
        code=code,
    )


def urn_path(urn: str) -> str:
    """A URN as Rest.li 2.0 wants it inside a path or a query value: every reserved character encoded."""
    return quote(urn, safe="")


def post_url(urn: str) -> str:
    return POST_URL.format(urn=urn)


@dataclass(frozen=True)
class UploadPart:
    """One pre-signed part URL and the inclusive byte range it takes."""

    url: str
    first_byte: int
    last_byte: int

    @property
    def length(self) -> int:
        return self.last_byte - self.first_byte + 1


@dataclass(frozen=True)
class UploadPlan:
    """What initializeUpload answered, as the journal keeps it to resume the upload."""

    upload_token: str
    parts: tuple[UploadPart, ...]
    expires_at_ms: int | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "upload_token": self.upload_token,
                "parts": [asdict(part) for part in self.parts],
                "expires_at_ms": self.expires_at_ms,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> UploadPlan:
        data = json.loads(text)
        parts = tuple(UploadPart(**part) for part in data["parts"])
        return cls(str(data["upload_token"]), parts, data.get("expires_at_ms"))

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.expires_at_ms is not None and self.expires_at_ms / 1000 - URL_EXPIRY_MARGIN_S <= now


def _upload_plan(value: dict[str, Any], size: int) -> UploadPlan:
    """The parts LinkedIn asked for; they must cover the file exactly, or streaming would read past it."""
    try:
        parts = tuple(
            sorted(
                (
                    UploadPart(str(item["uploadUrl"]), int(item["firstByte"]), int(item["lastByte"]))
                    for item in value.get("uploadInstructions") or []
                ),
                key=lambda part: part.first_byte,
            )
        )
        expires = int(value["uploadUrlsExpireAt"]) if value.get("uploadUrlsExpireAt") else None
    except (KeyError, TypeError, ValueError) as error:
        raise PlatformError(
            PLATFORM, ErrorKind.RETRYABLE, f"initializeUpload sent malformed upload instructions ({error})"
        ) from error
    expected = 0
    for part in parts:
        if part.first_byte != expected or part.length <= 0:
            break
        expected = part.last_byte + 1
    if not parts or expected != size:
        raise PlatformError(
            PLATFORM, ErrorKind.RETRYABLE, f"initializeUpload's part ranges do not cover the {size}-byte file"
        )
    return UploadPlan(str(value.get("uploadToken") or ""), parts, expires)


def _media_id(post: dict[str, Any]) -> str | None:
    media = (post.get("content") or {}).get("media") or {}
    return str(media["id"]) if media.get("id") else None


class LinkedInClient(PlatformClientBase):
    """Publishes videos as one LinkedIn author (organization or member) through the documented REST API.

    LinkedIn fixes the part boundaries itself; `chunk_size` is how much of a part is held in memory while
    it streams from disk. `parts_in_flight` part PUTs run at once (default 2, or PELLACIA_LINKEDIN_
    PARTS_IN_FLIGHT): the pre-signed part URLs are independent, and overlapping them keeps both ends busy
    instead of each waiting out the other's per-part work.
    """

    platform = PLATFORM
    history_window: HistoryWindow | None = HISTORY

    def __init__(
        self,
        settings: PlatformSettings,
        store: CredentialStore | None = None,
        *,
        parts_in_flight: int | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.author = _author(settings.account_id)
        self.version = settings.options.get("version", DEFAULT_VERSION)
        if not _VERSION.fullmatch(self.version):
            raise PlatformError(
                PLATFORM, ErrorKind.POLICY, f"PELLACIA_LINKEDIN_VERSION must be YYYYMM, not {self.version!r}"
            )
        self.parts_in_flight = _parts_in_flight(parts_in_flight, settings.options.get("parts_in_flight"))
        super().__init__(settings, store, **options)
        self.api = self.transport(classify)
        self.anonymous = self.transport(classify, signed=False)

    # --- PlatformClient --------------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        if not post.video.is_file():
            raise PlatformError(PLATFORM, ErrorKind.INVALID_MEDIA, f"the video {post.video} does not exist")
        info = self._probe(post)
        self._check_rules(
            post, video_problems(PLATFORM, info, info.size_bytes), post.caption(), "cannot go out"
        )

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        self.check(post)
        video = self._uploaded_video(post, journal, progress)
        journal.set_state("processing")
        self._wait_until_available(video)
        return self._create_post(post, video, journal)

    def verify_access(self) -> str:
        """Who the token acts for. An organization author: the `q=roleAssignee` finder of organizationAcls
        (rw_organization_admin) must list an approved role of the member on it. A member author: OpenID
        Connect's GET /v2/userinfo (scopes openid, profile) must name that member."""
        if self._organization:
            answer = json_object(
                self._rest("GET", f"/organizationAcls?q=roleAssignee&state=APPROVED&count={ACL_PAGE_SIZE}")
            )
            roles = sorted(
                str(element.get("role"))
                for element in answer.get("elements") or []
                if isinstance(element, dict)
                and (element.get("organization") or element.get("organizationalTarget")) == self.author
            )
            if not roles:
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.POLICY,
                    f"GET /rest/organizationAcls: the authorised member has no approved role on "
                    f"{self.author}; posting needs an administrator or content admin role there",
                    code="no_role",
                )
            return f"organization {self.author} (the member's role: {', '.join(roles)})"
        member = json_object(self.api.request("GET", self.settings.url("api", "/v2/userinfo")))
        urn = f"urn:li:person:{member.get('sub', '')}"
        if urn != self.author:
            raise PlatformError(
                PLATFORM,
                ErrorKind.AUTH,
                f"GET /v2/userinfo: the token is member {urn}'s, not {self.author}'s; run "
                "`pellacia-dist auth linkedin` as that member or correct PELLACIA_LINKEDIN_AUTHOR",
                code="other_member",
            )
        name = member.get("name")
        return f"member {urn}" + (f" ({name})" if name else "")

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """The post if it exists: by the journaled URN, else the author's newest posts with our video."""
        post_urn = journal.get("post_urn")
        if post_urn and self._post(post_urn) is not None:
            return PublishedPost(PLATFORM, post_urn, post_url(post_urn))
        video = journal.get("video_urn")
        if not video:
            return None
        for element in self._recent_posts():
            if _media_id(element) == video and element.get("id"):
                urn = str(element["id"])
                journal.put("post_urn", urn)
                return PublishedPost(PLATFORM, urn, post_url(urn))
        return None

    # --- Upload ----------------------------------------------------------------------------------------

    def _uploaded_video(self, post: VideoPost, journal: Journal, progress: Progress | None) -> str:
        """The video URN once every part is in and finalized, resuming a journaled upload where it can."""
        video = journal.get("video_urn")
        status = self._video_status(video) if video else None
        if video and status in UPLOADED:
            return video
        plan_text = journal.get("upload_plan")
        plan = UploadPlan.from_json(plan_text) if plan_text else None
        journal.set_state("uploading")
        if not video or status != "WAITING_UPLOAD" or plan is None or plan.expired():
            video, plan = self._initialize(post, journal)
        self._upload_parts(post, plan, journal, progress)
        self._finalize(video, plan, journal)
        return video

    def _initialize(self, post: VideoPost, journal: Journal) -> tuple[str, UploadPlan]:
        request = {
            "initializeUploadRequest": {
                "owner": self.author,
                "fileSizeBytes": post.size,
                "uploadCaptions": False,
                "uploadThumbnail": False,
            }
        }
        answer = json_object(self._rest("POST", "/videos?action=initializeUpload", json_body=request))
        value = answer.get("value")
        if not isinstance(value, dict) or not value.get("video"):
            raise PlatformError(PLATFORM, ErrorKind.RETRYABLE, "initializeUpload sent no video URN")
        plan = _upload_plan(value, post.size)
        video = str(value["video"])
        journal.put("video_urn", video)
        journal.put("upload_plan", plan.to_json())
        journal.put("part_etags", "[]")
        return video, plan

    def _upload_parts(
        self, post: VideoPost, plan: UploadPlan, journal: Journal, progress: Progress | None
    ) -> None:
        """PUT every part that has no ETag yet, `parts_in_flight` at a time; each ETag is journaled the moment
        it arrives. After a failed part no new part starts; those in flight finish (their ETags kept for the
        next attempt) and the first failure is raised.
        """
        etags = _journaled_etags(journal, len(plan.parts))
        done = sum(part.length for part, etag in zip(plan.parts, etags, strict=True) if etag)
        waiting = iter([index for index, etag in enumerate(etags) if not etag])
        failure: Exception | None = None
        with ThreadPoolExecutor(self.parts_in_flight, thread_name_prefix="linkedin-part") as pool:
            in_flight: dict[Future[str], int] = {}

            def start_next() -> None:
                index = next(waiting, None)
                if index is not None:
                    in_flight[pool.submit(self._put_part, post, plan, index)] = index

            for _slot in range(self.parts_in_flight):
                start_next()
            while in_flight:
                finished, _running = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = in_flight.pop(future)
                    try:
                        etags[index] = future.result()
                    except Exception as error:  # kept; raised once the parts in flight end
                        failure = failure or error
                        continue
                    journal.put("part_etags", json.dumps(etags))
                    done += plan.parts[index].length
                    if progress is not None:
                        progress(done, post.size)
                    if failure is None:
                        start_next()
        if failure is not None:
            raise failure

    def _put_part(self, post: VideoPost, plan: UploadPlan, index: int) -> str:
        """One part streamed from disk to its pre-signed URL; its ETag."""
        part = plan.parts[index]
        response = self.anonymous.request(
            "PUT",
            part.url,
            authenticated=False,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(part.length)},
            content=file_chunks(post.video, part.first_byte, part.length, self.chunk_size),
        )
        etag = response.headers.get("etag")
        if not etag:
            raise PlatformError(
                PLATFORM,
                ErrorKind.RETRYABLE,
                f"part {index + 1} of {len(plan.parts)} came back without an ETag",
            )
        return str(etag)

    def _finalize(self, video: str, plan: UploadPlan, journal: Journal) -> None:
        etags = _journaled_etags(journal, len(plan.parts))
        request = {
            "finalizeUploadRequest": {
                "video": video,
                "uploadToken": plan.upload_token,
                "uploadedPartIds": etags,
            }
        }
        try:
            self._rest("POST", "/videos?action=finalizeUpload", json_body=request)
        except PlatformError as error:
            if error.retryable:
                raise
            if self._video_status(video) in UPLOADED:
                return  # a retried finalize whose first answer was lost: the first one went through
            journal.put("part_etags", "[]")  # the parts were refused: the next attempt sends them again
            raise

    def _wait_until_available(self, video: str) -> None:
        status = "PROCESSING"
        for _poll in self._polls():
            state = self._video(video)
            if state is None:
                raise PlatformError(PLATFORM, ErrorKind.RETRYABLE, f"the uploaded video {video} disappeared")
            status = str(state.get("status"))
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                reason = state.get("processingFailureReason")
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.INVALID_MEDIA,
                    f"LinkedIn could not process the video {video}" + (f": {reason}" if reason else ""),
                )
        raise self._still_waiting(f"the video {video} was still {status}")

    def _video(self, urn: str) -> dict[str, Any] | None:
        try:
            return json_object(self._rest("GET", f"/videos/{urn_path(urn)}"))
        except PlatformError as error:
            if error.status == 404:
                return None
            raise

    def _video_status(self, urn: str) -> str | None:
        state = self._video(urn)
        return None if state is None else str(state.get("status"))

    # --- Posts -----------------------------------------------------------------------------------------

    def _create_post(self, post: VideoPost, video: str, journal: Journal) -> PublishedPost:
        request = {
            "author": self.author,
            "commentary": escape_little_text(post.caption()),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"media": {"title": post.title, "id": video}},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        try:
            response = self._rest("POST", "/posts", json_body=request, creates=True)
        except PlatformError as error:
            if error.kind is not ErrorKind.DUPLICATE:
                raise
            urn = self._earlier_post_of(video, error)
        else:
            found = response.headers.get("x-restli-id")
            if not found:
                raise AmbiguousOutcomeError(PLATFORM, "POST /rest/posts answered without x-restli-id")
            urn = found
        journal.put("post_urn", urn)
        return PublishedPost(PLATFORM, urn, post_url(urn))

    def _earlier_post_of(self, video: str, duplicate: PlatformError) -> str:
        """The post LinkedIn calls this one a duplicate of, if it carries our video (an earlier attempt)."""
        match = _DUPLICATE.search(str(duplicate))
        original = match.group(1) if match else None
        earlier = self._post(original) if original else None
        if original and earlier is not None and _media_id(earlier) == video:
            return original
        raise PlatformError(
            PLATFORM,
            ErrorKind.DUPLICATE,
            f"LinkedIn refuses the commentary as a duplicate of {original or 'an earlier post'}, which "
            "carries another video; change the caption to post it",
            status=422,
            code=duplicate.code,
        )

    def _post(self, urn: str, call: str | None = None) -> dict[str, Any] | None:
        """The post, or None when LinkedIn has no such post; `call` meters the read (analytics)."""
        try:
            return json_object(self._rest("GET", f"/posts/{urn_path(urn)}", call=call))
        except PlatformError as error:
            if error.status in (404, 410):
                return None
            raise

    def _recent_posts(self) -> Iterator[dict[str, Any]]:
        """The author's newest posts through the `q=author` finder, a few pages deep."""
        for page in range(FINDER_PAGES):
            start = page * FINDER_PAGE_SIZE
            query = f"q=author&author={urn_path(self.author)}&count={FINDER_PAGE_SIZE}&start={start}"
            answer = json_object(self._rest("GET", f"/posts?{query}", headers={"X-RestLi-Method": "FINDER"}))
            elements = [element for element in answer.get("elements") or [] if isinstance(element, dict)]
            yield from elements
            if len(elements) < FINDER_PAGE_SIZE:
                return

    # --- Analytics -------------------------------------------------------------------------------------

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Lifetime statistics as of now: an organization's in calls of 20 posts, a member's one metric
        type a call; a post LinkedIn does not show is left out."""
        as_of = datetime.now(UTC)
        if self._organization:
            return {
                _post_of(element): _organization_reading("lifetime", element, as_of)
                for batch in _batches(post_ids, STATISTICS_PER_CALL)
                for element in self._share_statistics(batch)
            }
        readings: dict[str, MetricReading] = {}
        for urn in dict.fromkeys(post_ids):
            counts: dict[str, int] = {}
            for metric_type in MEMBER_METRICS.values():
                elements = self._member_analytics(urn, metric_type, "TOTAL")
                if elements is None:
                    break
                found = [element["count"] for element in elements if isinstance(element.get("count"), int)]
                if found:
                    counts[metric_type] = sum(found)
            else:
                readings[urn] = _member_reading("lifetime", counts, as_of)
        return readings

    def daily_metrics(
        self, post_ids: Sequence[str], first: date, last: date
    ) -> dict[str, dict[date, MetricReading]]:
        """Each post's days from `first` to `last`, clamped to the rolling 12 months and to now: an
        organization's by DAY timeIntervals (20 posts a call), a member's DAILY per metric type."""
        now = datetime.now(UTC)
        first = max(first, now.date() - timedelta(days=HISTORY.days or 0))
        last = min(last, now.date())
        history: dict[str, dict[date, MetricReading]] = {}
        if first > last:
            return history
        if self._organization:
            start_ms = _ms(_midnight(first))
            end_ms = min(_ms(_midnight(last + timedelta(days=1))), _ms(now))
            if start_ms >= end_ms:
                return history
            intervals = f"(timeRange:(start:{start_ms},end:{end_ms}),timeGranularityType:DAY)"
            for batch in _batches(post_ids, STATISTICS_PER_CALL):
                for element in self._share_statistics(batch, intervals):
                    day = _ms_day((element.get("timeRange") or {}).get("start"))
                    if day is not None and first <= day <= last:
                        reading = _organization_reading("measured", element)
                        history.setdefault(_post_of(element), {})[day] = reading
            return history
        for urn in dict.fromkeys(post_ids):
            by_day: dict[date, dict[str, int]] = {}
            for metric_type in MEMBER_METRICS.values():
                elements = self._member_analytics(urn, metric_type, "DAILY")
                if elements is None:
                    break
                for element in elements:
                    day = _day((element.get("dateRange") or {}).get("start") or {})
                    if day is not None and first <= day <= last and isinstance(element.get("count"), int):
                        by_day.setdefault(day, {})[metric_type] = element["count"]
            if by_day:
                history[urn] = {day: _member_reading("measured", counts) for day, counts in by_day.items()}
        return history

    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """Each post's publishedAt (else createdAt), from GET /rest/posts/{urn}."""
        created: dict[str, datetime] = {}
        for urn in dict.fromkeys(post_ids):
            post = self._post(urn, call="rest")
            stamp = None if post is None else post.get("publishedAt") or post.get("createdAt")
            if isinstance(stamp, int):
                created[urn] = datetime.fromtimestamp(stamp / 1000, UTC)
        return created

    @property
    def _organization(self) -> bool:
        return self.author.startswith("urn:li:organization:")

    def _share_statistics(self, urns: Sequence[str], intervals: str = "") -> list[dict[str, Any]]:
        """One organizationalEntityShareStatistics call for `urns` (lifetime without `intervals`), in
        Rest.li 2.0: a List's commas stay, the URNs in it are encoded."""
        shares = [urn_path(urn) for urn in urns if ":ugcPost:" not in urn]
        ugc_posts = [urn_path(urn) for urn in urns if ":ugcPost:" in urn]
        query = f"q=organizationalEntity&organizationalEntity={urn_path(self.author)}"
        if shares:
            query += f"&shares=List({','.join(shares)})"
        if ugc_posts:
            query += f"&ugcPosts=List({','.join(ugc_posts)})"
        if intervals:
            query += f"&timeIntervals={intervals}"
        answer = json_object(
            self._rest("GET", f"/organizationalEntityShareStatistics?{query}", call="share_statistics")
        )
        return [element for element in answer.get("elements") or [] if isinstance(element, dict)]

    def _member_analytics(self, urn: str, metric_type: str, aggregation: str) -> list[dict[str, Any]] | None:
        """memberCreatorPostAnalytics elements of one metric type; None when LinkedIn has no such post."""
        entity = f"({'ugc' if ':ugcPost:' in urn else 'share'}:{urn_path(urn)})"
        query = f"q=entity&entity={entity}&queryType={metric_type}&aggregation={aggregation}"
        try:
            answer = json_object(
                self._rest("GET", f"/memberCreatorPostAnalytics?{query}", call="post_analytics")
            )
        except PlatformError as error:
            if error.status in (404, 410):
                return None
            raise
        return [element for element in answer.get("elements") or [] if isinstance(element, dict)]

    # --- Transport -------------------------------------------------------------------------------------

    def _rest(
        self,
        method: str,
        path_and_query: str,
        *,
        json_body: Any = None,
        creates: bool = False,
        headers: dict[str, str] | None = None,
        call: str | None = None,
    ) -> httpx.Response:
        """One versioned call under {api root}/rest; the query is already in Rest.li 2.0 encoding. A
        `call` kind (budget.COSTS) meters it through the account's rate budget."""
        return self.api.request(
            method,
            self.settings.url("api", f"/rest{path_and_query}"),
            creates=creates,
            json_body=json_body,
            call=call,
            headers={
                "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
                **(headers or {}),
            },
        )

    def _refresh(self, current: TokenSet) -> TokenSet:
        """POST {oauth root}/oauth/v2/accessToken; LinkedIn keeps the refresh token's original expiry."""
        return self._refresh_grant(self.anonymous, "/oauth/v2/accessToken", current)


def _author(account_id: str | None) -> str:
    if not account_id or not _AUTHOR.fullmatch(account_id):
        raise PlatformError(
            PLATFORM,
            ErrorKind.AUTH,
            "PELLACIA_LINKEDIN_AUTHOR must name who posts, as urn:li:organization:<id> or "
            f"urn:li:person:<id> (got {account_id!r})",
        )
    return account_id


def _parts_in_flight(given: int | None, configured: str | None) -> int:
    """How many part PUTs run at once: the argument, else PELLACIA_LINKEDIN_PARTS_IN_FLIGHT, else 2."""
    text = str(given) if given is not None else (configured or str(PARTS_IN_FLIGHT)).strip()
    if not text.isdigit() or int(text) < 1:
        raise PlatformError(
            PLATFORM,
            ErrorKind.POLICY,
            f"PELLACIA_LINKEDIN_PARTS_IN_FLIGHT must be a whole number of at least 1, not {text!r}",
        )
    return int(text)


def _batches(urns: Sequence[str], size: int) -> Iterator[list[str]]:
    """The distinct URNs in calls of at most `size`."""
    distinct = list(dict.fromkeys(urns))
    for offset in range(0, len(distinct), size):
        yield distinct[offset : offset + size]


def _post_of(element: Mapping[str, Any]) -> str:
    return str(element.get("share") or element.get("ugcPost"))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_day(stamp: Any) -> date | None:
    """The UTC day an epoch-milliseconds timeRange bound falls on."""
    return datetime.fromtimestamp(stamp / 1000, UTC).date() if isinstance(stamp, int) else None


def _day(value: Mapping[str, Any]) -> date | None:
    """A Rest.li Date `{"year", "month", "day"}`."""
    try:
        return date(int(value["year"]), int(value["month"]), int(value["day"]))
    except (KeyError, TypeError, ValueError):
        return None


def _organization_reading(
    kind: Literal["measured", "lifetime"], element: Mapping[str, Any], as_of: datetime | None = None
) -> MetricReading:
    """totalShareStatistics as the core: impressions stay impressions (never views), unique impressions
    are the reach."""
    statistics = dict(element.get("totalShareStatistics") or {})
    values: dict[str, float] = {}
    unavailable = dict(NOT_REPORTED)
    for metric, field in ORGANIZATION_FIELDS.items():
        value = statistics.get(field)
        if isinstance(value, int | float):
            values[metric] = float(value)
        else:
            unavailable[metric] = f"LinkedIn's share statistics carry no {field}"
    return MetricReading(kind, statistics, values, unavailable, as_of)


def _member_reading(
    kind: Literal["measured", "lifetime"], counts: Mapping[str, int], as_of: datetime | None = None
) -> MetricReading:
    """The count of each member analytics metric type as the core (reactions are the likes); a type
    LinkedIn gave no count of is unavailable, never 0."""
    values: dict[str, float] = {}
    unavailable = dict(NOT_REPORTED)
    for metric, metric_type in MEMBER_METRICS.items():
        if metric_type in counts:
            values[metric] = float(counts[metric_type])
        else:
            unavailable[metric] = f"LinkedIn's member post analytics gave no {metric_type} count"
    return MetricReading(kind, dict(counts), values, unavailable, as_of)


def _journaled_etags(journal: Journal, count: int) -> list[str | None]:
    stored = json.loads(journal.get("part_etags") or "[]")
    etags: list[str | None] = [str(etag) if etag else None for etag in stored][:count]
    return etags + [None] * (count - len(etags))
