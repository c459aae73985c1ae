"""The daily digest counts the tables: posts made, queued, failed and manual, "none" where none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from resources.alerts.digest import digest_text
from resources.database.engine import transaction
from resources.database.models import LedgerEntry, ManualQueueItem, QueuedPost, StoryRecord

NOW = datetime(2026, 12, 27, 14, 0, tzinfo=UTC)


def test_an_empty_factory_says_none_plainly(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        assert digest_text(session, NOW) == (
            "Pellacia daily digest, 2026-12-26 14:00 to 2026-12-27 14:00 UTC\n"
            "Posts made: none\n"
            "Queued now: none\n"
            "Failed in the last 24 h: none\n"
            "Manual queue, open: none"
        )


def test_a_day_of_work_counted_per_platform_lane_and_reason(factory: sessionmaker[Session]) -> None:
    hours = [timedelta(hours=h) for h in range(48)]
    with transaction(factory) as session:
        session.add_all([StoryRecord(key=f"s{n}", source_kind="file") for n in range(12)])
        session.flush()
        for n, (platform, state, ago) in enumerate(
            [
                ("youtube", "published", hours[1]),
                ("youtube", "published", hours[23]),
                ("tiktok", "published", hours[5]),
                ("tiktok", "published", hours[30]),  # yesterday's digest counted it
                ("x", "failed", hours[2]),
            ]
        ):
            session.add(
                LedgerEntry(
                    story_key=f"s{n}",
                    platform=platform,
                    account="default",
                    video_sha256=f"{n:064d}",
                    state=state,
                    published_at=NOW - ago if state == "published" else None,
                )
            )
        for n, (platform, lane, state, ago) in enumerate(
            [
                ("youtube", "breaking", "due", hours[0]),
                ("tiktok", "normal", "queued", hours[3]),
                ("x", "normal", "publishing", hours[0]),
                ("youtube", "normal", "published", hours[1]),
                ("linkedin", "backlog", "cancelled", hours[1]),
                ("x", "normal", "failed", hours[2]),
                ("youtube", "normal", "failed", hours[40]),
            ]
        ):
            session.add(
                QueuedPost(
                    story_key=f"s{n}",
                    platform=platform,
                    account="default",
                    lane=lane,
                    state=state,
                    updated_at=NOW - ago,
                )
            )
        session.add_all(
            [
                ManualQueueItem(reason="reauth", status="open"),
                ManualQueueItem(reason="reauth", status="open"),
                ManualQueueItem(reason="policy", status="open"),
                ManualQueueItem(reason="quarantined", status="resolved"),
            ]
        )
    with transaction(factory) as session:
        text = digest_text(session, NOW)
    assert text.splitlines()[1:] == [
        "Posts made: 3 (youtube 2, tiktok 1)",
        "Queued now: 3 (normal 2, breaking 1)",
        "Failed in the last 24 h: 1 (x 1); 1 earlier failed post(s) not retried yet",
        "Manual queue, open: 3 (reauth 2, policy 1)",
    ]


def test_now_in_another_zone_is_the_same_moment(factory: sessionmaker[Session]) -> None:
    new_york_winter = timezone(timedelta(hours=-5))
    with transaction(factory) as session:
        assert digest_text(session, NOW.astimezone(new_york_winter)) == digest_text(session, NOW)
