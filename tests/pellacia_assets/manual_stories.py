"""A produced story as the manual-queue tests need it: its source record, script and video manifests, and
a real video file per part in the media store (what the production assets leave behind)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manifests import (
    SCRIPT_FILE,
    VIDEO_MANIFEST,
    VideoManifest,
    VideoPart,
    part_poster_name,
    part_video_name,
    write_manifest,
)
from pellacia_assets.scripting.model import PlatformCopy, Script, ScriptPart
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import transaction
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.platforms import PLATFORMS

TITLE = "Harbour lights return"


def copy_for(platform: str, part: int) -> PlatformCopy:
    """Each platform's copy differs, so a test can tell that the right one was exported."""
    return PlatformCopy(
        title=f"{TITLE} (part {part}) on {platform}",
        caption=f"The old harbour is lit again after forty years; part {part} for {platform}. #harbour #news",
        hashtags=("#harbour", "#news", f"#{platform}"),
    )


def add_story(factory: sessionmaker[Session], key: str, source_kind: str = "file") -> None:
    with transaction(factory) as session:
        save_source(
            session, SourceRecord(key=key, source_kind=source_kind, source_ref="", title=TITLE, body="b")
        )


def produce_story(
    factory: sessionmaker[Session],
    store: MediaStore,
    key: str,
    make_video: Callable[..., Path],
    parts: int = 1,
) -> list[Path]:
    """The story's record, script and video manifests and one small real MP4 per part; the videos."""
    add_story(factory, key)
    script = Script(
        story_key=key,
        title=TITLE,
        writer="template",
        words_per_minute=150.0,
        max_part_seconds=58.0,
        parts=tuple(
            ScriptPart(
                number=number,
                title=f"Part {number}",
                hook="Look up.",
                narration="The harbour is lit again.",
                call_to_action="Follow for more.",
                estimated_seconds=4.0,
                copy={platform: copy_for(platform, number) for platform in PLATFORMS},
            )
            for number in range(1, parts + 1)
        ),
    )
    with store.stage(key, "script") as folder:
        (folder / SCRIPT_FILE).write_text(script.to_json(), encoding="utf-8")
    videos = []
    with store.stage(key, "video") as folder:
        for number in range(1, parts + 1):
            make_video(folder / part_video_name(number), seconds=1.0, size="108x192", tone=300 + 100 * number)
        manifest = VideoManifest(
            parts=tuple(
                VideoPart(number, part_video_name(number), part_poster_name(number), 1.0, 1, 0.1)
                for number in range(1, parts + 1)
            )
        )
        write_manifest(folder, VIDEO_MANIFEST, manifest)
    for number in range(1, parts + 1):
        videos.append(store.require(key, "video", part_video_name(number)))
    return videos
