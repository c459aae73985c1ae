"""`pellacia-dist`: the operator's command line around the Dagster code location."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import StoryError, read_story_file

SAMPLES_DIR = Path(__file__).parent / "stories" / "samples"


class CliError(RuntimeError):
    """A refusal the CLI prints as one line and turns into exit status 2."""


def _prepare(settings: Settings) -> None:
    from pellacia_assets.instance import prepare_dagster_home

    prepare_dagster_home(settings)


def add_story(settings: Settings, path: Path, key: str | None = None) -> str:
    """Validate a story file, save its source record and register its partition; returns the key."""
    import dagster as dg

    from pellacia_assets.stories.normalise import normalise
    from resources.database import open_database
    from resources.database.engine import transaction
    from resources.database.stories import save_source
    from resources.tts import make_engine

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


def produce(settings: Settings, keys: Sequence[str]) -> list[tuple[str, bool, str]]:
    """Materialise the production job for each story, in this process, recorded in the instance."""
    import dagster as dg

    from pellacia_assets.definitions import defs

    job = defs().resolve_job_def("production")
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        for index, key in enumerate(keys, start=1):
            print(f"\n=== [{index}/{len(keys)}] producing story '{key}' ===", flush=True)
            started = time.monotonic()
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
            elapsed = time.monotonic() - started
            failed_checks = [
                evaluation.check_name
                for evaluation in result.get_asset_check_evaluations()
                if not evaluation.passed
            ]
            ok = result.success and not failed_checks
            if ok:
                detail = f"{elapsed:.1f} s"
            elif failed_checks:
                detail = f"blocked by failed checks: {', '.join(failed_checks)}"
            else:
                detail = _failure_reason(result)
            outcomes.append((key, ok, detail))
    return outcomes


def _failure_reason(result: object) -> str:
    import dagster as dg

    assert isinstance(result, dg.ExecuteInProcessResult)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return f"step '{event.step_key}' failed: {event.step_failure_data.error.message.strip()}"
    return "the run failed; see the Dagster UI for its logs"


def _print_videos(settings: Settings, key: str) -> None:
    folder = settings.media_dir / key / "video"
    for video in sorted(folder.glob("part-*.mp4")):
        print(f"    {video}")


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    _prepare(settings)
    print(f"Pellacia demo: producing the bundled sample stories into {settings.home}")
    keys = [add_story(settings, path) for path in sorted(SAMPLES_DIR.iterdir()) if path.is_file()]
    outcomes = produce(settings, keys)
    print("\n=== results ===")
    for key, ok, detail in outcomes:
        print(f"  {'OK ' if ok else 'FAILED'} {key}: {detail}")
        if ok:
            _print_videos(settings, key)
    print(
        "\nOpen the Dagster UI on these results:\n"
        f"  PELLACIA_HOME={settings.home} pellacia-dist dev   # then browse http://127.0.0.1:3000/assets"
    )
    return 0 if all(ok for _key, ok, _detail in outcomes) else 1


def cmd_story_add(settings: Settings, args: argparse.Namespace) -> int:
    _prepare(settings)
    key = add_story(settings, Path(args.file), args.key)
    print(f"added story '{key}'")
    if args.produce:
        return _report(settings, produce(settings, [key]))
    print(f"produce it with: pellacia-dist produce {key}")
    return 0


def cmd_story_list(settings: Settings, _args: argparse.Namespace) -> int:
    from resources.database import open_database
    from resources.database.engine import transaction
    from resources.database.stories import list_stories

    with transaction(open_database(settings.database_url)) as session:
        for row in list_stories(session):
            error = f"  ({row.error})" if row.error else ""
            print(f"{row.key:40} {row.status:10} {row.title[:60]}{error}")
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    _prepare(settings)
    return _report(settings, produce(settings, args.keys))


def _report(settings: Settings, outcomes: list[tuple[str, bool, str]]) -> int:
    for key, ok, detail in outcomes:
        print(f"{'OK' if ok else 'FAILED'} {key}: {detail}")
        if ok:
            _print_videos(settings, key)
    return 0 if all(ok for _key, ok, _detail in outcomes) else 1


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    """The Dagster UI and daemon on this factory's instance (Ctrl-C stops both)."""
    from pellacia_assets.instance import WORKSPACE_FILE

    _prepare(settings)
    command = ["dagster", "dev", "-w", str(WORKSPACE_FILE), "-h", args.host, "-p", str(args.port)]
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}; UI on http://{args.host}:{args.port}", flush=True)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.call(command, cwd=WORKSPACE_FILE.parent, env=env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pellacia-dist", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="produce the bundled sample stories end to end")
    demo.set_defaults(handler=cmd_demo)

    story = commands.add_parser("story", help="add or list stories")
    story_commands = story.add_subparsers(dest="story_command", required=True)
    add = story_commands.add_parser("add", help="add a .txt, .md or .json story file")
    add.add_argument("file")
    add.add_argument("--key", help="partition key (default: file-<name>)")
    add.add_argument("--produce", action="store_true", help="produce the short right away")
    add.set_defaults(handler=cmd_story_add)
    listing = story_commands.add_parser("list", help="list stories and their status")
    listing.set_defaults(handler=cmd_story_list)

    produce_parser = commands.add_parser("produce", help="materialise story -> video for story keys")
    produce_parser.add_argument("keys", nargs="+")
    produce_parser.set_defaults(handler=cmd_produce)

    dev = commands.add_parser("dev", help="start the Dagster UI and daemon on this instance")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=cmd_dev)
    return parser


def _operator_errors() -> tuple[type[Exception], ...]:
    """Failures whose message is the whole story for the operator: printed as one line, exit status 2."""
    from resources.database.crypto import CredentialKeyError
    from resources.database.engine import DatabaseError
    from resources.tts.base import TTSError

    return (CredentialKeyError, DatabaseError, TTSError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    handled: tuple[type[Exception], ...] = (StoryError, CliError, *_operator_errors())
    try:
        code: int = args.handler(settings, args)
    except handled as error:
        print(f"pellacia-dist: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
