"""The analytics rows (`metric_snapshots`): one per (platform, account, post, day), kept forever.

Saving merges each new reading into the stored day (`pellacia_assets/analytics/snapshot.merge`) inside one
locked transaction, so concurrent runs collecting overlapping days never lose a measured value to an
estimate, and a day read again the same way is counted unchanged and left as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.analytics.snapshot import DaySnapshot, LivePost, merge
from resources.database.engine import locked_transaction, transaction
from resources.database.models import LedgerEntry, MetricSnapshot, as_utc

SAVE_LOCK = "metric-snapshots"
_IDS_PER_QUERY = 500  # post ids in one IN (...) list: well inside every backend's parameter limit


@dataclass(frozen=True)
class SaveReport:
    """How many rows (post days) a save inserted or changed, and how many were already as they would
    become; two readings of one day in a save are one row."""

    written: int
    unchanged: int


def live_posts(
    factory: sessionmaker[Session],
    platform: str,
    account: str | None = None,
    post_ids: Sequence[str] | None = None,
) -> list[LivePost]:
    """The published posts on `platform` (one account, some ids, or all) that the ledger knows the id of,
    oldest first."""
    statement = (
        select(LedgerEntry)
        .where(
            LedgerEntry.platform == platform,
            LedgerEntry.state == "published",
            LedgerEntry.post_id.is_not(None),
        )
        .order_by(LedgerEntry.published_at, LedgerEntry.id)
    )
    if account is not None:
        statement = statement.where(LedgerEntry.account == account)
    if post_ids is not None:
        statement = statement.where(LedgerEntry.post_id.in_(list(post_ids)))
    with transaction(factory) as session:
        return [
            LivePost(
                platform=entry.platform,
                account=entry.account,
                post_id=str(entry.post_id),
                story_key=entry.story_key,
                part=entry.part,
                published_at=as_utc(entry.published_at),
                url=entry.url,
            )
            for entry in session.scalars(statement)
        ]


def _snapshot(row: MetricSnapshot) -> DaySnapshot:
    return DaySnapshot(
        platform=row.platform,
        account=row.account,
        post_id=row.post_id,
        day=row.day,
        story_key=row.story_key,
        part=row.part,
        values=dict(row.metric_values or {}),
        provenance=dict(row.provenance or {}),
        reasons=dict(row.reasons or {}),
        lifetime=dict(row.lifetime or {}),
        raw=dict(row.raw or {}),
        provisional=bool(row.provisional),
        as_of=as_utc(row.as_of),
        post_created_at=as_utc(row.post_created_at),
    )


def _write(row: MetricSnapshot, snapshot: DaySnapshot, now: datetime) -> None:
    row.story_key = snapshot.story_key
    row.part = snapshot.part
    row.metric_values = dict(snapshot.values)
    row.provenance = dict(snapshot.provenance)
    row.reasons = dict(snapshot.reasons)
    row.lifetime = dict(snapshot.lifetime)
    row.raw = dict(snapshot.raw)
    row.provisional = snapshot.provisional
    row.as_of = snapshot.as_of
    row.post_created_at = snapshot.post_created_at
    row.collected_at = now


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored(
    session: Session, platform: str, account: str, group: Sequence[DaySnapshot]
) -> dict[tuple[str, date], MetricSnapshot]:
    """The stored rows of the post days in `group` (one platform account), by (post id, day)."""
    ids = sorted({snapshot.post_id for snapshot in group})
    first, last = min(s.day for s in group), max(s.day for s in group)
    found: dict[tuple[str, date], MetricSnapshot] = {}
    for chunk in _chunks(ids, _IDS_PER_QUERY):
        rows = session.scalars(
            select(MetricSnapshot).where(
                MetricSnapshot.platform == platform,
                MetricSnapshot.account == account,
                MetricSnapshot.post_id.in_(list(chunk)),
                MetricSnapshot.day >= first,
                MetricSnapshot.day <= last,
            )
        )
        found.update({(row.post_id, row.day): row for row in rows})
    return found


def save_snapshots(factory: sessionmaker[Session], snapshots: Sequence[DaySnapshot]) -> SaveReport:
    """Merge each snapshot into its stored day (snapshot.merge) and write the days that changed, all in
    one transaction. Two readings of the same day in `snapshots` merge in order."""
    groups: dict[tuple[str, str], list[DaySnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        groups[(snapshot.platform, snapshot.account)].append(snapshot)
    written = unchanged = 0
    now = datetime.now(UTC)
    with locked_transaction(factory, SAVE_LOCK) as session:
        for (platform, account), group in groups.items():
            stored = _stored(session, platform, account, group)
            before = {key: _snapshot(row) for key, row in stored.items()}
            after: dict[tuple[str, date], DaySnapshot] = dict(before)
            for snapshot in group:
                key = (snapshot.post_id, snapshot.day)
                after[key] = merge(after.get(key), snapshot)
            for key in dict.fromkeys((s.post_id, s.day) for s in group):
                snapshot = after[key]
                if before.get(key) == snapshot:
                    unchanged += 1
                    continue
                row = stored.get(key)
                if row is None:
                    row = MetricSnapshot(
                        platform=platform, account=account, post_id=snapshot.post_id, day=snapshot.day
                    )
                    session.add(row)
                _write(row, snapshot, now)
                written += 1
    return SaveReport(written=written, unchanged=unchanged)


def snapshots(
    factory: sessionmaker[Session],
    *,
    platform: str | None = None,
    post_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[DaySnapshot]:
    """The stored days, by platform, account, post and day; each filter narrows them."""
    statement = select(MetricSnapshot).order_by(
        MetricSnapshot.platform, MetricSnapshot.account, MetricSnapshot.post_id, MetricSnapshot.day
    )
    if platform is not None:
        statement = statement.where(MetricSnapshot.platform == platform)
    if post_id is not None:
        statement = statement.where(MetricSnapshot.post_id == post_id)
    if first is not None:
        statement = statement.where(MetricSnapshot.day >= first)
    if last is not None:
        statement = statement.where(MetricSnapshot.day <= last)
    with transaction(factory) as session:
        return [_snapshot(row) for row in session.scalars(statement)]


def known_created(factory: sessionmaker[Session], platform: str, account: str) -> dict[str, datetime]:
    """The platform's creation time of each post already stored, so collecting again asks for it no more."""
    statement = (
        select(MetricSnapshot.post_id, func.min(MetricSnapshot.post_created_at))
        .where(
            MetricSnapshot.platform == platform,
            MetricSnapshot.account == account,
            MetricSnapshot.post_created_at.is_not(None),
        )
        .group_by(MetricSnapshot.post_id)
    )
    with transaction(factory) as session:
        return {post_id: as_utc(created) for post_id, created in session.execute(statement)}


def provisional_days(factory: sessionmaker[Session], platform: str) -> list[date]:
    """The days of `platform` holding a provisional row (collected inside the reporting delay), oldest
    first."""
    statement = (
        select(MetricSnapshot.day)
        .where(MetricSnapshot.platform == platform, MetricSnapshot.provisional.is_(True))
        .distinct()
        .order_by(MetricSnapshot.day)
    )
    with transaction(factory) as session:
        return list(session.scalars(statement))
