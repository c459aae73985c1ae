"""The X client: v2 chunked media upload, the processing poll, POST /2/tweets, reconciling, analytics.

tweepy still uploads only through the retired v1.1 endpoint (tweepy issue #2217), so this speaks the
documented v2 protocol over the shared transport (spec: docs/reference/platform_protocols.md, section 6):
initialize -> append segments (multipart, streamed from disk) -> finalize -> STATUS until `succeeded`,
then POST /2/tweets with the media id. Every id goes into the journal the moment X hands it out, and so
does each acknowledged segment, so a retry resumes with the next segment instead of starting over.
Analytics (spec 6.8): lifetime counters from GET /2/tweets (public_metrics, the video's view_count), daily
history from GET /2/tweets/analytics (granularity=daily, start_time within the last 30 days); both take up
to 100 ids a call, and every analytics call is metered through the account's rate budget.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Unpack

import httpx

from pellacia_assets.rendering.probe import MediaInfo
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
from resources.platforms.credentials import CredentialStore, TokenSet, token_set_from_answer
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.http import basic_auth, file_chunks, multipart_body, wait_hint
from resources.platforms.video_limits import video_problems

PLATFORM = "x"
MIB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 4 * MIB  # the official v2 sample's segment; v1.1 capped APPEND at 5 MB (spec 6.3)
MAX_SEGMENTS = 1000  # segment_index is 0-999
MEDIA_TYPE = "video/mp4"
MEDIA_CATEGORY = "tweet_video"
EXPIRY_MARGIN_S = 600.0  # a media id this close to expiring is not worth resuming
TIMELINE_PAGE_SIZE = 10
TIMELINE_PAGES = 5
RATE_LIMIT_TYPES = ("rate-limit-exceeded", "usage-capped")
RATE_LIMIT_CODES = (88,)
DUPLICATE_CODES = (187,)
PROBLEM_MARKER = "/problems/"
IDS_PER_CALL = 100  # GET /2/tweets and GET /2/tweets/analytics take up to 100 ids
ANALYTICS_FIELDS = (
    "impressions", "engagements", "likes", "retweets", "replies", "quote_tweets", "bookmarks", "shares",
    "url_clicks", "user_profile_clicks", "media_views", "detail_expands",
)  # fmt: skip
ANALYTICS_WINDOW_DAYS = 30  # start_time older than this is refused (400)
# The oldest whole day inside the 30 days is 29 days back: a day older than that would be cut short.
HISTORY = HistoryWindow(
    ANALYTICS_WINDOW_DAYS - 1, 1, "X serves daily post analytics for the last 30 days only"
)
NO_REACH = "X reports no reach (unique accounts reached) for a post"
NO_WATCH_TIME = "X reports watch time only in media analytics (GET /2/media/analytics), which is not read"
NO_VIDEO = "the X post carries no video, so X reports no view count for it"
log = logging.getLogger("pellacia.platforms.x")


def classify(response: httpx.Response) -> PlatformError | None:
    """X's answer as a PlatformError (None for success), from its Problem JSON or legacy error body."""
    status = response.status_code
    if status < 400:
        return None
    kind_name, code, text = _problem(response)
    message = f"{_where(response)}: HTTP {status} {text}"
    if status == 429 or kind_name in RATE_LIMIT_TYPES or code in RATE_LIMIT_CODES:
        return PlatformError(
            PLATFORM,
            ErrorKind.RATE_LIMIT,
            message,
            status=status,
            code=kind_name or (str(code) if code else None),
            retry_after_s=wait_hint(response),
        )
    if "duplicate content" in text.lower() or code in DUPLICATE_CODES:
        return PlatformError(
            PLATFORM, ErrorKind.DUPLICATE, message, status=status, code=kind_name or "duplicate"
        )
    if status == 401 or (
        status == 403 and ("scope" in text.lower() or kind_name == "unsupported-authentication")
    ):
        return PlatformError(PLATFORM, ErrorKind.AUTH, message, status=status, code=kind_name)
    if status >= 500 or status == 408:
        return PlatformError(PLATFORM, ErrorKind.RETRYABLE, message, status=status, code=kind_name)
    if status in (400, 404, 409, 413, 415, 422):
        return PlatformError(PLATFORM, ErrorKind.INVALID_MEDIA, message, status=status, code=kind_name)
    return PlatformError(PLATFORM, ErrorKind.POLICY, message, status=status, code=kind_name)


def classify_token_answer(response: httpx.Response) -> PlatformError | None:
    """The OAuth token endpoint's answer: any refusal means the account must be authorised again."""
    status = response.status_code
    if status < 400:
        return None
    if status == 429 or status >= 500:
        return classify(response)
    body = _json_or_none(response)
    reason = (
        f"{body.get('error', 'error')}: {body.get('error_description', '')}".rstrip(": ")
        if isinstance(body, dict)
        else response.reason_phrase
    )
    return PlatformError(
        PLATFORM,
        ErrorKind.AUTH,
        f"the token endpoint refused to refresh the access token (HTTP {status} {reason}); "
        "run `pellacia-dist auth x`",
        status=status,
        code="token_refresh",
    )


def multipart_segment(
    path: Path, index: int, offset: int, length: int
) -> tuple[dict[str, str], Callable[[], Iterator[bytes]]]:
    """Headers and a re-startable body for one APPEND: `segment_index` and `media` streamed from disk."""
    return multipart_body({"segment_index": str(index)}, "media", file_chunks(path, offset, length), length)


class XClient(PlatformClientBase):
    """One X account: publishes a video post exactly as the v2 API documents it."""

    platform = PLATFORM
    rotating_refresh_tokens = True  # each refresh hands out a new refresh token; the old one dies
    history_window: HistoryWindow | None = HISTORY

    def __init__(
        self, settings: PlatformSettings, store: CredentialStore | None = None, **kw: Unpack[ClientOptions]
    ) -> None:
        """`chunk_size` defaults to PELLACIA_X_CHUNK_SIZE (settings option `chunk_size`), else 4 MiB."""
        if "chunk_size" not in kw:
            raw = settings.options.get("chunk_size", str(DEFAULT_CHUNK_SIZE))
            if not raw.isdigit() or int(raw) == 0:
                raise ValueError(
                    f"PELLACIA_X_CHUNK_SIZE must be a positive whole number of bytes, not {raw!r}"
                )
            kw["chunk_size"] = int(raw)
        if kw["chunk_size"] <= 0:
            raise ValueError(f"chunk_size must be a positive number of bytes, not {kw['chunk_size']}")
        super().__init__(settings, store, **kw)
        self.username = settings.options.get("username")
        self.http = self.transport(classify)
        self.oauth_http = self.transport(classify_token_answer, signed=False)

    @staticmethod
    def text_for(post: VideoPost) -> str:
        """An X post has no title field: its text begins with the title, then the description (trimmed to
        fit 280 weighted characters) and the hashtags (limits.post_caption)."""
        return post.caption_for(PLATFORM)

    # --- PlatformClient -------------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        info = self._probe(post)
        problems = video_problems(PLATFORM, info, info.size_bytes) + x_video_problems(info)
        self._check_rules(post, problems, self.text_for(post), "breaks X's rules")

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        media_id = self._ready_media(post, journal, progress)
        return self._create_post(self.text_for(post), media_id, journal)

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """The post this journal's attempt made, if X has it: by its id, else by its media on the timeline."""
        tweet_id = journal.get("tweet_id")
        if tweet_id is not None and self._exists(tweet_id):
            return PublishedPost(PLATFORM, tweet_id, self.post_url(tweet_id))
        if journal.get("media_id") is None:
            return None
        found = self._find_by_media(journal)
        if found is not None:
            journal.put("tweet_id", found.post_id)
        return found

    # --- analytics ----------------------------------------------------------------------------------

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Public counters as of now; views are the video's view_count (GET /2/tweets, spec 6.8)."""
        params = {
            "tweet.fields": "public_metrics,attachments,created_at",
            "expansions": "attachments.media_keys",
            "media.fields": "public_metrics,duration_ms",
        }
        as_of = datetime.now(UTC)
        readings: dict[str, MetricReading] = {}
        for batch in _batches(post_ids):
            payload = self._lookup(batch, params)
            media = {
                str(item.get("media_key")): item
                for item in (payload.get("includes") or {}).get("media") or []
                if isinstance(item, dict)
            }
            for tweet in payload.get("data") or []:
                readings[str(tweet["id"])] = _lifetime_reading(tweet, media, as_of)
        return readings

    def daily_metrics(
        self, post_ids: Sequence[str], first: date, last: date
    ) -> dict[str, dict[date, MetricReading]]:
        """Each post's days from GET /2/tweets/analytics (granularity=daily), clamped to the 30 days X
        serves and to now; a day X has no bucket for is left out."""
        now = datetime.now(UTC).replace(microsecond=0)
        oldest = now.date() - timedelta(days=HISTORY.days or 0)
        start = _midnight(max(first, oldest))
        end = min(_midnight(last + timedelta(days=1)), now)
        days: dict[str, dict[date, MetricReading]] = {}
        if start >= end:
            return days
        for batch in _batches(post_ids):
            params = {
                "ids": ",".join(batch),
                "start_time": _stamp(start),
                "end_time": _stamp(end),
                "granularity": "daily",
                "analytics.fields": ",".join(ANALYTICS_FIELDS),
            }
            response = self.http.request(
                "GET", self._api("/2/tweets/analytics"), params=params, call="tweets.analytics"
            )
            for series in _json_object(response).get("data") or []:
                readings = {
                    day: _daily_reading(entry.get("metrics") or {})
                    for entry in series.get("timestamped_metrics") or []
                    if first <= (day := _parse_time(str(entry["timestamp"])).date()) <= last
                }
                if readings:
                    days[str(series["id"])] = readings
        return days

    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """Each post's created_at, as GET /2/tweets reports it."""
        created: dict[str, datetime] = {}
        for batch in _batches(post_ids):
            for tweet in self._lookup(batch, {"tweet.fields": "created_at"}).get("data") or []:
                if tweet.get("created_at"):
                    created[str(tweet["id"])] = _parse_time(str(tweet["created_at"]))
        return created

    def _lookup(self, ids: Sequence[str], params: Mapping[str, str]) -> dict[str, Any]:
        """GET /2/tweets for up to 100 ids (metered); posts X does not show are named in `errors`."""
        query = {"ids": ",".join(ids), **params}
        return _json_object(
            self.http.request("GET", self._api("/2/tweets"), params=query, call="tweets.lookup")
        )

    def post_url(self, tweet_id: str) -> str:
        if self.username:
            return f"https://x.com/{self.username}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"

    # --- upload ---------------------------------------------------------------------------------------

    def _ready_media(self, post: VideoPost, journal: Journal, progress: Progress | None) -> str:
        """A processed media id for this video: resumed from the journal where X still has it."""
        media_id = journal.get("media_id")
        usable = media_id is not None and journal.get("media_state") != "failed" and not _expired(journal)
        if media_id is not None and usable:
            if journal.get("media_state") == "succeeded":
                return media_id
            try:
                return self._upload_and_process(post, journal, media_id, progress)
            except PlatformError as error:
                if error.status != 404:
                    raise
                log.warning(
                    "x: media %s from the last attempt is gone (%s); uploading again", media_id, error
                )
        journal.set_state("uploading")
        return self._upload_and_process(post, journal, self._initialize(post, journal), progress)

    def _upload_and_process(
        self, post: VideoPost, journal: Journal, media_id: str, progress: Progress | None
    ) -> str:
        if journal.get("media_finalized") != "true":
            journal.set_state("uploading")
            self._append_segments(post, journal, media_id, progress)
            processing = self._finalize(media_id)
            journal.put("media_finalized", "true")
        else:
            processing = self._processing_info(media_id)
        journal.set_state("processing")
        self._await_processing(media_id, processing, journal)
        journal.put("media_state", "succeeded")
        return media_id

    def _initialize(self, post: VideoPost, journal: Journal) -> str:
        size = post.size
        body = {"media_type": MEDIA_TYPE, "total_bytes": size, "media_category": MEDIA_CATEGORY}
        response = self.http.request("POST", self._api("/2/media/upload/initialize"), json_body=body)
        data = _data(response)
        media_id = str(data["id"])
        journal.put("media_id", media_id)
        journal.put("media_key", str(data.get("media_key") or f"13_{media_id}"))
        lifetime = float(data.get("expires_after_secs") or 0)
        journal.put("media_expires_at", str(int(time.time() + lifetime)) if lifetime else "")
        journal.put("chunk_size", str(max(self.chunk_size, math.ceil(size / MAX_SEGMENTS))))
        journal.put("last_segment_index", "-1")
        journal.put("media_finalized", "false")
        journal.put("media_state", "uploading")
        return media_id

    def _append_segments(
        self, post: VideoPost, journal: Journal, media_id: str, progress: Progress | None
    ) -> None:
        size = post.size
        chunk = int(journal.get("chunk_size") or self.chunk_size)
        segments = math.ceil(size / chunk)
        url = self._api(f"/2/media/upload/{media_id}/append")
        for index in range(int(journal.get("last_segment_index") or -1) + 1, segments):
            offset = index * chunk
            length = min(chunk, size - offset)
            headers, body = multipart_segment(post.video, index, offset, length)
            self.http.request("POST", url, headers=headers, content=body)
            journal.put("last_segment_index", str(index))
            if progress is not None:
                progress(offset + length, size)

    def _finalize(self, media_id: str) -> dict[str, Any] | None:
        response = self.http.request("POST", self._api(f"/2/media/upload/{media_id}/finalize"))
        return _processing(_data(response))

    def _processing_info(self, media_id: str) -> dict[str, Any] | None:
        params = {"command": "STATUS", "media_id": media_id}
        return _processing(_data(self.http.request("GET", self._api("/2/media/upload"), params=params)))

    def _await_processing(self, media_id: str, processing: dict[str, Any] | None, journal: Journal) -> None:
        """Poll STATUS as often as X's check_after_secs says, until the media succeeded or failed."""
        polls = 0
        while processing is not None:
            state = processing.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                journal.put("media_state", "failed")
                error = processing.get("error") or {}
                reason = error.get("message") or error.get("name") or "no reason given"
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.INVALID_MEDIA,
                    f"X could not process the video (media {media_id}): {reason}",
                    code=str(error.get("name") or "processing_failed"),
                )
            if polls >= self.max_polls:
                raise self._still_waiting(f"X was still processing media {media_id} (state {state})")
            self.sleep(float(processing.get("check_after_secs") or self.poll_interval_s))
            processing = self._processing_info(media_id)
            polls += 1

    # --- the post -------------------------------------------------------------------------------------

    def _create_post(self, text: str, media_id: str, journal: Journal) -> PublishedPost:
        body = {"text": text, "media": {"media_ids": [media_id]}}
        try:
            response = self.http.request("POST", self._api("/2/tweets"), creates=True, json_body=body)
        except PlatformError as error:
            if error.kind is not ErrorKind.DUPLICATE:
                raise
            earlier = self._find_by_media(journal)
            if earlier is None:
                raise PlatformError(
                    PLATFORM,
                    ErrorKind.DUPLICATE,
                    "X refused the post as duplicate content, and no post of this account carries this "
                    "upload: an older post has the same text and video",
                    status=error.status,
                ) from error
            journal.put("tweet_id", earlier.post_id)
            return earlier
        tweet_id = str(_data(response)["id"])
        journal.put("tweet_id", tweet_id)
        return PublishedPost(PLATFORM, tweet_id, self.post_url(tweet_id))

    def verify_access(self) -> str:
        """GET /2/users/me (scope users.read): the account the token posts as."""
        me = _data(self.http.request("GET", self._api("/2/users/me")))
        name = me.get("name")
        return f"@{me.get('username') or '?'} (user {me['id']}" + (f", {name})" if name else ")")

    def _exists(self, tweet_id: str) -> bool:
        payload = _json_object(self.http.request("GET", self._api("/2/tweets"), params={"ids": tweet_id}))
        return any(str(tweet.get("id")) == tweet_id for tweet in payload.get("data") or [])

    def _find_by_media(self, journal: Journal) -> PublishedPost | None:
        """The account's recent post that carries this journal's media (key 13_<media id>), if any."""
        media_id = journal.get("media_id")
        media_key = journal.get("media_key") or f"13_{media_id}"
        me = _data(self.http.request("GET", self._api("/2/users/me")))
        self.username = str(me.get("username") or "") or self.username
        params = {
            "max_results": str(TIMELINE_PAGE_SIZE),
            "tweet.fields": "attachments,created_at",
            "expansions": "attachments.media_keys",
        }
        url = self._api(f"/2/users/{me['id']}/tweets")
        for _page in range(TIMELINE_PAGES):
            payload = _json_object(self.http.request("GET", url, params=params))
            for tweet in payload.get("data") or []:
                if media_key in ((tweet.get("attachments") or {}).get("media_keys") or []):
                    tweet_id = str(tweet["id"])
                    return PublishedPost(PLATFORM, tweet_id, self.post_url(tweet_id))
            next_token = (payload.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = str(next_token)
        return None

    # --- tokens ---------------------------------------------------------------------------------------

    def _refresh(self, current: TokenSet) -> TokenSet:
        """The refresh grant at X's token endpoint; X hands out a new refresh token each time."""
        client_id = self.settings.client_id
        if not client_id:
            raise PlatformError(
                PLATFORM, ErrorKind.AUTH, "set PELLACIA_X_CLIENT_ID: X needs it to refresh the access token"
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": current.refresh_token or "",
            "client_id": client_id,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.settings.client_secret:
            headers |= basic_auth(client_id, self.settings.client_secret)
        response = self.oauth_http.request(
            "POST",
            self.settings.url("oauth", "/2/oauth2/token"),
            authenticated=False,
            headers=headers,
            data=form,
        )
        return token_set_from_answer(PLATFORM, _json_or_none(response))

    def _api(self, path: str) -> str:
        return self.settings.url("api", path)


def x_video_problems(info: MediaInfo) -> list[str]:
    """X's "advanced" requirements beyond size/duration/frame size (spec 6.5): 4:2:0, AAC, 1:3 to 3:1."""
    problems = []
    if info.pix_fmt is not None and info.pix_fmt not in ("yuv420p", "yuvj420p"):
        problems.append(f"pixel format {info.pix_fmt} is not YUV 4:2:0")
    if info.has_audio and info.audio_codec != "aac":
        problems.append(f"audio codec {info.audio_codec} is not AAC")
    if info.audio_channels is not None and info.audio_channels > 2:
        problems.append(f"{info.audio_channels} audio channels; X takes mono or stereo")
    if info.width and info.height and not 1 / 3 <= info.width / info.height <= 3:
        problems.append(f"aspect ratio {info.width}:{info.height} is outside 1:3 to 3:1")
    return problems


def _batches(post_ids: Sequence[str]) -> Iterator[list[str]]:
    """The distinct ids in calls of at most 100."""
    ids = list(dict.fromkeys(post_ids))
    for offset in range(0, len(ids), IDS_PER_CALL):
        yield ids[offset : offset + IDS_PER_CALL]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _reading(
    kind: Literal["measured", "lifetime"],
    raw: dict[str, Any],
    counts: Mapping[str, Mapping[str, Any]],
    absent: Mapping[str, str],
    as_of: datetime | None = None,
) -> MetricReading:
    """The core from X's fields: `counts` maps a core metric to the X fields it adds up (all of them must
    be there), `absent` the metrics X does not give, with why."""
    values: dict[str, float] = {}
    unavailable = {"reach": NO_REACH, "watch_time_s": NO_WATCH_TIME, **absent}
    for metric, fields in counts.items():
        missing = [name for name, value in fields.items() if not isinstance(value, int | float)]
        if missing:
            unavailable[metric] = f"X's answer carries no {' or '.join(missing)}"
        else:
            values[metric] = float(sum(fields.values()))
    return MetricReading(kind, raw, values, unavailable, as_of)


def _lifetime_reading(
    tweet: dict[str, Any], media: Mapping[str, dict[str, Any]], as_of: datetime
) -> MetricReading:
    """A post's public_metrics, its video's view_count as its views; reposts and quotes are its shares."""
    counters = tweet.get("public_metrics") or {}
    keys = (tweet.get("attachments") or {}).get("media_keys") or []
    attached = [media[key] for key in keys if key in media]
    raw = {"public_metrics": counters, "media": attached, "created_at": tweet.get("created_at")}
    counts: dict[str, dict[str, Any]] = {
        "likes": {"like_count": counters.get("like_count")},
        "comments": {"reply_count": counters.get("reply_count")},
        "shares": {
            "retweet_count": counters.get("retweet_count"),
            "quote_count": counters.get("quote_count"),
        },
        "saves": {"bookmark_count": counters.get("bookmark_count")},
        "impressions": {"impression_count": counters.get("impression_count")},
    }
    videos = [item for item in attached if item.get("type") in ("video", "animated_gif")]
    if not videos:
        return _reading("lifetime", raw, counts, {"views": NO_VIDEO}, as_of)
    counts["views"] = {
        f"view_count of {item.get('media_key')}": (item.get("public_metrics") or {}).get("view_count")
        for item in videos
    }
    return _reading("lifetime", raw, counts, {}, as_of)


def _daily_reading(metrics: dict[str, Any]) -> MetricReading:
    """One day of GET /2/tweets/analytics: media_views are its views; retweets and quote_tweets its
    shares, as in the lifetime counters (X's `shares` field, sends by message or link, stays in raw)."""
    counts = {
        "views": {"media_views": metrics.get("media_views")},
        "likes": {"likes": metrics.get("likes")},
        "comments": {"replies": metrics.get("replies")},
        "shares": {"retweets": metrics.get("retweets"), "quote_tweets": metrics.get("quote_tweets")},
        "saves": {"bookmarks": metrics.get("bookmarks")},
        "impressions": {"impressions": metrics.get("impressions")},
    }
    return _reading("measured", dict(metrics), counts, {})


def _expired(journal: Journal) -> bool:
    expires_at = journal.get("media_expires_at")
    return bool(expires_at) and float(expires_at or 0) - EXPIRY_MARGIN_S <= time.time()


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise PlatformError(
            PLATFORM,
            ErrorKind.RETRYABLE,
            f"{_where(response)}: HTTP {response.status_code} answer is not a JSON object",
            status=response.status_code,
        )
    return body


def _data(response: httpx.Response) -> dict[str, Any]:
    data = _json_object(response).get("data")
    if not isinstance(data, dict) or "id" not in data:
        raise PlatformError(
            PLATFORM,
            ErrorKind.RETRYABLE,
            f"{_where(response)}: HTTP {response.status_code} answer has no `data` object",
            status=response.status_code,
        )
    return data


def _processing(data: dict[str, Any]) -> dict[str, Any] | None:
    info = data.get("processing_info")
    return info if isinstance(info, dict) else None


def _problem(response: httpx.Response) -> tuple[str | None, int | None, str]:
    """(problem type's last part, legacy numeric code, readable text) from any of X's error bodies."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return None, None, response.reason_phrase
    first = (body.get("errors") or [{}])[0]
    first = first if isinstance(first, dict) else {}
    problem_type = str(body.get("type") or first.get("type") or "")
    kind_name = problem_type.split(PROBLEM_MARKER, 1)[1] if PROBLEM_MARKER in problem_type else None
    code = first.get("code") if isinstance(first.get("code"), int) else None
    title = str(body.get("title") or "")
    detail = str(body.get("detail") or "")
    specific = str(first.get("message") or first.get("detail") or "")
    text = " - ".join(part for part in (title, detail, specific) if part) or response.reason_phrase
    return kind_name, code, text


def _where(response: httpx.Response) -> str:
    try:
        return f"{response.request.method} {response.request.url.path}"
    except RuntimeError:
        return "X API"
