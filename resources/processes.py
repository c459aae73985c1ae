"""Whether a process on this machine still runs: the one test behind ledger claims, staging folders and
in-process runs that a killed process (kill -9, power loss) left behind."""

from __future__ import annotations

import os
from pathlib import Path


def process_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of `pid` from /proc, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def process_running(pid: int, started: str | None = None) -> bool:
    """True while `pid` runs and is not a zombie (a killed child not yet reaped is gone for our purposes);
    with `started` (start ticks, see `process_stat`), only if it is that same process, not a reused pid."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    stat = process_stat(pid)
    if stat is None:
        return True  # no /proc to ask: existing is all we can tell
    state, ticks = stat
    return state not in ("Z", "X", "x") and (not started or ticks == started)
