"""`pellacia-dist serve`: the webserver and the daemon as real processes, stopped by signals, one per home."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from pellacia_assets.cli.serve import ServeError, home_lock
from pellacia_assets.settings import Settings

PELLACIA_DIST = str(Path(sys.executable).parent / "pellacia-dist")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, server: subprocess.Popen[str], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "serve exited before the UI answered"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the UI did not answer on port {port} within {timeout_s:g} s")


@pytest.fixture
def served(pellacia_home: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A detached `serve` (own session, no terminal, stdin closed), as a service manager starts it."""
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [PELLACIA_DIST, "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        wait_until_up(port, server)
        yield server, port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def family(pid: int) -> list[psutil.Process]:
    children: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    return children


def gone(processes: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=30)
    return not alive


@pytest.mark.e2e
def test_sigterm_stops_the_webserver_and_the_daemon_and_a_second_serve_is_refused(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    server, port = served
    children = family(server.pid)
    names = " ".join(" ".join(child.cmdline()) for child in children)
    assert "dagster-webserver" in names and "dagster-daemon run" in names

    second = subprocess.run(
        [PELLACIA_DIST, "serve", "--port", str(free_port())], capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 2
    assert "is already served" in second.stderr and f"127.0.0.1:{port}" in second.stderr
    assert "Traceback" not in second.stderr

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    assert gone(children)


@pytest.mark.e2e
def test_a_child_that_dies_stops_the_other_and_serve_says_which(
    served: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    server, _port = served
    children = family(server.pid)
    [webserver] = [child for child in children if "dagster-webserver" in " ".join(child.cmdline())]
    webserver.kill()
    assert server.wait(timeout=60) == 2
    assert gone(children)
    said = (tmp_path / "serve.log").read_text()
    assert "pellacia-dist: dagster-webserver was killed by SIGKILL; stopping the other" in said


def test_the_home_lock_admits_one_serve_and_is_free_again_after_it(pellacia_home: Path) -> None:
    settings = Settings.from_env()
    refused = pytest.raises(ServeError, match=r"is already served \(pid \d+ on .*http://127.0.0.1:3000\)")
    with home_lock(settings, "http://127.0.0.1:3000"), refused, home_lock(settings, "http://127.0.0.1:3001"):
        pass
    with home_lock(settings, "http://127.0.0.1:3001"):
        assert "3001" in (settings.home / "serve.lock").read_text()


def test_serve_marks_failed_the_runs_a_killed_daemon_cut_off_and_leaves_cli_runs(pellacia_home: Path) -> None:
    import dagster as dg
    from dagster._core.test_utils import create_run_for_test

    from pellacia_assets.cli.production import RUN_PID_TAG
    from pellacia_assets.cli.serve import recover_interrupted_runs
    from pellacia_assets.instance import prepare_dagster_home

    prepare_dagster_home(Settings.from_env())
    with dg.DagsterInstance.get() as instance:
        cut_off = create_run_for_test(instance, job_name="publishing", status=dg.DagsterRunStatus.STARTED)
        finished = create_run_for_test(instance, job_name="publishing", status=dg.DagsterRunStatus.SUCCESS)
        cli_run = create_run_for_test(
            instance, job_name="production", status=dg.DagsterRunStatus.STARTED, tags={RUN_PID_TAG: "1"}
        )
    said = recover_interrupted_runs()
    with dg.DagsterInstance.get() as instance:
        runs = {run.run_id: run for run in instance.get_runs()}
    status = {run_id: runs[run_id].status for run_id in (cut_off.run_id, finished.run_id)}
    assert runs[cli_run.run_id].status == dg.DagsterRunStatus.STARTED
    retried = runs[cut_off.run_id].tags.get("dagster/will_retry")
    assert status == {
        cut_off.run_id: dg.DagsterRunStatus.FAILURE,
        finished.run_id: dg.DagsterRunStatus.SUCCESS,
    }
    assert said == [f"marked run {cut_off.run_id} (publishing) failed: its serve stopped mid-run"]
    assert retried == "true"
    assert recover_interrupted_runs() == []
