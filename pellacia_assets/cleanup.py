"""What the cleanup schedule removes, and only that: temporary and orphaned media, old published videos.

- temporary: staging folders their (dead) writers left, media of stories refused before production, and
  export folders of resolved manual-queue entries, once older than the retention time;
- orphaned: a story folder the app database has no story for, once older than the retention time;
- published: the rendered files (voiceover, captions, video) of a story whose every post is live and
  whose last post is older than `keep_published`; its story and script stay (small, and the record).

Nothing a queued, publishing or manual post still needs is touched: a story with an open queue row or an
open manual entry keeps its files whatever their age.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import transaction
from resources.database.models import LedgerEntry, ManualQueueItem, QueuedPost, StoryRecord, as_utc
from resources.database.post_queue import OPEN
from resources.media_store.store import MediaStore

RENDERED_ASSETS = ("voiceover", "captions", "video")


@dataclass
class CleanupReport:
    removed: list[Path] = field(default_factory=list)
    bytes_freed: int = 0

    def add(self, path: Path) -> None:
        self.bytes_freed += _size(path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        self.removed.append(path)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def _older(path: Path, cutoff: datetime) -> bool:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff


def _story_busy(session: Session, key: str) -> bool:
    open_posts = session.scalar(
        select(func.count(QueuedPost.id)).where(QueuedPost.story_key == key, QueuedPost.state.in_(OPEN))
    )
    open_manual = session.scalar(
        select(func.count(ManualQueueItem.id)).where(
            ManualQueueItem.story_key == key, ManualQueueItem.status == "open"
        )
    )
    return bool(open_posts) or bool(open_manual)


def _published_before(session: Session, key: str, cutoff: datetime) -> bool:
    """The story has ledger rows, all published, the last one before `cutoff`."""
    entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.story_key == key)))
    times = [
        as_utc(entry.published_at) for entry in entries if entry.state == "published" and entry.published_at
    ]
    return bool(entries) and len(times) == len(entries) and max(times) < cutoff


def clean_media(
    store: MediaStore,
    factory: sessionmaker[Session],
    retention: timedelta,
    keep_published: timedelta,
    exports_dir: Path | None = None,
    now: datetime | None = None,
) -> CleanupReport:
    moment = now or datetime.now(UTC)
    temporary_cutoff, published_cutoff = moment - retention, moment - keep_published
    report = CleanupReport()
    for staging in store.sweep_staging():
        report.removed.append(staging)
    if not store.root.is_dir():
        return report
    with transaction(factory) as session:
        for folder in sorted(path for path in store.root.iterdir() if path.is_dir()):
            record = session.get(StoryRecord, folder.name)
            if record is None:
                if _older(folder, temporary_cutoff):
                    report.add(folder)
                continue
            if _story_busy(session, folder.name):
                continue
            if record.status == "rejected" and _older(folder, temporary_cutoff):
                report.add(folder)
            elif _published_before(session, folder.name, published_cutoff):
                for asset in RENDERED_ASSETS:
                    if (folder / asset).exists():
                        report.add(folder / asset)
        if exports_dir is not None and exports_dir.is_dir():
            resolved = {
                str(entry.id)
                for entry in session.scalars(
                    select(ManualQueueItem).where(ManualQueueItem.status == "resolved")
                )
            }
            for export in sorted(exports_dir.iterdir()):
                if export.name in resolved and _older(export, temporary_cutoff):
                    report.add(export)
    return report
