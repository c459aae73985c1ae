"""The publish ledger: one row per target, ids committed at once, duplicates refused unless allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import DuplicateVideoError, LedgerTarget, open_entry
from resources.database.stories import save_source

SHA = "a" * 64


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
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


def test_unknown_story_and_state_are_rejected(factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="not in the stories table"):
        open_entry(factory, target(story="nope"))
    with pytest.raises(ValueError, match="unknown ledger state"):
        open_entry(factory, target()).set_state("posted")
