"""Platform commands: `upload`, `auth`, and `sandbox` for trying them locally."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from pellacia_assets.settings import Settings

if TYPE_CHECKING:
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.publishing import Paths, PublishResult, UploadRequest, UploadTarget
    from resources.platforms.credentials import TokenSet


def cmd_upload(settings: Settings, args: argparse.Namespace) -> int:
    """One file to each named platform, each account in its turn: what its slot allows now goes out now
    (everything with `--priority breaking`, which only a platform's own daily limit holds back), the rest
    is queued for the account's next free slot and sent then by `serve`'s dispatcher, or by this command
    with `--wait`. With `serve` running, everything goes through its queue."""
    from pellacia_assets.cli.serve import running_serve
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.publishing import Paths, UploadInterrupted, queue_upload, upload_request
    from pellacia_assets.stories.loading import strip_controls
    from resources.database.engine import open_database
    from resources.database.post_queue import lane_named
    from resources.platforms import parse_platforms

    platforms = parse_platforms(args.platform or args.platforms or "")
    lane = lane_named(args.priority or "normal")
    policy = PostingPolicy.from_env()
    hashtags = [tag for tag in (args.hashtags or "").split() if tag]
    out = sys.stderr if args.json else sys.stdout
    log: Callable[[str], None] = (lambda line: print(line, file=sys.stderr)) if args.json else print
    title, description = strip_controls(args.title), strip_controls(args.description or "")
    request = upload_request(
        Path(args.file), title, description, hashtags,
        allow_duplicate=args.allow_duplicate, allow_silent=args.allow_silent, log=log,
    )  # fmt: skip
    if args.test:
        from pellacia_assets.cli.preflight import print_preflight
        from pellacia_assets.preflight import preflight

        checks = {
            str(platform): preflight(platform, request.post, settings.database_url, settings.home)
            for platform in platforms
        }
        return print_preflight(checks, args.json)
    address = running_serve(settings)
    if args.force_vpn_fallback and address is not None:
        print(
            "pellacia-dist: --force-vpn-fallback publishes from this process, but `pellacia-dist serve` runs "
            f"on this home ({address}) and sends its posts; stop it, or set PELLACIA_<PLATFORM>_FALLBACK "
            "to the exit layers for serve to use",
            file=sys.stderr,
        )
        return 2
    targets = queue_upload(open_database(settings.database_url), request, platforms, policy, lane=lane)
    for target in targets if args.wait else ():  # said now, as the command waits; the report comes later
        if target.waits and target.state != "published":
            log(f"{target.platform}: queued: goes out at {_local(policy, target.slot)} ({target.reason})")
    interrupted, extra = False, dict[str, object]()
    try:
        if address is None:
            paths = Paths(settings.database_url, settings.home, args.force_vpn_fallback)
            results = _upload_here(paths, settings, request, targets, policy, lane, args.wait, log, out)
        else:
            results, extra = _upload_through_serve(settings, address, request, targets, lane, args.wait, log)
    except UploadInterrupted as stop:
        results, interrupted = stop.results, True
        print("pellacia-dist: interrupted; what was finished:", file=sys.stderr)
    order: list[str] = list(platforms)
    results.sort(key=lambda result: order.index(result.platform))
    if args.json:
        report = {"story_key": request.story_key, **extra, "results": [r.to_dict() for r in results]}
        print(json.dumps(report, indent=2))
    else:
        reasons = {target.platform: target.reason for target in targets}
        for result in results:
            print(_result_line(policy, result, reasons[result.platform]))
    if interrupted:
        return 130
    return 0 if all(result.status in ("published", "queued") for result in results) else 1


def _upload_here(
    paths: Paths,
    settings: Settings,
    request: UploadRequest,
    targets: list[UploadTarget],
    policy: PostingPolicy,
    lane: str,
    wait: bool,
    log: Callable[[str], None],
    out: IO[str],
) -> list[PublishResult]:
    """No `serve` on this home: publish now what may go now; then either wait for the other slots and
    send those too (`--wait`), or leave them queued, validated by a delivery run here, for `serve`."""
    from pellacia_assets.cli.submission import cancel_waiting, deliver
    from pellacia_assets.publishing import UploadInterrupted, publish_file, publish_when_due

    now = [target for target in targets if not target.waits or target.state == "published"]
    later = [target for target in targets if target not in now]
    try:
        results = publish_file(paths, request, now, log)
    except UploadInterrupted as stop:
        raise UploadInterrupted([*stop.results, *(t.result("queued") for t in later)]) from None
    if later and wait:
        return results + publish_when_due(paths, request, later, policy, lane, log)
    if later:
        try:
            delivery = deliver(settings, request.story_key, lane, None, out)
        except KeyboardInterrupt:
            stopped = "stopped by Ctrl-C before its file was validated; the same command finishes it"
            raise UploadInterrupted([*results, *(t.result("queued", error=stopped) for t in later)]) from None
        if not delivery.ok:
            cancel_waiting(settings, later, delivery.detail)
            return results + [target.result("failed", error=delivery.detail) for target in later]
        log(
            "no `pellacia-dist serve` runs on this home: the queued posts go out in their slots once it "
            "runs (or run the same command with --wait)"
        )
    return results + [target.result("queued") for target in later]


def _upload_through_serve(
    settings: Settings,
    address: str,
    request: UploadRequest,
    targets: list[UploadTarget],
    lane: str,
    wait: bool,
    log: Callable[[str], None],
) -> tuple[list[PublishResult], dict[str, object]]:
    """`serve` runs on this home: the file's delivery run goes to its run queue and its dispatcher sends
    every post in its slot; `--wait` watches the queue rows until each is settled (or the delivery run
    failed, and the posts waiting for it are taken out of the queue)."""
    from pellacia_assets.cli.submission import cancel_waiting, deliver, run_failed
    from pellacia_assets.publishing import UploadInterrupted, queue_results, wait_for_queue
    from resources.database.engine import open_database

    factory = open_database(settings.database_url)
    extra: dict[str, object] = {}
    run_id = None
    if any(result.status == "queued" for result in queue_results(factory, targets)):
        delivery = deliver(settings, request.story_key, lane, address, sys.stderr)
        run_id, extra = delivery.run_id, {"run_id": delivery.run_id, "link": delivery.link}
        log(f"`pellacia-dist serve` runs on this home: its dispatcher sends the posts; {delivery.detail}")
    if not wait:
        return queue_results(factory, targets), extra

    def heard(result: PublishResult) -> None:
        log(f"{result.platform}: {result.status} {result.url or result.error or ''}".rstrip())

    def delivery_failed() -> str | None:
        reason = run_failed(address, run_id) if run_id is not None else None
        if reason is not None:
            cancel_waiting(settings, targets, reason)
        return reason

    try:
        return wait_for_queue(factory, targets, on_change=heard, stop=delivery_failed), extra
    except KeyboardInterrupt:
        raise UploadInterrupted(queue_results(factory, targets)) from None


def _local(policy: PostingPolicy, moment: datetime) -> str:
    return policy.local(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def _result_line(policy: PostingPolicy, result: PublishResult, reason: str) -> str:
    if result.status == "queued" and result.not_before is not None:
        why = reason or "its slot is open: the dispatcher sends it next"
        return f"{result.platform:10} queued: goes out at {_local(policy, result.not_before)} ({why})"
    detail = result.url if result.status == "published" else result.error
    if result.status == "published" and result.via not in (None, "api"):
        detail = f"{detail} (via {result.via})"
    if result.manual_id is not None:
        detail = (
            f"{detail} (manual entry {result.manual_id}: pellacia-dist manual export --id {result.manual_id})"
        )
    if result.already_published:
        detail = f"{detail} (published earlier by this same request)"
    elif result.status == "published" and result.not_before is not None:
        detail = f"{detail} (queued until {_local(policy, result.not_before)})"
    return f"{result.platform:10} {result.status:10} {detail}"


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
