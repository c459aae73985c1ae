"""Run the same Python code in several real processes at the same moment (a race, on purpose).

Each child imports what it needs, says `ready`, and waits for one `go` line on its standard input; the
parent sends `go` to all of them once every child is ready, so the racy part starts within milliseconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRELUDE = "import sys\nprint('ready', flush=True)\nsys.stdin.readline()\n"


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run_together(
    setup: str, race: str, argv: list[list[str]], timeout_s: float = 120.0, env: dict[str, str] | None = None
) -> list[Finished]:
    """`setup` (imports) then `race` in one process per entry of `argv` (its `sys.argv[1:]`)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    code = f"import sys\n{setup}\n{PRELUDE}{race}\n"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=environment,
        )
        for args in argv
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "ready":
                _out, err = child.communicate(timeout=timeout_s)
                raise AssertionError(f"a child failed before the race: {line}{err}")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        finished = []
        for child in children:
            out, err = child.communicate(timeout=timeout_s)
            finished.append(Finished(child.returncode, out, err))
        return finished
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
