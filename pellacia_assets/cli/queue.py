"""The posting queue from the command line: `queue status|clear|retry`, `schedule [list|cancel]` (and the
file form `schedule --platforms --file --at`, in `submission.py`), `story flag KEY --breaking`, and the
`--priority`/`--wait` options of `upload`.

Every command reads and writes the same rows as the dispatcher sensor, so what it shows is what the
factory will do; `--json` prints the same facts for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pellacia_assets.settings import Settings

if TYPE_CHECKING:
    from pellacia_assets.posting.policy import PostingPolicy
    from resources.database.models import QueuedPost

LANE_CHOICES = ("breaking", "normal", "backlog")
CLEARABLE = ("failed", "cancelled", "published", "manual")
SCHEDULE_FILE_OPTIONS = (
    "platforms",
    "file",
    "at",
    "timezone",
    "title",
    "description",
    "hashtags",
    "priority",
)


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    story_commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    upload_parser: argparse.ArgumentParser,
) -> None:
    """Add the queue's commands to the `pellacia-dist` parser (see `cli.build_parser`)."""
    queue = commands.add_parser("queue", help="the posting queue: status per account, clear, retry")
    queue_commands = queue.add_subparsers(dest="queue_command", required=True)
    status = queue_commands.add_parser(
        "status", help="per account: next slot and why, queued by lane, published today vs cap, last error"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_queue_status)
    clear = queue_commands.add_parser("clear", help="delete the queue's rows in one final state")
    clear.add_argument("--status", required=True, choices=CLEARABLE)
    clear.add_argument("--json", action="store_true")
    clear.set_defaults(handler=cmd_queue_clear)
    retry = queue_commands.add_parser("retry", help="queue a failed, manual or cancelled post again")
    retry.add_argument("--id", type=int, required=True)
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(handler=cmd_queue_retry)

    schedule = commands.add_parser(
        "schedule",
        help="schedule a video file (--platforms --file --at), list scheduled posts, or cancel one",
        description="`schedule --platforms P,..|all --file video.mp4 --at '2026-12-27 14:00' [--timezone "
        "ZONE]` queues a video; `schedule list` shows the posts not yet out; `schedule cancel --id ID`.",
    )
    schedule.add_argument("action", nargs="?", choices=("list", "cancel"), help="omit to schedule a file")
    schedule.add_argument("--id", type=int, help="the queued post to cancel")
    schedule.add_argument("--platforms", help="comma-separated platforms, or 'all'")
    schedule.add_argument("--file", help="the finished video to post")
    schedule.add_argument("--at", help="local date and time, e.g. '2026-12-27 14:00'")
    schedule.add_argument("--timezone", help="an IANA zone (default PELLACIA_TIMEZONE)")
    schedule.add_argument("--title")
    schedule.add_argument("--description")
    schedule.add_argument("--hashtags", help='space-separated, e.g. "#a #b"')
    schedule.add_argument("--priority", choices=LANE_CHOICES, help="the lane (default normal)")
    schedule.add_argument("--json", action="store_true")
    schedule.set_defaults(handler=cmd_schedule)

    flag = story_commands.add_parser("flag", help="raise a story to breaking news: its posts jump the queue")
    flag.add_argument("key")
    flag.add_argument("--breaking", action="store_true", required=True)
    flag.add_argument("--json", action="store_true")
    flag.set_defaults(handler=cmd_story_flag)

    upload_parser.add_argument(
        "--priority",
        choices=LANE_CHOICES,
        help="queue the post in this lane and respect each account's gap (breaking: no gap)",
    )
    upload_parser.add_argument(
        "--wait", action="store_true", help="block until every named platform is published or failed"
    )


def _refuse(reason: str) -> int:
    print(f"pellacia-dist: {reason}", file=sys.stderr)
    return 2


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def cmd_queue_status(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.posting.status import account_status
    from resources.database.engine import open_database, transaction

    policy = PostingPolicy.from_env()
    with transaction(open_database(settings.database_url)) as session:
        statuses = account_status(session, policy, datetime.now(UTC))
    quiet = policy.quiet_hours
    settings_line = {
        "timezone": str(policy.timezone),
        "gap_s": policy.gap_s,
        "jitter_s": policy.jitter_s,
        "quiet_hours": f"{quiet.start:%H:%M}-{quiet.end:%H:%M}" if quiet else None,
    }
    if args.json:
        _print_json({**settings_line, "accounts": [status.to_dict() for status in statuses]})
        return 0
    gap = "off" if policy.gap_s <= 0 else f"{policy.gap_s:g} s + up to {policy.jitter_s:g} s jitter"
    print(f"gap {gap}; quiet hours {settings_line['quiet_hours'] or 'none'}; times in {policy.timezone}")
    for status in statuses:
        lanes = " ".join(f"{lane} {count}" for lane, count in status.queued.items())
        why = f" ({status.next_slot_reason})" if status.next_slot_reason else ""
        busy = f", publishing queued post {status.publishing}" if status.publishing is not None else ""
        slot = _clock(status.next_slot, policy.timezone)
        print(
            f"{status.platform}/{status.account}: next slot {slot}{why}; queued {lanes}; "
            f"published today {status.published_today}/{status.daily_cap}{busy}"
        )
        if status.last_error:
            print(f"  last error: {status.last_error}")
    return 0


def cmd_queue_clear(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.posting.dispatch import DISPATCH_LOCK
    from resources.database.engine import locked_transaction, open_database
    from resources.database.post_queue import clear

    with locked_transaction(open_database(settings.database_url), DISPATCH_LOCK) as session:
        cleared = clear(session, args.status)
    if args.json:
        _print_json({"status": args.status, "cleared": cleared})
    else:
        print(f"cleared {cleared} {args.status} post{'s' if cleared != 1 else ''} from the queue")
    return 0


def cmd_queue_retry(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.posting.dispatch import DISPATCH_LOCK
    from pellacia_assets.posting.policy import PostingPolicy
    from resources.database.engine import locked_transaction, open_database
    from resources.database.post_queue import retry

    policy = PostingPolicy.from_env()
    with locked_transaction(open_database(settings.database_url), DISPATCH_LOCK) as session:
        row = _row_dict(retry(session, args.id), policy)
    if args.json:
        _print_json(row)
    else:
        print(
            f"queued post {row['id']} ({row['story']} part {row['part']} on {row['platform']}) queued again"
        )
    return 0


def cmd_schedule(settings: Settings, args: argparse.Namespace) -> int:
    file_options = [f"--{name}" for name in SCHEDULE_FILE_OPTIONS if getattr(args, name) is not None]
    if args.action is not None and file_options:
        return _refuse(f"`schedule {args.action}` takes no {', '.join(file_options)}")
    if args.action == "list":
        return _schedule_list(settings, args)
    if args.action == "cancel":
        if args.id is None:
            return _refuse("`schedule cancel` needs --id ID (`pellacia-dist schedule list` shows them)")
        return _schedule_cancel(settings, args)
    if args.id is not None:
        return _refuse("--id goes with `schedule cancel`")
    missing = [f"--{name}" for name in ("platforms", "file", "at") if getattr(args, name) is None]
    if missing:
        return _refuse(f"schedule needs {', '.join(missing)} (or `schedule list`, `schedule cancel --id ID`)")
    from pellacia_assets.cli.submission import cmd_schedule_add

    code: int = cmd_schedule_add(settings, args)
    return code


def _schedule_list(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.posting.policy import PostingPolicy
    from resources.database.engine import open_database, transaction
    from resources.database.post_queue import rows

    policy = PostingPolicy.from_env()
    with transaction(open_database(settings.database_url)) as session:
        listed = [
            _row_dict(row, policy)
            for row in rows(session, ("queued", "due", "publishing", "failed", "manual"))
        ]
    if args.json:
        _print_json({"timezone": str(policy.timezone), "posts": listed})
        return 0
    if not listed:
        print("no posts waiting; `pellacia-dist schedule --platforms ... --file ... --at ...` adds one")
        return 0
    header = (
        "id",
        "story",
        "part",
        "platform",
        "account",
        "lane",
        f"not before ({policy.timezone})",
        "state",
    )
    table = [
        [
            str(row["id"]),
            row["story"],
            f"{row['part']}/{row['parts']}",
            row["platform"],
            row["account"],
            row["lane"],
            row["not_before_local"],
            row["state"],
        ]
        for row in listed
    ]
    widths = [max(len(line[column]) for line in [list(header), *table]) for column in range(len(header))]
    for line in [list(header), *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0


def _schedule_cancel(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.posting.dispatch import DISPATCH_LOCK
    from pellacia_assets.posting.policy import PostingPolicy
    from resources.database.engine import locked_transaction, open_database
    from resources.database.post_queue import cancel

    policy = PostingPolicy.from_env()
    with locked_transaction(open_database(settings.database_url), DISPATCH_LOCK) as session:
        row = _row_dict(cancel(session, args.id), policy)
    if args.json:
        _print_json(row)
    else:
        print(f"cancelled queued post {row['id']} ({row['story']} part {row['part']} on {row['platform']})")
    return 0


def cmd_story_flag(settings: Settings, args: argparse.Namespace) -> int:
    """Breaking news: the story's waiting posts move to the breaking lane, and posts queued later for it
    (when its production finishes) start there."""
    from pellacia_assets.editorial import flag_breaking
    from resources.database.engine import open_database
    from resources.database.intake import ApprovalError
    from resources.database.post_queue import QueueError

    try:
        _story, moved = flag_breaking(open_database(settings.database_url), args.key, by="cli")
    except ApprovalError as error:
        raise QueueError(str(error)) from None
    if args.json:
        _print_json({"story": args.key, "priority": "breaking", "moved": moved})
    else:
        print(
            f"story {args.key} is breaking news: {len(moved)} waiting post{'s' if len(moved) != 1 else ''} "
            "moved to the breaking lane"
        )
    return 0


def _row_dict(row: QueuedPost, policy: PostingPolicy) -> dict[str, Any]:
    from resources.database.models import as_utc

    not_before = as_utc(row.not_before)
    return {
        "id": row.id,
        "story": row.story_key,
        "part": row.part,
        "parts": row.parts,
        "platform": row.platform,
        "account": row.account,
        "lane": row.lane,
        "not_before": not_before.isoformat(),
        "not_before_local": _clock(not_before, policy.timezone),
        "state": row.state,
        "dispatches": row.dispatches,
        "ledger_id": row.ledger_id,
        "last_error": row.last_error,
    }
