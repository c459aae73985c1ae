"""Collecting days from the real clients against their sandboxes, stored in a real app database: history
days equal the sandbox's own numbers, every other day says what it is (lifetime, or unavailable and why),
a rerun changes nothing, a measured day survives a later snapshot, and provisional days are refilled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.analytics.collect import (
    LIFETIME_GRACE,
    NOT_SHOWN,
    CollectReport,
    CollectStep,
    collect,
    collect_and_store,
    final_day,
    refill_days,
)
from pellacia_assets.analytics.series import history
from pellacia_assets.analytics.snapshot import DaySnapshot
from resources.database.metrics import live_posts, snapshots
from resources.platforms.base import CORE_METRICS
from resources.platforms.tiktok import TikTokClient
from resources.platforms.x import XClient
from resources.platforms.youtube import YouTubeClient
from sandbox.common import daily_activity
from sandbox.tiktok import TikTokSandbox
from sandbox.x import XSandbox
from sandbox.youtube import YouTubeSandbox
from tests.pellacia_assets.analytics.conftest import (
    TIKTOK_NOW,
    live,
    tiktok_video,
    x_post,
    youtube_video,
)

DAY = dt.timedelta(days=1)


def days_from(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + n * DAY for n in range((last - first).days + 1)]


def snapshot_days(now: dt.datetime) -> set[dt.date]:
    """The days a lifetime read at `now` counts for (today, and yesterday just after midnight)."""
    midnight = dt.datetime.combine(now.date(), dt.time(), dt.UTC)
    return {now.date(), *([now.date() - DAY] if now < midnight + LIFETIME_GRACE else [])}


def by_day(rows: list[DaySnapshot]) -> dict[dt.date, DaySnapshot]:
    return {row.day: row for row in rows}


def x_measured(sandbox: XSandbox, post_id: str, day: dt.date) -> dict[str, float]:
    """The core of X's daily analytics row, from the sandbox's own numbers."""
    fields = sandbox.daily_analytics(post_id, day, day)[day]
    return {
        "views": fields["media_views"],
        "likes": fields["likes"],
        "comments": fields["replies"],
        "shares": fields["retweets"] + fields["quote_tweets"],
        "saves": fields["bookmarks"],
        "impressions": fields["impressions"],
    }


def x_lifetime(sandbox: XSandbox, post_id: str) -> dict[str, float]:
    counters = sandbox.public_metrics(post_id)
    return {
        "views": counters["view_count"],
        "likes": counters["like_count"],
        "comments": counters["reply_count"],
        "shares": counters["retweet_count"] + counters["quote_count"],
        "saves": counters["bookmark_count"],
        "impressions": counters["impression_count"],
    }


# --- a history platform: X, 30 days ---------------------------------------------------------------------


def test_a_30_day_range_on_x_matches_the_sandbox_and_older_days_say_why(
    factory: sessionmaker[Session], x_sandbox: XSandbox, x_client: XClient, now: dt.datetime
) -> None:
    post_id = x_post(x_sandbox, 1, age_days=45)
    live(factory, "x", post_id, published_at=now)  # the ledger learnt of it today: X's own time counts
    window = x_client.history_window
    assert window is not None and window.days is not None
    today = now.date()
    asked = days_from(today - 34 * DAY, today)
    steps: list[CollectStep] = []

    report = collect_and_store(factory, x_client, asked, now=now, on_step=steps.append)

    rows = by_day(snapshots(factory, platform="x"))
    assert list(rows) == asked
    oldest = today - window.days * DAY  # X serves 30 days: today and the 29 before it
    created = x_client.created_times([post_id])[post_id]
    for day, row in rows.items():
        assert set(row.provenance) == set(CORE_METRICS)
        assert row.post_created_at == created
        if day < oldest:
            assert row.values == {} and row.lifetime == {}
            assert row.reasons == dict.fromkeys(CORE_METRICS, window.beyond)
            assert row.provisional is False
            continue
        assert row.values == x_measured(x_sandbox, post_id, day), day
        assert {m for m, p in row.provenance.items() if p == "measured"} == set(row.values)
        assert set(row.reasons) == {"reach", "watch_time_s"}
        assert all(reason.startswith("X ") for reason in row.reasons.values())
        assert row.provisional is (day == today)  # inside X's one-day reporting delay
        assert row.raw["measured"] == x_sandbox.daily_analytics(post_id, day, day)[day]
        if day in snapshot_days(now):  # the lifetime totals of the snapshot, kept beside the measured day
            assert row.lifetime == x_lifetime(x_sandbox, post_id) and row.as_of is not None
        else:
            assert row.lifetime == {} and "lifetime" not in row.raw
    assert report == CollectReport(
        posts=1,
        snapshots=35,
        written=35,
        unchanged=0,
        requests=3,  # created_at (GET /2/tweets), the 30 days in one analytics call, today's counters
        throttled=0,
        waited_s=report.waited_s,  # (a fresh window's start may round a hair ahead)
        provisional=1,
        unavailable=5 * 8 + 30 * 2,
    )
    assert report.waited_s < 1
    assert [(step.done, step.total) for step in steps] == [(1, 2), (2, 2)]
    assert [step.requests for step in steps] == [1, 2]


@pytest.mark.parametrize("platform", ["x", "youtube", "tiktok"])
def test_re_running_the_days_changes_nothing(
    factory: sessionmaker[Session], request: pytest.FixtureRequest, platform: str, now: dt.datetime
) -> None:
    """Three posts (40, 6 and 0.2 days old) over 32 days: the same rows and values the second time."""
    if platform == "tiktok":
        sandbox, clip = request.getfixturevalue("tiktok_sandbox"), request.getfixturevalue("clip")
        now = TIKTOK_NOW
        posts = [tiktok_video(sandbox, clip, age) for age in (40, 6, 0.2)]
    elif platform == "youtube":
        sandbox = request.getfixturevalue("youtube_sandbox")
        posts = [youtube_video(sandbox, seed, age) for seed, age in [(1, 40), (2, 6), (3, 0.2)]]
    else:
        sandbox = request.getfixturevalue("x_sandbox")
        posts = [x_post(sandbox, seed, age) for seed, age in [(1, 40), (2, 6), (3, 0.2)]]
    client = request.getfixturevalue(f"{platform}_client")
    for part, post_id in enumerate(posts, 1):
        live(factory, platform, post_id, part=part)
    asked = days_from(now.date() - 31 * DAY, now.date())
    first = collect_and_store(factory, client, asked, now=now)
    stored = snapshots(factory)

    again = collect_and_store(factory, client, asked, now=now)

    assert (first.written, first.unchanged) == (first.snapshots, 0)
    assert (again.written, again.unchanged) == (0, first.snapshots)
    assert snapshots(factory) == stored
    assert again.requests == first.requests - 1  # the creation times are stored now: not asked again


def test_a_measured_day_is_not_overwritten_by_a_later_snapshot(
    factory: sessionmaker[Session], x_sandbox: XSandbox, x_client: XClient, now: dt.datetime
) -> None:
    post_id = x_post(x_sandbox, 1, age_days=3)
    live(factory, "x", post_id)
    yesterday = now.date() - DAY
    collect_and_store(factory, x_client, [yesterday], now=now)
    (measured,) = snapshots(factory)
    assert measured.values == x_measured(x_sandbox, post_id, yesterday) and not measured.provisional

    # just after midnight a snapshot still counts for yesterday; X refuses the history this time, so the
    # day's only new figures are the lifetime totals
    x_sandbox.fail_next("tweets_analytics", status=403)
    after_midnight = dt.datetime.combine(now.date(), dt.time(1), dt.UTC)
    report = collect_and_store(factory, x_client, [yesterday], now=after_midnight)

    (kept,) = snapshots(factory)
    # the totals were new (unless the first run, before 06:00, had already read them for yesterday)
    assert report.written == (0 if yesterday in snapshot_days(now) else 1)
    assert kept.values == measured.values
    assert {m: kept.provenance[m] for m in measured.values} == dict.fromkeys(measured.values, "measured")
    assert kept.lifetime == x_lifetime(x_sandbox, post_id)
    assert kept.raw["measured"] == measured.raw["measured"]
    assert kept.provisional is False


def test_a_history_refused_for_the_account_leaves_its_days_unavailable_with_the_reason(
    factory: sessionmaker[Session], x_sandbox: XSandbox, x_client: XClient, now: dt.datetime
) -> None:
    post_id = x_post(x_sandbox, 1, age_days=3)
    live(factory, "x", post_id)
    x_sandbox.fail_next("tweets_analytics", status=403)
    days = [now.date() - 3 * DAY, now.date()]

    created = x_client.created_times([post_id])
    rows = by_day(collect(x_client, live_posts(factory, "x"), days, now=now, created=created))

    (reason,) = set(rows[days[0]].reasons.values())
    assert "403" in reason and rows[days[0]].values == {}
    assert rows[days[1]].values == x_lifetime(x_sandbox, post_id)  # today falls back to the snapshot
    assert set(rows[days[1]].provenance.values()) == {"lifetime", "unavailable"}
    assert rows[days[1]].provisional is True  # a history platform's day inside the delay: refilled later


def test_provisional_days_are_refilled_once_final(
    factory: sessionmaker[Session], x_sandbox: XSandbox, x_client: XClient, now: dt.datetime
) -> None:
    post_id = x_post(x_sandbox, 1, age_days=3)
    live(factory, "x", post_id)
    yesterday = now.date() - DAY
    evening_before = dt.datetime.combine(yesterday, dt.time(20), dt.UTC)  # yesterday's daily run
    report = collect_and_store(factory, x_client, [yesterday], now=evening_before)
    (early,) = snapshots(factory)
    assert report.provisional == 1 and early.provisional is True
    assert early.values == x_measured(x_sandbox, post_id, yesterday)
    assert early.lifetime == x_lifetime(x_sandbox, post_id)
    assert refill_days(factory, "x", yesterday) == []  # still inside X's delay
    assert refill_days(factory, "x", now.date()) == [yesterday]

    refill = collect_and_store(factory, x_client, refill_days(factory, "x", now.date()), now=now)

    (final,) = snapshots(factory)
    assert refill.written == 1 and final.provisional is False
    assert final.values == early.values and final.lifetime == early.lifetime
    assert refill_days(factory, "x", now.date()) == []


# --- a history platform with a two-day delay: YouTube ---------------------------------------------------


def test_youtube_days_inside_the_delay_are_provisional_until_reported(
    factory: sessionmaker[Session],
    youtube_sandbox: YouTubeSandbox,
    youtube_client: YouTubeClient,
    now: dt.datetime,
) -> None:
    video_id = youtube_video(youtube_sandbox, 1, age_days=5)
    live(factory, "youtube", video_id)
    today = now.date()
    asked = days_from(today - 3 * DAY, today)

    collect_and_store(factory, youtube_client, asked, now=now)

    rows = by_day(snapshots(factory, platform="youtube"))
    for day in asked[:2]:  # reported: measured, final
        report = youtube_sandbox.daily_report(video_id, day)
        assert rows[day].values == {
            "views": report["views"],
            "likes": report["likes"],
            "comments": report["comments"],
            "shares": report["shares"],
            "watch_time_s": report["estimatedMinutesWatched"] * 60,
        }
        assert rows[day].provisional is False
    yesterday, today_row = rows[today - DAY], rows[today]
    assert today_row.provisional is True and today_row.provenance["views"] == "lifetime"
    assert today_row.values["views"] == youtube_sandbox.statistics(video_id)["viewCount"]
    assert yesterday.provisional is True
    if today - DAY not in snapshot_days(now):
        assert yesterday.values == {}
        assert set(yesterday.reasons.values()) == {
            "not reported yet: youtube reports days after a delay of 2 days"
        }
    assert refill_days(factory, "youtube", today) == []
    assert final_day(youtube_client.history_window, today + 2 * DAY) == today
    assert refill_days(factory, "youtube", today + 2 * DAY) == [today - DAY, today]

    # two days on, YouTube Analytics has reported both days: the refill measures them
    later = now + 2 * DAY
    youtube_sandbox.set_now(later)
    collect_and_store(factory, youtube_client, refill_days(factory, "youtube", later.date()), now=later)

    rows = by_day(snapshots(factory, platform="youtube"))
    for day in (today - DAY, today):
        assert rows[day].provisional is False
        assert rows[day].values["views"] == youtube_sandbox.daily_report(video_id, day)["views"]
        assert rows[day].provenance["views"] == "measured"
    assert rows[today].lifetime["views"] == today_row.lifetime["views"]  # the snapshot's totals are kept
    assert refill_days(factory, "youtube", later.date()) == []


# --- a lifetime-only platform: TikTok -------------------------------------------------------------------


def tiktok_lifetime(sandbox: TikTokSandbox, video_id: str) -> dict[str, float]:
    video = sandbox.video_object(video_id)
    return {
        "views": video["view_count"],
        "likes": video["like_count"],
        "comments": video["comment_count"],
        "shares": video["share_count"],
    }


def test_a_lifetime_only_platform_s_past_day_is_unavailable_and_today_is_lifetime(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    clip: Path,
) -> None:
    video_id = tiktok_video(tiktok_sandbox, clip, age_days=10)
    live(factory, "tiktok", video_id, published_at=TIKTOK_NOW)
    today = TIKTOK_NOW.date()
    steps: list[CollectStep] = []

    report = collect_and_store(
        factory, tiktok_client, days_from(today - 14 * DAY, today), now=TIKTOK_NOW, on_step=steps.append
    )

    rows = by_day(snapshots(factory, platform="tiktok"))
    assert list(rows) == days_from(today - 10 * DAY, today)  # from TikTok's own creation day on
    for day, row in rows.items():
        if day == today:
            assert row.values == tiktok_lifetime(tiktok_sandbox, video_id)
            assert row.lifetime == row.values and row.as_of is not None
            assert {p for m, p in row.provenance.items() if m in row.values} == {"lifetime"}
            assert set(row.reasons) == {"saves", "impressions", "reach", "watch_time_s"}
            assert all(reason.startswith("TikTok's Display API") for reason in row.reasons.values())
        else:
            assert row.values == {} and row.lifetime == {}
            assert row.reasons == dict.fromkeys(
                CORE_METRICS, f"{tiktok_client.no_history_reason}; no snapshot was taken on that day"
            )
        assert row.provisional is False
        assert row.story_key == "story-1"
    assert (report.snapshots, report.written, report.provisional) == (11, 11, 0)
    assert report.requests == 2  # create_time, then today's counters (video/query, 20 ids a call)
    assert [(step.done, step.total, step.requests) for step in steps] == [(1, 1, 1)]
    assert steps[0].eta_s == 0.0  # nothing left to ask


def test_just_after_midnight_the_snapshot_also_counts_for_the_day_before(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    clip: Path,
) -> None:
    video_id = tiktok_video(tiktok_sandbox, clip, age_days=4)
    live(factory, "tiktok", video_id)
    midnight = dt.datetime.combine(TIKTOK_NOW.date(), dt.time(), dt.UTC)
    early, late = midnight + dt.timedelta(hours=2), midnight + LIFETIME_GRACE
    tiktok_sandbox.set_now(early)
    yesterday = early.date() - DAY

    posts, created = live_posts(factory, "tiktok"), tiktok_client.created_times([video_id])

    early_rows = by_day(collect(tiktok_client, posts, [yesterday], now=early, created=created))
    late_rows = by_day(collect(tiktok_client, posts, [yesterday], now=late, created=created))

    assert early_rows[yesterday].values == tiktok_lifetime(tiktok_sandbox, video_id)
    assert early_rows[yesterday].provenance["views"] == "lifetime"
    assert late_rows[yesterday].values == {}  # six hours on, yesterday is past


def test_consecutive_daily_snapshots_give_the_sandbox_s_daily_views_as_derived_deltas(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    clip: Path,
) -> None:
    video_id = tiktok_video(tiktok_sandbox, clip, age_days=2)
    live(factory, "tiktok", video_id)
    created = tiktok_client.created_times([video_id])[video_id]
    first = TIKTOK_NOW.date()
    for offset in range(4):  # the daily run, late each evening
        evening = dt.datetime.combine(first + offset * DAY, dt.time(23), dt.UTC)
        tiktok_sandbox.set_now(evening)
        collect_and_store(factory, tiktok_client, [evening.date()], now=evening)

    days = history(snapshots(factory), "tiktok", video_id)["days"]

    assert [day["provenance"]["views"] for day in days] == ["lifetime", "derived", "derived", "derived"]
    for day in days[1:]:
        date = dt.date.fromisoformat(day["date"])
        activity = daily_activity(video_id, date, (date - created.date()).days)
        assert day["metrics"]["views"] == activity["views"]
        assert day["metrics"]["likes"] == activity["likes"]
        assert day["metrics"]["saves"] is None and day["provenance"]["saves"] == "unavailable"


def test_a_post_the_platform_no_longer_shows_says_so(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    clip: Path,
) -> None:
    shown = tiktok_video(tiktok_sandbox, clip, age_days=1)
    live(factory, "tiktok", shown)
    live(factory, "tiktok", "7380000000000009999", part=2, published_at=TIKTOK_NOW - 3 * DAY)
    today = TIKTOK_NOW.date()

    report = collect_and_store(factory, tiktok_client, [today - 2 * DAY, today], now=TIKTOK_NOW)

    gone = by_day(snapshots(factory, post_id="7380000000000009999"))
    assert gone[today].reasons == dict.fromkeys(CORE_METRICS, NOT_SHOWN)
    assert gone[today].post_created_at is None  # TikTok gave no time: the ledger's was used, not stored
    assert gone[today - 2 * DAY].values == {}
    assert by_day(snapshots(factory, post_id=shown))[today].values == tiktok_lifetime(tiktok_sandbox, shown)
    assert report.posts == 2 and report.snapshots == 3


def test_nothing_is_asked_that_cannot_succeed(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    x_sandbox: XSandbox,
    x_client: XClient,
    clip: Path,
    now: dt.datetime,
) -> None:
    assert collect_and_store(factory, tiktok_client, [TIKTOK_NOW.date()], now=TIKTOK_NOW).requests == 0
    video_id = tiktok_video(tiktok_sandbox, clip)
    live(factory, "tiktok", video_id)
    past = TIKTOK_NOW.date() - 5 * DAY
    report = collect_and_store(factory, tiktok_client, [past, TIKTOK_NOW.date() + DAY], now=TIKTOK_NOW)
    assert (report.snapshots, report.requests) == (0, 1)  # only the creation time: no day to collect

    post_id = x_post(x_sandbox, 1, age_days=60)
    live(factory, "x", post_id)
    old = now.date() - 40 * DAY
    report = collect_and_store(factory, x_client, [old, old + DAY], now=now)
    assert (report.snapshots, report.requests) == (2, 1)  # beyond X's window: no analytics request
    assert x_client.history_window is not None
    assert {row.reasons["views"] for row in snapshots(factory, platform="x")} == {
        x_client.history_window.beyond
    }


def test_each_batch_reports_progress_with_the_budget_s_pace_for_the_rest(
    factory: sessionmaker[Session],
    tiktok_sandbox: TikTokSandbox,
    tiktok_client: TikTokClient,
    clip: Path,
) -> None:
    videos = [tiktok_video(tiktok_sandbox, clip, age_days=1) for _ in range(21)]
    for part, video_id in enumerate(videos, 1):
        live(factory, "tiktok", video_id, part=part)
    steps: list[CollectStep] = []

    report = collect_and_store(
        factory, tiktok_client, [TIKTOK_NOW.date()], now=TIKTOK_NOW, on_step=steps.append
    )

    assert [(step.done, step.total, step.requests) for step in steps] == [(1, 2, 1), (2, 2, 2)]
    assert steps[0].eta_s > 0  # TikTok's 600 a minute are paced: the last query waits its turn
    assert steps[1].eta_s == 0
    assert report.requests == 4 and report.snapshots == 21  # 2 for the creation times, 2 for the counters
