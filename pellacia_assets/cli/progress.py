"""A progress bar on standard error for long commands (backfills): redrawn in place on a terminal, a line
every tenth of the way otherwise, so logs stay short."""

from __future__ import annotations

import sys
import time
from typing import IO


def duration(seconds: float) -> str:
    """Seconds as the operator reads them: 45 s, 3 min 12 s, 2 h 05 min."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class ProgressBar:
    """`update(done, total, note)` draws `label [#####.....] done/total note`; `finish(note)` ends it."""

    width = 30

    def __init__(self, label: str, out: IO[str] | None = None) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.live = bool(getattr(self.out, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._tenth = -1

    def update(self, done: int, total: int, note: str = "") -> None:
        share = done / total if total else 1.0
        if not self.live:
            tenth = int(share * 10)
            if tenth == self._tenth:
                return
            self._tenth = tenth
        filled = int(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {note}".rstrip()
        if self.live:
            self.out.write(f"\r\x1b[K{line}")
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def finish(self, note: str = "") -> None:
        elapsed = duration(time.monotonic() - self.started)
        line = f"{self.label}: done in {elapsed}{f' ({note})' if note else ''}"
        self.out.write(f"\r\x1b[K{line}\n" if self.live else line + "\n")
        self.out.flush()
