"""Publishing a story's parts to one platform, in order, through the ledger.

Plain code (no Dagster): the `<platform>_post` assets and `pellacia-dist upload` both call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.scripting.model import Script
from resources.database.ledger import LedgerTarget, open_entry
from resources.platforms.base import PlatformClient, Progress, VideoPost, sha256_of
from resources.platforms.publisher import publish_once


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
    """One video to one account, exactly once (see resources/platforms/publisher.py)."""
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
