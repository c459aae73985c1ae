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
    from pellacia_assets.publishing import publish_file
    from resources.platforms import parse_platforms

    platforms = parse_platforms(args.platform or args.platforms or "")
    hashtags = [tag for tag in (args.hashtags or "").split() if tag]
    log: Callable[[str], None] = (lambda line: print(line, file=sys.stderr)) if args.json else print
    results = publish_file(
        settings.database_url, platforms, Path(args.file), args.title, args.description or "", hashtags,
        args.allow_duplicate, log,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"results": [result.to_dict() for result in results]}, indent=2))
    else:
        for result in results:
            detail = result.url if result.status == "published" else result.error
            print(f"{result.platform:10} {result.status:10} {detail}")
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
    """Store an account's tokens encrypted: from the consent flow, or as JSON on standard input."""
    from resources.database.engine import open_database
    from resources.platforms import platform_named
    from resources.platforms.config import PlatformSettings
    from resources.platforms.credentials import DatabaseCredentialStore, load_key
    from resources.platforms.oauth import authorise

    platform = platform_named(args.platform)
    load_key()
    platform_settings = PlatformSettings.from_env(platform)
    if args.token_stdin:
        tokens = _tokens_from_stdin(platform)
    else:
        tokens = authorise(platform, platform_settings, args.port, _show_consent_page, args.authorize_url)
    DatabaseCredentialStore(open_database(settings.database_url)).save(
        platform, platform_settings.account, tokens
    )
    print(f"stored {platform} credentials for account '{platform_settings.account}' (encrypted)")
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
