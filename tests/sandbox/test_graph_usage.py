"""Meta's usage headers in the Graph sandboxes: the share of 200 calls made in the last hour, rolling."""

from __future__ import annotations

import time

from sandbox.graph import RollingUsage


def test_usage_is_the_share_of_the_limit_called_within_the_window_and_falls_back() -> None:
    usage = RollingUsage(limit=200, window_s=0.3)
    assert [usage.count_call() for _ in range(3)] == [1, 1, 2]  # whole percent, rounded up
    time.sleep(0.35)
    assert usage.count_call() == 1, "calls older than the window no longer count"
    full = RollingUsage(limit=4, window_s=60)
    assert [full.count_call() for _ in range(5)] == [25, 50, 75, 100, 100]
