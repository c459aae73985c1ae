"""What every platform client offers the publisher, and what the publisher offers back (the journal)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from resources.platforms.limits import post_caption

Progress = Callable[[int, int], None]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class VideoPost:
    """One video and the words that go with it, as one platform should show them."""

    video: Path
    title: str
    description: str = ""
    hashtags: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return self.video.stat().st_size

    def caption(self) -> str:
        """Description followed by the hashtags that it does not already contain."""
        missing = [tag for tag in self.hashtags if tag not in self.description]
        return " ".join(part for part in (self.description.strip(), " ".join(missing)) if part)

    def caption_for(self, platform: str) -> str:
        """The caption as `platform` shows it: where a post has no title field (TikTok, Instagram, X) it
        begins with the title, and a description too long for the platform is trimmed, never the title or
        the hashtags (limits.post_caption)."""
        return post_caption(platform, self.title, self.description, self.hashtags)


@dataclass(frozen=True)
class PublishedPost:
    platform: str
    post_id: str
    url: str


@dataclass(frozen=True)
class PostMetrics:
    """Lifetime counters of one post; `extra` keeps whatever else the platform reports."""

    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Journal(Protocol):
    """The ledger entry of this publication: every id a platform hands out is written here at once."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...

    def set_state(self, state: str) -> None: ...


class PlatformClient(Protocol):
    platform: str
    account: str

    def check(self, post: VideoPost) -> None:
        """Refuse, before a byte is sent, a video or metadata the platform would reject."""
        ...

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """Upload and publish, resuming from whatever the journal already holds."""
        ...

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """After an ambiguous outcome: ask the platform whether the post exists; None when it does not."""
        ...

    def metrics(self, post_id: str) -> PostMetrics: ...
