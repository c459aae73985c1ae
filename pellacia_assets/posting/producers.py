"""Putting a produced story's posts into the queue: which accounts, which lane, from what time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from pellacia_assets.posting.policy import PostingPolicy
from resources.database.models import QueuedPost, StoryRecord, as_utc
from resources.database.post_queue import enqueue
from resources.platforms import platform_named
from resources.platforms.config import PlatformSettings


def targets_for(platforms: Sequence[str]) -> list[tuple[str, str]]:
    """(platform, account) for each platform: the account its PELLACIA_<P>_ACCOUNT names (or `default`)."""
    return [(platform, PlatformSettings.from_env(platform_named(platform)).account) for platform in platforms]


def queue_story(session: Session, story_key: str, parts: int, policy: PostingPolicy) -> list[QueuedPost]:
    """Queue every part of a produced story on the platforms its source named (default: the policy's),
    in its priority's lane, not before the time its source asked for. Idempotent (see `enqueue`)."""
    record = session.get(StoryRecord, story_key)
    if record is None:
        raise ValueError(f"story {story_key!r} has no source record")
    platforms = record.platforms or list(policy.platforms)
    lane = record.priority if record.priority in ("breaking", "normal", "backlog") else "normal"
    not_before = as_utc(record.publish_after) if record.publish_after else datetime.now(UTC)
    return enqueue(session, story_key, parts, targets_for(platforms), lane, not_before)
