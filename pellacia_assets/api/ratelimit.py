"""Per-token rate limiting: a token bucket per API token name (`PELLACIA_API_RATE`, default 120/minute;
`off` disables it). A token may burst up to the whole rate at once, then gets one request per
1/rate; past that it is answered 429 with `Retry-After` (whole seconds).

The buckets live in the API process: several API processes each allow the rate.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pellacia_assets.api.errors import ApiConfigError, ApiError

RATE_VARIABLE = "PELLACIA_API_RATE"
DEFAULT_RATE = "120/minute"
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    requests: int
    period_s: float

    @property
    def per_second(self) -> float:
        return self.requests / self.period_s


def parse_rate(text: str) -> Rate | None:
    """`120/minute`, `10/second`, `1000/hour`; `off` (or `0`) is no limit."""
    value = text.strip().lower()
    if value in ("off", "0", "none", "unlimited"):
        return None
    match = _RATE.match(value)
    if match is None or int(match.group(1)) <= 0:
        raise ApiConfigError(
            f"{RATE_VARIABLE}={text!r}: expected N/second, N/minute or N/hour (e.g. {DEFAULT_RATE}), or off"
        )
    return Rate(int(match.group(1)), _PERIODS[match.group(2).lower()])


class RateLimiter:
    """Token buckets by key. `check(key)` spends one request or raises the 429 ApiError."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, when counted)

    def wait_s(self, key: str) -> float:
        """Spend one request of `key`'s bucket: 0 when it was there, else how long until one is."""
        if self.rate is None:
            return 0.0
        capacity, refill = float(self.rate.requests), self.rate.per_second
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - then) * refill)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / refill

    def check(self, key: str) -> None:
        wait = self.wait_s(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            assert self.rate is not None
            raise ApiError(
                429,
                "rate_limited",
                f"this token made more than {self.rate.requests} requests per {self.rate.period_s:g} s; "
                f"retry in {seconds} s",
                {"Retry-After": str(seconds)},
            )
