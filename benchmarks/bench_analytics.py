"""A year of analytics backfilled for 50 posts on each of the six platforms, against their sandboxes: wall
time, requests made against the minimum the platforms' documented APIs need, and 429s.

Issue 8's goal: a backfill of 365 days x 6 platforms x 50 posts never trips a rate limit (0 429s), paced by
the shared rate budget, with no request the platform's API did not need.

Setup (timed apart, not part of the backfill):
  - the six sandboxes start in this process (sandbox/platforms.py, processing answered at the first poll);
  - one real 4 s 720x1280 30 fps H.264 + AAC MP4 is made with ffmpeg, and N byte-distinct copies of it (a
    16-byte MP4 `free` box holding the post's number appended; YouTube refuses a video it already has);
  - N stories (source records), each published to every platform by the real client: check(), then
    publish() through a LedgerJournal on the app database, processing polled with no pause, then
    mark_published, so the ledger holds N published rows per platform, as `live_posts` reads them (the
    first platform's check() verifies each file whole; the others reuse that verdict);
  - every post is backdated days+10 in its sandbox, so the platform's own creation time, a post's first
    day, lies before the whole range;
  - the sandboxes' publishing caps are raised to N where lower (Facebook 30 Reels a day, Instagram 50
    posts a day, YouTube 100 inserts a day, X 100 posts per 15 min): a real account published these over a
    year. Last, each sandbox's request log and the Meta sandboxes' rolling usage (X-App-Usage: the share of
    200 calls made in the last hour) start afresh: publishing done a year ago is outside Meta's hour.

Backfill (timed): on the same SQLite app database, whose rate budget and metric tables are still empty,
one client per platform built with `budget=` that database and real sleeps (the budget paces, not the
benchmark), and `collect_and_store(factory, client, days)` for the last D days, today (UTC) included; the
platforms one after another, as `pellacia-dist analytics backfill --platform all` runs them. Per platform:
  - wall time of collect_and_store (the whole: the loop around all of them, clients built and closed);
  - requests as the client's rate gate counted them (CollectReport.requests) and as the sandbox received
    them (`server.observe`, by route; every request of this phase is an analytics request);
  - throttled answers as the sandbox sent them (HTTP 429; YouTube's 403 rateLimitExceeded/quotaExceeded;
    Meta's rate-limit codes 4, 17, 32, 613, 8000x) and as the budget counted them (`budget.throttled`);
  - the budget's waits (CollectReport.waited_s) and every sleep the client took (count, seconds);
  - rows written, and how many of them hold measured, lifetime or only unavailable values;
  - where the wall time goes: the sandbox's handlers (observe's seconds), the budget's own bookkeeping
    (the rate gate's before/after, its sleeps left out), collect's save_snapshots (wrapped in place), and
    the rest (the client's HTTP and parsing, collect building the rows).

The minimum is computed from the documented limits (docs/reference/platform_protocols.md, the same text
as shared/reference), not from what the client did: one history request per batch of ids the history
API takes (YouTube Analytics: one video per reports.query) over days inside its window, starting at the
post's creation where its totals are needed; the lifetime requests for today at the lifetime API's id
limit; creation-time lookups only where no request already made returns the creation time (YouTube's
videos.list part=snippet,statistics, X's GET /2/tweets tweet.fields=created_at and TikTok's video/query
fields=create_time return it with the lifetime counters). Where our count is higher the table says where.
Meta's field expansion or multi-id reads and LinkedIn's batch GET of posts are not in the reference and
are not assumed.

    python benchmarks/bench_analytics.py [--days 365] [--posts 50] [--platforms all]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast
from unittest import mock

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import pellacia_assets.analytics.collect as collect_module
from pellacia_assets.analytics.collect import CollectReport, collect_and_store
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerTarget, open_entry
from resources.database.metrics import live_posts, save_snapshots, snapshots
from resources.database.models import MetricSnapshot, RateBudget
from resources.database.stories import save_source
from resources.platforms import parse_platforms, platform_named
from resources.platforms.base import PlatformClient, VideoPost, sha256_of
from resources.platforms.budget import BUCKETS, throttled
from resources.platforms.budget import snapshot as budget_snapshot
from resources.platforms.clients import CLIENT_CLASSES
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import EnvironmentOnlyStore

if TYPE_CHECKING:
    from sandbox.common import Request, Response, SandboxServer
    from sandbox.platforms import SandboxSuite

# --- the documented limits the minimum is computed from (docs/reference/platform_protocols.md) ----------

YOUTUBE_IDS_PER_LIST = 50  # 2.9(a) videos.list?part=snippet,statistics&id=<<=50 ids> (1 unit)
X_IDS_PER_CALL = 100  # 6.8 GET /2/tweets?ids=<<=100>, GET /2/tweets/analytics?ids=<<=100>
X_HISTORY_DAYS = 30  # 6.8 "plan for <=30 days like non-public metrics"
TIKTOK_IDS_PER_QUERY = 20  # 3.5 video/query, <=20 ids
LINKEDIN_POSTS_PER_CALL = 20  # 7.5 shares=List(...): the reference states no number; the client's 20
LINKEDIN_HISTORY_DAYS = 365  # 7.5 "returns share data only within the past 12 months"
# Rate-limit answers that are not HTTP 429 (YouTube 2.7, Meta 4.6 / 5.5).
YOUTUBE_THROTTLE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded")
META_THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80100)})

P = ParamSpec("P")
R = TypeVar("R")

META_CALLS_AN_HOUR = 200  # Meta's platform rate limit per user, as the Meta sandboxes' headers report it
SETUP_AGE_MARGIN_DAYS = 10  # posts are backdated days + this, so the whole range is after their creation
STORY_PREFIX = "bench-analytics"


@dataclass(frozen=True)
class Needed:
    """The requests the documented API needs for one platform's backfill, by what they are for."""

    history: int
    lifetime: int
    created: int
    how: str

    @property
    def total(self) -> int:
        return self.history + self.lifetime + self.created


def minimum_requests(platform: str, posts: int, days: list[date], today: date) -> Needed:
    """The fewest requests `platform`'s documented API needs to backfill `days` of `posts` posts that are
    all older than the range (so every asked day is wanted)."""

    def batches(size: int) -> int:
        return math.ceil(posts / size)

    def inside(window_days: int) -> bool:
        return any((today - day).days < window_days for day in days)

    snapshot = today in days  # today's lifetime totals are read; a lookup that returns them can say more
    if platform == "youtube":
        lists = batches(YOUTUBE_IDS_PER_LIST)
        return Needed(
            posts,
            lists if snapshot else 0,
            0 if snapshot else lists,
            "one reports.query per video (day dimension, from its creation day: its shares and watch-time "
            "totals too); videos.list part=snippet,statistics per 50 ids (statistics and publishedAt)",
        )
    if platform == "x":
        lookups = batches(X_IDS_PER_CALL)
        return Needed(
            lookups if inside(X_HISTORY_DAYS) else 0,
            lookups if snapshot else 0,
            0 if snapshot else lookups,
            "GET /2/tweets/analytics per 100 ids (the last 30 days); GET /2/tweets per 100 ids "
            "(public_metrics and created_at)",
        )
    if platform == "tiktok":
        queries = batches(TIKTOK_IDS_PER_QUERY)
        return Needed(
            0,
            queries if snapshot else 0,
            0 if snapshot else queries,
            "no history; video/query per 20 ids (counters and create_time)",
        )
    if platform in ("instagram", "facebook"):
        edge = "/{media}/insights" if platform == "instagram" else "/{video}/video_insights"
        stamp = "timestamp" if platform == "instagram" else "created_time"
        return Needed(
            0,
            posts if snapshot else 0,
            posts,
            f"no history; {edge} per post (one object a call); GET /{{id}}?fields={stamp} per post",
        )
    if platform == "linkedin":
        calls = batches(LINKEDIN_POSTS_PER_CALL)
        return Needed(
            calls if inside(LINKEDIN_HISTORY_DAYS) else 0,
            calls if snapshot else 0,
            posts,
            "share statistics per 20 posts, by DAY (12 months) and lifetime; GET /rest/posts/{urn} per post",
        )
    raise ValueError(f"unknown platform {platform!r}")


# Why our requests exceed the minimum, where they do (checked against the sandbox's routes).
EXCESS_WHY = {
    "youtube": (
        "videos_list: created_times() lists the videos (part=snippet) before lifetime_metrics() lists them "
        "again (part=snippet,statistics: publishedAt is in that answer too); reports_query: "
        "lifetime_metrics() asks every video's lifetime shares/watch time in a second reports.query "
        "(youtube.py lifetime_metrics -> _report) after daily_metrics() asked its days"
    ),
    "x": (
        "tweets_lookup: created_times() asks GET /2/tweets (created_at) apart from lifetime_metrics()' "
        "GET /2/tweets, whose tweet.fields already include created_at"
    ),
    "tiktok": (
        "video_query: created_times() asks video/query (create_time) apart from lifetime_metrics()' "
        "video/query of the same ids; one query can carry both fields"
    ),
    "instagram": "",
    "facebook": "",
    "linkedin": "",
}


# --- the video ---------------------------------------------------------------------------------------------


def make_video(path: Path) -> Path:
    """4 s of 720x1280 30 fps H.264 + AAC, moov first: within every platform's checks."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=720x1280:r=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def variant(base: Path, target: Path, number: int) -> Path:
    """`base` with one 16-byte MP4 `free` box holding `number` appended: a valid MP4 with its own sha256."""
    target.write_bytes(base.read_bytes() + struct.pack(">I4sQ", 16, b"free", number))
    return target


# --- the sandboxes: caps, counts --------------------------------------------------------------------------


def raise_publishing_caps(suite: SandboxSuite, posts: int) -> list[str]:
    """Lift the sandboxes' caps on publishing to `posts` where they are lower; what was raised."""
    from sandbox.facebook import FacebookSandbox
    from sandbox.instagram import InstagramSandbox
    from sandbox.x import XSandbox
    from sandbox.youtube import YouTubeSandbox

    raised = []
    servers = suite.servers
    facebook = cast(FacebookSandbox, servers["facebook"])
    if facebook.reels_per_day < posts:
        raised.append(f"Facebook Reels a day {facebook.reels_per_day} -> {posts}")
        facebook.reels_per_day = posts
    instagram = cast(InstagramSandbox, servers["instagram"])
    if instagram.quota_total < posts:
        raised.append(f"Instagram posts a day {instagram.quota_total} -> {posts}")
        instagram.quota_total = posts
    youtube = cast(YouTubeSandbox, servers["youtube"])
    if youtube.insert_quota < posts:
        raised.append(f"YouTube inserts a day {youtube.insert_quota} -> {posts}")
        youtube.insert_quota = posts
    x = cast(XSandbox, servers["x"])
    if x.rate_limits["tweets_create"] < posts:
        raised.append(f"X posts per 15 min {x.rate_limits['tweets_create']} -> {posts}")
        x.rate_limits["tweets_create"] = posts
    return raised


def throttle_answer(platform: str, response: Response) -> bool:
    """Whether the sandbox's answer is the platform's rate limiting (429, or its own way of saying so)."""
    if response.status == 429:
        return True
    error = response.body.get("error") if isinstance(response.body, dict) else None
    if not isinstance(error, dict):
        return False
    if platform == "youtube":
        reasons = {str(item.get("reason")) for item in error.get("errors") or [] if isinstance(item, dict)}
        return bool(reasons & set(YOUTUBE_THROTTLE_REASONS))
    if platform in ("instagram", "facebook"):
        return error.get("code") in META_THROTTLE_CODES
    return False


class SandboxTally:
    """The requests one sandbox received while `active`, and its throttled answers, by route."""

    def __init__(self, platform: str, server: SandboxServer) -> None:
        self.platform = platform
        self.server = server
        self.active = False
        self.routes: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.handling_s = 0.0  # the sandbox's own time answering (its handlers, in this process)
        self._lock = threading.Lock()
        server.observe(self._seen)
        dispatch = server.dispatch

        def counted(request: Request) -> tuple[Response | None, Any]:
            response, fault = dispatch(request)
            if self.active and response is not None and throttle_answer(platform, response):
                with self._lock:
                    self.throttled[self._route(request)] += 1
            return response, fault

        server.dispatch = counted  # type: ignore[method-assign]

    def _route(self, request: Request) -> str:
        return self.server.route_name(request) or "unrouted"

    def _seen(self, request: Request, seconds: float) -> None:
        if self.active:
            with self._lock:
                self.routes[self._route(request)] += 1
                self.handling_s += seconds

    @property
    def requests(self) -> int:
        return sum(self.routes.values())


class Sleeper:
    """The client's sleep: really sleeps, and counts how often and how long."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        time.sleep(seconds)


class Stopwatch:
    """Seconds spent inside the functions it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[P, R]) -> Callable[P, R]:
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def timed_saves(watch: Stopwatch) -> AbstractContextManager[Any]:
    """Time collect's save_snapshots (the rows' merge and write): the name collect calls, wrapped."""
    return mock.patch.object(collect_module, "save_snapshots", watch.wrap(save_snapshots))


# --- setup: publish, record, backdate ----------------------------------------------------------------------


def client_for(platform: str, **options: Any) -> PlatformClient:
    settings = PlatformSettings.from_env(platform)
    client: PlatformClient = CLIENT_CLASSES[platform_named(platform)](
        settings, EnvironmentOnlyStore(), poll_interval_s=0.0, **options
    )
    return client


def publish_all(
    factory: sessionmaker[Session], platforms: list[str], videos: list[Path], suite: SandboxSuite, age: int
) -> dict[str, float]:
    """Publish every video on every platform through the real clients and the ledger; backdate each post
    `age` days. Seconds spent per platform (publishing and backdating)."""
    with transaction(factory) as session:
        for number in range(len(videos)):
            key = f"{STORY_PREFIX}-{number:03d}"
            save_source(
                session,
                SourceRecord(key, "benchmark", "bench_analytics", f"Backfill {number}", f"Post {number}."),
            )
    spent: dict[str, float] = {}
    for platform in platforms:
        started = time.perf_counter()
        client = client_for(platform)
        settings = PlatformSettings.from_env(platform)
        try:
            for number, video in enumerate(videos):
                post = VideoPost(
                    video,
                    f"Analytics backfill benchmark {number}",
                    f"Post {number} of {len(videos)}, published to be measured for a year. #bench",
                    ("#bench",),
                )
                target = LedgerTarget(
                    f"{STORY_PREFIX}-{number:03d}", 1, platform, settings.account, sha256_of(video)
                )
                journal = open_entry(factory, target)
                client.check(post)
                published = client.publish(post, journal)
                journal.mark_published(published.post_id, published.url)
                suite.servers[platform].backdate(published.post_id, age)
        finally:
            client.close()
        spent[platform] = time.perf_counter() - started
        print(f"  {platform}: {len(videos)} posts published in {spent[platform]:.1f} s", flush=True)
    return spent


# --- the backfill ------------------------------------------------------------------------------------------


@dataclass
class PlatformRun:
    platform: str
    wall_s: float
    report: CollectReport
    at_sandbox: Counter[str]
    sandbox_throttled: Counter[str]
    budget_throttled: int
    sleeps: int
    slept_s: float
    needed: Needed
    sandbox_s: float
    budget_s: float  # the budget's own bookkeeping (its locked transactions), its sleeps left out
    save_s: float
    bucket: str
    measured_rows: int = 0
    lifetime_rows: int = 0
    unavailable_rows: int = 0


def row_kinds(factory: sessionmaker[Session], platform: str) -> tuple[int, int, int]:
    """Rows with a measured value, rows with lifetime values only, rows with nothing but reasons."""
    measured = lifetime = empty = 0
    for row in snapshots(factory, platform=platform):
        kinds = set(row.provenance.values())
        if "measured" in kinds:
            measured += 1
        elif "lifetime" in kinds:
            lifetime += 1
        else:
            empty += 1
    return measured, lifetime, empty


def tightest_bucket(factory: sessionmaker[Session], platform: str, account: str) -> str:
    """The platform's budget bucket nearest its limit after the backfill, `name used/capacity`; a sliding
    bucket is paced evenly instead of counted, so it is named with its pace."""
    rows = []
    for spec in BUCKETS[platform].values():
        row = budget_snapshot(factory, platform, account, spec.name)
        if row is None or not row["capacity"]:
            continue
        if spec.window == "sliding":
            rows.append((-1.0, f"{spec.name} paced ({spec.limit:g} per {spec.window_s:g} s)"))
        else:
            rows.append(
                (row["used"] / row["capacity"], f"{spec.name} {row['used']:,.0f}/{row['capacity']:,.0f}")
            )
    return max(rows)[1] if rows else "-"


def backfill(
    factory: sessionmaker[Session],
    platforms: list[str],
    days: list[date],
    tallies: dict[str, SandboxTally],
    posts: int,
) -> tuple[list[PlatformRun], float]:
    """`collect_and_store` of `days` on each platform in turn, through the budget in `factory`; the runs
    and the whole wall time (clients built and closed included)."""
    runs = []
    started = time.perf_counter()
    for platform in platforms:
        sleeper, budget, saves = Sleeper(), Stopwatch(), Stopwatch()
        client = client_for(platform, sleep=sleeper, budget=factory)
        gate = getattr(client, "gate", None)
        if gate is not None:
            gate.before = budget.wrap(gate.before)
            gate.after = budget.wrap(gate.after)
        tally = tallies[platform]
        tally.active = True
        try:
            with timed_saves(saves):
                began = time.perf_counter()
                report = collect_and_store(factory, client, days)
                wall = time.perf_counter() - began
        finally:
            tally.active = False
            client.close()
        runs.append(
            PlatformRun(
                platform,
                wall,
                report,
                Counter(tally.routes),
                Counter(tally.throttled),
                throttled(factory, platform),
                sleeper.count,
                sleeper.seconds,
                minimum_requests(platform, posts, days, days[-1]),
                tally.handling_s,
                budget.seconds - report.waited_s,
                saves.seconds,
                tightest_bucket(factory, platform, client.account),
            )
        )
        routes = ", ".join(f"{route} {count}" for route, count in sorted(tally.routes.items()))
        print(
            f"  {platform}: {wall:.2f} s, {report.requests} requests ({routes}), "
            f"{report.throttled} 429s, waited {report.waited_s:.2f} s, {report.written} rows written",
            flush=True,
        )
    whole = time.perf_counter() - started
    for run in runs:
        run.measured_rows, run.lifetime_rows, run.unavailable_rows = row_kinds(factory, run.platform)
    return runs, whole


# --- the report --------------------------------------------------------------------------------------------


def print_tables(runs: list[PlatformRun], whole_s: float, posts: int, days: list[date]) -> None:
    print(
        "\n| platform | wall | requests (client / at sandbox) | minimum | over the minimum | 429s (sandbox / "
        "budget) | budget waits | fullest budget bucket after | rows written (measured / lifetime / "
        "unavailable) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        seen = sum(run.at_sandbox.values())
        over = run.report.requests - run.needed.total
        print(
            f"| {run.platform} | {run.wall_s:.2f} s | {run.report.requests} / {seen} | {run.needed.total} | "
            f"{over:+d} | {sum(run.sandbox_throttled.values())} / {run.budget_throttled} | "
            f"{run.report.waited_s:.2f} s ({run.sleeps} sleeps) | {run.bucket} | {run.report.written:,} "
            f"({run.measured_rows:,} / {run.lifetime_rows:,} / {run.unavailable_rows:,}) |"
        )
    requests = sum(run.report.requests for run in runs)
    seen = sum(sum(run.at_sandbox.values()) for run in runs)
    needed = sum(run.needed.total for run in runs)
    print(
        f"| **all {len(runs)}** | **{whole_s:.2f} s** | {requests} / {seen} | {needed} | "
        f"{requests - needed:+d} | "
        f"{sum(sum(r.sandbox_throttled.values()) for r in runs)} / {sum(r.budget_throttled for r in runs)} | "
        f"{sum(r.report.waited_s for r in runs):.2f} s | | {sum(r.report.written for r in runs):,} |"
    )
    print(
        "\n| platform | wall | sandbox answering | budget bookkeeping | budget sleeps | save_snapshots "
        "(rows merged, written) | the rest (client, collect) |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        rest = run.wall_s - run.sandbox_s - run.budget_s - run.report.waited_s - run.save_s
        print(
            f"| {run.platform} | {run.wall_s:.2f} s | {run.sandbox_s:.2f} s | {run.budget_s:.2f} s | "
            f"{run.report.waited_s:.2f} s | {run.save_s:.2f} s | {rest:.2f} s |"
        )
    print("\n| platform | at the sandbox, by route | minimum: history + lifetime + creation | how |")
    print("|---|---|---|---|")
    for run in runs:
        routes = ", ".join(f"{route} {count}" for route, count in sorted(run.at_sandbox.items()))
        need = run.needed
        parts = f"{need.history} + {need.lifetime} + {need.created} = {need.total}"
        print(f"| {run.platform} | {routes} | {parts} | {need.how} |")
    print()
    for run in runs:
        over = sum(run.at_sandbox.values()) - run.needed.total
        if over > 0:
            print(f"- {run.platform}: {over} over the minimum. {EXCESS_WHY[run.platform]}")
        if run.report.written != posts * len(days):
            print(f"- {run.platform}: {run.report.written} rows written, not {posts} x {len(days)}")


@contextmanager
def scratch_directory() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def empty_tables(factory: sessionmaker[Session]) -> tuple[int, int]:
    with transaction(factory) as session:
        budget_rows = session.scalar(select(func.count()).select_from(RateBudget)) or 0
        metric_rows = session.scalar(select(func.count()).select_from(MetricSnapshot)) or 0
    return int(budget_rows), int(metric_rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365, help="the last N days, today (UTC) included")
    parser.add_argument("--posts", type=int, default=50, help="posts per platform")
    parser.add_argument("--platforms", default="all", help="all, or a comma-separated list")
    args = parser.parse_args()
    platforms: list[str] = list(parse_platforms(args.platforms))
    if args.days < 1 or args.posts < 1:
        parser.error("--days and --posts must be at least 1")
    if shutil.which("ffmpeg") is None:
        raise SystemExit("this benchmark needs ffmpeg on PATH (apt-get install ffmpeg)")
    from sandbox.facebook import FacebookSandbox
    from sandbox.graph import RollingUsage
    from sandbox.instagram import InstagramSandbox
    from sandbox.platforms import platform_sandboxes

    if args.posts > META_CALLS_AN_HOUR // 2 and {"instagram", "facebook"} & set(platforms):
        print(
            f"note: {args.posts} posts make {2 * args.posts} Meta calls a platform, more than Meta's "
            f"{META_CALLS_AN_HOUR} an hour: the budget holds the rest for the next hour",
            flush=True,
        )

    print(
        f"{args.days} days x {len(platforms)} platforms x {args.posts} posts; {os.cpu_count()} CPUs, "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with scratch_directory() as scratch:
        setup_started = time.perf_counter()
        base = make_video(scratch / "base.mp4")
        videos = [variant(base, scratch / f"post-{n:03d}.mp4", n) for n in range(args.posts)]
        with platform_sandboxes(scratch / "sandboxes", processing_polls=0) as suite:
            os.environ.update(suite.env)
            for note in raise_publishing_caps(suite, args.posts):
                print(f"  sandbox cap raised: {note}")
            factory = open_database(f"sqlite:///{scratch / 'app.db'}")
            print("setup: publishing", flush=True)
            published = publish_all(factory, platforms, videos, suite, args.days + SETUP_AGE_MARGIN_DAYS)
            setup_s = time.perf_counter() - setup_started
            for platform in platforms:
                found = len(live_posts(factory, platform))
                if found != args.posts:
                    raise SystemExit(f"{platform}: the ledger holds {found} live posts, not {args.posts}")
            if empty_tables(factory) != (0, 0):
                raise SystemExit(f"the app database is not fresh for analytics: {empty_tables(factory)}")
            tallies = {}
            for platform in platforms:
                server = suite.servers[platform]
                server.requests.clear()
                if isinstance(server, InstagramSandbox | FacebookSandbox):
                    server.usage = RollingUsage()  # the publishing was a year ago: outside Meta's hour
                tallies[platform] = SandboxTally(platform, server)
            print(
                f"setup: {setup_s:.1f} s ({len(platforms) * args.posts} posts: "
                + ", ".join(f"{p} {s:.1f} s" for p, s in published.items())
                + f"); load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            today = datetime.now(UTC).date()
            days = [today - timedelta(days=back) for back in range(args.days - 1, -1, -1)]
            print(f"backfill {days[0]}..{days[-1]}", flush=True)
            runs, whole_s = backfill(factory, platforms, days, tallies, args.posts)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print_tables(runs, whole_s, args.posts, days)
        goal = sum(sum(r.sandbox_throttled.values()) + r.budget_throttled for r in runs)
        print(f"\n429s: {goal} (goal: 0) - {'met' if goal == 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
