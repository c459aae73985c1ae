"""The publish ledger: one row per target, ids committed at once, duplicates refused unless allowed, and
one publisher per row (claims, leases, waiting and taking over)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import (
    ClaimLostError,
    DuplicateVideoError,
    LedgerClaim,
    LedgerTarget,
    Settled,
    claim_entry,
    new_owner,
    open_entry,
    owner_is_gone,
)
from resources.database.models import LedgerEntry
from resources.database.stories import save_source

SHA = "a" * 64


@pytest.fixture
def factory(database_url: str) -> sessionmaker[Session]:
    sessions = open_database(database_url)
    with transaction(sessions) as session:
        for key in ("s1", "s2"):
            save_source(session, SourceRecord(key=key, source_kind="t", source_ref="t", title="T", body="B"))
    return sessions


def target(story: str = "s1", part: int = 1, sha: str = SHA) -> LedgerTarget:
    return LedgerTarget(story, part, "youtube", "main", sha)


def test_ids_are_committed_immediately_and_survive_a_new_handle(factory: sessionmaker[Session]) -> None:
    journal = open_entry(factory, target())
    journal.set_state("uploading")
    journal.put("session_uri", "http://x/upload?id=1")
    again = open_entry(factory, target())
    assert again.entry_id == journal.entry_id
    assert again.get("session_uri") == "http://x/upload?id=1"
    assert again.state == "uploading"
    assert again.snapshot().attempts == 2


def test_same_video_to_the_same_account_is_refused_unless_allowed(factory: sessionmaker[Session]) -> None:
    first = open_entry(factory, target())
    first.mark_published("vid1", "https://youtu.be/vid1")
    with pytest.raises(
        DuplicateVideoError, match=r"already went to youtube account 'main' as https://youtu.be/vid1"
    ):
        open_entry(factory, target(story="s2"))
    allowed = open_entry(factory, target(story="s2"), allow_duplicate=True)
    assert allowed.state == "planned"
    assert open_entry(factory, target(story="s2", sha="b" * 64)).state == "planned"


def test_a_video_still_in_flight_counts_as_sent(factory: sessionmaker[Session]) -> None:
    open_entry(factory, target()).set_state("unknown")
    with pytest.raises(DuplicateVideoError, match="state unknown"):
        open_entry(factory, target(story="s1", part=2))


def test_a_re_rendered_video_restarts_an_unfinished_entry(factory: sessionmaker[Session]) -> None:
    journal = open_entry(factory, target())
    journal.put("publish_id", "p1")
    journal.mark_failed("boom")
    again = open_entry(factory, target(sha="c" * 64))
    assert again.ids() == {}
    assert again.snapshot().video_sha256 == "c" * 64


def test_the_row_keeps_the_size_of_the_video_it_sends(factory: sessionmaker[Session]) -> None:
    """The size is written with the row, filled in on a row written before sizes were kept, and replaced
    with the video when a re-rendered one restarts the row."""
    journal = open_entry(factory, LedgerTarget("s1", 1, "youtube", "main", SHA, video_bytes=1_000))
    assert journal.snapshot().video_bytes == 1_000
    legacy = open_entry(factory, LedgerTarget("s2", 1, "youtube", "main", "c" * 64))
    assert legacy.snapshot().video_bytes is None
    assert (
        open_entry(factory, LedgerTarget("s2", 1, "youtube", "main", "c" * 64, 2_000)).snapshot().video_bytes
        == 2_000
    )
    journal.mark_failed("refused")
    rerendered = open_entry(factory, LedgerTarget("s1", 1, "youtube", "main", "b" * 64, video_bytes=1_500))
    assert rerendered.entry_id == journal.entry_id and rerendered.snapshot().video_bytes == 1_500


def test_unknown_story_and_state_are_rejected(factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="not in the stories table"):
        open_entry(factory, target(story="nope"))
    with pytest.raises(ValueError, match="unknown ledger state"):
        open_entry(factory, target()).set_state("posted")


# --- claims: one publisher per row, the others wait or take over a dead one's -----------------------------


def claim(factory: sessionmaker[Session], **kwargs: Any) -> LedgerClaim:
    claimed = claim_entry(factory, target(), **kwargs)
    assert isinstance(claimed, LedgerClaim)
    return claimed


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except Exception as error:  # handed to the test
            box.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def test_a_second_claim_waits_for_the_publisher_and_gets_its_post(factory: sessionmaker[Session]) -> None:
    heard: list[str] = []
    with claim(factory) as journal:
        thread, box = in_thread(lambda: claim_entry(factory, target(), poll_s=0.02, on_wait=heard.append))
        time.sleep(0.3)
        assert thread.is_alive() and len(heard) == 1 and "waiting for it" in heard[0]
        journal.mark_published("vid1", "https://youtu.be/vid1")
    thread.join(5)
    [settled] = box
    assert isinstance(settled, Settled) and settled.published and settled.waited_for is not None
    assert settled.entry.post_id == "vid1"
    entry = journal.snapshot()
    assert entry.claim_owner is None and entry.claim_expires_at is None and entry.attempts == 1


def test_a_published_row_is_settled_without_a_claim(factory: sessionmaker[Session]) -> None:
    with claim(factory) as journal:
        journal.mark_published("vid1", "https://youtu.be/vid1")
    settled = claim_entry(factory, target())
    assert isinstance(settled, Settled) and settled.published and settled.waited_for is None


def test_when_the_publisher_gives_up_the_waiter_reports_it(factory: sessionmaker[Session]) -> None:
    with claim(factory) as journal:
        thread, box = in_thread(lambda: claim_entry(factory, target(), poll_s=0.02))
        time.sleep(0.2)
        journal.mark_failed("youtube: quota exceeded")
    thread.join(5)
    [settled] = box
    assert isinstance(settled, Settled) and not settled.published
    assert settled.entry.state == "failed" and settled.entry.last_error == "youtube: quota exceeded"
    with claim(factory) as again:  # a new attempt (nobody to wait for) claims it
        assert again.snapshot().attempts == 2


def test_the_heartbeat_keeps_a_short_lease_alive(factory: sessionmaker[Session]) -> None:
    with claim(factory, lease_s=0.4) as journal:
        thread, box = in_thread(lambda: claim_entry(factory, target(), poll_s=0.05))
        time.sleep(1.2)  # three leases long: only the heartbeat keeps the row ours
        assert thread.is_alive()
        journal.put("session_uri", "http://x/upload?id=1")
        journal.mark_published("vid1", "https://youtu.be/vid1")
    thread.join(5)
    assert isinstance(box[0], Settled) and box[0].published


def force_claim(factory: sessionmaker[Session], owner: str, expires: datetime, state: str) -> int:
    journal = open_entry(factory, target())
    with transaction(factory) as session:
        entry = session.get_one(LedgerEntry, journal.entry_id)
        entry.claim_owner, entry.claim_expires_at, entry.state = owner, expires, state
        entry.platform_ids = {"session_uri": "http://x/upload?id=1"}
    return journal.entry_id


def test_a_lease_that_ran_out_is_taken_over_and_asks_the_platform_first(
    factory: sessionmaker[Session],
) -> None:
    elsewhere = "other-host/4026531836/4242/1234/abcd1234"
    force_claim(factory, elsewhere, datetime.now(UTC) + timedelta(seconds=30), "uploading")
    thread, box = in_thread(lambda: claim_entry(factory, target(), poll_s=0.05))  # live elsewhere: waits
    time.sleep(0.2)
    assert thread.is_alive()
    with transaction(factory) as session:  # the other host stops renewing: its lease runs out
        session.query(LedgerEntry).update({"claim_expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    thread.join(5)
    [taken] = box
    assert isinstance(taken, LedgerClaim) and taken.took_over_from == elsewhere
    entry = taken.journal.snapshot()
    assert entry.state == "unknown" and "process 4242 on other-host stopped" in str(entry.last_error)
    assert entry.platform_ids == {"session_uri": "http://x/upload?id=1"}  # resumed, not restarted
    taken.release()


def test_a_killed_publisher_on_this_host_is_taken_over_at_once(factory: sessionmaker[Session]) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stat = Path(f"/proc/{child.pid}/stat").read_text()
    started = stat[stat.rfind(")") + 2 :].split()[19]
    host, namespace = new_owner().split("/")[:2]
    dead = f"{host}/{namespace}/{child.pid}/{started}/deadbeef"
    force_claim(factory, dead, datetime.now(UTC) + timedelta(seconds=90), "processing")
    assert not owner_is_gone(dead)
    child.kill()  # kill -9
    child.wait()
    assert owner_is_gone(dead)
    taken = claim_entry(factory, target(), poll_s=0.05)
    assert isinstance(taken, LedgerClaim) and taken.took_over_from == dead
    taken.release()


def test_the_old_owner_cannot_write_after_a_take_over(factory: sessionmaker[Session]) -> None:
    first = claim(factory, lease_s=60)
    with transaction(factory) as session:  # its lease runs out (a process stalled for minutes)
        session.query(LedgerEntry).update({"claim_expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    second = claim(factory)
    assert second.took_over_from == first.owner
    with pytest.raises(ClaimLostError, match="no longer claimed by this process"):
        first.journal.put("video_id", "v2")
    assert not first.renew()
    second.journal.put("video_id", "v1")
    first.release()  # releases nothing of the new owner's
    assert second.journal.snapshot().claim_owner == second.owner
    second.release()


def test_the_claim_is_released_when_publishing_raises(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError, match="boom"), claim(factory) as journal:
        raise RuntimeError("boom")
    assert journal.snapshot().claim_owner is None
    assert isinstance(claim_entry(factory, target()), LedgerClaim)


def test_a_video_being_published_for_another_story_is_a_duplicate(factory: sessionmaker[Session]) -> None:
    with claim(factory):  # claimed, still `planned`: nothing sent yet, but it is on its way
        with pytest.raises(DuplicateVideoError, match="being published now by process"):
            claim_entry(factory, target(story="s2"))
        allowed = claim_entry(factory, target(story="s2"), allow_duplicate=True)
        assert isinstance(allowed, LedgerClaim)
        allowed.release()
