"""`pellacia-dist produce` stopped from outside: Ctrl-C, and kill -9 followed by the next start."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pellacia_assets.cli import main

PELLACIA_DIST = Path(sys.executable).parent / "pellacia-dist"
STORY = (
    "# The note in the library book\n\nI borrowed an old library book about gardening. Inside the cover "
    "was a note from 1987 that said: whoever reads this, plant something today. So I did.\n"
)


def add(tmp_path: Path, key: str) -> str:
    story = tmp_path / f"{key}.md"
    story.write_text(STORY)
    assert main(["story", "add", str(story), "--key", key]) == 0
    return key


def staging_folders(home: Path) -> list[Path]:
    return sorted((home / "media").glob("*/.staging-*"))


def start_and_wait_for_staging(home: Path, *keys: str) -> subprocess.Popen[str]:
    """`produce` in its own process, returned once it is writing into a staging folder."""
    process = subprocess.Popen(
        [str(PELLACIA_DIST), "produce", *keys], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while not staging_folders(home):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "produce never started staging"
        time.sleep(0.02)
    return process


def runs() -> list[dg.DagsterRun]:
    with dg.DagsterInstance.get() as instance:
        return list(instance.get_runs())


def test_ctrl_c_stops_produce_cleanly_and_says_what_was_finished(pellacia_home: Path, tmp_path: Path) -> None:
    first, second = add(tmp_path, "first"), add(tmp_path, "second")
    process = start_and_wait_for_staging(pellacia_home, first, second)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out[-2000:] + err[-2000:]
    assert "Traceback (most recent call last)" not in out + err
    assert "Stack Trace" not in out + err, "Dagster's log of the interrupted step keeps its first lines only"
    tail = out[out.index("interrupted (Ctrl-C); what was finished:") :]
    assert "FAILED first: interrupted by Ctrl-C; run it again to finish" in tail
    assert "NOT STARTED second" in tail
    assert staging_folders(pellacia_home) == [], "an interrupted stage removes its folder"
    [run] = runs()
    assert run.status is dg.DagsterRunStatus.FAILURE


def test_kill_9_leaves_nothing_behind_once_produce_starts_again(pellacia_home: Path, tmp_path: Path) -> None:
    key = add(tmp_path, "killed")
    process = start_and_wait_for_staging(pellacia_home, key)
    process.kill()  # SIGKILL: no handler, no cleanup
    process.communicate(timeout=60)
    assert staging_folders(pellacia_home), "the killed run left its staging folder"
    [run] = runs()
    assert run.status is dg.DagsterRunStatus.STARTED, "nothing told the instance the run died"

    again = subprocess.run(
        [str(PELLACIA_DIST), "produce", "no-such-story"], capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 2
    assert (
        again.stderr.startswith("pellacia-dist: no story 'no-such-story'") and again.stderr.count("\n") == 1
    )
    assert "recovered: removed" in again.stdout
    assert f"recovered: marked run {run.run_id} of story 'killed' failed" in again.stdout
    assert staging_folders(pellacia_home) == []
    [after] = runs()
    assert after.status is dg.DagsterRunStatus.FAILURE


@pytest.mark.parametrize("command", [["produce", "nothing-here"], ["publish", "nothing-here"]])
def test_an_unknown_story_key_is_one_line(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main(command) == 2
    error = capsys.readouterr().err
    assert error.startswith("pellacia-dist: no story 'nothing-here'") and error.count("\n") == 1
