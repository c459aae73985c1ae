"""The publish ledger (DESIGN.md section 3): intent before every create call, every id the moment it exists.

Each publication of a story part to a platform account is one row. Clients write through a
`LedgerJournal`, whose every `put` commits on its own, so a crash after any platform call leaves the ids
needed to resume (or to ask the platform what happened) on disk.

Exactly one process publishes a row at a time: `claim_entry` claims it in one locked transaction (SQLite
`BEGIN IMMEDIATE`, PostgreSQL an advisory lock per platform account) that checks and writes
`claim_owner` (host, pid namespace, pid, process start time, a random token) and `claim_expires_at`, a
lease the owner's heartbeat renews while it publishes and clears when it is done. Every later write of
the owner's journal holds only while the row is still its own (`ClaimLostError` otherwise). Another
process that finds the row claimed waits for the owner and then reports its outcome; a claim whose lease
ran out, or whose process is gone from this host (kill -9), is stale: the next process takes the row over
and, since the owner stopped half-way, asks the platform what it did before posting.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import locked_transaction, transaction
from resources.database.models import LedgerEntry, StoryRecord, as_utc
from resources.database.webhooks import emit, post_payload
from resources.processes import process_running, process_stat

IN_FLIGHT = ("uploading", "processing", "unknown")
STATES = ("planned", "uploading", "processing", "published", "failed", "manual", "unknown")
LEASE_S = 90.0  # a claim not renewed for this long is stale; the owner renews it every quarter of it
POLL_S = 0.5  # how often a waiting process looks at a row someone else is publishing
_STATE_EVENTS = {"published": "post.published", "failed": "post.failed"}  # the webhook event of a state
log = logging.getLogger("pellacia.ledger")


class DuplicateVideoError(RuntimeError):
    """The same video file already went (or is going) to this account under another story or part."""


class ClaimLostError(RuntimeError):
    """This process's claim on a ledger row ran out and another process took the row over."""


@dataclass(frozen=True)
class LedgerTarget:
    story_key: str
    part: int
    platform: str
    account: str
    video_sha256: str
    video_bytes: int | None = None


class LedgerJournal:
    """One ledger row, as a platform client's journal; every write is its own committed transaction.

    With an `owner` (a claimed row, see `claim_entry`) a write only lands while the row is still claimed
    by that owner, and raises `ClaimLostError` once another process took it over. A write that makes the
    row published or failed queues the webhook event (`post.published`, `post.failed`) in its transaction.
    """

    def __init__(self, factory: sessionmaker[Session], entry_id: int, owner: str | None = None) -> None:
        self.factory = factory
        self.entry_id = entry_id
        self.owner = owner

    def _update(self, **changes: Any) -> None:
        statement = update(LedgerEntry).where(LedgerEntry.id == self.entry_id)
        if self.owner is not None:
            statement = statement.where(LedgerEntry.claim_owner == self.owner)
        event = _STATE_EVENTS.get(changes.get("state", ""))
        with transaction(self.factory) as session:
            if event is not None:
                # Writing first (the write lock taken) tells a change of state from a repeat of it; the
                # event is queued in the same transaction, so it exists exactly when the change does.
                moved = session.execute(
                    statement.where(LedgerEntry.state != changes["state"])
                    .values(**changes)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(moved) == 1:
                    emit(session, event, post_payload(session.get_one(LedgerEntry, self.entry_id)))
                    return
            result = session.execute(statement.values(**changes).execution_options(synchronize_session=False))
            if _rowcount(result) == 1:
                return
        if self.owner is not None:
            raise ClaimLostError(
                f"ledger row {self.entry_id} is no longer claimed by this process (its lease ran out and "
                "another process took it over); stopping here so that only one of us publishes"
            )
        raise LookupError(f"ledger row {self.entry_id} does not exist")

    def snapshot(self) -> LedgerEntry:
        with transaction(self.factory) as session:
            return session.get_one(LedgerEntry, self.entry_id)

    @property
    def state(self) -> str:
        return self.snapshot().state

    def get(self, name: str) -> str | None:
        value = self.snapshot().platform_ids.get(name)
        return None if value is None else str(value)

    def put(self, name: str, value: str) -> None:
        # Only the row's publisher writes its ids, so reading them first loses nothing.
        self._update(platform_ids={**self.ids(), name: value})

    def ids(self) -> dict[str, Any]:
        return dict(self.snapshot().platform_ids)

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        self._update(state=state)

    def mark_published(self, post_id: str, url: str) -> None:
        self._update(
            state="published", post_id=post_id, url=url, last_error=None, published_at=datetime.now(UTC)
        )

    def mark_failed(self, error: str, state: str = "failed") -> None:
        self._update(state=state, last_error=error)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# --- who owns a claim -----------------------------------------------------------------------------------


def _pid_namespace() -> str:
    """This process's PID namespace (Linux), so that a pid is only judged within the namespace it is from."""
    try:
        link = str(Path("/proc/self/ns/pid").readlink())  # "pid:[4026531836]"
    except OSError:
        return ""
    return "".join(ch for ch in link if ch.isdigit())


def _host() -> str:
    return socket.gethostname().replace("/", "_")[:120]  # the owner column holds 200 characters


def new_owner() -> str:
    """A claim owner: `host/pid-namespace/pid/start-ticks/token`; the token tells two claims apart."""
    pid = os.getpid()
    stat = process_stat(pid)
    started = stat[1] if stat else ""
    return f"{_host()}/{_pid_namespace()}/{pid}/{started}/{uuid.uuid4().hex[:8]}"


def describe_owner(owner: str) -> str:
    parts = owner.split("/")
    if len(parts) != 5:
        return owner
    return f"process {parts[2]} on {parts[0]}"


def owner_is_gone(owner: str) -> bool:
    """True only when the owner certainly no longer runs: it ran on this host, in this PID namespace, and
    its pid is free, a zombie or another process (started at another time). Otherwise only its lease can
    tell."""
    parts = owner.split("/")
    if len(parts) != 5:
        return False
    host, namespace, pid, started, _token = parts
    if host != _host() or not namespace or namespace != _pid_namespace() or not pid.isdigit():
        return False
    return not process_running(int(pid), started or None)


def _now() -> datetime:
    return datetime.now(UTC)


def claim_is_live(entry: LedgerEntry, now: datetime | None = None) -> bool:
    """Someone is publishing this row: claimed, lease not run out, owner not known to be gone."""
    if entry.claim_owner is None or entry.claim_expires_at is None:
        return False
    if as_utc(entry.claim_expires_at) <= (now or _now()):
        return False
    return not owner_is_gone(entry.claim_owner)


# --- claiming a row -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    """Nothing for this process to send: the row is published (`waited_for` is None when it already was,
    else the owner it waited for), or the owner it waited for let the row go without publishing it."""

    entry: LedgerEntry
    waited_for: str | None = None

    @property
    def published(self) -> bool:
        return self.entry.state == "published"


@dataclass(frozen=True)
class _Busy:
    owner: str


class LedgerClaim:
    """This process's claim on one row. As a context manager: a heartbeat renews the lease while the
    block runs, and the claim is released when it ends (however it ends)."""

    def __init__(self, journal: LedgerJournal, lease_s: float, took_over_from: str | None = None) -> None:
        if journal.owner is None:
            raise ValueError("a claim needs a journal with an owner")
        self.journal = journal
        self.owner: str = journal.owner
        self.lease_s = lease_s
        self.took_over_from = took_over_from
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __enter__(self) -> LedgerJournal:
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"ledger-claim-{self.journal.entry_id}", daemon=True
        )
        self._heartbeat.start()
        return self.journal

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        try:
            self.release()
        except Exception as failure:  # the lease runs out by itself; never hide what ended the block
            log.warning(
                "could not release ledger row %s (%s); its lease will run out", self.journal.entry_id, failure
            )

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            try:
                if not self.renew():
                    log.warning("ledger row %s was taken over by another process", self.journal.entry_id)
                    return
            except Exception as failure:  # a database hiccup: try again at the next beat
                log.warning("could not renew the claim on ledger row %s: %s", self.journal.entry_id, failure)

    def _mine(self) -> Any:
        return update(LedgerEntry).where(
            LedgerEntry.id == self.journal.entry_id, LedgerEntry.claim_owner == self.owner
        )

    def renew(self) -> bool:
        """Extend the lease; False when the row is no longer ours."""
        with transaction(self.journal.factory) as session:
            result = session.execute(
                self._mine()
                .values(
                    claim_expires_at=_now() + timedelta(seconds=self.lease_s),
                    updated_at=LedgerEntry.updated_at,
                )
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1

    def release(self) -> None:
        with transaction(self.journal.factory) as session:
            session.execute(
                self._mine()
                .values(claim_owner=None, claim_expires_at=None, updated_at=LedgerEntry.updated_at)
                .execution_options(synchronize_session=False)
            )


def claim_entry(
    factory: sessionmaker[Session],
    target: LedgerTarget,
    allow_duplicate: bool = False,
    *,
    lease_s: float = LEASE_S,
    poll_s: float = POLL_S,
    on_wait: Callable[[str], None] | None = None,
) -> LedgerClaim | Settled:
    """Claim the row of `target` for this process, creating it if new, or say why there is nothing to do.

    Returns a `LedgerClaim` (publish through its journal inside `with claim:`), or `Settled` when the row
    is published already or the process this one waited for finished it. While another live process holds
    the row this waits (`on_wait` hears once per owner), polling every `poll_s`. Refuses, as
    `DuplicateVideoError`, a video already sent or being sent to the account under another story or part.
    """
    owner = new_owner()
    waited_for: str | None = None
    while True:
        outcome = _try_claim(factory, target, allow_duplicate, owner, lease_s, waited_for)
        if not isinstance(outcome, _Busy):
            return outcome
        if outcome.owner != waited_for:
            waited_for = outcome.owner
            if on_wait is not None:
                on_wait(
                    f"{describe_owner(outcome.owner)} is publishing this video to account "
                    f"'{target.account}'; waiting for it"
                )
        time.sleep(poll_s)


def _try_claim(
    factory: sessionmaker[Session],
    target: LedgerTarget,
    allow_duplicate: bool,
    owner: str,
    lease_s: float,
    waited_for: str | None,
) -> LedgerClaim | Settled | _Busy:
    now = _now()
    with locked_transaction(factory, _claim_lock(target)) as session:
        _require_story(session, target)
        entry = _entry_for(session, target)
        stale: str | None = None
        if entry is not None:
            if entry.state == "published":
                return Settled(entry, waited_for)
            if entry.claim_owner is not None:
                if claim_is_live(entry, now):
                    return _Busy(entry.claim_owner)
                stale = entry.claim_owner
            elif waited_for is not None:
                return Settled(entry, waited_for)  # the owner we waited for stopped without a post
        if not allow_duplicate:
            _refuse_duplicate(session, target, now)
        entry = _create_or_reset(session, entry, target, allow_duplicate)
        changes: dict[str, Any] = {
            "claim_owner": owner,
            "claim_expires_at": now + timedelta(seconds=lease_s),
            "attempts": LedgerEntry.attempts + 1,
        }
        if stale is not None and entry.state in ("uploading", "processing"):
            # the owner stopped half-way: what it did is unknown until the platform is asked
            changes |= {"state": "unknown", "last_error": f"{describe_owner(stale)} stopped while publishing"}
        seen = entry.claim_owner, entry.claim_expires_at
        claimed = session.execute(
            update(LedgerEntry)
            .where(
                LedgerEntry.id == entry.id,
                LedgerEntry.claim_owner.is_(None) if seen[0] is None else LedgerEntry.claim_owner == seen[0],
                LedgerEntry.claim_expires_at.is_(None)
                if seen[1] is None
                else LedgerEntry.claim_expires_at == seen[1],
            )
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(claimed) != 1:  # renewed or taken under our feet (PostgreSQL): look again
            return _Busy(seen[0] or "another process")
        if stale is not None:
            log.warning(
                "%s: took ledger row %s over from %s", target.platform, entry.id, describe_owner(stale)
            )
        return LedgerClaim(LedgerJournal(factory, entry.id, owner), lease_s, stale)


def _claim_lock(target: LedgerTarget) -> str:
    """Claims and duplicate checks of one platform account take turns (they last milliseconds)."""
    return f"ledger-claim:{target.platform}:{target.account}"


def open_entry(
    factory: sessionmaker[Session], target: LedgerTarget, allow_duplicate: bool = False
) -> LedgerJournal:
    """The row for `target`, created as `planned` if new; refuses a video already sent to the account.

    The journal is not claimed: for a single process that publishes through it directly (tests, tools).
    Concurrent publishers go through `claim_entry`.
    """
    with locked_transaction(factory, _claim_lock(target)) as session:
        _require_story(session, target)
        entry = _entry_for(session, target)
        if not allow_duplicate:
            _refuse_duplicate(session, target, _now())
        entry = _create_or_reset(session, entry, target, allow_duplicate)
        entry.attempts += 1
        session.flush()
        return LedgerJournal(factory, entry.id)


def _require_story(session: Session, target: LedgerTarget) -> None:
    if session.get(StoryRecord, target.story_key) is None:
        raise ValueError(f"story '{target.story_key}' is not in the stories table")


def _entry_for(session: Session, target: LedgerTarget) -> LedgerEntry | None:
    return session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.story_key == target.story_key,
            LedgerEntry.part == target.part,
            LedgerEntry.platform == target.platform,
            LedgerEntry.account == target.account,
        )
    )


def _create_or_reset(
    session: Session, entry: LedgerEntry | None, target: LedgerTarget, allow_duplicate: bool
) -> LedgerEntry:
    """The row, created as `planned` if new; a re-rendered video restarts a row that sent nothing yet."""
    if entry is None:
        entry = LedgerEntry(
            story_key=target.story_key,
            part=target.part,
            platform=target.platform,
            account=target.account,
            video_sha256=target.video_sha256,
            video_bytes=target.video_bytes,
            state="planned",
            platform_ids={},
            allow_duplicate=allow_duplicate,
            attempts=0,
        )
        session.add(entry)
    elif entry.video_sha256 != target.video_sha256 and entry.state in ("planned", "failed"):
        entry.video_sha256 = target.video_sha256
        entry.video_bytes = target.video_bytes
        entry.platform_ids = {}
    elif entry.video_bytes is None and entry.video_sha256 == target.video_sha256:
        entry.video_bytes = target.video_bytes
    session.flush()
    return entry


def _refuse_duplicate(session: Session, target: LedgerTarget, now: datetime) -> None:
    others = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.platform == target.platform,
            LedgerEntry.account == target.account,
            LedgerEntry.video_sha256 == target.video_sha256,
            LedgerEntry.state.in_(("published", *IN_FLIGHT)) | LedgerEntry.claim_owner.is_not(None),
            (LedgerEntry.story_key != target.story_key) | (LedgerEntry.part != target.part),
        )
    )
    for other in others:
        if other.state == "published":
            where = f"as {other.url or other.post_id}"
        elif other.state in IN_FLIGHT:
            where = f"(state {other.state})"
        elif claim_is_live(other, now):
            where = f"(being published now by {describe_owner(str(other.claim_owner))})"
        else:
            continue
        raise DuplicateVideoError(
            f"this video (sha256 {target.video_sha256[:12]}…) already went to {target.platform} account "
            f"'{target.account}' {where} for story '{other.story_key}' part {other.part}; "
            "allow duplicates explicitly to post it again"
        )


def entries_for(factory: sessionmaker[Session], story_key: str, platform: str) -> list[LedgerEntry]:
    with transaction(factory) as session:
        return list(
            session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.story_key == story_key, LedgerEntry.platform == platform)
                .order_by(LedgerEntry.part)
            )
        )
