"""The analytics rows on SQLite and PostgreSQL: saving merges into the stored day (a measured value stays),
saving the same again changes nothing, rows read back exactly as saved, and racing savers lose nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.analytics.snapshot import LivePost
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.metrics import (
    SaveReport,
    known_created,
    live_posts,
    provisional_days,
    save_snapshots,
    snapshots,
)
from resources.database.models import LedgerEntry, MetricSnapshot
from resources.database.stories import save_source
from tests.pellacia_assets.analytics.days import DAY, day_of
from tests.resources.database.concurrently import run_together

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
MORNING = datetime(2026, 3, 10, 8, tzinfo=UTC)
EVENING = datetime(2026, 3, 10, 22, tzinfo=UTC)


@pytest.fixture
def factory(database_url: str) -> sessionmaker[Session]:
    sessions = open_database(database_url)
    with transaction(sessions) as session:
        for key in ("s1", "s2"):
            save_source(session, SourceRecord(key=key, source_kind="t", source_ref="t", title="T", body="B"))
    return sessions


def ledger(
    session: Session, story: str, platform: str, post_id: str | None, *, state: str = "published",
    account: str = "main", part: int = 1, published: datetime | None = CREATED,
) -> None:  # fmt: skip
    session.add(
        LedgerEntry(
            story_key=story,
            part=part,
            platform=platform,
            account=account,
            video_sha256=f"{story}{part}{platform}{account}".ljust(64, "0"),
            state=state,
            post_id=post_id,
            url=f"https://example.test/{post_id}" if post_id else None,
            published_at=published,
        )
    )


def test_live_posts_are_the_published_rows_with_an_id(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        ledger(session, "s1", "x", "101", published=CREATED + timedelta(days=1))
        ledger(session, "s2", "x", "102")
        ledger(session, "s1", "x", "103", part=2, account="brand")
        ledger(session, "s2", "x", None, part=2, state="failed")
        ledger(session, "s1", "x", "104", part=3, state="uploading")
        ledger(session, "s1", "tiktok", "701")
    assert [post.post_id for post in live_posts(factory, "x")] == ["102", "103", "101"]  # oldest first
    assert live_posts(factory, "x", "main", ["101"]) == [
        LivePost("x", "main", "101", "s1", 1, CREATED + timedelta(days=1), "https://example.test/101")
    ]
    assert [post.post_id for post in live_posts(factory, "x", "brand")] == ["103"]
    assert live_posts(factory, "youtube") == []


def test_rows_read_back_exactly_as_saved(factory: sessionmaker[Session]) -> None:
    measured = day_of(
        measured={"views": 100, "likes": 7.5},
        totals={"views": 900, "likes": 70},
        as_of=EVENING,
        raw={"measured": {"impression_count": 150, "nested": {"a": [1, 2]}}, "lifetime": {"view_count": 900}},
        created=CREATED,
    )
    earlier = day_of(day=DAY - timedelta(days=1), lifetime={"views": 800}, provisional=True, created=CREATED)
    other = day_of(platform="tiktok", post_id="701", reason="TikTok's Display API reports no saves")
    assert save_snapshots(factory, [measured, earlier, other]) == SaveReport(written=3, unchanged=0)
    assert snapshots(factory, platform="x") == [earlier, measured]
    assert snapshots(factory, platform="x", first=DAY) == [measured]
    assert snapshots(factory, last=DAY - timedelta(days=1)) == [earlier]
    assert snapshots(factory, post_id="701") == [other]
    assert snapshots(factory)[0] == other  # by platform, account, post, day


def test_saving_the_same_days_again_changes_nothing(factory: sessionmaker[Session]) -> None:
    days = [
        day_of(day=DAY + timedelta(days=n), measured={"views": 10 + n}, created=CREATED) for n in range(5)
    ]
    assert save_snapshots(factory, days) == SaveReport(written=5, unchanged=0)
    with transaction(factory) as session:
        stamps = {row.day: row.collected_at for row in session.scalars(select(MetricSnapshot))}
    assert save_snapshots(factory, days) == SaveReport(written=0, unchanged=5)
    with transaction(factory) as session:
        assert {row.day: row.collected_at for row in session.scalars(select(MetricSnapshot))} == stamps
        assert session.scalar(select(func.count()).select_from(MetricSnapshot)) == 5
    assert snapshots(factory) == days


def test_a_measured_day_is_not_overwritten_by_a_later_snapshot(factory: sessionmaker[Session]) -> None:
    measured = day_of(measured={"views": 100, "likes": 7}, raw={"measured": {"views": 100}})
    save_snapshots(factory, [measured])
    later = day_of(lifetime={"views": 950, "likes": 71}, as_of=EVENING, raw={"lifetime": {"views": 950}})
    assert save_snapshots(factory, [later]) == SaveReport(written=1, unchanged=0)  # its totals are new
    (stored,) = snapshots(factory)
    assert stored.values == {"views": 100, "likes": 7}
    assert stored.provenance["views"] == "measured" and stored.provenance["likes"] == "measured"
    assert stored.lifetime == {"views": 950, "likes": 71}
    assert stored.raw == {"measured": {"views": 100}, "lifetime": {"views": 950}}
    assert save_snapshots(factory, [later, measured]) == SaveReport(written=0, unchanged=1)  # one row
    assert snapshots(factory) == [stored]


def test_two_readings_of_one_day_in_one_save_merge_in_order(factory: sessionmaker[Session]) -> None:
    morning = day_of(lifetime={"views": 900}, as_of=MORNING)
    evening = day_of(lifetime={"views": 950}, as_of=EVENING)
    assert save_snapshots(factory, [evening, morning]) == SaveReport(written=1, unchanged=0)
    (stored,) = snapshots(factory)
    assert stored.values == {"views": 950} and stored.as_of == EVENING


def test_known_creation_times_and_provisional_days(factory: sessionmaker[Session]) -> None:
    save_snapshots(
        factory,
        [
            day_of(day=DAY, post_id="101", measured={"views": 1}, provisional=True, created=CREATED),
            day_of(day=DAY - timedelta(days=1), post_id="101", measured={"views": 1}, created=CREATED),
            day_of(day=DAY - timedelta(days=3), post_id="102", provisional=True, created=None),
            day_of(day=DAY, post_id="102", provisional=True),
            day_of(day=DAY - timedelta(days=5), platform="tiktok", post_id="701", provisional=True),
            replace(day_of(post_id="103", created=CREATED), account="brand"),
        ],
    )
    assert known_created(factory, "x", "main") == {"101": CREATED}
    assert known_created(factory, "x", "brand") == {"103": CREATED}
    assert provisional_days(factory, "x") == [DAY - timedelta(days=3), DAY]
    assert provisional_days(factory, "tiktok") == [DAY - timedelta(days=5)]
    assert provisional_days(factory, "youtube") == []


def test_savers_racing_on_the_same_days_lose_no_measured_value(factory: sessionmaker[Session]) -> None:
    """Four processes save one month of one post at once, two with measured rows and two with lifetime
    snapshots: every day ends measured, with the latest snapshot's totals, and no save fails."""
    database_url = str(factory.kw["bind"].url.render_as_string(hide_password=False))
    setup = (
        "from datetime import UTC, date, datetime, timedelta\n"
        "from resources.database.engine import open_database\n"
        "from resources.database.metrics import save_snapshots\n"
        "from tests.pellacia_assets.analytics.days import day_of\n"
        "factory = open_database(sys.argv[1])\n"
        "hour = int(sys.argv[3])\n"
        "days = [date(2026, 3, 1) + timedelta(days=n) for n in range(30)]\n"
        "if sys.argv[2] == 'measured':\n"
        "    rows = [day_of(day=d, measured={'views': d.day}) for d in days]\n"
        "else:\n"
        "    moment = datetime(2026, 4, 1, hour, tzinfo=UTC)\n"
        "    rows = [day_of(day=d, lifetime={'views': 1000 + hour}, as_of=moment) for d in days]"
    )
    finished = run_together(
        setup,
        "print(save_snapshots(factory, rows))",
        [[database_url, kind, str(hour)] for kind, hour in [("measured", 0), ("lifetime", 5)] * 2],
    )
    assert [f.returncode for f in finished] == [0] * 4, [f.stderr[-2000:] for f in finished]
    stored = snapshots(factory)
    assert [row.day for row in stored] == [date(2026, 3, 1) + timedelta(days=n) for n in range(30)]
    assert all(row.values == {"views": row.day.day} for row in stored)
    assert all(row.provenance["views"] == "measured" and row.lifetime == {"views": 1005} for row in stored)
