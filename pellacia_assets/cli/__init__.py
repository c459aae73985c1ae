"""`pellacia-dist`: the operator's command line around the Dagster code location."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence

from pellacia_assets.cli import alerts as alerts_cli
from pellacia_assets.cli import analytics as analytics_cli
from pellacia_assets.cli import api as api_cli
from pellacia_assets.cli import browser as browser_cli
from pellacia_assets.cli import intake as intake_cli
from pellacia_assets.cli import manual as manual_cli
from pellacia_assets.cli import queue as queue_cli
from pellacia_assets.cli import vpn as vpn_cli
from pellacia_assets.cli.demo import SAMPLES_DIR, cmd_demo
from pellacia_assets.cli.platforms import cmd_auth, cmd_sandbox, cmd_upload
from pellacia_assets.cli.production import (
    add_story,
    cmd_produce,
    cmd_publish,
    cmd_story_add,
    cmd_story_list,
)
from pellacia_assets.cli.serve import ServeError, cmd_serve
from pellacia_assets.observability.logs import logging_configured
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import StoryError

__all__ = ["SAMPLES_DIR", "add_story", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pellacia-dist", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="produce the sample stories and publish them to the local sandbox"
    )
    demo.add_argument("--no-publish", action="store_true", help="produce only")
    demo.set_defaults(handler=cmd_demo)

    story = commands.add_parser("story", help="add or list stories")
    story_commands = story.add_subparsers(dest="story_command", required=True)
    add = story_commands.add_parser("add", help="add a .txt, .md or .json story file")
    add.add_argument("file")
    add.add_argument("--key", help="partition key (default: file-<name>)")
    add.add_argument("--produce", action="store_true", help="produce the short right away")
    add.set_defaults(handler=cmd_story_add)
    listing = story_commands.add_parser("list", help="list stories, their approval and status")
    listing.add_argument("--pending", action="store_true", help="only the stories waiting for approval")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_story_list)

    produce = commands.add_parser("produce", help="materialise story -> video for story keys")
    produce.add_argument("keys", nargs="+")
    produce.set_defaults(handler=cmd_produce)

    publish = commands.add_parser("publish", help="publish produced stories to every configured platform")
    publish.add_argument("keys", nargs="+")
    publish.set_defaults(handler=cmd_publish)

    upload = commands.add_parser("upload", help="publish one video file to platforms now")
    target = upload.add_mutually_exclusive_group(required=True)
    target.add_argument("--platforms", help="comma-separated platforms, or 'all'")
    target.add_argument("--platform", help="one platform")
    upload.add_argument("--file", required=True)
    upload.add_argument("--title", required=True)
    upload.add_argument("--description")
    upload.add_argument("--hashtags", help='space-separated, e.g. "#a #b"')
    upload.add_argument("--json", action="store_true", help="print the results as JSON")
    upload.add_argument("--allow-duplicate", action="store_true", help="post a video already posted")
    upload.add_argument(
        "--allow-silent",
        action="store_true",
        help="publish a video without an audio track where the platform allows it (a warning)",
    )
    upload.add_argument(
        "--force-vpn-fallback",
        action="store_true",
        help="skip the direct layers of the fallback chain: publish through a VPN/proxy exit "
        "(the API, then the browser)",
    )
    upload.add_argument(
        "--test",
        action="store_true",
        help="a dry run: check the file, the words, the credentials, the exits and the browser session; "
        "nothing is posted or queued",
    )
    upload.set_defaults(handler=cmd_upload)

    auth = commands.add_parser(
        "auth",
        help="authorise a platform account and store its tokens encrypted; `auth rotate-key` re-encrypts "
        "every stored credential with the current PELLACIA_SECRET_KEY",
    )
    auth.add_argument(
        "platform",
        metavar="PLATFORM|rotate-key",
        help="the platform to authorise, or rotate-key (the old key from PELLACIA_OLD_SECRET_KEY or stdin)",
    )
    auth.add_argument(
        "--port", type=int, default=8765, help="redirect port: register http://127.0.0.1:PORT/callback"
    )
    auth.add_argument("--authorize-url", help="the consent page, when not the platform's default")
    auth.add_argument(
        "--token-stdin",
        action="store_true",
        help='read {"access_token", "refresh_token", "expires_in"} from stdin',
    )
    auth.add_argument(
        "--forget-unreadable",
        action="store_true",
        help="rotate-key: delete credentials that neither key decrypts (their accounts need auth again)",
    )
    auth.set_defaults(handler=cmd_auth)

    sandbox = commands.add_parser(
        "sandbox", help="serve the six platform sandboxes, a Reddit and a news site locally until Ctrl-C"
    )
    sandbox.set_defaults(handler=cmd_sandbox)

    serve = commands.add_parser(
        "serve",
        aliases=["dev"],
        help="run the Dagster webserver and daemon for $PELLACIA_HOME until Ctrl-C or SIGTERM",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(handler=cmd_serve)

    analytics_cli.register(commands)
    queue_cli.register(commands, story_commands, upload)
    manual_cli.register(commands)
    alerts_cli.register(commands)
    vpn_cli.register(commands)
    browser_cli.register(commands)
    intake_cli.register(commands, story_commands)
    api_cli.register(commands)
    return parser


def _operator_errors() -> tuple[type[Exception], ...]:
    """Failures whose message is the whole story for the operator: printed as one line, exit status 2."""
    from pellacia_assets.delivery.sidecar import DeliveryError
    from pellacia_assets.observability.logs import LogConfigError
    from pellacia_assets.posting.policy import PolicyError
    from pellacia_assets.rendering.errors import MediaError
    from pellacia_assets.sources.base import SourceConfigError
    from pellacia_assets.sources.links import LinkError
    from resources.alerts.config import AlertConfigError
    from resources.database.engine import DatabaseError
    from resources.database.intake import ApprovalError
    from resources.database.ledger import DuplicateVideoError
    from resources.database.manual import ManualError
    from resources.database.post_queue import QueueError
    from resources.platforms import UnknownPlatformError
    from resources.platforms.credentials import CredentialKeyError
    from resources.platforms.errors import PlatformError
    from resources.tts.base import TTSError

    return (
        StoryError,
        ServeError,
        MediaError,
        UnknownPlatformError,
        CredentialKeyError,
        DatabaseError,
        DuplicateVideoError,
        PlatformError,
        TTSError,
        DeliveryError,
        PolicyError,
        AlertConfigError,
        QueueError,
        ManualError,
        ApprovalError,
        SourceConfigError,
        LogConfigError,
        LinkError,
        *analytics_cli.errors(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever goes wrong the operator gets one line, never a traceback: the operator
    errors above and the system's (a full disk, a file that cannot be read) exit 2, Ctrl-C exits 130 after
    saying what was finished, and a reader that stops early (`story list | head`) ends the output quietly."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    handled = _operator_errors()
    try:
        with logging_configured(default_level="WARNING"):
            code: int = args.handler(settings, args)
        sys.stdout.flush()
    except BrokenPipeError:
        return _output_closed()
    except KeyboardInterrupt:
        print("pellacia-dist: interrupted", file=sys.stderr)
        return 130
    except handled as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(_system_reason(error))
    except Exception as error:
        database_reason = _database_reason(error)
        if database_reason is None:
            raise
        return _fail(database_reason)
    return code


def _fail(reason: str) -> int:
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    text = " ".join(line for line in lines if not line.startswith("(Background on this error"))
    print(f"pellacia-dist: {text or 'failed'}", file=sys.stderr)
    return 2


def _system_reason(error: OSError) -> str:
    """An OSError in words: what failed, on which file, and what to do for a full disk."""
    what = error.strerror or str(error)
    where = f": {error.filename}" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"cannot write{where}: {what} (free some space, or raise the file size limit)"
    return f"{what}{where}"


def _database_reason(error: Exception) -> str | None:
    """A database that cannot be written or reached (SQLAlchemy's OperationalError, from our tables or the
    Dagster instance's): one line; None for anything else."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(error, OperationalError):
        return None
    detail = str(error.orig) if error.orig is not None else str(error)
    hint = " (is the disk full?)" if "full" in detail or "I/O" in detail else ""
    return f"the database failed: {detail}{hint}"


def _output_closed() -> int:
    """Whoever read our output stopped reading (`| head`): stop quietly, as a killed-by-SIGPIPE tool does.

    Standard output is pointed at /dev/null so that Python's final flush cannot complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor behind sys.stdout
        pass
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
