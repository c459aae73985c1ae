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
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.rendering.errors import DamagedMediaError, MediaError
from pellacia_assets.rendering.probe import MediaInfo
from pellacia_assets.rendering.verify import verify_media
from pellacia_assets.scripting.model import Script
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import locked_transaction, open_database
from resources.database.ledger import (
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
from resources.database.stories import save_source
from resources.platforms.base import PlatformClient, Progress, PublishedPost, VideoPost, sha256_of
from resources.platforms.clients import client_from_env
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
    client: PlatformClient, post: VideoPost, journal: LedgerJournal, progress: Progress | None = None
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


def _reconcile(client: PlatformClient, post: VideoPost, journal: LedgerJournal) -> PublishedPost | None:
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
    part: int
    post_id: str
    url: str
    already_published: bool
    seconds: float
    attempts: int


def publish_video(
    client: PlatformClient,
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
    target = LedgerTarget(story_key, part, client.platform, client.account, digest or sha256_of(post.video))
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
    return PartPublication(
        part,
        outcome.post.post_id,
        outcome.post.url,
        outcome.already_published,
        outcome.seconds,
        outcome.attempts,
    )


def _settled(platform: str, part: int, settled: Settled) -> PartPublication:
    """The row needs nothing from us: its post (someone's), or the failure of the process we waited for."""
    entry = settled.entry
    if settled.published:
        return PartPublication(part, entry.post_id or "", entry.url or "", True, 0.0, entry.attempts)
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
    client: PlatformClient,
    factory: sessionmaker[Session],
    script: Script,
    video_for_part: Callable[[int], Path],
    log: Callable[[str], None],
) -> list[PartPublication]:
    """Every part, Part 1 first; a part that fails stops the later ones (they must not overtake it)."""
    published = []
    for part in script.parts:
        copy = part.copy[client.platform]
        post = VideoPost(video_for_part(part.number), copy.title, copy.caption, copy.hashtags)
        log(f"{client.platform}: publishing {part.title} of {len(script.parts)}")

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
        published.append(publication)
    return published


@dataclass(frozen=True)
class PublishResult:
    platform: str
    status: str  # published | failed | manual | skipped | interrupted | not started
    post_id: str | None = None
    url: str | None = None
    error: str | None = None
    already_published: bool = False  # published before this run (an earlier run of the same request)

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C during `publish_file`: the results so far, the platform cut short and those not started.

    The ledger keeps what the interrupted platform had sent; the same command resumes it."""

    def __init__(self, finished: list[PublishResult], current: str, platforms: Sequence[str]) -> None:
        later = list(platforms)[list(platforms).index(current) + 1 :] if current in platforms else []
        self.results = [
            *finished,
            PublishResult(current, "interrupted", error="stopped by Ctrl-C; the same command resumes it"),
            *(PublishResult(platform, "not started", error="stopped by Ctrl-C") for platform in later),
        ]
        super().__init__(f"interrupted during {current}")


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


def publish_file(
    database_url: str,
    platforms: Sequence[str],
    video: Path,
    title: str,
    description: str = "",
    hashtags: Sequence[str] = (),
    allow_duplicate: bool = False,
    log: Callable[[str], None] = print,
    allow_silent: bool = False,
) -> list[PublishResult]:
    """One finished video to each named platform now (`pellacia-dist upload`), through the same ledger
    as the post assets; every platform gets a result, one failing does not stop the others.

    Idempotent: running the same request again (see `upload_request_key`), after a crash or alongside
    another run of it, resumes what is unfinished and reports what is published as `published`. The same
    video with other words is another request: refused (`skipped`) where the video is already on the
    account, unless `allow_duplicate`.
    """
    info = check_video_file(video, allow_silent)  # the whole file, before any write: no rows if refused
    if not info.has_audio:
        log(f"warning: {video.name} has no audio track; it goes out silent (--allow-silent)")
    digest = sha256_of(video)
    factory = open_database(database_url)
    story_key = upload_request_key(digest, title, description, hashtags)
    if allow_duplicate:
        story_key += f"-{int(time.time())}"
    with locked_transaction(factory, f"story:{story_key}") as session:
        save_source(
            session,
            SourceRecord(
                key=story_key, source_kind="upload", source_ref=str(video), title=title, body=description
            ),
        )
    post = VideoPost(video, title, description, tuple(hashtags))
    results: list[PublishResult] = []
    for platform in platforms:
        try:
            client = client_from_env(platform, database_url)
            published = publish_video(
                client,
                factory,
                story_key,
                1,
                post,
                allow_duplicate,
                quarterly(log, platform, video.name),
                log,
                digest=digest,
            )
        except KeyboardInterrupt:
            raise UploadInterrupted(results, platform, platforms) from None
        except DuplicateVideoError as error:
            results.append(PublishResult(platform, "skipped", error=str(error)))
        except (PlatformError, CredentialKeyError, ClaimLostError) as error:
            results.append(PublishResult(platform, "failed", error=str(error)))
        else:
            results.append(
                PublishResult(
                    platform, "published", published.post_id, published.url, None, published.already_published
                )
            )
    return results
