"""Spacing, daily caps and quiet hours per platform account, read from the environment in one place.

The gap keeps an account from posting in bursts (the ban risk the distribution plan warns about); the
configured daily cap is the plan's 5-6 posts a day; the hard cap is what the platform itself documents
(reference/platform_protocols.md, "Posting caps") and holds for breaking news too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resources.platforms import PLATFORMS, parse_platforms

DEFAULT_GAP_S = 1800.0
DEFAULT_JITTER_S = 900.0
DEFAULT_DAILY_CAP = 6
# Rolling 24 h, per account: YouTube's videos.insert bucket (100 a day per project), TikTok's undisclosed
# per-creator cap (15 a day in maintained uploaders), Instagram's content_publishing_limit (50), Facebook
# Reels (30 API-published per Page), X (POST /2/tweets 10,000 a day per app), LinkedIn (not published).
HARD_DAILY_CAPS: dict[str, int | None] = {
    "youtube": 100,
    "tiktok": 15,
    "instagram": 50,
    "facebook": 30,
    "x": 10_000,
    "linkedin": None,
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PolicyError(ValueError):
    """A posting setting that cannot be understood; the message names the variable."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which nothing but breaking news is posted; may span midnight."""

    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        moment = local.time()
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def end_after(self, local: datetime) -> datetime:
        """The first moment at or after `local` outside the window."""
        if not self.contains(local):
            return local
        candidate = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return candidate if candidate > local else candidate + timedelta(days=1)

    @classmethod
    def parse(cls, text: str, variable: str = "PELLACIA_QUIET_HOURS") -> QuietHours:
        start, _, end = text.partition("-")
        clocks = [_CLOCK.match(part.strip()) for part in (start, end)]
        if not all(clocks):
            raise PolicyError(f"{variable}={text!r}: expected HH:MM-HH:MM, e.g. 23:00-07:00")
        first, second = (time(int(c.group(1)), int(c.group(2))) for c in clocks if c is not None)
        if first == second:
            raise PolicyError(f"{variable}={text!r}: the window starts and ends at the same minute")
        return cls(first, second)


@dataclass(frozen=True)
class PostingPolicy:
    """How often each platform account posts. A gap of 0 switches spacing off (the demo, benchmarks)."""

    gap_s: float = DEFAULT_GAP_S
    jitter_s: float = DEFAULT_JITTER_S
    platform_gaps: dict[str, float] = field(default_factory=dict)
    daily_caps: dict[str, int] = field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    platforms: tuple[str, ...] = PLATFORMS

    def gap_for(self, platform: str) -> timedelta:
        return timedelta(seconds=self.platform_gaps.get(platform, self.gap_s))

    def jitter_for(self, platform: str, seed: int) -> timedelta:
        """The jitter after one publication, fixed by the ledger row (`seed`) so a restart redraws nothing."""
        if self.jitter_s <= 0 or self.gap_for(platform) <= timedelta(0):
            return timedelta(0)
        fraction = (seed * 2654435761 % 2**32) / 2**32  # Knuth's multiplicative hash: spread, repeatable
        return timedelta(seconds=self.jitter_s * fraction)

    def daily_cap(self, platform: str) -> int:
        hard = HARD_DAILY_CAPS.get(platform)
        configured = self.daily_caps.get(platform, DEFAULT_DAILY_CAP)
        return configured if hard is None else min(configured, hard)

    def hard_cap(self, platform: str) -> int | None:
        return HARD_DAILY_CAPS.get(platform)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone)

    def day_start(self, moment: datetime) -> datetime:
        """Midnight of `moment`'s day in the policy's timezone: where "published today" starts."""
        local = self.local(moment)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def next_day_start(self, moment: datetime) -> datetime:
        """The next midnight in the policy's timezone (a wall-clock day: 23 or 25 hours across DST)."""
        return self.day_start(moment) + timedelta(days=1)

    @classmethod
    def from_env(cls) -> PostingPolicy:
        platform_gaps: dict[str, float] = {
            platform: _seconds(f"PELLACIA_{platform.upper()}_POST_GAP_SECONDS", DEFAULT_GAP_S)
            for platform in PLATFORMS
            if _set(f"PELLACIA_{platform.upper()}_POST_GAP_SECONDS")
        }
        daily_caps: dict[str, int] = {
            platform: _count(f"PELLACIA_{platform.upper()}_DAILY_CAP")
            for platform in PLATFORMS
            if _set(f"PELLACIA_{platform.upper()}_DAILY_CAP")
        }
        quiet = os.environ.get("PELLACIA_QUIET_HOURS", "").strip()
        zone_name = timezone_name()
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise PolicyError(f"PELLACIA_TIMEZONE={zone_name!r}: not a known time zone") from error
        listed = os.environ.get("PELLACIA_PLATFORMS", "").strip()
        return cls(
            gap_s=_seconds("PELLACIA_POST_GAP_SECONDS", DEFAULT_GAP_S),
            jitter_s=_seconds("PELLACIA_POST_JITTER_SECONDS", DEFAULT_JITTER_S),
            platform_gaps=platform_gaps,
            daily_caps=daily_caps,
            quiet_hours=QuietHours.parse(quiet) if quiet else None,
            timezone=zone,
            platforms=tuple(parse_platforms(listed)) if listed else PLATFORMS,
        )


def timezone_name() -> str:
    """PELLACIA_TIMEZONE (default UTC): quiet hours, daily caps, `schedule --at` and the schedules' zone."""
    return os.environ.get("PELLACIA_TIMEZONE", "").strip() or "UTC"


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise PolicyError(f"{name}={text!r}: expected a number of seconds") from None
    if value < 0:
        raise PolicyError(f"{name}={text!r}: cannot be negative")
    return value


def _count(name: str) -> int:
    text = os.environ.get(name, "").strip()
    if not text.isdigit():
        raise PolicyError(f"{name}={text!r}: expected a whole number of posts a day")
    return int(text)
