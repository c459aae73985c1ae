"""`pellacia-dist test alerts`: send a test message to every configured alert channel, say which worked.

`test` is a group: each `test <thing>` checks that one configured service answers, and registers itself
through `test_commands` (`test vpn`, `test browser` too).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from datetime import UTC, datetime
from typing import TypeAlias

from pellacia_assets.settings import Settings
from resources.alerts.config import EMAIL_VARIABLES, TELEGRAM_VARIABLES, AlertConfigError, alerter_from_env

SubCommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(commands: SubCommands) -> None:
    """Add `test alerts` to the `pellacia-dist` parser (see `cli.build_parser`)."""
    alerts = test_commands(commands).add_parser(
        "alerts", help="send a test message to every configured alert channel (Telegram, email)"
    )
    alerts.add_argument("--json", action="store_true", help="print each channel's outcome as JSON")
    alerts.set_defaults(handler=cmd_test_alerts)


def test_commands(commands: SubCommands) -> SubCommands:
    """The subcommands of `pellacia-dist test`, the group made on first use; `test <thing>` adds itself."""
    group = commands.choices.get("test")
    if group is None:
        group = commands.add_parser("test", help="check a configured service: alerts, vpn, browser")
        group.add_subparsers(dest="test_command", required=True)
    return next(action for action in group._actions if isinstance(action, argparse._SubParsersAction))


def cmd_test_alerts(_settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every configured channel delivered, 1 when one failed, 2 when none is configured."""
    try:
        alerter = alerter_from_env()
    except AlertConfigError as error:
        return _refused(str(error))
    if not alerter.channels:
        return _refused(
            "no alert channel is configured: set "
            + " and ".join(TELEGRAM_VARIABLES)
            + " for Telegram, or "
            + ", ".join(EMAIL_VARIABLES)
            + " for email"
        )
    now = datetime.now(UTC)
    outcome = alerter.send(
        "Pellacia test alert\n"
        f"Sent by `pellacia-dist test alerts` on {socket.gethostname()} at {now:%Y-%m-%d %H:%M:%S} UTC: "
        "alerts reach this channel."
    )
    if args.json:
        report = {
            name: {"status": "delivered"} if reason is None else {"status": "failed", "error": reason}
            for name, reason in outcome.items()
        }
        print(json.dumps({"channels": report}, indent=2))
    else:
        for name, reason in outcome.items():
            print(f"{name}: delivered" if reason is None else f"{name}: failed ({reason})")
    return 0 if all(reason is None for reason in outcome.values()) else 1


def _refused(reason: str) -> int:
    print(f"pellacia-dist: {reason}", file=sys.stderr)
    return 2
