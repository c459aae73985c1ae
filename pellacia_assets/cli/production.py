"""Stories in, shorts out: `story add|list`, `produce`, `dev`, and the job runner the demo reuses."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import read_story_file


@dataclass(frozen=True)
class JobOutcome:
    key: str
    ok: bool
    detail: str


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


def run_job(job_name: str, keys: Sequence[str], verb: str) -> list[JobOutcome]:
    """Execute a job for each story partition in this process, recorded in the instance (the UI sees it)."""
    import dagster as dg

    from pellacia_assets.definitions import defs

    job = defs().resolve_job_def(job_name)
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        for index, key in enumerate(keys, start=1):
            print(f"\n=== [{index}/{len(keys)}] {verb} story '{key}' ===", flush=True)
            started = time.monotonic()
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
            outcomes.append(_outcome(key, result, time.monotonic() - started))
    return outcomes


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


def produce(keys: Sequence[str]) -> list[JobOutcome]:
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


def cmd_story_add(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    key = add_story(settings, Path(args.file), args.key)
    print(f"added story '{key}'")
    if args.produce:
        return report(settings, produce([key]))
    print(f"produce it with: pellacia-dist produce {key}")
    return 0


def cmd_story_list(settings: Settings, _args: argparse.Namespace) -> int:
    from resources.database.engine import open_database, transaction
    from resources.database.stories import list_stories

    with transaction(open_database(settings.database_url)) as session:
        for row in list_stories(session):
            error = f"  ({row.error})" if row.error else ""
            print(f"{row.key:40} {row.status:10} {row.title[:60]}{error}")
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    return report(settings, produce(args.keys))


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    outcomes = run_job("publishing", args.keys, "publishing")
    for outcome in outcomes:
        print(f"{'OK' if outcome.ok else 'FAILED'} {outcome.key}: {outcome.detail}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    """The Dagster UI and daemon on this factory's instance (Ctrl-C stops both)."""
    from pellacia_assets.instance import WORKSPACE_FILE

    prepare(settings)
    command = ["dagster", "dev", "-w", str(WORKSPACE_FILE), "-h", args.host, "-p", str(args.port)]
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}; UI on http://{args.host}:{args.port}", flush=True)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.call(command, cwd=WORKSPACE_FILE.parent, env=env)
