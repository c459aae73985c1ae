"""What every platform client offers the publisher, and what the publisher offers back (the journal)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

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
    thumbnail: Path | None = None  # a custom thumbnail, where the platform takes one (YouTube)

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


# The normalised core every platform's metrics are read into (watch time in seconds).
CORE_METRICS = ("views", "likes", "comments", "shares", "saves", "impressions", "reach", "watch_time_s")
ReadingKind = Literal["measured", "lifetime"]


@dataclass(frozen=True)
class MetricReading:
    """One post's metrics as one platform call reported them.

    `kind`: "measured" is what happened on one day (a history API's daily row); "lifetime" is the total
    as of `as_of`. `raw` keeps every field the platform returned, under its own names; `values` is the
    core it maps to, and `unavailable` says, per core metric the platform did not give, why (a metric it
    does not report, a scope not granted, a window passed). Every core metric is in exactly one of the
    two: a missing value is never a zero."""

    kind: ReadingKind
    raw: dict[str, Any]
    values: dict[str, float]
    unavailable: dict[str, str]
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        named = set(self.values) | set(self.unavailable)
        if named != set(CORE_METRICS) or set(self.values) & set(self.unavailable):
            raise ValueError(
                f"a reading names each core metric once, as a value or a reason (got values "
                f"{sorted(self.values)}, unavailable {sorted(self.unavailable)})"
            )


@dataclass(frozen=True)
class HistoryWindow:
    """How far back a platform's daily history reaches (`days`; None: no stated limit) and how many of the
    latest days are still inside its reporting delay (their rows may change or be missing)."""

    days: int | None
    delay_days: int
    beyond: str  # why a day older than the window has no daily value


class Journal(Protocol):
    """The ledger entry of this publication: every id a platform hands out is written here at once."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...

    def set_state(self, state: str) -> None: ...


class Publisher(Protocol):
    """What the publisher needs of a path to the platform: an API client, a browser uploader, or the
    fallback chain over them (resources/fallback)."""

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

    def close(self) -> None:
        """Close the connections (or the browser) it holds."""
        ...


class PlatformClient(Publisher, Protocol):
    history_window: HistoryWindow | None
    no_history_reason: str

    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Each post's lifetime totals as of now; a post the platform does not show is left out."""
        ...

    def daily_metrics(
        self, post_ids: Sequence[str], first: date, last: date
    ) -> dict[str, dict[date, MetricReading]]:
        """Measured daily rows from the history API, `first` to `last`; only where `history_window` is set.
        A day the platform has no row for (not reported yet) is left out."""
        ...

    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """The platform's own creation time of each post it shows (its first day of metrics)."""
        ...

    def verify_access(self) -> str:
        """One read-only call that proves the token works for the account: who it is, in words."""
        ...
