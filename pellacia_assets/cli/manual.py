"""The manual queue from the command line: `manual list`, `manual export`, `manual resolve`.

What automation could not post waits here with its reason; `export` lays out a folder to post it by hand
and `resolve` records the post made (the publish ledger then never posts it again) and closes the alert.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pellacia_assets.settings import Settings

if TYPE_CHECKING:
    from resources.database.models import ManualQueueItem


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `manual list|export|resolve` to the `pellacia-dist` parser (see `cli.build_parser`)."""
    manual = commands.add_parser(
        "manual", help="posts and files automation could not finish: list, export to do by hand, resolve"
    )
    manual_commands = manual.add_subparsers(dest="manual_command", required=True)
    listing = manual_commands.add_parser("list", help="open entries (with --all the resolved ones too)")
    listing.add_argument("--all", action="store_true", help="resolved entries too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_manual_list)
    export = manual_commands.add_parser(
        "export", help="a folder with the video, its exact copy and step-by-step instructions"
    )
    export.add_argument("--id", type=int, required=True)
    export.add_argument("--to", help="the folder to write (default $PELLACIA_HOME/manual/<id>)")
    export.set_defaults(handler=cmd_manual_export)
    resolve = manual_commands.add_parser(
        "resolve", help="record the post made by hand (or a fixed file) and close the entry and its alert"
    )
    resolve.add_argument("--id", type=int, required=True)
    resolve.add_argument(
        "--post-url", help="the address of the live post (required for a post, not for a quarantined file)"
    )
    resolve.add_argument("--json", action="store_true")
    resolve.set_defaults(handler=cmd_manual_resolve)


def _refused(reason: str) -> int:
    """A command that cannot apply (unknown id, resolved twice, a bad URL): one line, exit status 2."""
    print(f"pellacia-dist: {reason}", file=sys.stderr)
    return 2


def entry_dict(entry: ManualQueueItem) -> dict[str, Any]:
    """An entry as `--json` prints it."""
    from resources.database.models import as_utc

    def moment(value: Any) -> str | None:
        return None if value is None else as_utc(value).isoformat()

    return {
        "id": entry.id,
        "reason": entry.reason,
        "status": entry.status,
        "story_key": entry.story_key,
        "part": entry.part,
        "platform": entry.platform,
        "account": entry.account,
        "detail": entry.detail,
        "queue_id": entry.queue_id,
        "ledger_id": entry.ledger_id,
        "run_id": entry.run_id,
        "source_path": entry.source_path,
        "export_path": entry.export_path,
        "resolved_url": entry.resolved_url,
        "created_at": moment(entry.created_at),
        "resolved_at": moment(entry.resolved_at),
    }


def cmd_manual_list(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.manual_queue import describe
    from resources.database.engine import open_database, transaction
    from resources.database.manual import list_entries

    with transaction(open_database(settings.database_url)) as session:
        entries = list_entries(session, "all" if args.all else "open")
    if args.json:
        print(json.dumps({"entries": [entry_dict(entry) for entry in entries]}, indent=2))
        return 0
    if not entries:
        print("the manual queue is empty" if args.all else "no open manual entries")
        return 0
    for entry in entries:
        first_line = (entry.detail.splitlines() or [""])[0]
        detail = first_line if len(first_line) <= 100 else first_line[:99] + "…"
        print(f"{entry.id:>5}  {entry.status:8}  {entry.reason:17}  {describe(entry)}")
        print(f"       {entry.resolved_url or detail}")
    return 0


def cmd_manual_export(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.manual_export import INSTRUCTIONS_FILE, export_entry
    from resources.database.engine import open_database, transaction
    from resources.database.manual import ManualError, get_entry
    from resources.media_store.store import MediaStore

    to_dir = Path(args.to).expanduser().resolve() if args.to else settings.home / "manual" / str(args.id)
    try:
        with transaction(open_database(settings.database_url)) as session:
            folder = export_entry(
                session, MediaStore(settings.media_dir), get_entry(session, args.id), to_dir
            )
    except ManualError as error:
        return _refused(str(error))
    print(f"manual entry {args.id} exported to {folder}; follow {folder / INSTRUCTIONS_FILE}")
    return 0


def cmd_manual_resolve(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.manual_queue import describe, resolve_manual
    from resources.alerts.config import alerter_from_env
    from resources.database.engine import open_database
    from resources.database.manual import ManualError
    from resources.media_store.store import MediaStore

    factory = open_database(settings.database_url)
    try:
        entry = resolve_manual(
            factory, alerter_from_env(), args.id, args.post_url, store=MediaStore(settings.media_dir)
        )
    except ManualError as error:
        return _refused(str(error))
    if args.json:
        print(json.dumps(entry_dict(entry), indent=2))
    elif entry.resolved_url:
        print(f"manual entry {entry.id} resolved: {describe(entry)} is live at {entry.resolved_url}")
    else:
        print(f"manual entry {entry.id} resolved: {describe(entry)} handled")
    return 0
