"""The cleanup removes temporary, orphaned and long-published media, and nothing a post still needs."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pellacia_assets.cleanup import clean_media
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.manual import open_entry
from resources.database.models import LedgerEntry
from resources.database.post_queue import enqueue
from resources.database.stories import save_source, set_status
from resources.media_store.store import MediaStore

DAY = timedelta(days=1)


def _story_files(store: MediaStore, key: str, age_days: float) -> Path:
    folder = store.story_dir(key)
    for asset in ("story", "script", "voiceover", "captions", "video"):
        (folder / asset).mkdir(parents=True, exist_ok=True)
        (folder / asset / "data.bin").write_bytes(b"x" * 1000)
    stamp = time.time() - age_days * 86400
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (stamp, stamp))
    return folder


def _add_story(factory, key: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        save_source(session, SourceRecord(key=key, source_kind="file", source_ref="x", title="T", body="B"))


def _published(factory, key: str, days_ago: float) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        session.add(
            LedgerEntry(
                story_key=key,
                platform="youtube",
                account="default",
                video_sha256=key.ljust(64, "0")[:64],
                state="published",
                post_id="p",
                published_at=datetime.now(UTC) - timedelta(days=days_ago),
            )
        )


def test_cleanup_keeps_what_posts_need_and_removes_the_rest(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    orphan_old = _story_files(store, "orphan-old", age_days=2)
    orphan_new = _story_files(store, "orphan-new", age_days=0)
    for key in ("old-published", "recent-published", "queued", "manual", "rejected"):
        _add_story(factory, key)
        _story_files(store, key, age_days=40)
    _published(factory, "old-published", days_ago=31)
    _published(factory, "recent-published", days_ago=3)
    _published(factory, "queued", days_ago=31)
    with transaction(factory) as session:
        enqueue(session, "queued", 2, [("tiktok", "default")])
        open_entry(session, "reauth", "token expired", story_key="manual", platform="x", account="default")
        set_status(session, "rejected", "rejected", "too short")

    report = clean_media(store, factory, retention=DAY, keep_published=30 * DAY, exports_dir=tmp_path / "x")

    assert not orphan_old.exists() and orphan_new.exists()
    assert not store.story_dir("rejected").exists()
    old = store.story_dir("old-published")
    assert sorted(p.name for p in old.iterdir()) == ["script", "story"]
    for kept in ("recent-published", "queued", "manual"):
        assert (store.story_dir(kept) / "video" / "data.bin").exists(), kept
    assert report.bytes_freed == 5000 + 5000 + 3000
    assert len(report.removed) == 5

    again = clean_media(store, factory, retention=DAY, keep_published=30 * DAY)
    assert again.removed == [] and again.bytes_freed == 0
