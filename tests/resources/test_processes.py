"""Telling a running process from one that is gone, a zombie, or a reused pid."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from resources.processes import process_running, process_stat


def test_this_process_runs_and_is_itself() -> None:
    stat = process_stat(os.getpid())
    assert stat is not None
    assert process_running(os.getpid())
    assert process_running(os.getpid(), started=stat[1])
    assert not process_running(os.getpid(), started=str(int(stat[1]) + 1))  # another process, same pid


def test_a_finished_and_reaped_child_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_running(child.pid)
    assert not process_running(0) and not process_running(-1)


def test_a_killed_child_not_yet_reaped_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_running(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while (stat := process_stat(child.pid)) is not None and stat[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not process_running(child.pid)  # a zombie: dead, its parent has not reaped it
    finally:
        child.wait()
