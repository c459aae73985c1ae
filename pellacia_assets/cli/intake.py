"""Stories that arrive by themselves, from the command line: `sources poll`, `story approve|reject|add-link`.

The same editorial services (`pellacia_assets/editorial.py`) serve the REST API and the editorial page.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from pellacia_assets.settings import Settings
from pellacia_assets.sources.base import SOURCE_NAMES


def register(commands: argparse._SubParsersAction, story_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `sources poll` and `story approve|reject|add-link` to the `pellacia-dist` parser."""
    sources = commands.add_parser("sources", help="the story sources (Reddit, feeds, video links)")
    source_commands = sources.add_subparsers(dest="sources_command", required=True)
    poll = source_commands.add_parser(
        "poll", help="poll the configured sources once now: what was added, what was skipped and why"
    )
    poll.add_argument("--source", choices=SOURCE_NAMES, help="one source (default: every configured one)")
    poll.add_argument("--json", action="store_true")
    poll.set_defaults(handler=cmd_sources_poll)

    approve = story_commands.add_parser("approve", help="approve a pending story: it is produced next")
    approve.add_argument("key")
    approve.add_argument("--json", action="store_true")
    approve.set_defaults(handler=cmd_story_approve)
    reject = story_commands.add_parser("reject", help="reject a pending story: it is never produced")
    reject.add_argument("key")
    reject.add_argument("--reason", required=True)
    reject.add_argument("--json", action="store_true")
    reject.set_defaults(handler=cmd_story_reject)
    link = story_commands.add_parser(
        "add-link", help="make a new short from a video link (downloaded, transcribed, rewritten)"
    )
    link.add_argument("url")
    link.add_argument("--json", action="store_true")
    link.set_defaults(handler=cmd_story_add_link)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def cmd_sources_poll(settings: Settings, args: argparse.Namespace) -> int:
    """Poll each source once; unconfigured sources are named as such (an error when asked for by name)."""
    from pellacia_assets.cli.production import prepare
    from pellacia_assets.sources.base import SourceConfigError, poll
    from pellacia_assets.sources.registry import source_named
    from resources.database.engine import open_database

    prepare(settings)
    factory = open_database(settings.database_url)
    results: list[dict[str, Any]] = []
    failed = False
    for name in [args.source] if args.source else SOURCE_NAMES:
        try:
            source = source_named(name)
        except SourceConfigError as error:
            if args.source:
                raise
            results.append({"source": name, "configured": False, "reason": str(error)})
            continue
        report = poll(source, factory)
        _register_partitions([admission.key for admission in report.added])
        failed = failed or report.error is not None
        results.append({"configured": True, **report.as_json()})
    if args.json:
        _print_json(results)
    else:
        for result in results:
            _print_poll(result)
    return 1 if failed else 0


def _register_partitions(keys: list[str]) -> None:
    if not keys:
        return
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", keys)


def _print_poll(result: dict[str, Any]) -> None:
    name = result["source"]
    if not result["configured"]:
        print(f"{name}: not configured ({result['reason']})")
        return
    if result["error"]:
        print(f"{name}: the poll failed: {result['error']}")
        return
    added, duplicates, skipped = result["added"], result["duplicates"], result["skipped"]
    print(f"{name}: {len(added)} added, {len(duplicates)} seen before, {len(skipped)} skipped")
    for item in added:
        print(f"  + {item['key']} ({item['approval']})")
    for item in duplicates:
        print(f"  = {item['key']}: {item['reason']}")
    for item in skipped:
        print(f"  - {item['ref']}: {item['reason']}")


def cmd_story_approve(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.editorial import approve_story
    from resources.database.engine import open_database

    story = approve_story(open_database(settings.database_url), args.key, by="cli")
    if args.json:
        _print_json(asdict(story))
    else:
        print(
            f"approved {story.key}: the approved_stories sensor produces it while `pellacia-dist serve` runs "
            f"(or now: pellacia-dist produce {story.key})"
        )
    return 0


def cmd_story_reject(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.editorial import reject_story
    from resources.database.engine import open_database

    story = reject_story(open_database(settings.database_url), args.key, args.reason, by="cli")
    if args.json:
        _print_json(asdict(story))
    else:
        print(f"rejected {story.key}: {story.approval_note}")
    return 0


def cmd_story_add_link(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.cli.production import prepare
    from pellacia_assets.editorial import add_link
    from resources.database.engine import open_database

    prepare(settings)
    admission = add_link(open_database(settings.database_url), args.url, by="cli")
    if admission.outcome == "added":
        _register_partitions([admission.key])
    if args.json:
        _print_json(asdict(admission))
    elif admission.outcome == "duplicate":
        print(f"{args.url} is already story {admission.same_as} ({admission.reason}); nothing added")
    elif admission.approval == "pending":
        print(f"added {admission.key}, waiting for approval: pellacia-dist story approve {admission.key}")
    else:
        print(f"added {admission.key}; produce it now with: pellacia-dist produce {admission.key}")
    return 0 if admission.outcome == "added" else 1
