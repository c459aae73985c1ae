"""`pellacia-dist upload` of one file to the six sandboxes from several real processes at once, on SQLite
and PostgreSQL: exactly one post per platform, and every process reports it `published` (issue 12).

Two uploads start as two `.venv/bin/pellacia-dist` processes; four start as Python processes that import
the CLI and then begin together on a signal, so the race is as tight as it gets. A third case kills the
process publishing (kill -9) in the middle and lets two others take over.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resources.platforms import PLATFORMS
from sandbox.platforms import SandboxSuite
from tests.resources.database.concurrently import Finished, run_together

CLI = Path(sys.executable).parent / "pellacia-dist"
ARGS = ["--title", "Wrong number", "--description", "A kind stranger.", "--hashtags", "#storytime #shorts"]

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, pellacia_home: Path) -> str:
    """The app database the processes share: the home's SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("PELLACIA_DATABASE_URL", url)
    return str(request.param)


def upload_args(video: Path, platforms: str = "all") -> list[str]:
    return ["upload", "--platforms", platforms, "--file", str(video), *ARGS, "--json"]


def start_cli(video: Path, platforms: str = "all") -> subprocess.Popen[str]:
    """`pellacia-dist upload ...` as a user starts it (the console script beside this interpreter)."""
    command = (
        [str(CLI)]
        if CLI.exists()
        else [sys.executable, "-c", "import sys; from pellacia_assets.cli import main; sys.exit(main())"]
    )
    return subprocess.Popen(
        [*command, *upload_args(video, platforms)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> Finished:
    out, err = process.communicate(timeout=180)
    return Finished(process.returncode, out, err)


def results_of(finished: Finished) -> list[dict[str, Any]]:
    assert finished.returncode == 0, finished.stdout + finished.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(finished.stdout)["results"]
    return results


def assert_exactly_once(sandboxes: SandboxSuite, runs: list[Finished], platforms: tuple[str, ...]) -> None:
    """One post per platform; every process says `published` with that post; one process sent each."""
    reports = [results_of(run) for run in runs]
    for platform in platforms:
        [post] = sandboxes.servers[platform].posts
        mine = [next(r for r in report if r["platform"] == platform) for report in reports]
        assert {r["status"] for r in mine} == {"published"}, mine
        assert {r["post_id"] for r in mine} == {post["id"]}, (platform, mine, post)
        assert sum(not r["already_published"] for r in mine) == 1, (platform, mine)


@pytest.mark.parametrize("processes", [2, 4])
def test_the_same_upload_started_in_several_processes_publishes_once(
    backend: str,
    processes: int,
    sandboxes: SandboxSuite,
    tmp_path: Path,
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4", seconds=3.2)
    started = time.monotonic()
    if processes == 2:
        runs = [finish(process) for process in [start_cli(video) for _ in range(processes)]]
    else:
        runs = run_together(
            "from pellacia_assets.cli import main",
            "sys.exit(main(sys.argv[1:]))",
            [upload_args(video)] * processes,
            timeout_s=180,
        )
    assert_exactly_once(sandboxes, runs, PLATFORMS)
    assert time.monotonic() - started < 120
    if processes == 4:  # started on one signal: while one publishes YouTube, the others wait and say so
        assert sum("waiting for it" in run.stderr for run in runs) >= 1, [run.stderr for run in runs]


def test_a_publisher_killed_mid_post_is_taken_over_without_a_second_post(
    backend: str, sandboxes: SandboxSuite, tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    video = make_video(tmp_path / "short.mp4", seconds=3.2)
    youtube = sandboxes.servers["youtube"]
    youtube.delay_next("videos_list", 8)  # the first processing check hangs: the upload is complete
    owner = start_cli(video, "youtube,x")
    deadline = time.monotonic() + 60
    while ("videos_list", "GET") not in youtube.requests:
        assert owner.poll() is None and time.monotonic() < deadline, owner.communicate()
        time.sleep(0.05)
    owner.kill()  # kill -9 while it holds the claim, the video uploaded, its id in the ledger
    owner.wait()
    assert len(youtube.posts) == 1

    runs = run_together(
        "from pellacia_assets.cli import main",
        "sys.exit(main(sys.argv[1:]))",
        [upload_args(video, "youtube,x")] * 2,
        timeout_s=180,
    )
    assert_exactly_once(sandboxes, runs, ("youtube", "x"))
    assert sum("taking over" in run.stderr for run in runs) == 1, [run.stderr for run in runs]
    assert youtube.requests.count(("upload_start", "POST")) == 1


def test_a_process_waits_for_the_publisher_and_reports_its_post(
    sandboxes: SandboxSuite, tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    """The second process starts while the first is mid-post: it says it waits, then reports that post."""
    video = make_video(tmp_path / "short.mp4", seconds=3.2)
    youtube = sandboxes.servers["youtube"]
    release = youtube.hold_next("videos_list")  # the first process stays mid-post until the second waits
    first = start_cli(video, "youtube")
    while ("videos_list", "GET") not in youtube.requests:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = start_cli(video, "youtube")
    assert second.stderr is not None
    said = ""
    while "waiting for it" not in said and (line := second.stderr.readline()):
        said += line
    release.set()
    [one, two] = [finish(first), finish(second)]
    assert_exactly_once(sandboxes, [one, two], ("youtube",))
    assert "is publishing this video to account 'default'; waiting for it" in said, said + two.stderr
    assert results_of(two)[0]["already_published"] is True
