"""Publishing exactly once: the ledger decides what is left to do, the platform client does it.

Plain code (no Dagster): the `<platform>_post` assets publish a story's parts with `publish_story`,
`pellacia-dist upload` a finished file with `publish_file`; both go through `publish_once`.

Order of business for one story part on one platform account:
1. already published in the ledger: nothing to do;
2. the video breaks the platform's rules: refuse before a byte is sent;
3. an earlier attempt ended ambiguously (or left ids behind): ask the platform first;
4. publish, resuming from the ids in the ledger; an ambiguous outcome is reconciled at once, and a post
   is only ever sent again after the platform said the earlier one does not exist.

`publish_video` runs that for one process at a time: it claims the ledger row first (`claim_entry`); a
process that finds the row claimed by another live one waits for it and reports its post, and a row whose
owner died is taken over (asking the platform first, as after any crash).

`upload` and `schedule` put a file into the posting queue first (`queue_upload`: one row per platform
account, not before its next free slot); `upload` then sends what may go now (`publish_file`) and, with
`--wait`, the rest in their slots (`publish_when_due`, or `wait_for_queue` when `serve` dispatches them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manifests import part_thumbnail_name
from pellacia_assets.manual_queue import resolve_manual, send_to_manual
from pellacia_assets.posting.dispatch import DISPATCH_LOCK, next_slot
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.producers import targets_for
from pellacia_assets.rendering.errors import DamagedMediaError, MediaError
from pellacia_assets.rendering.probe import MediaInfo
from pellacia_assets.rendering.verify import verify_media
from pellacia_assets.scripting.model import Script, ScriptPart
from pellacia_assets.stories.loading import SourceRecord
from resources.alerts.channels import Alerter
from resources.alerts.config import AlertConfigError, alerter_from_env
from resources.database.engine import locked_transaction, open_database, transaction
from resources.database.ledger import (
    IN_FLIGHT,
    LEASE_S,
    POLL_S,
    ClaimLostError,
    DuplicateVideoError,
    LedgerJournal,
    LedgerTarget,
    Settled,
    claim_entry,
    describe_owner,
)
from resources.database.manual import reason_for_error
from resources.database.models import LedgerEntry, ManualQueueItem, QueuedPost, StoryRecord, as_utc
from resources.database.post_queue import (
    FINAL,
    LANE_RANK,
    WAITING,
    enqueue,
    ledger_row,
    mark_outcome,
    settle_from_ledger,
)
from resources.database.stories import save_source
from resources.fallback.build import publisher_from_env
from resources.fallback.chain import artifacts_of
from resources.fallback.order import FallbackConfigError, via_of
from resources.platforms.base import Progress, PublishedPost, Publisher, VideoPost, sha256_of
from resources.platforms.credentials import CredentialKeyError
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError

MAX_AMBIGUOUS_ROUNDS = 2
logger = logging.getLogger("pellacia.publisher")


@dataclass(frozen=True)
class PublishOutcome:
    """`already_published`: the ledger said so, nothing was sent; `reconciled`: the platform confirmed a
    post from an earlier attempt whose outcome was unknown."""

    post: PublishedPost
    already_published: bool
    reconciled: bool
    seconds: float
    attempts: int


def publish_once(
    client: Publisher, post: VideoPost, journal: LedgerJournal, progress: Progress | None = None
) -> PublishOutcome:
    started = time.monotonic()
    entry = journal.snapshot()
    if entry.state == "published" and entry.post_id:
        found = PublishedPost(client.platform, entry.post_id, entry.url or "")
        return PublishOutcome(found, True, False, 0.0, entry.attempts)
    try:
        client.check(post)
    except PlatformError as error:
        journal.mark_failed(str(error))
        raise
    if entry.state == "unknown" or entry.platform_ids:
        earlier = _reconcile(client, post, journal)
        if earlier is not None:
            logger.info("%s: the earlier attempt did publish (%s)", client.platform, earlier.url)
            return _published(journal, earlier, started, reconciled=True)
    for _round in range(MAX_AMBIGUOUS_ROUNDS):
        try:
            return _published(journal, client.publish(post, journal, progress), started)
        except AmbiguousOutcomeError as error:
            journal.mark_failed(str(error), state="unknown")
            existing = _reconcile(client, post, journal)
            if existing is not None:
                return _published(journal, existing, started, reconciled=True)
            logger.warning("%s: %s; the platform has no such post, publishing again", client.platform, error)
        except PlatformError as error:
            journal.mark_failed(str(error), state=journal.state if error.retryable else "failed")
            raise
    raise PlatformError(
        client.platform,
        ErrorKind.AMBIGUOUS,
        "the outcome stayed unknown after reconciling twice; the ledger keeps state 'unknown' and the next "
        "attempt asks the platform again before posting",
    )


def _reconcile(client: Publisher, post: VideoPost, journal: LedgerJournal) -> PublishedPost | None:
    """Ask the platform; if asking fails, the ledger says why (and stays 'unknown' while it is unclear)."""
    try:
        return client.reconcile(post, journal)
    except PlatformError as error:
        unclear = error.retryable or error.kind is ErrorKind.AMBIGUOUS
        journal.mark_failed(str(error), state=journal.state if unclear else "failed")
        raise


def _published(
    journal: LedgerJournal, post: PublishedPost, started: float, reconciled: bool = False
) -> PublishOutcome:
    journal.mark_published(post.post_id, post.url)
    return PublishOutcome(post, False, reconciled, time.monotonic() - started, journal.snapshot().attempts)


@dataclass(frozen=True)
class PartPublication:
    """`via`: the layer of the fallback chain that published it (api, api+proxy, browser, browser+proxy,
    manual)."""

    part: int
    post_id: str
    url: str
    already_published: bool
    seconds: float
    attempts: int
    via: str = "api"


def _size_of(video: Path) -> int | None:
    """The file's size for the ledger; None when it is gone (a published row settled after cleanup)."""
    try:
        return video.stat().st_size
    except OSError:
        return None


def publish_video(
    client: Publisher,
    factory: sessionmaker[Session],
    story_key: str,
    part: int,
    post: VideoPost,
    allow_duplicate: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    *,
    lease_s: float = LEASE_S,
    poll_s: float = POLL_S,
    digest: str | None = None,
) -> PartPublication:
    """One video to one account, exactly once, also with other processes publishing the same row.

    The row is claimed first; while another live process holds it this waits (saying so through `log`)
    and then reports that process's post, or raises its failure. A claim left by a process that died is
    taken over. See `publish_once` for the rest. `digest`: the video's sha256 when the caller has it
    (one file to several platforms is hashed once).
    """
    say = log or (lambda line: logger.info("%s", line))
    target = LedgerTarget(
        story_key,
        part,
        client.platform,
        client.account,
        digest or sha256_of(post.video),
        video_bytes=_size_of(post.video),
    )
    claim = claim_entry(
        factory,
        target,
        allow_duplicate,
        lease_s=lease_s,
        poll_s=poll_s,
        on_wait=lambda line: say(f"{client.platform}: {line}"),
    )
    if isinstance(claim, Settled):
        return _settled(client.platform, part, claim)
    if claim.took_over_from is not None:
        say(
            f"{client.platform}: {describe_owner(claim.took_over_from)} stopped before finishing this post; "
            f"taking over (asking {client.platform} what it did first)"
        )
    with claim as journal:
        outcome = publish_once(client, post, journal, progress)
        via = via_of(journal.ids())
    return PartPublication(
        part,
        outcome.post.post_id,
        outcome.post.url,
        outcome.already_published,
        outcome.seconds,
        outcome.attempts,
        via,
    )


def _settled(platform: str, part: int, settled: Settled) -> PartPublication:
    """The row needs nothing from us: its post (someone's), or the failure of the process we waited for."""
    entry = settled.entry
    if settled.published:
        return PartPublication(
            part, entry.post_id or "", entry.url or "", True, 0.0, entry.attempts, via_of(entry.platform_ids)
        )
    who = describe_owner(settled.waited_for or "another process")
    raise PlatformError(
        platform,
        ErrorKind.RETRYABLE,
        f"{who} was publishing this video and stopped without a post (ledger state {entry.state}: "
        f"{entry.last_error or 'no error recorded'}); run again to retry",
    )


def quarterly(log: Callable[[str], None], platform: str, label: str) -> Progress:
    """Upload progress for long transfers, said once per quarter instead of once per chunk."""
    said = {-1}

    def report(sent: int, total: int) -> None:
        quarter = sent * 4 // max(total, 1)
        if quarter not in said:
            said.add(quarter)
            log(f"{platform}: {label} uploaded {min(quarter * 25, 100)}%")

    return report


def publish_story(
    client: Publisher,
    factory: sessionmaker[Session],
    script: Script,
    video_for_part: Callable[[int], Path],
    log: Callable[[str], None],
) -> list[PartPublication]:
    """Every part, Part 1 first; a part that fails stops the later ones (they must not overtake it)."""
    return [
        publish_part(client, factory, script, part, video_for_part(part.number), log) for part in script.parts
    ]


def publish_part(
    client: Publisher,
    factory: sessionmaker[Session],
    script: Script,
    part: ScriptPart,
    video: Path,
    log: Callable[[str], None],
    note: str = "",
) -> PartPublication:
    """One part of a script, with the platform's copy for it and its thumbnail when the video asset made
    one beside it, through `publish_video`."""
    copy = part.copy[client.platform]
    thumbnail = video.with_name(part_thumbnail_name(part.number))
    post = VideoPost(
        video, copy.title, copy.caption, copy.hashtags, thumbnail if thumbnail.is_file() else None
    )
    log(f"{client.platform}: publishing {part.title} of {len(script.parts)}{note}")
    publication = publish_video(
        client,
        factory,
        script.story_key,
        part.number,
        post,
        progress=quarterly(log, client.platform, part.title),
        log=log,
    )
    log(f"{client.platform}: {part.title} is live at {publication.url}")
    return publication


@dataclass(frozen=True)
class PublishResult:
    platform: str
    status: str  # published | queued | failed | manual | skipped | interrupted | not started
    post_id: str | None = None
    url: str | None = None
    error: str | None = None
    already_published: bool = False  # published before this run (an earlier run of the same request)
    not_before: datetime | None = None  # when it was queued: the slot it waits (or waited) for
    queue_id: int | None = None  # its row in the posting queue
    manual_id: int | None = None  # status manual: the manual-queue entry a person finishes it from
    via: str | None = None  # published: the fallback layer that did (api, api+proxy, browser, ..., manual)

    def to_dict(self) -> dict[str, object]:
        fields = asdict(self)
        fields["not_before"] = self.not_before.isoformat() if self.not_before is not None else None
        return fields


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C during an upload: every platform's result, those cut short or not reached included.

    The ledger keeps what an interrupted platform had sent; the same command resumes it."""

    def __init__(self, results: list[PublishResult]) -> None:
        self.results = results
        super().__init__("interrupted")

    @classmethod
    def during(
        cls, finished: list[PublishResult], current: UploadTarget, targets: Sequence[UploadTarget]
    ) -> UploadInterrupted:
        later = list(targets)[list(targets).index(current) + 1 :] if current in targets else []
        return cls(
            [
                *finished,
                current.result("interrupted", error="stopped by Ctrl-C; the same command resumes it"),
                *(target.result("not started", error="stopped by Ctrl-C") for target in later),
            ]
        )


def check_video_file(path: Path, allow_silent: bool = False) -> MediaInfo:
    """Refuse a missing, unreadable, incomplete or non-video file before anything is sent or written
    anywhere: the whole file is verified (`verify_media`), not only its header. A video without an audio
    track is refused too unless `allow_silent`."""
    if path.is_dir():
        raise MediaError(f"{path}: is a directory, not a video file")
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if not path.is_file():
        raise MediaError(f"{path}: not a regular file; a video to upload must be a file, its size known")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise MediaError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        info = verify_media(path)
    except DamagedMediaError as error:
        reason = str(error).removeprefix(f"{path.name}: ")
        raise MediaError(f"{path}: incomplete or damaged video ({reason})") from error
    except MediaError as error:
        raise MediaError(f"{path}: not a video ({error})") from error
    if info.width is None or info.video_codec is None:
        raise MediaError(f"{path}: has no video stream")
    if not info.has_audio and not allow_silent:
        raise MediaError(
            f"{path}: has no audio track; pass --allow-silent to publish it without sound where the "
            "platform allows it"
        )
    return info


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def upload_request_key(digest: str, title: str, description: str = "", hashtags: Sequence[str] = ()) -> str:
    """The story key of `pellacia-dist upload`: `upload-<sha256[:16]>-<request[:12]>`.

    Two uploads are the same request when they send the same video (sha256) with the same title,
    description and hashtags: text compared after Unicode NFC normalisation with runs of whitespace made
    one space and the ends trimmed; hashtags as a set, without their `#`, case-insensitively. The
    platforms named are not part of it: each platform account is a ledger row of its own.
    """
    tags = sorted({_text(tag).lstrip("#").casefold() for tag in hashtags} - {""})
    request = {"video": digest, "title": _text(title), "description": _text(description), "hashtags": tags}
    fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"upload-{digest[:16]}-{fingerprint[:12]}"


@dataclass(frozen=True)
class UploadRequest:
    """One video file and its words, verified, hashed and named once (`upload`, `schedule`)."""

    video: Path
    title: str
    description: str
    hashtags: tuple[str, ...]
    digest: str
    story_key: str
    allow_duplicate: bool = False

    @property
    def post(self) -> VideoPost:
        return VideoPost(self.video, self.title, self.description, self.hashtags)


def upload_request(
    video: Path,
    title: str,
    description: str = "",
    hashtags: Sequence[str] = (),
    *,
    allow_duplicate: bool = False,
    allow_silent: bool = False,
    log: Callable[[str], None] = print,
) -> UploadRequest:
    """The whole file verified before anything is written anywhere (no rows when it is refused), hashed
    once for every platform, named by `upload_request_key` (a key of its own with `allow_duplicate`)."""
    info = check_video_file(video, allow_silent)
    if not info.has_audio:
        log(f"warning: {video.name} has no audio track; it goes out silent (--allow-silent)")
    digest = sha256_of(video)
    story_key = upload_request_key(digest, title, description, hashtags)
    if allow_duplicate:
        story_key += f"-{int(time.time())}"
    return UploadRequest(
        video.resolve(), title, description, tuple(hashtags), digest, story_key, allow_duplicate
    )


def save_upload_source(
    session: Session,
    request: UploadRequest,
    platforms: Sequence[str],
    priority: str = "normal",
    publish_after: datetime | None = None,
) -> StoryRecord:
    """The request as a story of source kind `upload`: its delivery run validates the file named by
    `source_ref` and takes each platform's copy from its words. Saved again by the same request (a
    re-run, a `schedule` after an `upload`), the record keeps its status, gains the platforms named and
    only ever moves to a faster lane, so a story already produced is not sent back to production."""
    row = session.get(StoryRecord, request.story_key)
    if row is None:
        return save_source(
            session,
            SourceRecord(
                key=request.story_key,
                source_kind="upload",
                source_ref=str(request.video),
                title=request.title,
                body=request.description,
                priority=priority,
                tags=request.hashtags,
                platforms=tuple(platforms),
                publish_after=publish_after,
            ),
        )
    row.source_ref = str(request.video)
    row.platforms = list(dict.fromkeys([*(row.platforms or ()), *platforms]))
    if LANE_RANK[priority] < LANE_RANK.get(row.priority, LANE_RANK["normal"]):
        row.priority = priority
    return row


@dataclass(frozen=True)
class UploadTarget:
    """One platform account of an upload: its queue row, and when its post may go out (`slot`).

    `waits`: the slot was later than the moment it was queued (the gap, a cap, quiet hours, or the time
    a `schedule` asked for); `duplicate`: why it is refused (the video is on that account already under
    another request), and then it has no queue row."""

    platform: str
    account: str
    queue_id: int | None
    state: str
    slot: datetime
    reason: str = ""
    waits: bool = False
    duplicate: str | None = None

    def result(self, status: str, **fields: Any) -> PublishResult:
        not_before = self.slot if self.waits or status == "queued" else None
        return PublishResult(self.platform, status, not_before=not_before, queue_id=self.queue_id, **fields)


def _duplicate(session: Session, request: UploadRequest, platform: str, account: str) -> str | None:
    """Why the video may not go to this account (already there under another request), or None."""
    other = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.platform == platform,
            LedgerEntry.account == account,
            LedgerEntry.video_sha256 == request.digest,
            LedgerEntry.story_key != request.story_key,
            LedgerEntry.state.in_(("published", *IN_FLIGHT)),
        )
        .limit(1)
    ).one_or_none()
    if other is None:
        return None
    where = f"as {other.url or other.post_id}" if other.state == "published" else f"(state {other.state})"
    return (
        f"this video (sha256 {request.digest[:12]}…) already went to {platform} account '{account}' {where} "
        f"for story '{other.story_key}' part {other.part}; pass --allow-duplicate to post it again"
    )


def queue_upload(
    factory: sessionmaker[Session],
    request: UploadRequest,
    platforms: Sequence[str],
    policy: PostingPolicy,
    *,
    lane: str = "normal",
    at: datetime | None = None,
    now: datetime | None = None,
) -> list[UploadTarget]:
    """Save the request as a story and give each platform account its queue row, not before the account's
    next free slot (`next_slot`: the gap, the caps, quiet hours; breaking news only the hard cap) nor
    before `at`. Under the dispatcher's lock, so a slot found free here is not handed out there meanwhile.

    Idempotent: the same request finds its rows again; a row whose post the ledger shows live is
    `published`, a failed, manual or cancelled one is queued again (the re-run is the retry)."""
    moment = now or datetime.now(UTC)
    start = max(moment, at) if at is not None else moment
    targets = []
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        save_upload_source(session, request, platforms, lane, at)
        for platform, account in targets_for(platforms):
            duplicate = None if request.allow_duplicate else _duplicate(session, request, platform, account)
            if duplicate is not None:
                targets.append(UploadTarget(platform, account, None, "skipped", start, duplicate=duplicate))
                continue
            slot = next_slot(session, policy, platform, account, lane, start)
            [row] = enqueue(session, request.story_key, 1, [(platform, account)], lane, slot.at)
            if not settle_from_ledger(session, row):
                if row.state in ("failed", "manual", "cancelled"):
                    row.state, row.last_error = "queued", None
                if row.state in WAITING:
                    row.not_before = slot.at
            session.flush()
            when = as_utc(row.not_before)
            targets.append(
                UploadTarget(platform, account, row.id, row.state, when, slot.reason, waits=when > moment)
            )
    return targets


_OUTCOMES = {"published": "published", "failed": "failed", "skipped": "cancelled"}


def _record(factory: sessionmaker[Session], result: PublishResult) -> None:
    """What became of a post sent by this process, on its queue row (the ledger already knows; a row
    sent to the manual queue was marked there)."""
    if result.queue_id is None or result.status not in _OUTCOMES:
        return
    with transaction(factory) as session:
        mark_outcome(session, result.queue_id, _OUTCOMES[result.status], result.error)


class _Alerts:
    """The alert channels the environment configures, read when a first alert is due. A broken alert
    setting does not stop an upload: it is said, and the manual entry is still opened."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._alerter: Alerter | None = None

    def get(self) -> Alerter:
        if self._alerter is None:
            try:
                self._alerter = alerter_from_env()
            except AlertConfigError as error:
                self._log(f"warning: no alert sent ({error})")
                self._alerter = Alerter([])
        return self._alerter


def _to_manual(
    factory: sessionmaker[Session],
    alerts: _Alerts,
    request: UploadRequest,
    target: UploadTarget,
    error: PlatformError,
) -> PublishResult:
    """A failure a person must fix (re-authorise, a declaration, a rejected file): a manual-queue entry
    with everything needed to post it by hand, its queue row `manual`, one alert; plain failures stay
    `failed` (the same command retries them)."""
    reason = reason_for_error(error)
    if reason is None:
        return target.result("failed", error=str(error))
    entry = send_to_manual(
        factory,
        alerts.get(),
        reason,
        str(error),
        story_key=request.story_key,
        platform=target.platform,
        account=target.account,
        queue_id=target.queue_id,
        source_path=str(request.video),
        artifacts=artifacts_of(error),
    )
    return target.result("manual", error=str(error), manual_id=entry.id)


def _close_manual(
    factory: sessionmaker[Session], alerts: _Alerts, request: UploadRequest, target: UploadTarget, url: str
) -> None:
    """The post went out after all (the same command run again once the cause was fixed): its open
    manual entries are resolved with it, and their alert with them."""
    with transaction(factory) as session:
        entry_id = session.scalar(
            select(ManualQueueItem.id).where(
                ManualQueueItem.story_key == request.story_key,
                ManualQueueItem.part == 1,
                ManualQueueItem.platform == target.platform,
                ManualQueueItem.account == target.account,
                ManualQueueItem.status == "open",
            )
        )
    if entry_id is not None:
        resolve_manual(factory, alerts.get(), entry_id, url)


@dataclass(frozen=True)
class Paths:
    """Where the publishers come from: the app database, the home (browser sessions, exits' state,
    failure screenshots), and `force_exit` (`upload --force-vpn-fallback`: only the layers through an
    exit)."""

    database_url: str
    home: Path
    force_exit: bool = False

    def publisher(self, platform: str, log: Callable[[str], None]) -> Publisher:
        return publisher_from_env(platform, self.database_url, self.home, force_exit=self.force_exit, log=log)


def publish_file(
    paths: Paths,
    request: UploadRequest,
    targets: Sequence[UploadTarget],
    log: Callable[[str], None] = print,
) -> list[PublishResult]:
    """One finished video to each target account now (`pellacia-dist upload`), through the same ledger
    as the post assets, each queue row marked with what became of it; every platform gets a result, one
    failing does not stop the others, and a failure a person must fix goes to the manual queue
    (`manual`, with the entry's id). The request is saved by `queue_upload` first.

    Idempotent: running the same request again (see `upload_request_key`), after a crash or alongside
    another run of it, resumes what is unfinished and reports what is published as `published`. The same
    video with other words is another request: refused (`skipped`) where the video is already on the
    account, unless `allow_duplicate`.
    """
    factory = open_database(paths.database_url)
    alerts = _Alerts(log)
    results: list[PublishResult] = []
    for target in targets:
        if target.duplicate is not None:
            results.append(target.result("skipped", error=target.duplicate))
            continue
        try:
            client = paths.publisher(target.platform, log)
            published = publish_video(
                client,
                factory,
                request.story_key,
                1,
                request.post,
                request.allow_duplicate,
                quarterly(log, target.platform, request.video.name),
                log,
                digest=request.digest,
            )
        except KeyboardInterrupt:
            raise UploadInterrupted.during(results, target, targets) from None
        except DuplicateVideoError as error:
            result = target.result("skipped", error=str(error))
        except PlatformError as error:
            result = _to_manual(factory, alerts, request, target, error)
        except (CredentialKeyError, ClaimLostError, FallbackConfigError) as error:
            result = target.result("failed", error=str(error))
        else:
            result = target.result(
                "published",
                post_id=published.post_id,
                url=published.url,
                already_published=published.already_published,
                via=published.via,
            )
            _close_manual(factory, alerts, request, target, published.url)
        _record(factory, result)
        results.append(result)
    return results


WAIT_RECHECK_S = 30.0  # a wait for a slot looks at the ledger again at least this often


def publish_when_due(
    paths: Paths,
    request: UploadRequest,
    targets: Sequence[UploadTarget],
    policy: PostingPolicy,
    lane: str = "normal",
    log: Callable[[str], None] = print,
) -> list[PublishResult]:
    """`upload --wait` with no `serve` running: this process sends each queued post when its account's slot
    opens. The slot is worked out from the ledger again before each post, so a post made meanwhile (by
    anyone) pushes it back, and the post goes through the ledger and its queue row like every other, so
    nothing goes out twice. Ctrl-C: `UploadInterrupted`, the posts not sent yet still queued."""
    factory = open_database(paths.database_url)
    pending = list(targets)
    results: list[PublishResult] = []
    try:
        while pending:
            moment = datetime.now(UTC)
            with transaction(factory) as session:
                slots = {
                    target.platform: next_slot(session, policy, target.platform, target.account, lane, moment)
                    for target in pending
                }
            ready = [target for target in pending if slots[target.platform].at <= moment]
            if not ready:
                wake = min(slot.at for slot in slots.values())
                time.sleep(min(max((wake - moment).total_seconds(), 0.05), WAIT_RECHECK_S))
                continue
            pending = [target for target in pending if target not in ready]
            results += publish_file(paths, request, ready, log)
    except UploadInterrupted as stop:
        raise UploadInterrupted([*results, *stop.results, *_still_queued(pending)]) from None
    except KeyboardInterrupt:
        raise UploadInterrupted([*results, *_still_queued(pending)]) from None
    return results


def _still_queued(targets: Sequence[UploadTarget]) -> list[PublishResult]:
    return [
        target.result("queued", error="stopped by Ctrl-C while it waited for its slot") for target in targets
    ]


def queue_results(factory: sessionmaker[Session], targets: Sequence[UploadTarget]) -> list[PublishResult]:
    """Each target as its queue row (and the ledger) tell it now: a final outcome, or `queued`."""
    results = []
    with transaction(factory) as session:
        for target in targets:
            row = session.get(QueuedPost, target.queue_id) if target.queue_id is not None else None
            if target.duplicate is not None:
                results.append(target.result("skipped", error=target.duplicate))
            elif row is None:
                results.append(target.result("cancelled", error="its queue row was cleared"))
            elif row.state == "published":
                entry = ledger_row(session, row)
                results.append(
                    target.result(
                        "published",
                        post_id=entry.post_id if entry else None,
                        url=entry.url if entry else None,
                        already_published=target.state == "published",
                    )
                )
            elif row.state in FINAL:
                results.append(target.result(row.state, error=row.last_error or f"the post was {row.state}"))
            else:
                results.append(target.result("queued"))
    return results


def wait_for_queue(
    factory: sessionmaker[Session],
    targets: Sequence[UploadTarget],
    poll_s: float = 1.0,
    on_change: Callable[[PublishResult], None] | None = None,
    stop: Callable[[], str | None] | None = None,
) -> list[PublishResult]:
    """`upload --wait` with `serve` running: the dispatcher sends the posts in their slots; this watches
    their queue rows until each is published, failed, manual or cancelled (`on_change` hears each). `stop`
    says why the posts still queued can never go out (their delivery run failed): they are reported
    `failed` with that reason."""
    said: set[str] = set()
    while True:
        results = queue_results(factory, targets)
        for result in results:
            if result.status != "queued" and result.platform not in said:
                said.add(result.platform)
                if on_change is not None:
                    on_change(result)
        if all(result.status != "queued" for result in results):
            return results
        reason = stop() if stop is not None else None
        if reason is not None:
            return [replace(r, status="failed", error=reason) if r.status == "queued" else r for r in results]
        time.sleep(poll_s)
