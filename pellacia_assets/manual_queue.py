"""Sending a post (or a file) to the manual queue and taking it back out: the table, the posting queue and
the alert move together.

Plain code (no Dagster): the post assets, the phase-05 sensor, the run-failure sensor and the CLI call it.
One alert per entry's incident (story or file, platform, `manual_<reason>`), raised when the entry opens
and resolved when the last open entry of that incident is resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manual_export import post_material
from resources.alerts.channels import Alerter
from resources.alerts.config import run_link
from resources.alerts.incidents import Incident, raise_alert, resolve_alert
from resources.database.engine import locked_transaction, transaction
from resources.database.manual import (
    REASON_TEXT,
    ManualError,
    get_entry,
    open_entry,
    open_for_target,
    reason_named,
    resolve_entry,
)
from resources.database.models import ManualQueueItem
from resources.database.post_queue import mark_outcome
from resources.media_store.store import MediaStore

MANUAL_LOCK = "manual-queue"  # entries are opened and resolved one at a time: no duplicates under races


def incident_subject(entry: ManualQueueItem) -> str | None:
    """What the entry's alert is about: its story, or for a file without a story the file's name."""
    if entry.story_key is not None:
        return entry.story_key
    return Path(entry.source_path).name if entry.source_path else None


def describe(entry: ManualQueueItem) -> str:
    """The entry's target in words: `story 'k' part 2 on youtube (account a)` or `file x.mp4`."""
    if entry.story_key is None:
        return f"file {entry.source_path}"
    where = f" on {entry.platform}" if entry.platform else ""
    account = f" (account {entry.account})" if entry.account else ""
    return f"story '{entry.story_key}' part {entry.part}{where}{account}"


def send_to_manual(
    factory: sessionmaker[Session],
    alerter: Alerter,
    reason: str,
    detail: str,
    *,
    story_key: str | None = None,
    part: int = 1,
    platform: str | None = None,
    account: str | None = None,
    queue_id: int | None = None,
    ledger_id: int | None = None,
    run_id: str | None = None,
    source_path: str | None = None,
    link: str | None = None,
    artifacts: Sequence[Path] = (),
) -> ManualQueueItem:
    """Open (or find) the entry, mark its queue row `manual`, and alert once for it.

    Idempotent: the same failure again finds the open entry and the open incident, and sends nothing."""
    reason = reason_named(reason)
    with locked_transaction(factory, MANUAL_LOCK) as session:
        entry = open_entry(
            session,
            reason,
            detail,
            story_key=story_key,
            part=part,
            platform=platform,
            account=account,
            queue_id=queue_id,
            ledger_id=ledger_id,
            run_id=run_id,
            source_path=source_path,
            artifacts=artifacts,
        )
        if queue_id is not None:
            mark_outcome(session, queue_id, "manual", detail)
    message = (
        f"{REASON_TEXT[reason]}: {describe(entry)}\n{detail}\n"
        f"Manual entry {entry.id}: `pellacia-dist manual export --id {entry.id}` prepares it to be done "
        f"by hand, `pellacia-dist manual resolve --id {entry.id}` records it."
    )
    incident = Incident(
        cause=f"manual_{reason}",
        message=message,
        story_key=incident_subject(entry),
        platform=entry.platform,
        link=link or (run_link(run_id) if run_id else None),
    )
    raise_alert(factory, alerter, incident)
    return entry


def resolve_manual(
    factory: sessionmaker[Session],
    alerter: Alerter,
    entry_id: int,
    post_url: str | None,
    *,
    store: MediaStore | None = None,
) -> ManualQueueItem:
    """Resolve the entry (`resolve_entry`: the post goes into the ledger) and close its alert.

    `store`: where the story's video is, so the ledger row created for a hand-made post carries the
    video's sha256. Every open entry about the same post is resolved with it, and each alert that no
    open entry needs any more is closed."""
    with transaction(factory) as session:
        video = _video_of(session, store, get_entry(session, entry_id))
    with locked_transaction(factory, MANUAL_LOCK) as session:
        closing = open_for_target(session, get_entry(session, entry_id))
        entry = resolve_entry(session, entry_id, post_url, video=video)
        incidents = {(incident_subject(same), same.platform, same.reason) for same in closing}
        still_open = {
            (incident_subject(other), other.platform, other.reason)
            for other in session.scalars(select(ManualQueueItem).where(ManualQueueItem.status == "open"))
        }
    done = f"posted by hand at {entry.resolved_url}" if entry.resolved_url else "handled by hand"
    for subject, platform, reason in sorted(incidents - still_open, key=str):
        resolve_alert(
            factory,
            alerter,
            f"manual_{reason}",
            subject,
            platform,
            f"manual entry {entry.id} resolved: {describe(entry)} {done}",
        )
    return entry


def _video_of(session: Session, store: MediaStore | None, entry: ManualQueueItem) -> Path | None:
    """The entry's video file, when the story has one to find (its sha256 goes into the ledger)."""
    if store is None or entry.story_key is None or entry.platform is None:
        return None
    try:
        return post_material(session, store, entry).video
    except ManualError:
        return None
