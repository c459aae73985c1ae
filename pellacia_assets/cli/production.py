"""Stories in, shorts out: `story add|list`, `produce`, `publish`, and the job runner the demo reuses.

With `pellacia-dist serve` running on the home, `produce` submits its runs to the serve's run queue and
`publish` queues the stories' posts for its dispatcher (`pellacia_assets/cli/submission.py`); otherwise
both execute their jobs in this process, recorded in the same instance.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import read_story_file
from resources.processes import process_running

RUN_PID_TAG = "pellacia/pid"
RUN_HOST_TAG = "pellacia/host"


@dataclass(frozen=True)
class JobOutcome:
    key: str
    ok: bool
    detail: str


class JobsInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run_job`: the outcomes so far (the interrupted story last) and the keys not started."""

    def __init__(self, outcomes: list[JobOutcome], not_started: Sequence[str]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes
        self.not_started = list(not_started)


def prepare(settings: Settings) -> None:
    from pellacia_assets.instance import prepare_dagster_home

    prepare_dagster_home(settings)


def add_story(settings: Settings, path: Path, key: str | None = None) -> str:
    """Validate a story file, save its source record and register its partition; returns the key."""
    import dagster as dg

    from pellacia_assets.stories.normalise import normalise
    from resources.database.engine import open_database, transaction
    from resources.database.stories import save_source
    from resources.tts.registry import make_engine

    record = read_story_file(path, key)
    engine = make_engine(settings.tts_engine, settings.tts_voice)
    normalise(
        record,
        max_words=settings.max_story_words,
        speakable=engine.voice.languages,
        voice_name=f"{engine.voice.engine}/{engine.voice.name}",
    )
    with transaction(open_database(settings.database_url)) as session:
        save_source(session, record)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", [record.key])
    return record.key


def run_job(
    job_name: str,
    keys: Sequence[str],
    verb: str,
    *,
    tags: Mapping[str, str] | None = None,
    out: IO[str] | None = None,
) -> list[JobOutcome]:
    """Execute a job for each story partition in this process, recorded in the instance (the UI sees it).
    `out`: where the per-story headings go (standard output unless a command prints JSON there)."""
    import dagster as dg

    from pellacia_assets.definitions import defs

    job = defs().resolve_job_def(job_name)
    outcomes: list[JobOutcome] = []
    run_tags = {**(tags or {}), RUN_PID_TAG: str(os.getpid()), RUN_HOST_TAG: socket.gethostname()}
    with dg.DagsterInstance.get() as instance:
        require_stories(instance, keys)
        for index, key in enumerate(keys, start=1):
            print(f"\n=== [{index}/{len(keys)}] {verb} story '{key}' ===", file=out or sys.stdout, flush=True)
            started = time.monotonic()
            try:
                with _interrupts_logged_briefly():
                    result = job.execute_in_process(
                        partition_key=key,
                        instance=instance,
                        raise_on_error=False,
                        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                        tags=run_tags,
                    )
            except KeyboardInterrupt:
                _fail_unfinished_runs(instance, "stopped by Ctrl-C", this_process=True)
                result = None
            if result is None or _interrupted(result):
                outcomes.append(JobOutcome(key, False, "interrupted by Ctrl-C; run it again to finish"))
                raise JobsInterrupted(outcomes, keys[index:])
            outcomes.append(_outcome(key, result, time.monotonic() - started))
    return outcomes


@contextmanager
def _interrupts_logged_briefly() -> Iterator[None]:
    """Dagster logs a run stopped by Ctrl-C as a failure with the stack trace of wherever the signal
    landed (50 lines of Dagster internals): on the console keep the lines before it. The console logger's
    records are the only ones made while this is in place that carry the message; the run's event log
    (the UI) was written before and keeps it whole."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str) and "DagsterExecutionInterruptedError" in record.msg:
            record.msg = record.msg.split("\n\nStack Trace:")[0].rstrip()
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


def _interrupted(result: Any) -> bool:
    """Dagster turns Ctrl-C inside a run into a failed step (DagsterExecutionInterruptedError) and a run
    failure saying so, and returns: the caller must stop the loop itself."""
    for event in result.all_events:
        failure = event.step_failure_data if event.is_step_failure else None
        if failure and failure.error and failure.error.cls_name == "DagsterExecutionInterruptedError":
            return True
        if event.event_type_value == "PIPELINE_FAILURE" and "interrupted" in (event.message or ""):
            return True
    return False


def require_stories(instance: Any, keys: Sequence[str]) -> None:
    from pellacia_assets.stories.loading import StoryError

    known = set(instance.get_dynamic_partitions("story"))
    missing = [key for key in keys if key not in known]
    if missing:
        raise StoryError(
            f"no story {', '.join(repr(key) for key in missing)}; add it with `pellacia-dist story add FILE` "
            "(`pellacia-dist story list` shows the stories)"
        )


def require_approved(settings: Settings, keys: Sequence[str]) -> None:
    """Refuse to produce a story an editor has not approved (or rejected), naming what to do."""
    from pellacia_assets.stories.loading import StoryError
    from resources.database.engine import open_database, transaction
    from resources.database.stories import approval_of, approval_refusal

    with transaction(open_database(settings.database_url)) as session:
        refusals = [
            approval_refusal(key, state)
            for key in keys
            if (state := approval_of(session, key)) not in (None, "approved")
        ]
    if refusals:
        raise StoryError("; ".join(refusals))


def recover_after_crash(settings: Settings) -> list[str]:
    """What a killed `produce` (kill -9, power loss) left behind, cleaned up when the next one starts:
    staging folders of processes that are gone are removed from the media store, and runs this machine
    ran in-process whose process is gone are marked failed in the instance (run monitoring in the Dagster
    daemon only watches runs it launched itself). Returns one line per thing done."""
    import dagster as dg

    from resources.media_store.store import MediaStore

    done = [f"removed {path}" for path in MediaStore(settings.media_dir).sweep_staging()]
    with dg.DagsterInstance.get() as instance:
        done += _fail_unfinished_runs(instance, "its process ended before the run finished (killed?)")
    return done


def _fail_unfinished_runs(instance: Any, reason: str, this_process: bool = False) -> list[str]:
    """Mark failed the unfinished runs this machine ran in-process: those of processes no longer running,
    or (`this_process`) those of this very process, after Ctrl-C."""
    import dagster as dg

    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    mine = dg.RunsFilter(statuses=unfinished, tags={RUN_HOST_TAG: socket.gethostname()})
    done = []
    for run in instance.get_runs(filters=mine):
        pid = int(run.tags.get(RUN_PID_TAG, "0") or 0)
        if (pid == os.getpid()) == this_process and (this_process or not process_running(pid)):
            instance.report_run_failed(run, f"pellacia-dist (pid {pid}): {reason}")
            done.append(f"marked run {run.run_id} of story '{run.tags.get('dagster/partition', '?')}' failed")
    return done


def _outcome(key: str, result: Any, elapsed: float) -> JobOutcome:
    failed_checks = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    if result.success and not failed_checks:
        return JobOutcome(key, True, f"{elapsed:.1f} s")
    if failed_checks:
        return JobOutcome(key, False, f"blocked by failed checks: {', '.join(failed_checks)}")
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            message = event.step_failure_data.error.message.strip()
            return JobOutcome(key, False, f"step '{event.step_key}' failed: {message}")
    return JobOutcome(key, False, "the run failed; see the Dagster UI for its logs")


def produce(keys: Sequence[str], settings: Settings | None = None) -> list[JobOutcome]:
    """Run the production job for each story, after cleaning up what a killed run left behind."""
    for line in recover_after_crash(settings or Settings.from_env()):
        print(f"recovered: {line}", flush=True)
    return run_job("production", keys, "producing")


def video_files(settings: Settings, key: str) -> list[Path]:
    """The finished parts, as the video asset's manifest lists them."""
    from pellacia_assets.manifests import load_video
    from resources.media_store.store import MediaStore

    store = MediaStore(settings.media_dir)
    return [store.asset_dir(key, "video") / part.file for part in load_video(store, key).parts]


def report(settings: Settings, outcomes: list[JobOutcome]) -> int:
    for outcome in outcomes:
        print(f"{'OK' if outcome.ok else 'FAILED'} {outcome.key}: {outcome.detail}")
        if outcome.ok:
            for video in video_files(settings, outcome.key):
                print(f"    {video}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def report_interrupted(settings: Settings, stop: JobsInterrupted) -> int:
    """After Ctrl-C: what was finished, what was cut short, what never started; exit status 130."""
    print("\ninterrupted (Ctrl-C); what was finished:", flush=True)
    report(settings, stop.outcomes)
    for key in stop.not_started:
        print(f"NOT STARTED {key}")
    return 130


def cmd_story_add(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    key = add_story(settings, Path(args.file), args.key)
    print(f"added story '{key}'")
    if args.produce:
        return _produce_here_or_there(settings, [key])
    print(f"produce it with: pellacia-dist produce {key}")
    return 0


def cmd_story_list(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from pellacia_assets.editorial import list_stories
    from resources.database.engine import open_database

    factory = open_database(settings.database_url)
    stories, _total = list_stories(factory, approval="pending" if args.pending else None, limit=1_000_000)
    stories.reverse()  # oldest first, as they arrived
    if args.json:
        print(json.dumps([asdict(story) for story in stories], indent=2, default=str))
        return 0
    for story in stories:
        note = story.error or story.approval_note
        detail = f"  ({note})" if note else ""
        print(f"{story.key:40} {story.approval:9} {story.status:10} {story.title[:60]}{detail}")
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    require_approved(settings, args.keys)
    return _produce_here_or_there(settings, args.keys)


def _produce_here_or_there(settings: Settings, keys: Sequence[str]) -> int:
    """Submitted to the running `serve` (its run queue, pools and priorities decide when), else run here."""
    from pellacia_assets.cli.serve import running_serve
    from pellacia_assets.cli.submission import submit_stories

    address = running_serve(settings)
    if address is not None:
        return submit_stories(settings, address, "production", keys, "producing")
    try:
        return report(settings, produce(keys, settings))
    except JobsInterrupted as stop:
        return report_interrupted(settings, stop)


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """With `serve` running: the produced stories' posts queued for its dispatcher, which sends them in
    their slots. Otherwise the publishing job runs here (every platform at once, as asked) and the
    stories' queue rows are settled from the ledger, so the queue does not send them again."""
    from pellacia_assets.cli.serve import running_serve
    from pellacia_assets.cli.submission import queue_stories

    prepare(settings)
    address = running_serve(settings)
    if address is not None:
        return queue_stories(settings, address, args.keys)
    outcomes = run_job("publishing", args.keys, "publishing")
    settle_queue(settings, args.keys)
    for outcome in outcomes:
        print(f"{'OK' if outcome.ok else 'FAILED'} {outcome.key}: {outcome.detail}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def settle_queue(settings: Settings, keys: Sequence[str]) -> None:
    """Mark published the queue rows of these stories whose posts the ledger shows live (posts made
    here, outside the dispatcher)."""
    from pellacia_assets.posting.dispatch import DISPATCH_LOCK
    from resources.database.engine import locked_transaction, open_database
    from resources.database.post_queue import OPEN, rows, settle_from_ledger

    with locked_transaction(open_database(settings.database_url), DISPATCH_LOCK) as session:
        for key in keys:
            for row in rows(session, OPEN, story_key=key):
                settle_from_ledger(session, row)
