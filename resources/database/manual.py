"""The manual queue (DESIGN.md 6): what automation could not post, and the record of a person posting it.

An entry is one post (story part on a platform account) or one dropped file, with a typed reason. It is
opened once per target and reason however often the failure repeats. Resolving a post entry writes the
post a person made by hand into the publish ledger (so the factory never posts it again, and the duplicate
check knows the video is on that account) and settles its queue row; a file entry is simply closed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from resources.database.ledger import claim_is_live
from resources.database.models import LedgerEntry, ManualQueueItem, QueuedPost
from resources.database.post_queue import settle_from_ledger
from resources.database.webhooks import emit, manual_payload, post_payload
from resources.platforms.base import sha256_of
from resources.platforms.errors import ErrorKind, PlatformError

REASONS = (
    "reauth",
    "policy",
    "media_rejected",
    "retries_exhausted",
    "quarantined",
    "captcha",
    "all_paths_failed",
)
REASON_TEXT = {
    "reauth": "re-authorisation needed",
    "policy": "policy declaration missing or refused",
    "media_rejected": "media rejected by the platform",
    "retries_exhausted": "retries exhausted",
    "quarantined": "quarantined input file",
    "captcha": "a captcha to solve",
    "all_paths_failed": "every publishing path failed (API, exits, browser)",
}
STATUSES = ("open", "resolved", "all")

# What a person must do about each kind of platform failure; the kinds not here (retryable, rate limit,
# ambiguous) clear up by themselves: a later attempt, after the wait, asks the platform first.
_REASON_FOR_KIND = {
    ErrorKind.AUTH: "reauth",  # token expired and the refresh failed, revoked, or a scope not granted
    ErrorKind.POLICY: "policy",  # a declaration missing, an unaudited client, an account not allowed
    ErrorKind.INVALID_MEDIA: "media_rejected",  # the file or its copy breaks the platform's rules
    ErrorKind.DUPLICATE: "media_rejected",  # the platform refuses it as a copy of another post
}


class ManualError(ValueError):
    """A manual-queue command that cannot apply (unknown id, resolved twice, a bad URL); says why."""


def reason_named(reason: str) -> str:
    if reason not in REASONS:
        raise ManualError(f"unknown manual reason {reason!r}; choose from {', '.join(REASONS)}")
    return reason


def reason_for_error(error: PlatformError) -> str | None:
    """The manual reason a platform failure needs a person for; None when retrying is the answer."""
    if error.manual_reason is not None:
        return reason_named(error.manual_reason)
    if error.code == "captcha":  # a browser upload met a challenge page: solved by a person, not retried
        return "captcha"
    return _REASON_FOR_KIND.get(error.kind)


def open_entry(
    session: Session,
    reason: str,
    detail: str,
    *,
    story_key: str | None = None,
    part: int = 1,
    platform: str | None = None,
    account: str | None = None,
    queue_id: int | None = None,
    ledger_id: int | None = None,
    run_id: str | None = None,
    source_path: str | None = None,
    artifacts: Sequence[Path] = (),
) -> ManualQueueItem:
    """The open entry for this target and reason, created if there is none; a repeat refreshes its detail
    and adds its `artifacts` (the folders a failed browser attempt kept).

    The target is the post (story, part, platform, account), or for a file without a story its
    `source_path`. With only `queue_id` the post is taken from that queue row."""
    reason = reason_named(reason)
    queued = session.get(QueuedPost, queue_id) if queue_id is not None else None
    if queued is not None and story_key is None:
        story_key, part, platform = queued.story_key, queued.part, queued.platform
    if queued is not None and account is None and platform == queued.platform:
        account = queued.account
    if story_key is None and source_path is None:
        raise ManualError("a manual entry needs a story or a file")
    entry = session.scalars(
        _same_target(story_key, part, platform, account, source_path).where(
            ManualQueueItem.reason == reason, ManualQueueItem.status == "open"
        )
    ).first()
    created = entry is None
    if entry is None:
        entry = ManualQueueItem(
            story_key=story_key,
            part=part,
            platform=platform,
            account=account,
            reason=reason,
            status="open",
            source_path=source_path,
        )
        session.add(entry)
    entry.detail = detail
    if artifacts:
        entry.artifacts = list(dict.fromkeys([*(entry.artifacts or ()), *map(str, artifacts)]))
    entry.queue_id = queue_id if queue_id is not None else entry.queue_id
    entry.ledger_id = ledger_id if ledger_id is not None else entry.ledger_id
    entry.run_id = run_id if run_id is not None else entry.run_id
    session.flush()
    if created:
        emit(session, "manual.created", manual_payload(entry))
    return entry


def _same_target(
    story_key: str | None, part: int, platform: str | None, account: str | None, source_path: str | None
) -> Select[tuple[ManualQueueItem]]:
    statement = select(ManualQueueItem).order_by(ManualQueueItem.id)
    if story_key is None:
        return statement.where(
            ManualQueueItem.story_key.is_(None), ManualQueueItem.source_path == source_path
        )
    return statement.where(
        ManualQueueItem.story_key == story_key,
        ManualQueueItem.part == part,
        ManualQueueItem.platform.is_(None) if platform is None else ManualQueueItem.platform == platform,
        ManualQueueItem.account.is_(None) if account is None else ManualQueueItem.account == account,
    )


def list_entries(session: Session, status: str = "open") -> list[ManualQueueItem]:
    """Entries oldest first: `open`, `resolved` or `all`."""
    if status not in STATUSES:
        raise ManualError(f"unknown status {status!r}; choose from {', '.join(STATUSES)}")
    statement = select(ManualQueueItem).order_by(ManualQueueItem.id)
    if status != "all":
        statement = statement.where(ManualQueueItem.status == status)
    return list(session.scalars(statement))


def get_entry(session: Session, entry_id: int) -> ManualQueueItem:
    entry = session.get(ManualQueueItem, entry_id)
    if entry is None:
        raise ManualError(f"no manual entry with id {entry_id}; `pellacia-dist manual list --all` shows them")
    return entry


def open_for_target(session: Session, entry: ManualQueueItem) -> list[ManualQueueItem]:
    """Every open entry about the same post or file as `entry` (whatever their reasons)."""
    statement = _same_target(entry.story_key, entry.part, entry.platform, entry.account, entry.source_path)
    return list(session.scalars(statement.where(ManualQueueItem.status == "open")))


def resolve_entry(
    session: Session, entry_id: int, post_url: str | None, *, video: Path | None = None
) -> ManualQueueItem:
    """Record that a person finished the entry: for a post, the post they made at `post_url`.

    The post goes into the publish ledger as published (the row created when the ledger has none, with
    `video`'s sha256 so the duplicate check knows the file is on the account), the queue row becomes
    published, and every open entry about the same post is resolved with it. A file entry (no platform)
    is closed as handled; `post_url` is optional there."""
    entry = get_entry(session, entry_id)
    if entry.status == "resolved":
        where = f" ({entry.resolved_url})" if entry.resolved_url else ""
        raise ManualError(f"manual entry {entry_id} is already resolved{where}")
    url = checked_url(post_url) if post_url else None
    if entry.platform is not None and entry.story_key is not None:
        if url is None:
            raise ManualError(
                f"manual entry {entry_id} is a post on {entry.platform}: give --post-url with the address "
                "of the post made by hand"
            )
        ledger = _record_post(session, entry, url, video)
        entry.ledger_id = ledger.id
    now = datetime.now(UTC)
    for same in open_for_target(session, entry):
        same.status, same.resolved_url, same.resolved_at = "resolved", url, now
    session.flush()
    return entry


def _record_post(session: Session, entry: ManualQueueItem, url: str, video: Path | None) -> LedgerEntry:
    story_key, platform = str(entry.story_key), str(entry.platform)
    queued = session.get(QueuedPost, entry.queue_id) if entry.queue_id is not None else None
    account = entry.account or (queued.account if queued is not None else None)
    if account is None:
        raise ManualError(f"manual entry {entry.id} names no {platform} account; cannot record the post")
    post_id = post_id_from_url(platform, url)
    target = (
        LedgerEntry.story_key == story_key,
        LedgerEntry.part == entry.part,
        LedgerEntry.platform == platform,
        LedgerEntry.account == account,
    )
    ledger = session.scalars(select(LedgerEntry).where(*target)).one_or_none()
    if ledger is not None and claim_is_live(ledger):
        raise ManualError(
            f"{platform} account '{account}' is publishing story '{story_key}' part {entry.part} right now; "
            "resolve the entry once that attempt has ended"
        )
    if ledger is not None and ledger.state == "published" and ledger.url != url and ledger.post_id != post_id:
        raise ManualError(
            f"the ledger already has story '{story_key}' part {entry.part} live on {platform} at "
            f"{ledger.url or ledger.post_id}; resolve the entry with that URL (and remove any second post)"
        )
    if ledger is None:
        ledger = LedgerEntry(
            story_key=story_key,
            part=entry.part,
            platform=platform,
            account=account,
            # without the file the row cannot take part in the duplicate check; it still stops a repost
            video_sha256=sha256_of(video) if video is not None and video.is_file() else "",
            platform_ids={},
            attempts=0,
            allow_duplicate=False,
        )
        session.add(ledger)
    newly_published = ledger.state != "published"
    if newly_published:  # a post the ledger already has keeps its time (the gap counts from it)
        ledger.state, ledger.post_id, ledger.url = "published", post_id, url
        ledger.published_at = datetime.now(UTC)
    ledger.last_error, ledger.claim_owner, ledger.claim_expires_at = None, None, None
    ledger.platform_ids = {**(ledger.platform_ids or {}), "manual_entry": str(entry.id)}
    session.flush()
    if newly_published:
        emit(session, "post.published", post_payload(ledger))
    rows = session.scalars(
        select(QueuedPost).where(
            QueuedPost.story_key == story_key,
            QueuedPost.part == entry.part,
            QueuedPost.platform == platform,
            QueuedPost.account == account,
        )
    )
    for row in rows:
        settle_from_ledger(session, row)
    return ledger


def checked_url(post_url: str) -> str:
    """`post_url` if it is an http(s) address with a host, else a one-line error."""
    text = post_url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or re.search(r"\s", text):
        raise ManualError(
            f"{post_url!r} is not a post URL: it must start with http:// or https:// and name a host"
        )
    return text


def _segments(path: str) -> list[str]:
    return [unquote(segment) for segment in path.split("/") if segment]


def _after(segments: list[str], *markers: str) -> str | None:
    """The path segment that follows the first of `markers` found."""
    for index, segment in enumerate(segments[:-1]):
        if segment in markers:
            return segments[index + 1]
    return None


def _youtube_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    if host.endswith("youtu.be"):
        return segments[0] if segments else None
    if segments[:1] == ["watch"]:
        return query["v"][0] if query.get("v") else None
    return _after(segments, "shorts", "live", "embed")


def _tiktok_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    return _after(segments, "video")


def _instagram_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    return _after(segments, "reel", "reels", "p", "tv") or (segments[-1] if segments else None)


def _facebook_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    if segments[:1] == ["watch"] and query.get("v"):
        return query["v"][0]
    return _after(segments, "reel", "videos", "v") or (segments[-1] if segments else None)


def _x_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    return _after(segments, "status", "statuses")


def _linkedin_id(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    urns = [segment for segment in segments if segment.startswith("urn:li:")]
    return urns[0] if urns else (segments[-1] if segments else None)


_POST_ID: dict[str, Callable[[str, list[str], dict[str, list[str]]], str | None]] = {
    "youtube": _youtube_id,
    "tiktok": _tiktok_id,
    "instagram": _instagram_id,
    "facebook": _facebook_id,
    "x": _x_id,
    "linkedin": _linkedin_id,
}


def post_id_from_url(platform: str, url: str) -> str:
    """The platform's id for the post at `url`: YouTube `watch?v=`, `shorts/`, `youtu.be/`; TikTok
    `/video/<id>`; Instagram `/reel/<code>`; Facebook `/reel/<id>`, `/videos/<id>`; X `/status/<id>`;
    LinkedIn the `urn:li:...` (else the last path segment)."""
    parts = urlsplit(checked_url(url))
    segments = _segments(parts.path)
    extract = _POST_ID.get(platform)
    if extract is None:
        raise ManualError(f"unknown platform {platform!r}")
    found = extract((parts.hostname or "").lower(), segments, parse_qs(parts.query))
    if not found or not re.fullmatch(r"[\w:.,()\-]+", found):
        raise ManualError(f"{url} does not look like a {platform} post address (no post id in it)")
    return found
