"""One rate budget per platform, kept in the app database and shared by every run and process.

Each platform's documented limits are data here (`BUCKETS`: a bucket's window, limit and scope; `COSTS`:
what one call of a kind spends in which buckets), from `shared/reference/platform_protocols.md`:

- YouTube: 10,000 quota units a day per project, reset at midnight Pacific; `reports.query` (Analytics) and
  `videos.list` cost 1 unit each; `videos.insert` and `search.list` have their own 100-a-day buckets.
- X: per endpoint, 15-minute windows per user (and per app), told back in `x-rate-limit-*` headers.
- TikTok: per-minute limits per token (`video/init` 6, `creator_info` 20, `status/fetch` 30) and 600 a minute
  per app for the Display API, a sliding window: those buckets are paced evenly, never bursted.
- Instagram and Facebook (Meta): 200 calls an hour per user (platform rate limit) and the business use case
  limits, whose absolute sizes are not published: the `X-App-Usage` / `X-Business-Use-Case-Usage`
  percentages tighten them, and `estimated_time_to_regain_access` blocks them.
- LinkedIn: daily application and member limits, reset at 00:00 UTC, not published (the Developer Portal
  shows them): the numbers below are deliberately low.

`reserve` takes capacity before a call and says how long to wait first; `observe` reads what the platform
answered (headers, a 429) and tightens the budget; `eta` says how long more calls will take at this pace.
Each runs in one locked transaction, so processes sharing the database never overspend together.
Pure: plain Python and SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import locked_transaction
from resources.database.models import RateBudget, as_utc

Window = Literal["day_pacific", "day_utc", "fixed", "sliding"]
Scope = Literal["app", "user"]
APP = "*"  # the account of an app-wide bucket (a project's quota, an app's window)
ANY = "*"  # the bucket of a wait that holds every bucket of an account (a 429 without a bucket)
PACIFIC = ZoneInfo("America/Los_Angeles")
MINUTE, QUARTER, HOUR, DAY = 60.0, 900.0, 3600.0, 86400.0


class BudgetError(ValueError):
    """An unknown bucket or call kind, or a call that costs more than its bucket ever holds."""


@dataclass(frozen=True)
class Bucket:
    """A documented limit: `limit` units per window, for each user or for the whole app."""

    name: str
    limit: float
    window: Window
    window_s: float
    scope: Scope = "user"


def _bucket(name: str, limit: float, window: Window, window_s: float = DAY, scope: Scope = "user") -> Bucket:
    return Bucket(name, limit, window, window_s, scope)


BUCKETS: dict[str, dict[str, Bucket]] = {
    "youtube": {
        b.name: b
        for b in (
            _bucket("units", 10_000, "day_pacific", scope="app"),
            _bucket("videos.insert", 100, "day_pacific", scope="app"),
            _bucket("search.list", 100, "day_pacific", scope="app"),
        )
    },
    "x": {
        b.name: b
        for b in (
            _bucket("POST /2/tweets", 100, "fixed", QUARTER),
            _bucket("POST /2/tweets app", 10_000, "fixed", DAY, "app"),
            _bucket("GET /2/tweets", 5_000, "fixed", QUARTER),
            _bucket("GET /2/tweets app", 3_500, "fixed", QUARTER, "app"),
            _bucket("GET /2/tweets/:id", 900, "fixed", QUARTER),
            _bucket("GET /2/tweets/:id app", 450, "fixed", QUARTER, "app"),
            _bucket("GET /2/tweets/analytics", 300, "fixed", QUARTER),
            _bucket("GET /2/tweets/analytics app", 300, "fixed", QUARTER, "app"),
            _bucket("POST /2/media/upload/*", 1_875, "fixed", QUARTER),
            _bucket("GET /2/media/upload", 1_000, "fixed", QUARTER),
        )
    },
    "tiktok": {
        b.name: b
        for b in (
            _bucket("video/init", 6, "sliding", MINUTE),
            _bucket("creator_info", 20, "sliding", MINUTE),
            _bucket("status/fetch", 30, "sliding", MINUTE),
            _bucket("video/query", 600, "sliding", MINUTE, "app"),
            _bucket("video/list", 600, "sliding", MINUTE, "app"),
            _bucket("user/info", 600, "sliding", MINUTE, "app"),
        )
    },
    "instagram": {
        b.name: b for b in (_bucket("app", 200, "fixed", HOUR), _bucket("business", 4_800, "fixed", DAY))
    },
    "facebook": {
        b.name: b for b in (_bucket("app", 200, "fixed", HOUR), _bucket("business", 4_800, "fixed", DAY))
    },
    "linkedin": {
        b.name: b
        for b in (_bucket("application", 10_000, "day_utc", scope="app"), _bucket("member", 500, "day_utc"))
    },
}

# What one call of a kind spends: {platform: {call kind: {bucket: units}}}.
COSTS: dict[str, dict[str, dict[str, float]]] = {
    "youtube": {
        "reports.query": {"units": 1},
        "videos.list": {"units": 1},
        "channels.list": {"units": 1},
        "videos.update": {"units": 50},
        "thumbnails.set": {"units": 50},
        "videos.insert": {"videos.insert": 1},
        "search.list": {"search.list": 1},
    },
    "x": {
        "tweets.lookup": {"GET /2/tweets": 1, "GET /2/tweets app": 1},
        "tweet.get": {"GET /2/tweets/:id": 1, "GET /2/tweets/:id app": 1},
        "tweets.analytics": {"GET /2/tweets/analytics": 1, "GET /2/tweets/analytics app": 1},
        "tweet.create": {"POST /2/tweets": 1, "POST /2/tweets app": 1},
        "media.upload": {"POST /2/media/upload/*": 1},
        "media.status": {"GET /2/media/upload": 1},
    },
    "tiktok": {
        "video.init": {"video/init": 1},
        "creator_info": {"creator_info": 1},
        "status.fetch": {"status/fetch": 1},
        "video.query": {"video/query": 1},
        "video.list": {"video/list": 1},
        "user.info": {"user/info": 1},
    },
    "instagram": {"insights": {"app": 1, "business": 1}, "graph": {"app": 1, "business": 1}},
    "facebook": {"insights": {"app": 1, "business": 1}, "graph": {"app": 1, "business": 1}},
    "linkedin": {
        "share_statistics": {"application": 1, "member": 1},
        "post_analytics": {"application": 1, "member": 1},
        "rest": {"application": 1, "member": 1},
    },
}

# Which bucket each of Meta's usage headers reports on.
META_USAGE = {"x-app-usage": "app", "x-business-use-case-usage": "business", "x-page-usage": "business"}
RATE_HEADERS = (
    "retry-after",
    "x-rate-limit-",
    "x-app-limit-",
    "x-user-limit-",
    "x-app-usage",
    "x-business-use-case",
)


def bucket(platform: str, name: str) -> Bucket:
    """The documented bucket `name` of `platform`, or a BudgetError naming the known ones."""
    try:
        return BUCKETS[platform][name]
    except KeyError:
        known = ", ".join(BUCKETS.get(platform, {})) or "none"
        raise BudgetError(f"no rate bucket {name!r} for {platform!r} (known: {known})") from None


def call_cost(platform: str, call: str) -> dict[str, float]:
    """The units one `call` spends, per bucket."""
    try:
        return COSTS[platform][call]
    except KeyError:
        known = ", ".join(COSTS.get(platform, {})) or "none"
        raise BudgetError(f"no call kind {call!r} for {platform!r} (known: {known})") from None


# -- the arithmetic, on plain values ---------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A bucket's row as plain values (times in epoch seconds)."""

    window_start: float
    window_s: float
    capacity: float
    used: float
    blocked_until: float | None


def window_bounds(spec: Bucket, moment: float) -> tuple[float, float]:
    """The calendar window holding `moment` (daily buckets), or one that begins at `moment`."""
    if spec.window in ("day_pacific", "day_utc"):
        zone = PACIFIC if spec.window == "day_pacific" else UTC
        local = datetime.fromtimestamp(moment, zone)
        day = datetime(local.year, local.month, local.day, tzinfo=zone)
        return day.timestamp(), (day + timedelta(days=1)).timestamp()  # wall-clock midnights (DST: 23/25 h)
    return moment, moment + spec.window_s


def window_end(spec: Bucket, start: float, window_s: float) -> float:
    if spec.window in ("day_pacific", "day_utc"):
        return window_bounds(spec, start)[1]
    return start + window_s


def schedule(
    spec: Bucket, state: State, now: float, calls: int = 1, cost: float = 1.0
) -> tuple[State, float]:
    """The state after `calls` more calls of `cost` units each, and the wait before the last of them."""
    if cost > state.capacity:
        raise BudgetError(f"a call of {cost:g} units never fits {spec.name!r} ({state.capacity:g} a window)")
    if calls <= 0:
        return state, 0.0
    earliest = max(now, state.blocked_until or now)
    if spec.window == "sliding":
        # a sliding window is paced: one unit every window_s / capacity, so no window ever holds more
        interval = state.window_s / state.capacity * cost
        first = max(state.window_start, earliest)
        last = first + (calls - 1) * interval
        return replace(state, window_start=last + interval), max(0.0, last - now)
    start, used = state.window_start, state.used
    if earliest >= window_end(spec, start, state.window_s):
        start, _end = window_bounds(spec, earliest)
        used = 0.0
    left = calls
    while True:
        fits = math.floor((state.capacity - used) / cost + 1e-9)
        if fits >= left:
            used += left * cost
            break
        left -= max(fits, 0)
        start, used = window_end(spec, start, state.window_s), 0.0
    go = max(earliest, start)
    return replace(state, window_start=start, used=used), max(0.0, go - now)


# -- the shared rows --------------------------------------------------------------------------------------


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else as_utc(moment).timestamp()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _now(now: datetime | float | None) -> float:
    if now is None:
        return datetime.now(UTC).timestamp()
    return float(now) if isinstance(now, int | float) else as_utc(now).timestamp()


def _account(spec: Bucket, account: str) -> str:
    return APP if spec.scope == "app" else account


def _lock(platform: str) -> str:
    """One lock per platform: an account's rows, its app's rows and its `ANY` row change together."""
    return f"rate-budget:{platform}"


def _row(session: Session, platform: str, account: str, name: str, now: float) -> RateBudget:
    row = session.scalars(
        select(RateBudget).where(
            RateBudget.platform == platform, RateBudget.account == account, RateBudget.bucket == name
        )
    ).one_or_none()
    if row is None:
        spec = BUCKETS.get(platform, {}).get(name)
        start = window_bounds(spec, now)[0] if spec is not None else now
        row = RateBudget(
            platform=platform,
            account=account,
            bucket=name,
            window_start=_moment(start),
            window_s=spec.window_s if spec is not None else 0.0,
            capacity=spec.limit if spec is not None else 0.0,
            used=0.0,
            throttled=0,
            last_headers={},
        )
        session.add(row)
        session.flush()
    return row


def _state(row: RateBudget, also_blocked: float | None) -> State:
    blocked = [t for t in (_epoch(row.blocked_until), also_blocked) if t is not None]
    return State(
        window_start=_epoch(row.window_start) or 0.0,
        window_s=row.window_s,
        capacity=row.capacity,
        used=row.used,
        blocked_until=max(blocked) if blocked else None,
    )


def _account_block(session: Session, platform: str, account: str) -> float | None:
    """The wait a 429 without a bucket put on every bucket of the account (and of the app)."""
    rows = session.scalars(
        select(RateBudget.blocked_until).where(
            RateBudget.platform == platform, RateBudget.account.in_({account, APP}), RateBudget.bucket == ANY
        )
    ).all()
    times = [t for t in (_epoch(r) for r in rows) if t is not None]
    return max(times) if times else None


def reserve(
    factory: sessionmaker[Session],
    platform: str,
    account: str,
    bucket_name: str,
    cost: float = 1.0,
    now: datetime | float | None = None,
) -> float:
    """Take `cost` units of the bucket for one call; the seconds to wait before making it.

    The capacity is taken now, in one locked transaction, so concurrent processes queue behind each other
    instead of overspending; a call that must wait has its place kept (sleep, then call)."""
    spec = bucket(platform, bucket_name)
    owner = _account(spec, account)
    moment = _now(now)
    with locked_transaction(factory, _lock(platform)) as session:
        row = _row(session, platform, owner, spec.name, moment)
        blocked = _account_block(session, platform, account)
        state, wait = schedule(spec, _state(row, blocked), moment, 1, cost)
        row.window_start = _moment(state.window_start)
        row.used = state.used
        row.updated_at = _moment(moment)
        return wait


def reserve_call(
    factory: sessionmaker[Session],
    platform: str,
    account: str,
    call: str,
    now: datetime | float | None = None,
) -> float:
    """`reserve` in every bucket one `call` spends; the longest of the waits."""
    return max(
        reserve(factory, platform, account, name, cost, now)
        for name, cost in call_cost(platform, call).items()
    )


def eta(
    factory: sessionmaker[Session],
    platform: str,
    account: str,
    bucket_name: str,
    calls: int,
    now: datetime | float | None = None,
    cost: float = 1.0,
) -> float:
    """Seconds until the last of `calls` more calls may go at this bucket's pace (nothing is reserved)."""
    spec = bucket(platform, bucket_name)
    owner = _account(spec, account)
    moment = _now(now)
    with locked_transaction(factory, _lock(platform)) as session:
        row = session.scalars(
            select(RateBudget).where(
                RateBudget.platform == platform, RateBudget.account == owner, RateBudget.bucket == spec.name
            )
        ).one_or_none()
        blocked = _account_block(session, platform, account)
        if row is None:
            start = window_bounds(spec, moment)[0]
            state = State(start, spec.window_s, spec.limit, 0.0, blocked)
        else:
            state = _state(row, blocked)
    return schedule(spec, state, moment, calls, cost)[1]


def _seconds_from_retry_after(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _meta_usage(raw: str) -> tuple[float, float] | None:
    """(the highest percentage used, the longest estimated_time_to_regain_access in minutes)."""
    try:
        usage: Any = json.loads(raw)
    except json.JSONDecodeError:
        return None
    entries: list[Any] = []
    if isinstance(usage, dict) and not any(k in usage for k in ("call_count", "total_time", "total_cputime")):
        for value in usage.values():
            entries.extend(value if isinstance(value, list) else [value])
    else:
        entries.append(usage)
    percent, regain = 0.0, 0.0
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in ("call_count", "total_time", "total_cputime", "acc_id_util_pct"):
            try:
                percent = max(percent, float(entry.get(key) or 0))
            except (TypeError, ValueError):
                continue
        with contextlib.suppress(TypeError, ValueError):
            regain = max(regain, float(entry.get("estimated_time_to_regain_access") or 0))
    return percent, regain


def _block(row: RateBudget, until: float) -> None:
    current = _epoch(row.blocked_until)
    if current is None or until > current:
        row.blocked_until = _moment(until)


def _roll(spec: Bucket | None, row: RateBudget, now: float) -> None:
    """Start the current window when the stored one has ended (so usage read now lands in it)."""
    if spec is None or spec.window == "sliding":
        return
    start = _epoch(row.window_start) or 0.0
    if now >= window_end(spec, start, row.window_s):
        row.window_start = _moment(window_bounds(spec, now)[0])
        row.used = 0.0


def _default_429_wait(platform: str, spec: Bucket | None, row: RateBudget, now: float) -> float:
    """How long a 429 that says nothing blocks: the bucket's window; LinkedIn's day; else a minute."""
    if spec is not None:
        if spec.window == "sliding":
            return now + spec.window_s
        return window_end(spec, _epoch(row.window_start) or now, row.window_s)
    if platform == "linkedin":
        return window_bounds(BUCKETS["linkedin"]["member"], now)[1]
    return now + MINUTE


def observe(
    factory: sessionmaker[Session],
    platform: str,
    account: str,
    headers: Mapping[str, str],
    now: datetime | float | None = None,
    *,
    bucket_name: str | None = None,
    status: int | None = None,
) -> float:
    """Tighten the budget from what the platform answered; the seconds it asks us to wait (0: none).

    - `x-rate-limit-limit/remaining/reset` (X, for `bucket_name`): the window ends at the reset, the
      limit and the units left are the platform's; none left blocks until the reset.
    - Meta's `X-App-Usage` / `X-Business-Use-Case-Usage` / `X-Page-Usage`: the percentage used becomes the
      share of the bucket spent; `estimated_time_to_regain_access` blocks for that many minutes.
    - `Retry-After` blocks for that long; a 429 (`status`) is counted, and without any hint blocks for the
      bucket's window (`bucket_name`), or every bucket of the account for LinkedIn's day or a minute.
    """
    moment = _now(now)
    lowered = {k.lower(): v for k, v in headers.items()}
    seen = {k: v for k, v in lowered.items() if k.startswith(RATE_HEADERS)}
    spec = bucket(platform, bucket_name) if bucket_name is not None else None
    owner = _account(spec, account) if spec is not None else account
    waits: list[float] = []
    with locked_transaction(factory, _lock(platform)) as session:
        row = _row(session, platform, owner, spec.name if spec else ANY, moment)
        _roll(spec, row, moment)
        if seen:
            row.last_headers = seen
        if spec is not None and "x-rate-limit-reset" in lowered:
            _observe_x(spec, row, lowered, moment, waits)
        # Meta states its wait in one header (estimated_time_to_regain_access) for every bucket it throttles
        regain = max([0.0, *((_meta_usage(lowered[h]) or (0.0, 0.0))[1] for h in META_USAGE if h in lowered)])
        for header, name in META_USAGE.items():
            if header in lowered and name in BUCKETS.get(platform, {}):
                _observe_meta(
                    session,
                    platform,
                    account,
                    BUCKETS[platform][name],
                    lowered[header],
                    moment,
                    waits,
                    regain,
                )
        hint = lowered.get("retry-after")
        if hint is not None:
            seconds = _seconds_from_retry_after(hint, moment)
            if seconds is not None:
                _block(row, moment + seconds)
                waits.append(seconds)
        if status == 429:
            row.throttled += 1
            if not waits:
                until = _default_429_wait(platform, spec, row, moment)
                _block(row, until)
                waits.append(until - moment)
        row.updated_at = _moment(moment)
    return max([0.0, *waits])


def _observe_x(
    spec: Bucket, row: RateBudget, headers: Mapping[str, str], now: float, waits: list[float]
) -> None:
    try:
        reset = float(headers["x-rate-limit-reset"])
        limit = float(headers.get("x-rate-limit-limit", row.capacity))
        remaining = float(headers.get("x-rate-limit-remaining", limit))
    except ValueError:
        return
    row.capacity = min(row.capacity, limit) if limit > 0 else row.capacity
    spent = max(0.0, limit - remaining)
    if reset > now:
        # the platform's window is the truth: ours moves onto it, keeping what we reserved in it
        start = _epoch(row.window_start) or now
        overlaps = reset - row.window_s < window_end(spec, start, row.window_s) and start < reset
        row.window_start = _moment(reset - row.window_s)
        row.used = max(spent, row.used) if overlaps else spent
    if remaining <= 0:
        # X's own reset, even one already past (it is given in whole seconds), is the wait it asks for
        if reset > now:
            _block(row, reset)
        waits.append(max(0.0, reset - now))


def _observe_meta(
    session: Session,
    platform: str,
    account: str,
    spec: Bucket,
    raw: str,
    now: float,
    waits: list[float],
    stated_regain_minutes: float,
) -> None:
    """One usage header; a bucket at 100 % waits as long as Meta said in any header, else its window."""
    usage = _meta_usage(raw)
    if usage is None:
        return
    percent, own_regain = usage
    regain_minutes = own_regain or (stated_regain_minutes if percent >= 100 else 0.0)
    row = _row(session, platform, _account(spec, account), spec.name, now)
    _roll(spec, row, now)
    row.used = max(row.used, min(row.capacity, math.ceil(row.capacity * percent / 100.0)))
    if regain_minutes > 0:
        # Meta's windows roll: access comes back then, and the usage it reports from then on steers us
        regained = now + regain_minutes * 60.0
        _block(row, regained)
        row.window_start, row.used = _moment(regained), 0.0
        waits.append(regain_minutes * 60.0)
    elif percent >= 100:
        until = window_end(spec, _epoch(row.window_start) or now, row.window_s)
        _block(row, until)
        waits.append(until - now)


def exhaust(
    factory: sessionmaker[Session],
    platform: str,
    account: str,
    bucket_name: str,
    now: datetime | float | None = None,
) -> float:
    """The platform says the bucket is spent without a header to say until when (YouTube's 403
    `quotaExceeded`, which holds until midnight Pacific): nothing more until its window ends; the wait."""
    spec = bucket(platform, bucket_name)
    moment = _now(now)
    with locked_transaction(factory, _lock(platform)) as session:
        row = _row(session, platform, _account(spec, account), spec.name, moment)
        _roll(spec, row, moment)
        row.used = max(row.used, row.capacity)
        until = _default_429_wait(platform, spec, row, moment)
        _block(row, until)
        row.updated_at = _moment(moment)
        return until - moment


def throttled(factory: sessionmaker[Session], platform: str, account: str | None = None) -> int:
    """How many 429s the platform answered (for one account and the app's buckets, or all)."""
    query = select(func.coalesce(func.sum(RateBudget.throttled), 0)).where(RateBudget.platform == platform)
    if account is not None:
        query = query.where(RateBudget.account.in_({account, APP}))
    with factory() as session:
        return int(session.scalar(query) or 0)


def snapshot(
    factory: sessionmaker[Session], platform: str, account: str, bucket_name: str
) -> dict[str, Any] | None:
    """The bucket's row as a dict (for the CLI and tests); None before its first use."""
    spec = bucket(platform, bucket_name)
    with factory() as session:
        row = session.scalars(
            select(RateBudget).where(
                RateBudget.platform == platform,
                RateBudget.account == _account(spec, account),
                RateBudget.bucket == spec.name,
            )
        ).one_or_none()
        if row is None:
            return None
        return {
            "window_start": as_utc(row.window_start),
            "window_s": row.window_s,
            "capacity": row.capacity,
            "used": row.used,
            "blocked_until": as_utc(row.blocked_until),
            "throttled": row.throttled,
            "last_headers": dict(row.last_headers),
        }


class RateGate:
    """One account's way through its platform's budget: a client asks before each metered call (and
    sleeps as long as the budget says) and reports each answer's headers back. `waited_s` and `throttled`
    count what this gate saw, for progress reports."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        platform: str,
        account: str,
        sleep: Callable[[float], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.factory = factory
        self.platform = platform
        self.account = account
        self.sleep = sleep
        self.clock = clock
        self.waited_s = 0.0
        self.throttled = 0
        self.calls = 0

    def before(self, call: str) -> None:
        """Reserve the call's units in every bucket it spends, then wait for the slowest of them."""
        wait = reserve_call(self.factory, self.platform, self.account, call, self.clock())
        self.calls += 1
        if wait >= 0.001:  # below: the microseconds a window start loses in its datetime round trip
            self.waited_s += wait
            self.sleep(wait)

    def after(self, call: str, headers: Mapping[str, str], status: int) -> float:
        """Read the platform's rate headers (and a 429) into the budget; the seconds it asks to wait."""
        if status == 429:
            self.throttled += 1
        return observe(
            self.factory,
            self.platform,
            self.account,
            headers,
            self.clock(),
            bucket_name=next(iter(call_cost(self.platform, call))),
            status=status,
        )

    def spent(self, bucket_name: str) -> None:
        """The platform said a bucket is spent without saying until when (YouTube's quotaExceeded)."""
        exhaust(self.factory, self.platform, self.account, bucket_name, self.clock())

    def pace_s(self, call: str, calls: int) -> float:
        """How long `calls` more calls of this kind take at the budget's current pace."""
        return max(
            eta(self.factory, self.platform, self.account, name, calls, self.clock(), cost)
            for name, cost in call_cost(self.platform, call).items()
        )
