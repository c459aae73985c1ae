"""Publishing exactly once: the ledger decides what is left to do, the platform client does it.

Plain code (no Dagster): the `<platform>_post` assets publish a story's parts with `publish_story`,
`pellacia-dist upload` a finished file with `publish_file`; both go through `publish_once`.

Order of business for one story part on one platform account:
1. already published in the ledger: nothing to do;
2. the video breaks the platform's rules: refuse before a byte is sent;
3. an earlier attempt ended ambiguously (or left ids behind): ask the platform first;
4. publish, resuming from the ids in the ledger; an ambiguous outcome is reconciled at once, and a post
   is only ever sent again after the platform said the earlier one does not exist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import probe
from pellacia_assets.scripting.model import Script
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import DuplicateVideoError, LedgerJournal, LedgerTarget, open_entry
from resources.database.stories import save_source
from resources.platforms.base import PlatformClient, Progress, PublishedPost, VideoPost, sha256_of
from resources.platforms.clients import client_from_env
from resources.platforms.credentials import CredentialKeyError
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError

MAX_AMBIGUOUS_ROUNDS = 2
log = logging.getLogger("pellacia.publisher")


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
            log.info("%s: the earlier attempt did publish (%s)", client.platform, earlier.url)
            return _published(journal, earlier, started, reconciled=True)
    for _round in range(MAX_AMBIGUOUS_ROUNDS):
        try:
            return _published(journal, client.publish(post, journal, progress), started)
        except AmbiguousOutcomeError as error:
            journal.mark_failed(str(error), state="unknown")
            existing = _reconcile(client, post, journal)
            if existing is not None:
                return _published(journal, existing, started, reconciled=True)
            log.warning("%s: %s; the platform has no such post, publishing again", client.platform, error)
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
) -> PartPublication:
    """One video to one account, exactly once (see `publish_once`)."""
    target = LedgerTarget(story_key, part, client.platform, client.account, sha256_of(post.video))
    journal = open_entry(factory, target, allow_duplicate)
    outcome = publish_once(client, post, journal, progress)
    return PartPublication(
        part,
        outcome.post.post_id,
        outcome.post.url,
        outcome.already_published,
        outcome.seconds,
        outcome.attempts,
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
        )
        log(f"{client.platform}: {part.title} is live at {publication.url}")
        published.append(publication)
    return published


@dataclass(frozen=True)
class PublishResult:
    platform: str
    status: str  # published | failed | manual | skipped
    post_id: str | None = None
    url: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def check_video_file(path: Path) -> None:
    """Refuse a missing, unreadable or non-video file before anything is sent anywhere."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise MediaError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        info = probe(path)
    except MediaError as error:
        raise MediaError(f"{path}: not a video ({error})") from error
    if info.width is None or info.video_codec is None:
        raise MediaError(f"{path}: has no video stream")


def publish_file(
    database_url: str,
    platforms: Sequence[str],
    video: Path,
    title: str,
    description: str = "",
    hashtags: Sequence[str] = (),
    allow_duplicate: bool = False,
    log: Callable[[str], None] = print,
) -> list[PublishResult]:
    """One finished video to each named platform now (`pellacia-dist upload`), through the same ledger
    as the post assets; every platform gets a result, one failing does not stop the others."""
    check_video_file(video)
    digest = sha256_of(video)
    factory = open_database(database_url)
    story_key = f"upload-{digest[:16]}" + (f"-{int(time.time())}" if allow_duplicate else "")
    with transaction(factory) as session:
        save_source(
            session,
            SourceRecord(
                key=story_key, source_kind="upload", source_ref=str(video), title=title, body=description
            ),
        )
    post = VideoPost(video, title, description, tuple(hashtags))
    results = []
    for platform in platforms:
        try:
            client = client_from_env(platform, database_url)
            published = publish_video(
                client, factory, story_key, 1, post, allow_duplicate, quarterly(log, platform, video.name)
            )
        except DuplicateVideoError as error:
            results.append(PublishResult(platform, "skipped", error=str(error)))
        except (PlatformError, CredentialKeyError) as error:
            results.append(PublishResult(platform, "failed", error=str(error)))
        else:
            if published.already_published:
                refusal = f"already published as {published.url}; pass --allow-duplicate to post it again"
                results.append(PublishResult(platform, "skipped", published.post_id, published.url, refusal))
            else:
                results.append(PublishResult(platform, "published", published.post_id, published.url))
    return results
