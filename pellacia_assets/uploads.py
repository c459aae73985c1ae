"""`pellacia-dist upload`: one finished video straight to platforms, through the same ledger as the assets."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pellacia_assets.publishing import publish_video, quarterly
from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import probe
from pellacia_assets.stories.loading import SourceRecord, StoryError
from resources.database import open_database
from resources.database.crypto import CredentialKeyError
from resources.database.engine import transaction
from resources.database.ledger import DuplicateVideoError
from resources.database.stories import save_source
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.config import PLATFORMS
from resources.platforms.errors import PlatformError
from resources.platforms.registry import platform_client


@dataclass(frozen=True)
class UploadResult:
    platform: str
    status: str  # published | failed | manual | skipped
    post_id: str | None = None
    url: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def parse_platforms(names: str) -> list[str]:
    """`all`, or a comma-separated list of known platforms (order kept, duplicates dropped)."""
    if names.strip() == "all":
        return list(PLATFORMS)
    chosen = [name.strip().lower() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PLATFORMS]
    if unknown or not chosen:
        raise StoryError(
            f"unknown platform(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(PLATFORMS)}"
        )
    return list(dict.fromkeys(chosen))


def check_video_file(path: Path) -> None:
    """Refuse a missing, unreadable or non-video file before anything is sent anywhere."""
    if not path.is_file():
        raise StoryError(f"{path}: no such file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise StoryError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        info = probe(path)
    except MediaError as error:
        raise StoryError(f"{path}: not a video ({error})") from error
    if info.width is None or info.video_codec is None:
        raise StoryError(f"{path}: has no video stream")


def upload(
    database_url: str,
    platforms: Sequence[str],
    video: Path,
    title: str,
    description: str = "",
    hashtags: Sequence[str] = (),
    allow_duplicate: bool = False,
    log: Callable[[str], None] = print,
) -> list[UploadResult]:
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
            client = platform_client(platform, database_url)
            published = publish_video(
                client, factory, story_key, 1, post, allow_duplicate, quarterly(log, platform, video.name)
            )
        except DuplicateVideoError as error:
            results.append(UploadResult(platform, "skipped", error=str(error)))
        except (PlatformError, CredentialKeyError) as error:
            results.append(UploadResult(platform, "failed", error=str(error)))
        else:
            if published.already_published:
                refusal = f"already published as {published.url}; pass --allow-duplicate to post it again"
                results.append(UploadResult(platform, "skipped", published.post_id, published.url, refusal))
            else:
                results.append(UploadResult(platform, "published", published.post_id, published.url))
    return results
