"""Publishing exactly once: the ledger decides what is left to do, the client does it.

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
from dataclasses import dataclass

from resources.database.ledger import LedgerJournal
from resources.platforms.base import PlatformClient, Progress, PublishedPost, VideoPost
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
