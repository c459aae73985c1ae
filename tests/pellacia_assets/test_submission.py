"""Runs handed to a running `serve`: `submit_run` against a real `dagster-webserver` on a temporary
DAGSTER_HOME (the repository's workspace.yaml), and `produce`, `publish`, `upload`, `schedule` sending their
work to it while `serve`'s lock is held on the home. No daemon runs here, so submitted runs stay QUEUED:
what is checked is what reached the instance's run queue, and that nothing ran in the command's process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from pellacia_assets.cli import main
from pellacia_assets.cli.serve import home_lock
from pellacia_assets.cli.submission import SubmissionError, submit_run
from pellacia_assets.instance import WORKSPACE_FILE, prepare_dagster_home
from pellacia_assets.publishing import upload_request_key
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.post_queue import rows
from resources.platforms.base import sha256_of
from tests.pellacia_assets.test_cli_serve import free_port

pytestmark = [
    pytest.mark.e2e,
    # dagster_graphql's own client calls gql the deprecated way; nothing of ours to change
    pytest.mark.filterwarnings("ignore:Using variable_values and operation_name:DeprecationWarning"),
]

WEBSERVER = Path(sys.executable).parent / "dagster-webserver"
STORY = "# The lost glove\n\nA stranger ran two blocks in the snow to give me back the glove I dropped.\n"
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


@pytest.fixture(scope="module")
def served_home(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Iterator[Path]:
    """One home for the module (the webserver's and every test's), like `pellacia_home` otherwise."""
    home = tmp_path_factory.mktemp("served") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PELLACIA_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))  # so leaving the module restores it
        patch.delenv("PELLACIA_POSTGRES_URL", raising=False)
        patch.delenv("PELLACIA_DATABASE_URL", raising=False)
        patch.setenv("PELLACIA_MODELS_DIR", str(shared_models))
        patch.setenv("PELLACIA_CACHE_DIR", str(shared_models / "cache"))
        prepare_dagster_home(Settings.from_env())
        yield home


def wait_until_loaded(address: str, server: subprocess.Popen[bytes], timeout_s: float = 240.0) -> None:
    """Until the webserver answers and its code location `pellacia` is loaded (or says why it is not)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "dagster-webserver exited before it answered"
        try:
            answer = httpx.post(f"{address}/graphql", json={"query": LOCATIONS}, timeout=5).json()
            [entry] = answer["data"]["workspaceOrError"]["locationEntries"]
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            time.sleep(0.5)
            continue
        if entry["loadStatus"] == "LOADED":
            loaded = entry["locationOrLoadError"] or {}
            assert loaded.get("__typename") != "PythonError", loaded.get("message", "")[-2000:]
            return
        time.sleep(0.5)
    raise AssertionError(f"the code location did not load within {timeout_s:g} s")


@pytest.fixture(scope="module")
def address(served_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `dagster-webserver` for the module's home (no daemon: runs stay queued)."""
    port = free_port()
    log = tmp_path_factory.mktemp("webserver") / "webserver.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(WEBSERVER), "-w", str(WORKSPACE_FILE), "-h", "127.0.0.1", "-p", str(port)],
            cwd=WORKSPACE_FILE.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_loaded(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def serving(address: str) -> Iterator[str]:
    """`serve`'s lock held on the home with this webserver's address, as a running `serve` holds it."""
    with home_lock(Settings.from_env(), address):
        yield address


def run(run_id: str) -> dg.DagsterRun:
    with dg.DagsterInstance.get() as instance:
        found = instance.get_run_by_id(run_id)
    assert found is not None, run_id
    return found


def add_story(tmp_path: Path, key: str) -> str:
    story = tmp_path / f"{key}.md"
    story.write_text(STORY)
    assert main(["story", "add", str(story), "--key", key]) == 0
    return key


def test_submit_run_puts_a_run_of_the_partition_in_the_queue_with_its_tags(address: str) -> None:
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", ["submitted-story"])
    run_id = submit_run(address, "production", "submitted-story", {"dagster/priority": "10"})
    queued = run(run_id)
    assert queued.job_name == "production"
    assert queued.status is dg.DagsterRunStatus.QUEUED
    assert queued.tags["dagster/partition"] == "submitted-story"
    assert queued.tags["dagster/priority"] == "10"


def test_a_webserver_that_does_not_answer_is_one_line() -> None:
    with pytest.raises(SubmissionError) as refusal:
        submit_run(f"http://127.0.0.1:{free_port()}", "production", "any")
    message = str(refusal.value)
    assert "does not answer (refused the connection)" in message and "\n" not in message


def test_a_run_the_webserver_refuses_is_one_line(address: str) -> None:
    with pytest.raises(SubmissionError) as refusal:
        submit_run(address, "no_such_job", "any")
    message = str(refusal.value)
    assert f"the serve at {address} refused the no_such_job run" in message and "\n" not in message


def test_produce_with_serve_running_submits_its_runs_instead_of_running_them(
    serving: str, served_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = add_story(tmp_path, "glove")
    capsys.readouterr()
    assert main(["produce", key]) == 0
    out = capsys.readouterr().out
    assert f"runs go to its run queue (UI: {serving})" in out
    line = next(line for line in out.splitlines() if line.startswith(f"submitted {key}: run "))
    run_id = line.split()[3]
    assert f"{serving}/runs/{run_id}" in line
    queued = run(run_id)
    assert (queued.job_name, queued.status) == ("production", dg.DagsterRunStatus.QUEUED)
    assert queued.tags["dagster/partition"] == key and queued.tags["dagster/priority"] == "0"
    assert not (served_home / "media" / key).exists(), "nothing ran in this process"


def test_publish_with_serve_running_queues_posts_only_for_produced_stories(
    serving: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = add_story(tmp_path, "not-produced")
    capsys.readouterr()
    assert main(["publish", key]) == 1
    out = capsys.readouterr().out
    assert f"FAILED {key}: not produced (status new)" in out
    with transaction(open_database(Settings.from_env().database_url)) as session:
        assert rows(session, story_key=key) == []


def test_publish_with_serve_running_queues_the_posts_of_a_produced_story_for_the_dispatcher(
    address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_video: Callable[..., Path]
) -> None:
    """A story produced here first (a scheduled file, validated in this process while no serve ran),
    then `publish` with serve running: its posts are in the queue, nothing is sent from here."""
    video = make_video(tmp_path / "produced.mp4", tone=770)
    argv = ["schedule", "--platforms", "linkedin", "--file", str(video), "--at", "2031-01-01 09:00", "--json"]
    assert main(argv) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    key, [queued] = report["story_key"], report["queued"]
    with home_lock(Settings.from_env(), address):
        assert main(["publish", key]) == 0
    out = capsys.readouterr().out
    assert "its dispatcher sends the posts in their slots" in out
    assert (
        f"#{queued['id']} {key} part 1 on linkedin (default): queued, not before 2031-01-01 09:00:00" in out
    )
    with transaction(open_database(Settings.from_env().database_url)) as session:
        assert [(row.id, row.state) for row in rows(session, story_key=key)] == [(queued["id"], "queued")]


def test_upload_with_serve_running_queues_every_post_and_submits_the_delivery_run(
    serving: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_video: Callable[..., Path]
) -> None:
    video = make_video(tmp_path / "served.mp4")
    argv = ["upload", "--platforms", "youtube,x", "--file", str(video), "--title", "Served", "--json"]
    assert main([*argv, "--priority", "breaking"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert [(r["platform"], r["status"]) for r in report["results"]] == [
        ("youtube", "queued"),
        ("x", "queued"),
    ]
    assert all(r["not_before"] and r["queue_id"] for r in report["results"])
    assert report["link"] == f"{serving}/runs/{report['run_id']}"
    delivery = run(report["run_id"])
    assert delivery.status is dg.DagsterRunStatus.QUEUED
    assert delivery.tags["dagster/partition"] == report["story_key"]
    assert delivery.tags["dagster/priority"] == "10", "breaking news: the highest priority"
    with transaction(open_database(Settings.from_env().database_url)) as session:
        queued = rows(session, story_key=report["story_key"])
        assert [(row.platform, row.state, row.lane) for row in queued] == [
            ("youtube", "queued", "breaking"), ("x", "queued", "breaking")
        ]  # fmt: skip


def test_schedule_with_serve_running_submits_the_delivery_run(
    serving: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_video: Callable[..., Path]
) -> None:
    video = make_video(tmp_path / "later.mp4", tone=550)
    argv = ["schedule", "--platforms", "linkedin", "--file", str(video), "--at", "2031-01-01 09:00", "--json"]
    assert main(argv) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report["delivery"]["ok"] and report["delivery"]["link"].startswith(f"{serving}/runs/")
    delivery = run(report["delivery"]["run_id"])
    assert delivery.status is dg.DagsterRunStatus.QUEUED
    assert delivery.tags["dagster/partition"] == report["story_key"]
    [queued] = report["queued"]
    assert (queued["platform"], queued["state"], queued["not_before"]) == (
        "linkedin", "queued", "2031-01-01T09:00:00+00:00"
    )  # fmt: skip


def test_upload_wait_with_serve_running_stops_when_the_delivery_run_ends_without_its_work(
    serving: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_video: Callable[..., Path]
) -> None:
    """`--wait` watches the queue rows; a delivery run that ended without validating the file (canceled
    here; a failure the daemon does not retry alike) means they can never go out: they are taken out of
    the queue and reported failed with the run's link, instead of waiting forever."""
    video = make_video(tmp_path / "doomed.mp4", tone=330)
    key = upload_request_key(sha256_of(video), "Doomed")
    codes: list[int] = []
    argv = ["upload", "--platform", "x", "--file", str(video), "--title", "Doomed", "--json", "--wait"]
    waiting = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    waiting.start()
    deadline = time.monotonic() + 60
    queued = dg.RunsFilter(tags={"dagster/partition": key}, statuses=[dg.DagsterRunStatus.QUEUED])
    with dg.DagsterInstance.get() as instance:
        # The webserver creates the run, then enqueues it: a cancel between the two would be undone by the
        # enqueue, so the run is canceled once it is in the queue, as an operator would see it.
        while not (runs := instance.get_runs(filters=queued)):
            assert time.monotonic() < deadline, "no delivery run reached the queue"
            time.sleep(0.2)
        [delivery] = runs
        instance.report_run_canceled(delivery, "canceled on purpose by the test")
    waiting.join(timeout=60)
    assert codes == [1]
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "failed"
    assert result["error"] == f"its delivery run was canceled: {serving}/runs/{delivery.run_id}"
    with transaction(open_database(Settings.from_env().database_url)) as session:
        [row] = rows(session, story_key=key)
        assert row.state == "cancelled"
