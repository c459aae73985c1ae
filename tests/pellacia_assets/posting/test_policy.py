"""Posting settings from the environment: gaps, jitter fixed per publication, caps, quiet hours, zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pellacia_assets.posting.policy import (
    DEFAULT_DAILY_CAP,
    HARD_DAILY_CAPS,
    PolicyError,
    PostingPolicy,
    QuietHours,
)
from resources.platforms import PLATFORMS

VARIABLES = [
    "PELLACIA_POST_GAP_SECONDS",
    "PELLACIA_POST_JITTER_SECONDS",
    "PELLACIA_QUIET_HOURS",
    "PELLACIA_TIMEZONE",
    "PELLACIA_PLATFORMS",
    *(f"PELLACIA_{p.upper()}_POST_GAP_SECONDS" for p in PLATFORMS),
    *(f"PELLACIA_{p.upper()}_DAILY_CAP" for p in PLATFORMS),
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_half_an_hour_plus_up_to_a_quarter_and_six_a_day() -> None:
    policy = PostingPolicy.from_env()
    assert policy.gap_for("youtube") == timedelta(minutes=30)
    assert policy.jitter_s == 900
    assert policy.quiet_hours is None
    assert policy.timezone == ZoneInfo("UTC")
    assert policy.platforms == PLATFORMS
    assert {p: policy.daily_cap(p) for p in PLATFORMS} == dict.fromkeys(PLATFORMS, DEFAULT_DAILY_CAP)


def test_every_setting_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "600")
    monkeypatch.setenv("PELLACIA_POST_JITTER_SECONDS", "0")
    monkeypatch.setenv("PELLACIA_TIKTOK_POST_GAP_SECONDS", "3600")
    monkeypatch.setenv("PELLACIA_X_DAILY_CAP", "20")
    monkeypatch.setenv("PELLACIA_TIKTOK_DAILY_CAP", "40")
    monkeypatch.setenv("PELLACIA_QUIET_HOURS", "23:00-07:00")
    monkeypatch.setenv("PELLACIA_TIMEZONE", "America/New_York")
    monkeypatch.setenv("PELLACIA_PLATFORMS", "youtube,x")
    policy = PostingPolicy.from_env()
    assert policy.gap_for("youtube") == timedelta(minutes=10)
    assert policy.gap_for("tiktok") == timedelta(hours=1)
    assert policy.jitter_for("youtube", 7) == timedelta(0)
    assert policy.daily_cap("x") == 20
    assert policy.daily_cap("tiktok") == HARD_DAILY_CAPS["tiktok"]  # never above the platform's own limit
    assert policy.quiet_hours == QuietHours(time(23), time(7))
    assert policy.timezone == ZoneInfo("America/New_York")
    assert policy.platforms == ("youtube", "x")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PELLACIA_POST_GAP_SECONDS", "half an hour", "expected a number of seconds"),
        ("PELLACIA_POST_JITTER_SECONDS", "-5", "cannot be negative"),
        ("PELLACIA_YOUTUBE_DAILY_CAP", "6.5", "expected a whole number of posts a day"),
        ("PELLACIA_QUIET_HOURS", "11pm-7am", "expected HH:MM-HH:MM"),
        ("PELLACIA_QUIET_HOURS", "07:00-07:00", "starts and ends at the same minute"),
        ("PELLACIA_TIMEZONE", "Mars/Olympus", "not a known time zone"),
    ],
)
def test_a_setting_that_cannot_be_understood_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(PolicyError, match=message) as raised:
        PostingPolicy.from_env()
    assert str(raised.value).startswith(f"{name}={value!r}")


def test_the_jitter_is_fixed_by_the_publication_and_spread_over_the_range() -> None:
    policy = PostingPolicy(gap_s=1800, jitter_s=900)
    jitters = [policy.jitter_for("youtube", seed) for seed in range(1, 101)]
    assert jitters == [
        PostingPolicy(gap_s=1800, jitter_s=900).jitter_for("youtube", s) for s in range(1, 101)
    ]
    assert all(timedelta(0) <= jitter < timedelta(seconds=900) for jitter in jitters)
    assert len(set(jitters)) == 100
    assert min(jitters) < timedelta(seconds=100) and max(jitters) > timedelta(seconds=800)
    assert PostingPolicy(gap_s=0, jitter_s=900).jitter_for("youtube", 5) == timedelta(0)  # gap off: no jitter


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours.parse("23:00-07:00")
    zone = ZoneInfo("Europe/Berlin")
    evening = datetime(2026, 6, 10, 22, 59, tzinfo=zone)
    assert not quiet.contains(evening)
    assert quiet.end_after(evening) == evening
    late = datetime(2026, 6, 10, 23, 30, tzinfo=zone)
    assert quiet.end_after(late) == datetime(2026, 6, 11, 7, 0, tzinfo=zone)
    early = datetime(2026, 6, 11, 3, 0, tzinfo=zone)
    assert quiet.end_after(early) == datetime(2026, 6, 11, 7, 0, tzinfo=zone)
    assert not quiet.contains(datetime(2026, 6, 11, 7, 0, tzinfo=zone))


def test_quiet_hours_within_one_day() -> None:
    quiet = QuietHours.parse("01:30-05:00")
    assert quiet.contains(datetime(2026, 1, 1, 1, 30, tzinfo=UTC))
    assert quiet.end_after(datetime(2026, 1, 1, 4, 0, tzinfo=UTC)) == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert not quiet.contains(datetime(2026, 1, 1, 23, 0, tzinfo=UTC))


def test_a_day_starts_at_midnight_in_the_zone_and_may_last_23_hours() -> None:
    policy = PostingPolicy(timezone=ZoneInfo("America/New_York"))
    moment = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # 22:00 on March 7th in New York
    assert policy.day_start(moment) == datetime(2026, 3, 7, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    start = policy.next_day_start(moment)  # the night the clocks spring forward
    assert start.astimezone(UTC) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    following = policy.next_day_start(start)
    assert following.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
