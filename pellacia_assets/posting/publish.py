"""Publishing one queued post: the part its queue row names, and the row told what became of it.

Plain code for the `<platform>_post` asset when the dispatcher launched it (run tag `pellacia/queue_id`).
Every way out leaves the row saying what comes next, and a person hears of every failure once:
- published: `published`;
- a person must act (re-authorise, declare a policy, replace the media): `manual`, with an entry in the
  manual queue and its one alert (`manual_queue.send_to_manual`);
- an error that retrying cannot fix (the video already on the account under another story, an outcome
  still unknown after reconciling, the account renamed since the post was queued): `failed`, with one
  `run_failed` alert for the story and platform (closed when a later run of them succeeds);
- an earlier part not live on the account yet: `due` again, to wait for it;
- a retryable error: still `publishing`; the asset's retry policy tries again in the same run, and when
  the retries run out the run-failure sensor sends the row to the manual queue (`retries_exhausted`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manual_queue import send_to_manual
from pellacia_assets.posting.dispatch import DISPATCH_LOCK, earlier_parts_live
from pellacia_assets.publishing import PartPublication, publish_part
from pellacia_assets.scripting.model import Script
from resources.alerts.channels import Alerter
from resources.alerts.config import run_link
from resources.alerts.incidents import Incident, raise_alert
from resources.database.engine import locked_transaction, transaction
from resources.database.ledger import DuplicateVideoError
from resources.database.manual import reason_for_error
from resources.database.post_queue import QueueError, get_row, ledger_row, mark_outcome, release
from resources.platforms.base import Publisher
from resources.platforms.errors import PlatformError

FAILED_CAUSE = "run_failed"  # the cause the run-failure sensors alert and resolve for a story and platform


class QueuedPostError(RuntimeError):
    """The queued post was not published; the message says why, `retryable` whether trying again in
    the same run can help, `manual_id` the manual-queue entry a person must finish."""

    def __init__(self, message: str, retryable: bool = False, manual_id: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.manual_id = manual_id


@dataclass(frozen=True)
class _Queued:
    """One run's view of its queue row."""

    queue_id: int
    story_key: str
    part: int
    platform: str
    account: str
    run_id: str


def _check_row(
    session: Session, queue_id: int, story_key: str, client: Publisher
) -> tuple[int, str, str | None]:
    """The row's part and account, and why this run must not publish it (None: go ahead). A row waiting
    for an earlier part goes back to `due`; the caller fails one whose account changed."""
    try:
        row = get_row(session, queue_id)
    except QueueError as error:
        raise QueuedPostError(str(error)) from error
    if (row.story_key, row.platform) != (story_key, client.platform):
        raise QueuedPostError(
            f"queued post {queue_id} is {row.story_key} on {row.platform}, "
            f"not {story_key} on {client.platform}"
        )
    if row.state not in ("publishing", "published"):
        return (
            row.part,
            row.account,
            (
                f"queued post {queue_id} is {row.state}, not being published; "
                f"`pellacia-dist queue retry --id {queue_id}` queues it again"
            ),
        )
    if row.state == "publishing" and not earlier_parts_live(session, row):
        release(session, queue_id, row.dispatches, f"part {row.part - 1} is not live on the account yet")
        return (
            row.part,
            row.account,
            (
                f"queued post {queue_id} is Part {row.part}, and an earlier part is not live on "
                f"{row.platform} account '{row.account}'; it waits for it"
            ),
        )
    return row.part, row.account, None


def publish_queued(
    client: Publisher,
    factory: sessionmaker[Session],
    script: Script,
    queue_id: int,
    video_for_part: Callable[[int], Path],
    alerter: Alerter,
    run_id: str,
    log: Callable[[str], None],
) -> PartPublication:
    """Publish the part queue row `queue_id` names and record the outcome on the row (see the module's
    docstring); raises QueuedPostError when there is no post."""
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        part_number, account, refusal = _check_row(session, queue_id, script.story_key, client)
    if refusal is not None:
        raise QueuedPostError(refusal)
    queued = _Queued(queue_id, script.story_key, part_number, client.platform, account, run_id)
    if account != client.account:
        raise _failed(
            factory,
            alerter,
            queued,
            f"queued post {queue_id} is for {client.platform} account '{account}' but "
            f"PELLACIA_{client.platform.upper()}_ACCOUNT names '{client.account}'; "
            f"set it back and `pellacia-dist queue retry --id {queue_id}`, or cancel the post",
        )
    parts = {part.number: part for part in script.parts}
    if part_number not in parts:
        raise _failed(factory, alerter, queued, f"the script of {script.story_key} has no Part {part_number}")
    part = parts[part_number]
    video = video_for_part(part.number)
    try:
        publication = publish_part(client, factory, script, part, video, log, f" (queued post {queue_id})")
    except DuplicateVideoError as error:
        raise _failed(factory, alerter, queued, str(error)) from error
    except PlatformError as error:
        raise _stopped(factory, alerter, queued, error, video) from error
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        mark_outcome(session, queue_id, "published")
    return publication


def _failed(factory: sessionmaker[Session], alerter: Alerter, queued: _Queued, error: str) -> QueuedPostError:
    """An error retrying cannot fix: the row is failed and a person hears of it once."""
    with locked_transaction(factory, DISPATCH_LOCK) as session:
        mark_outcome(session, queued.queue_id, "failed", error)
    raise_alert(
        factory,
        alerter,
        Incident(
            cause=FAILED_CAUSE,
            message=f"{queued.platform}_post: queued post {queued.queue_id} (Part {queued.part}) failed: "
            f"{error}",
            story_key=queued.story_key,
            platform=queued.platform,
            link=run_link(queued.run_id),
        ),
    )
    return QueuedPostError(error)


def _stopped(
    factory: sessionmaker[Session], alerter: Alerter, queued: _Queued, error: PlatformError, video: Path
) -> QueuedPostError:
    """What a platform's refusal means for the row, and whether the run may try again."""
    if error.retryable:
        return QueuedPostError(str(error), retryable=True)
    reason = reason_for_error(error)
    if reason is None:
        return _failed(factory, alerter, queued, str(error))
    with transaction(factory) as session:
        entry = ledger_row(session, get_row(session, queued.queue_id))
        ledger_id = entry.id if entry is not None else None
    item = send_to_manual(
        factory,
        alerter,
        reason,
        str(error),
        story_key=queued.story_key,
        part=queued.part,
        platform=queued.platform,
        account=queued.account,
        queue_id=queued.queue_id,
        ledger_id=ledger_id,
        run_id=queued.run_id,
        source_path=str(video),
    )
    return QueuedPostError(
        f"{error}; a person must finish it: manual entry {item.id} (`pellacia-dist manual list`)",
        manual_id=item.id,
    )
