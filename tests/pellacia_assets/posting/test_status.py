"""`queue status` per account, and the dispatcher's account of why nothing goes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.status import account_status, waiting_summary
from resources.database.engine import transaction
from resources.database.post_queue import mark_outcome
from tests.pellacia_assets.posting.history import published, queued

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_YOUTUBE_ACCOUNT", "main")
    monkeypatch.setenv("PELLACIA_X_ACCOUNT", "main")


def test_each_account_shows_slot_lanes_today_and_last_error(factory: sessionmaker[Session]) -> None:
    policy = PostingPolicy(gap_s=1800, jitter_s=0, daily_caps={"youtube": 4}, platforms=("youtube", "x"))
    with transaction(factory) as session:
        published(session, "earlier", NOW - timedelta(minutes=10))
        published(session, "yesterday", NOW - timedelta(days=1))
        queued(session, "a", not_before=NOW)
        queued(session, "b", lane="breaking", not_before=NOW)
        queued(session, "c", lane="backlog", not_before=NOW, parts=2)
        failed = queued(session, "d", not_before=NOW)[0]
        mark_outcome(session, failed.id, "failed", "youtube: quota exceeded")
        busy = queued(session, "e", "x", not_before=NOW)[0]
        busy.state = "publishing"
        queued(session, "f", "tiktok", "brand", not_before=NOW)  # an account only the queue knows
        statuses = {(s.platform, s.account): s for s in account_status(session, policy, NOW)}
    assert sorted(statuses) == [("tiktok", "brand"), ("x", "main"), ("youtube", "main")]
    youtube = statuses[("youtube", "main")]
    assert youtube.next_slot == NOW + timedelta(minutes=20)
    assert youtube.next_slot_reason == "spacing gap since the last post"
    assert youtube.breaking_slot == NOW
    assert youtube.queued == {"breaking": 1, "normal": 1, "backlog": 2}
    assert (youtube.published_today, youtube.daily_cap, youtube.hard_cap) == (1, 4, 100)
    assert youtube.last_error == "youtube: quota exceeded"
    assert youtube.publishing is None
    x = statuses[("x", "main")]
    assert (x.publishing, x.next_slot, x.queued["normal"], x.last_error) == (busy.id, NOW, 0, None)
    report = youtube.to_dict()
    assert report["next_slot"] == (NOW + timedelta(minutes=20)).isoformat()
    assert report["queued"] == {"breaking": 1, "normal": 1, "backlog": 2}


def test_the_waiting_summary_says_why_per_account(factory: sessionmaker[Session]) -> None:
    policy = PostingPolicy(gap_s=1800, jitter_s=0, platforms=("youtube", "x"))
    with transaction(factory) as session:
        assert waiting_summary(session, policy, NOW) == []
        published(session, "earlier", NOW - timedelta(minutes=10))
        waiting = queued(session, "a", not_before=NOW - timedelta(minutes=1))[0]
        queued(session, "b", "x", not_before=NOW + timedelta(hours=2))
        queued(session, "c", "tiktok", not_before=NOW, produced=False)
        busy = queued(session, "d", "facebook", not_before=NOW)[0]
        busy.state = "publishing"
        lines = waiting_summary(session, policy, NOW)
    assert lines == [
        f"facebook/main: publishing queued post {busy.id}",
        "tiktok/main: posts due, waiting for their video or an earlier part",
        "x/main: next post not before 2026-06-10 14:00:00 UTC",
        f"youtube/main: queued post {waiting.id} goes out at 2026-06-10 12:20:00 UTC "
        "(spacing gap since the last post)",
    ]
