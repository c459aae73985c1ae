"""Collecting the days asked for from one platform client, by what the platform can tell about each.

Per post and asked day D (today is `now`'s UTC day):

- D before the post's first day (the platform's creation time, else the ledger's publication time), or
  after today: no row.
- A history platform (`client.history_window`) with D inside its window: the daily row is the day's
  measured values, provisional while D is inside the reporting delay.
- The snapshot day (today, or yesterday while a read is still within `LIFETIME_GRACE` of midnight): the
  lifetime totals as of now, kept in `lifetime` and standing in for each value the day has no measured
  figure for; provisional on a history platform still inside its delay, so the refill measures it.
- Any other day: unavailable, saying why (past the window; not reported yet; no history and no snapshot
  was taken that day; the platform no longer shows the post).

Requests go in batches of the platform's documented id limit (`POSTS_PER_CALL`), one history call over
the batch's whole range and one lifetime call, never one that cannot succeed (no ids, days outside the
window); `on_step` hears of each with the rate budget's pace for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.analytics.snapshot import RAW_LIFETIME, RAW_MEASURED, DaySnapshot, LivePost
from resources.database.metrics import known_created, live_posts, provisional_days, save_snapshots
from resources.platforms import platform_named
from resources.platforms.base import CORE_METRICS, HistoryWindow, MetricReading, PlatformClient
from resources.platforms.budget import BudgetError, RateGate
from resources.platforms.clients import CLIENT_CLASSES
from resources.platforms.errors import ErrorKind, PlatformError

LIFETIME_GRACE = timedelta(hours=6)  # a lifetime read just after midnight still counts for the day before
NOT_SHOWN = "the platform does not show this post (deleted, private or another account's)"

# Posts per request batch: the ids one lifetime call takes (YouTube videos.list 50, X GET /2/tweets 100,
# TikTok video/query 20; Meta's insights are per media), so batching here costs no extra request.
POSTS_PER_CALL = {"youtube": 50, "x": 100, "tiktok": 20, "instagram": 1, "facebook": 1, "linkedin": 20}
# The budget's call kinds of each platform's lifetime and history requests (budget.COSTS), for the pace.
LIFETIME_CALL = {
    "youtube": "videos.list",
    "x": "tweets.lookup",
    "tiktok": "video.query",
    "instagram": "insights",
    "facebook": "insights",
    "linkedin": "share_statistics",
}
DAILY_CALL = {"youtube": "reports.query", "x": "tweets.analytics", "linkedin": "share_statistics"}


@dataclass(frozen=True)
class CollectStep:
    """Progress after one request batch: batches `done` of `total`, and the budget's view of the rest."""

    done: int
    total: int
    eta_s: float
    waited_s: float
    throttled: int
    requests: int


@dataclass(frozen=True)
class CollectReport:
    """What one collection did: `snapshots` read, rows `written` or found `unchanged`, the requests made
    (metered ones with a budget, else client calls), 429s and waits, provisional days and unavailable
    values among the snapshots."""

    posts: int
    snapshots: int
    written: int
    unchanged: int
    requests: int
    throttled: int
    waited_s: float
    provisional: int
    unavailable: int


def final_day(platform_window: HistoryWindow | None, today: date) -> date:
    """The newest day whose figures are final: past the reporting delay on a history platform; today
    where a day's only figure is its snapshot."""
    if platform_window is None:
        return today
    return today - timedelta(days=platform_window.delay_days)


def refill_days(factory: sessionmaker[Session], platform: str, today: date) -> list[date]:
    """The days holding provisional rows of `platform` that are final by now: collect them again."""
    last = final_day(CLIENT_CLASSES[platform_named(platform)].history_window, today)
    return [day for day in provisional_days(factory, platform) if day <= last]


class _Meter:
    """The requests, 429s and waits so far, from the client's rate gate (or counted client calls)."""

    def __init__(self, client: PlatformClient) -> None:
        self.gate: RateGate | None = getattr(client, "gate", None)
        self.calls = 0
        self.start = self._now()

    def _now(self) -> tuple[int, int, float]:
        if self.gate is None:
            return (self.calls, 0, 0.0)
        return (self.gate.calls, self.gate.throttled, self.gate.waited_s)

    def spent(self) -> tuple[int, int, float]:
        """(requests, 429s, seconds waited) since the meter began."""
        now = self._now()
        return (now[0] - self.start[0], now[1] - self.start[1], now[2] - self.start[2])

    def pace_s(self, call: str | None, calls: int) -> float:
        if self.gate is None or call is None or calls <= 0:
            return 0.0
        try:
            return self.gate.pace_s(call, calls)
        except BudgetError:
            return 0.0


def _batches(posts: Sequence[LivePost], size: int) -> list[Sequence[LivePost]]:
    return [posts[start : start + size] for start in range(0, len(posts), size)]


def _first_day(post: LivePost, created: Mapping[str, datetime]) -> date | None:
    moment = created.get(post.post_id) or post.published_at
    return moment.astimezone(UTC).date() if moment is not None else None


def collect(
    client: PlatformClient,
    posts: Sequence[LivePost],
    days: Sequence[date],
    *,
    now: datetime,
    created: Mapping[str, datetime],
    on_step: Callable[[CollectStep], None] | None = None,
) -> list[DaySnapshot]:
    """A snapshot of every post on every asked day from its first day to today (see the module's rules),
    by post and day. `created`: the platform's creation time of the posts it is known for."""
    now = now.astimezone(UTC)
    today = now.date()
    window = client.history_window
    platform = client.platform
    snapshot_days = {today}
    if now < datetime.combine(today, time(), UTC) + LIFETIME_GRACE:
        snapshot_days.add(today - timedelta(days=1))
    oldest = today - timedelta(days=window.days) if window is not None and window.days is not None else None

    def in_window(day: date) -> bool:
        return window is not None and (oldest is None or day >= oldest)

    unique: dict[str, LivePost] = {}
    for post in posts:
        unique.setdefault(post.post_id, post)
    asked = sorted({day for day in days if day <= today})
    wanted: dict[str, list[date]] = {}
    for post in unique.values():
        first = _first_day(post, created)
        wanted[post.post_id] = [day for day in asked if first is None or day >= first]
    history_posts = [p for p in unique.values() if any(in_window(day) for day in wanted[p.post_id])]
    lifetime_posts = [p for p in unique.values() if snapshot_days & set(wanted[p.post_id])]

    size = POSTS_PER_CALL.get(platform, 20)
    history_batches = _batches(history_posts, size)
    lifetime_batches = _batches(lifetime_posts, size)
    total = len(history_batches) + len(lifetime_batches)
    meter = _Meter(client)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_step is None:
            return
        requests, throttled, waited = meter.spent()
        per_batch = requests / done if requests else 1.0
        history_left = max(0, len(history_batches) - done)
        lifetime_left = len(lifetime_batches) - max(0, done - len(history_batches))
        eta = meter.pace_s(DAILY_CALL.get(platform), round(history_left * per_batch)) + meter.pace_s(
            LIFETIME_CALL.get(platform), round(lifetime_left * per_batch)
        )
        on_step(CollectStep(done, total, eta, waited, throttled, requests))

    daily: dict[str, dict[date, MetricReading]] = {}
    history_refused: str | None = None
    for batch in history_batches:
        batch_days = [day for post in batch for day in wanted[post.post_id] if in_window(day)]
        try:
            meter.calls += 1
            daily.update(client.daily_metrics([p.post_id for p in batch], min(batch_days), max(batch_days)))
        except PlatformError as error:
            if error.kind is not ErrorKind.POLICY:
                raise
            history_refused = str(error)  # this account's access has no history: the days say why
        step()
    lifetime: dict[str, MetricReading] = {}
    for batch in lifetime_batches:
        meter.calls += 1
        lifetime.update(client.lifetime_metrics([p.post_id for p in batch]))
        step()

    not_shown = {post.post_id for post in lifetime_posts} - set(lifetime)
    snapshots: list[DaySnapshot] = []
    for post in unique.values():
        for day in wanted[post.post_id]:
            inside_delay = window is not None and (today - day).days < window.delay_days
            measured = daily.get(post.post_id, {}).get(day) if in_window(day) else None
            totals = lifetime.get(post.post_id) if day in snapshot_days else None
            if measured is not None:
                reading = _from_readings(measured, totals, provisional=inside_delay)
            elif totals is not None:
                reading = _from_readings(None, totals, provisional=inside_delay)
            else:
                if window is not None and not in_window(day):
                    reason, provisional = window.beyond, False
                elif history_refused is not None:
                    reason, provisional = history_refused, False
                elif post.post_id in not_shown and (day in snapshot_days or window is not None):
                    reason, provisional = NOT_SHOWN, False
                elif window is not None and inside_delay:
                    reason, provisional = (
                        f"not reported yet: {platform} reports days after a delay of "
                        f"{window.delay_days} days",
                        True,
                    )
                elif window is not None:
                    reason, provisional = f"{platform} reported no row for this day", False
                else:
                    reason, provisional = (
                        f"{client.no_history_reason}; no snapshot was taken on that day",
                        False,
                    )
                every = dict.fromkeys(CORE_METRICS, "unavailable")
                reading = _Day({}, every, dict.fromkeys(CORE_METRICS, reason), {}, {}, provisional, None)
            snapshots.append(
                DaySnapshot(
                    platform=platform,
                    account=post.account,
                    post_id=post.post_id,
                    day=day,
                    story_key=post.story_key,
                    part=post.part,
                    values=reading.values,
                    provenance=reading.provenance,
                    reasons=reading.reasons,
                    lifetime=reading.lifetime,
                    raw=reading.raw,
                    provisional=reading.provisional,
                    as_of=reading.as_of,
                    post_created_at=created.get(post.post_id),
                )
            )
    return snapshots


@dataclass(frozen=True)
class _Day:
    values: dict[str, float]
    provenance: dict[str, str]
    reasons: dict[str, str]
    lifetime: dict[str, float]
    raw: dict[str, Any]
    provisional: bool
    as_of: datetime | None


def _from_readings(
    measured: MetricReading | None, totals: MetricReading | None, *, provisional: bool
) -> _Day:
    """A day from its measured row and/or the lifetime totals read on it (one at least): each metric
    measured where the row has it, else the lifetime total, else unavailable with the reason (the row's
    first)."""
    values: dict[str, float] = {}
    provenance: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for metric in CORE_METRICS:
        if measured is not None and metric in measured.values:
            values[metric], provenance[metric] = measured.values[metric], "measured"
        elif totals is not None and metric in totals.values:
            values[metric], provenance[metric] = totals.values[metric], "lifetime"
        else:
            provenance[metric] = "unavailable"
            said = [r.unavailable[metric] for r in (measured, totals) if r is not None]
            reasons[metric] = said[0]
    raw: dict[str, Any] = {}
    if measured is not None:
        raw[RAW_MEASURED] = measured.raw
    if totals is not None:
        raw[RAW_LIFETIME] = totals.raw
    return _Day(
        values,
        provenance,
        reasons,
        dict(totals.values) if totals is not None else {},
        raw,
        provisional,
        totals.as_of if totals is not None else None,
    )


def collect_and_store(
    factory: sessionmaker[Session],
    client: PlatformClient,
    days: Sequence[date],
    *,
    now: datetime | None = None,
    post_ids: Sequence[str] | None = None,
    on_step: Callable[[CollectStep], None] | None = None,
) -> CollectReport:
    """Collect `days` for the live posts of the client's account (or only `post_ids`) and save them
    (merged into what is stored). A post's first day is the platform's creation time: stored with its
    rows once read, else asked of the platform, else the ledger's publication time."""
    moment = now if now is not None else datetime.now(UTC)
    posts = live_posts(factory, client.platform, client.account, post_ids)
    meter = _Meter(client)
    steps: list[CollectStep] = []

    def heard(step: CollectStep) -> None:
        steps.append(step)
        if on_step is not None:
            on_step(step)

    created: dict[str, datetime] = {}
    if posts and days:
        known = known_created(factory, client.platform, client.account)
        created = {post.post_id: known[post.post_id] for post in posts if post.post_id in known}
        unknown = [post.post_id for post in posts if post.post_id not in created]
        if unknown:
            meter.calls += 1
            created.update(client.created_times(unknown))
    found = collect(client, posts, days, now=moment, created=created, on_step=heard)
    saved = save_snapshots(factory, found)
    requests, throttled, waited = meter.spent()
    return CollectReport(
        posts=len(posts),
        snapshots=len(found),
        written=saved.written,
        unchanged=saved.unchanged,
        # without a gate the meter counts this function's own client calls, collect's steps the rest
        requests=requests + (steps[-1].requests if steps and meter.gate is None else 0),
        throttled=throttled,
        waited_s=waited,
        provisional=sum(snapshot.provisional for snapshot in found),
        unavailable=sum(snapshot.unavailable for snapshot in found),
    )
