"""The LinkedIn client: a video uploaded in pre-signed parts, then one post through the Posts API.

Flow (docs/reference/platform_protocols.md section 7): `initializeUpload` hands out the video URN and one
pre-signed URL per 4 MiB part; each part is PUT as returned and its ETag kept, in order; `finalizeUpload`
sends the ETags back; the video is polled until AVAILABLE; `POST /rest/posts` answers 201 with the post URN
in the `x-restli-id` header. Every /rest call carries `LinkedIn-Version` and `X-Restli-Protocol-Version`.
LinkedIn documents no rate-limit headers (its daily counters reset at midnight UTC), so a 429 backs off
exponentially unless a Retry-After arrives. A re-sent post is refused as "a duplicate of urn:li:share:...",
which names the post that already exists.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from resources.platforms.base import Journal, PostMetrics, Progress, PublishedPost, VideoPost
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
PARTS_IN_FLIGHT = 2
MEMBER_METRICS = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE")

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

    def metrics(self, post_id: str) -> PostMetrics:
        """Organization posts: share statistics; member posts: creator analytics. Views are impressions."""
        if self.author.startswith("urn:li:organization:"):
            return self._organization_metrics(post_id)
        return self._member_metrics(post_id)

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

    def _post(self, urn: str) -> dict[str, Any] | None:
        try:
            return json_object(self._rest("GET", f"/posts/{urn_path(urn)}"))
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

    def _organization_metrics(self, post_id: str) -> PostMetrics:
        kind, field = ("ugcPosts", "ugcPost") if ":ugcPost:" in post_id else ("shares", "share")
        query = (
            f"q=organizationalEntity&organizationalEntity={urn_path(self.author)}"
            f"&{kind}=List({urn_path(post_id)})"
        )
        answer = json_object(self._rest("GET", f"/organizationalEntityShareStatistics?{query}"))
        stats: dict[str, Any] = next(
            (
                element.get("totalShareStatistics") or {}
                for element in answer.get("elements") or []
                if element.get(field) == post_id
            ),
            {},
        )
        impressions = int(stats.get("impressionCount", 0))
        return PostMetrics(
            views=impressions,
            likes=int(stats.get("likeCount", 0)),
            comments=int(stats.get("commentCount", 0)),
            shares=int(stats.get("shareCount", 0)),
            extra={
                "impressions": impressions,
                "unique_impressions": int(stats.get("uniqueImpressionsCount", 0)),
                "clicks": int(stats.get("clickCount", 0)),
                "engagement": float(stats.get("engagement", 0.0)),
            },
        )

    def _member_metrics(self, post_id: str) -> PostMetrics:
        entity = f"({'ugc' if ':ugcPost:' in post_id else 'share'}:{urn_path(post_id)})"
        counts: dict[str, int] = {}
        for metric in MEMBER_METRICS:
            query = f"q=entity&entity={entity}&queryType={metric}&aggregation=TOTAL"
            answer = json_object(self._rest("GET", f"/memberCreatorPostAnalytics?{query}"))
            counts[metric] = sum(int(element.get("count", 0)) for element in answer.get("elements") or [])
        return PostMetrics(
            views=counts["IMPRESSION"],
            likes=counts["REACTION"],
            comments=counts["COMMENT"],
            shares=counts["RESHARE"],
            extra={"impressions": counts["IMPRESSION"], "members_reached": counts["MEMBERS_REACHED"]},
        )

    # --- Transport -------------------------------------------------------------------------------------

    def _rest(
        self,
        method: str,
        path_and_query: str,
        *,
        json_body: Any = None,
        creates: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One versioned call under {api root}/rest; the query is already in Rest.li 2.0 encoding."""
        return self.api.request(
            method,
            self.settings.url("api", f"/rest{path_and_query}"),
            creates=creates,
            json_body=json_body,
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


def _journaled_etags(journal: Journal, count: int) -> list[str | None]:
    stored = json.loads(journal.get("part_etags") or "[]")
    etags: list[str | None] = [str(etag) if etag else None for etag in stored][:count]
    return etags + [None] * (count - len(etags))
