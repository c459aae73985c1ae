"""Platform commands: `upload`, `analytics fetch`, `auth`, and `sandbox` for trying them locally."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pellacia_assets.settings import Settings

if TYPE_CHECKING:
    from resources.platforms.credentials import TokenSet


def cmd_upload(settings: Settings, args: argparse.Namespace) -> int:
    from pellacia_assets.publishing import UploadInterrupted, publish_file
    from pellacia_assets.stories.loading import strip_controls
    from resources.platforms import parse_platforms

    platforms = parse_platforms(args.platform or args.platforms or "")
    hashtags = [tag for tag in (args.hashtags or "").split() if tag]
    log: Callable[[str], None] = (lambda line: print(line, file=sys.stderr)) if args.json else print
    title, description = strip_controls(args.title), strip_controls(args.description or "")
    interrupted = False
    try:
        results = publish_file(
            settings.database_url, platforms, Path(args.file), title, description, hashtags,
            args.allow_duplicate, log, allow_silent=args.allow_silent,
        )  # fmt: skip
    except UploadInterrupted as stop:
        results, interrupted = stop.results, True
        print("pellacia-dist: interrupted; what was finished:", file=sys.stderr)
    if args.json:
        print(json.dumps({"results": [result.to_dict() for result in results]}, indent=2))
    else:
        for result in results:
            detail = result.url if result.status == "published" else result.error
            if result.already_published:
                detail = f"{detail} (published earlier by this same request)"
            print(f"{result.platform:10} {result.status:10} {detail}")
    if interrupted:
        return 130
    return 0 if all(result.status == "published" for result in results) else 1


def cmd_analytics_fetch(settings: Settings, args: argparse.Namespace) -> int:
    from resources.platforms import platform_named
    from resources.platforms.clients import client_from_env

    platform = platform_named(args.platform)
    metrics = client_from_env(platform, settings.database_url).metrics(args.post_id)
    fields = asdict(metrics)
    extra = fields.pop("extra")
    report: dict[str, Any] = {
        "platform": platform,
        "post_id": args.post_id,
        "metrics": {**fields, **{name: value for name, value in extra.items() if name not in fields}},
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report["metrics"].items():
            print(f"{name:24} {value}")
    return 0


def cmd_auth(settings: Settings, args: argparse.Namespace) -> int:
    """Store an account's tokens encrypted: from the consent flow, or as JSON on standard input.

    `auth rotate-key` instead re-encrypts every stored credential with the current key. Storing is refused
    while the table holds credentials under another key, before anyone is asked to consent.
    """
    from resources.database.engine import open_database
    from resources.platforms import platform_named
    from resources.platforms.config import PlatformSettings
    from resources.platforms.credentials import DatabaseCredentialStore, load_key
    from resources.platforms.oauth import authorise

    if args.platform.strip().lower() == "rotate-key":
        return _rotate_key(settings, args.forget_unreadable)
    platform = platform_named(args.platform)
    load_key()
    store = DatabaseCredentialStore(open_database(settings.database_url))
    store.check_key()
    platform_settings = PlatformSettings.from_env(platform)
    if args.token_stdin:
        tokens = _tokens_from_stdin(platform)
    else:
        tokens = authorise(platform, platform_settings, args.port, _show_consent_page, args.authorize_url)
    store.save(platform, platform_settings.account, tokens)
    print(f"stored {platform} credentials for account '{platform_settings.account}' (encrypted)")
    return 0


def _rotate_key(settings: Settings, forget_unreadable: bool) -> int:
    """Re-encrypt every stored credential under PELLACIA_SECRET_KEY, in one transaction. The old key comes
    from PELLACIA_OLD_SECRET_KEY, else the first line of standard input (asked without echo on a terminal)."""
    import getpass
    import os

    from resources.database.engine import open_database, transaction
    from resources.platforms.credentials import (
        OLD_SECRET_KEY_VARIABLE,
        SECRET_KEY_VARIABLE,
        CredentialKeyError,
        fernet_from,
        load_key,
        rotate_key,
    )

    new = load_key()
    given = os.environ.get(OLD_SECRET_KEY_VARIABLE, "").strip()
    source = OLD_SECRET_KEY_VARIABLE
    if not given:
        source = "the old key on standard input"
        if sys.stdin.isatty():
            given = getpass.getpass(f"the old {SECRET_KEY_VARIABLE} (Enter for none): ").strip()
        else:
            given = sys.stdin.readline().strip()
    if not given and not forget_unreadable:
        raise CredentialKeyError(
            f"give the old key in {OLD_SECRET_KEY_VARIABLE} or on standard input (or pass "
            "--forget-unreadable to delete what the current key cannot decrypt)"
        )
    old = fernet_from(given, source) if given else None
    with transaction(open_database(settings.database_url)) as session:
        done = rotate_key(session, old, new, forget_unreadable=forget_unreadable)
    print(
        f"re-encrypted {len(done.rotated)} stored credential(s) with the current key; "
        f"{len(done.current)} already used it"
        + (f"; deleted {len(done.forgotten)} that no key decrypts" if done.forgotten else "")
    )
    for platform, account in done.forgotten:
        print(f"  run `pellacia-dist auth {platform}` again for account '{account}'")
    return 0


def _tokens_from_stdin(platform: str) -> TokenSet:
    from resources.platforms.credentials import TokenSet
    from resources.platforms.errors import ErrorKind, PlatformError

    try:
        given = json.loads(sys.stdin.read())
        if "expires_in" in given:
            given["expires_at"] = time.time() + float(given.pop("expires_in"))
        return TokenSet.from_dict(given)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise PlatformError(
            platform,
            ErrorKind.AUTH,
            'standard input must be JSON: {"access_token": "...", "refresh_token": "...", "expires_in": N}',
        ) from error


def _show_consent_page(url: str) -> None:
    redirect = parse_qs(urlsplit(url).query).get("redirect_uri", ["?"])[0]
    print(f"Open this page in a browser and approve (redirect to register: {redirect}):", flush=True)
    print(f"  {url}", flush=True)


def cmd_sandbox(settings: Settings, _args: argparse.Namespace) -> int:
    from sandbox.platforms import serve_forever

    serve_forever(settings.home / "sandbox")
    return 0
