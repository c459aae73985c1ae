"""One post's metrics on one day, and how a new reading of that day merges with the stored one.

Every core metric of a day carries its provenance: "measured" (a history API's row for that very day),
"lifetime" (the post's total as of the snapshot, `as_of`) or "unavailable" (with the reason); series.py adds
"derived" for deltas of consecutive lifetime totals, which are never stored. The merge keeps the best a
day ever had: a measured value is never replaced by an estimate or a later lifetime figure, so
re-collecting a day (a rerun, a backfill, the refill of a provisional day) can only make it better, and
merging the same reading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from resources.platforms.base import CORE_METRICS

Provenance = Literal["measured", "lifetime", "derived", "unavailable"]
UNAVAILABLE: Provenance = "unavailable"

# `DaySnapshot.raw` keeps the platform's own fields under the kind of reading they came from, so a day's
# measured row and its lifetime totals (the same names, different meanings) never overwrite each other.
RAW_MEASURED, RAW_LIFETIME = "measured", "lifetime"


@dataclass(frozen=True)
class LivePost:
    """A published ledger row: the post whose metrics are collected."""

    platform: str
    account: str
    post_id: str
    story_key: str | None
    part: int
    published_at: datetime | None
    url: str | None


@dataclass(frozen=True)
class DaySnapshot:
    """One post's metrics on one day (a `metric_snapshots` row).

    `values` holds the core metrics known for the day; `provenance` names every core metric's source and
    `reasons` says why each unavailable one is; `lifetime` keeps the lifetime totals read that day (also
    when measured values took the day's place) and `as_of` when they were read; `provisional`: the day is
    still inside the platform's reporting delay and is collected again once final."""

    platform: str
    account: str
    post_id: str
    day: date
    story_key: str | None
    part: int
    values: dict[str, float]
    provenance: dict[str, str]
    reasons: dict[str, str]
    lifetime: dict[str, float]
    raw: dict[str, Any]
    provisional: bool
    as_of: datetime | None
    post_created_at: datetime | None

    @property
    def key(self) -> tuple[str, str, str, date]:
        return (self.platform, self.account, self.post_id, self.day)

    def source(self, metric: str) -> str:
        return self.provenance.get(metric, UNAVAILABLE)

    @property
    def unavailable(self) -> int:
        """How many core metrics the day has no value for."""
        return sum(self.source(metric) == UNAVAILABLE for metric in CORE_METRICS)


def _later(first: datetime | None, second: datetime | None) -> bool:
    """`first` is a strictly later reading than `second` (a reading with a time beats one without)."""
    return first is not None and (second is None or first > second)


def _old_totals_stand(old: DaySnapshot, new: DaySnapshot) -> bool:
    """Whether the stored lifetime reading stands against the new one: it is the later reading, or the
    new one says nothing new (the same totals read again keep the time they were first read, so a rerun
    leaves the row as it was)."""
    if _later(old.as_of, new.as_of):
        return True
    return bool(old.lifetime) and (old.lifetime, old.raw.get(RAW_LIFETIME)) == (
        new.lifetime,
        new.raw.get(RAW_LIFETIME),
    )


def _keeps_old(old: DaySnapshot, new: DaySnapshot, metric: str) -> bool:
    """Whether the stored value of `metric` beats the new reading's."""
    before, after = old.source(metric), new.source(metric)
    if before == "measured":
        # only another measured value replaces it, and a provisional one never replaces a final one
        return after != "measured" or (not old.provisional and new.provisional)
    if before == "lifetime":
        if after == "measured":
            return False
        if after == UNAVAILABLE:
            return True
        return _old_totals_stand(old, new)  # two lifetime totals: the later reading wins
    return False  # unavailable gives way to anything, also to a newer reason


def merge(old: DaySnapshot | None, new: DaySnapshot) -> DaySnapshot:
    """The day as it stands after `new` is read over `old` (stored); see the module's rules.

    Idempotent: merge(x, x) == x and merge(merge(a, b), b) == merge(a, b)."""
    if old is None:
        return new
    if old.key != new.key:
        raise ValueError(f"cannot merge the snapshots of different post days: {old.key} and {new.key}")
    values: dict[str, float] = {}
    provenance: dict[str, str] = {}
    reasons: dict[str, str] = {}
    others = sorted((set(old.provenance) | set(new.provenance)) - set(CORE_METRICS))
    for metric in [*CORE_METRICS, *others]:
        chosen = old if _keeps_old(old, new, metric) else new
        provenance[metric] = chosen.source(metric)
        if metric in chosen.values:
            values[metric] = chosen.values[metric]
        if metric in chosen.reasons:
            reasons[metric] = chosen.reasons[metric]
    old_is_newer = _old_totals_stand(old, new)
    older, newer = (new, old) if old_is_newer else (old, new)
    raw = {**old.raw, **new.raw}
    if RAW_MEASURED in old.raw and (RAW_MEASURED not in new.raw or (not old.provisional and new.provisional)):
        raw[RAW_MEASURED] = old.raw[RAW_MEASURED]
    if RAW_LIFETIME in old.raw and (RAW_LIFETIME not in new.raw or old_is_newer):
        raw[RAW_LIFETIME] = old.raw[RAW_LIFETIME]
    return replace(
        new,
        story_key=new.story_key if new.story_key is not None else old.story_key,
        values=values,
        provenance=provenance,
        reasons=reasons,
        lifetime={**older.lifetime, **newer.lifetime},
        raw=raw,
        provisional=old.provisional and new.provisional,
        as_of=newer.as_of if newer.as_of is not None else older.as_of,
        post_created_at=new.post_created_at or old.post_created_at,
    )
