"""`pellacia-dist serve`: the Dagster webserver and daemon for one factory home, as production runs them.

Not `dagster dev`: the two processes are started directly and supervised here, so SIGINT and SIGTERM
(also when detached, with no terminal) stop both, a child that dies stops the other, and a lock on the
home keeps a second `serve` from running a second daemon (which would launch every sensor's runs twice).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import IO

from pellacia_assets.settings import Settings

LOCK_FILE = "serve.lock"
STOP_GRACE_S = 20.0
POLL_S = 0.5


class ServeError(RuntimeError):
    """`serve` cannot start or keep running; the message says why in one line."""


@contextmanager
def home_lock(settings: Settings, address: str) -> Iterator[None]:
    """Hold `$PELLACIA_HOME/serve.lock` for as long as this `serve` runs; the kernel frees it if we die."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / LOCK_FILE
    handle: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ServeError(
                f"{settings.home} is already served ({holder}); stop that `serve` first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, UI on {address}")
        handle.flush()
        yield
    finally:
        handle.close()


def running_serve(settings: Settings) -> str | None:
    """The UI address of the `serve` that holds this home, or None when none runs (the lock is free)."""
    path = settings.home / LOCK_FILE
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read()
            return holder.rpartition("UI on ")[2].strip() or None
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def recover_interrupted_runs() -> list[str]:
    """Runs the daemon of an earlier `serve` launched and that were cut off when it stopped (kill -9 of
    the daemon takes its run workers with it): nobody can still be running them, since this `serve` holds
    the home, so they are marked failed. Dagster's run retries then launch them again (`dagster.yaml`),
    and the ledger lets a cut-off post finish once, asking the platform first. Runs a CLI process ran
    itself (tagged with its pid) are `produce`'s to recover."""
    import dagster as dg

    from pellacia_assets.cli.production import RUN_PID_TAG

    unfinished = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    done = []
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished)):
            if RUN_PID_TAG in run.tags:
                continue
            instance.report_run_failed(run, "the serve that launched this run stopped before it finished")
            done.append(f"marked run {run.run_id} ({run.job_name}) failed: its serve stopped mid-run")
    return done


def _children(host: str, port: int) -> dict[str, list[str]]:
    from pellacia_assets.instance import WORKSPACE_FILE

    bin_dir = Path(sys.executable).parent
    workspace = ["-w", str(WORKSPACE_FILE)]
    return {
        "dagster-webserver": [str(bin_dir / "dagster-webserver"), *workspace, "-h", host, "-p", str(port)],
        "dagster-daemon": [str(bin_dir / "dagster-daemon"), "run", *workspace],
    }


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every child's process group, then SIGKILL what is still there after the grace period.

    The whole group, even when its leader already exited: the webserver's code server is its child, and
    would otherwise outlive a webserver that died."""
    for process in processes.values():
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    while any(_group_alive(process) for process in processes.values()) and time.monotonic() < deadline:
        time.sleep(POLL_S / 5)
    for process in processes.values():
        _signal_group(process, signal.SIGKILL)


def _ending(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve(settings: Settings, host: str, port: int) -> int:
    """Run both children until a signal or until one of them exits; returns the exit status."""
    from pellacia_assets.instance import WORKSPACE_FILE, prepare_dagster_home

    address = f"http://{host}:{port}"
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    with home_lock(settings, address):
        prepare_dagster_home(settings)
        for line in recover_interrupted_runs():
            print(f"recovered: {line}", flush=True)
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, command in _children(host, port).items():
                # A session of their own: a terminal's Ctrl-C reaches us only, and we stop them in order.
                processes[name] = subprocess.Popen(command, cwd=WORKSPACE_FILE.parent, start_new_session=True)
            print(
                f"Dagster UI on {address} (DAGSTER_HOME={settings.dagster_home}); the daemon runs sensors "
                "and schedules. Ctrl-C or SIGTERM stops both.",
                flush=True,
            )
            while not stopping:
                exited = [name for name, process in processes.items() if process.poll() is not None]
                if exited:
                    codes = ", ".join(f"{name} {_ending(processes[name].returncode)}" for name in exited)
                    raise ServeError(f"{codes}; stopping the other (see its output above)")
                time.sleep(POLL_S)
        finally:
            _stop(processes)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    print(f"stopped the webserver and the daemon ({signal.Signals(stopping[0]).name})", flush=True)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    return serve(settings, args.host, args.port)
