"""`upload ... --test`: a dry run of one platform's upload that posts nothing.

Each check says what the real upload would meet: the file and metadata against the platform's limits
(the API client's offline `check`), the credentials through one documented read-only call
(`verify_access`), the fallback order and which of its layers are set up, every VPN/proxy exit that may
carry the platform (up or down, latency), and, where the account has a browser session, whether it still
opens the upload page. Nothing is written to the ledger and nothing is posted; a token the platform asks
to refresh is refreshed and stored, as any call would, and an expired browser session is marked expired.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from resources.browser.config import uploader_from_env
from resources.browser.errors import BrowserUnavailableError
from resources.browser.flow import available_flows
from resources.browser.sessions import SessionLockTimeoutError
from resources.fallback.build import browser_ready
from resources.fallback.order import FallbackConfigError, Layer, order_from_env, path_of, through_exit
from resources.platforms.base import PlatformClient, VideoPost
from resources.platforms.clients import client_from_env
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialKeyError
from resources.platforms.errors import PlatformError
from resources.platforms.exits import (
    PROXIES_FILE_VARIABLE,
    Exit,
    ExitConfigError,
    check_exit,
    exits_for,
    platform_roots,
    proxies_variable,
)

EXIT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    """One line of the dry run: `ok` True (passed), False (failed) or None (skipped); `detail` in words."""

    name: str
    ok: bool | None
    detail: str


def preflight(platform: str, post: VideoPost, database_url: str, home: Path) -> list[Check]:
    """Every check of `post`'s upload to `platform`, in the order the upload meets them."""
    environ = os.environ
    account = PlatformSettings.from_env(platform).account
    order: tuple[Layer, ...] | None = None
    try:
        order = order_from_env(platform, environ)
    except FallbackConfigError as error:
        order_check = Check("fallback order", False, str(error))
    try:
        exits = exits_for(platform, environ)
    except ExitConfigError as error:
        exits, exit_checks = [], [Check("exits", False, str(error))]
    else:
        exit_checks = _exit_checks(platform, exits, environ)
    has_browser = browser_ready(platform, account, home)
    if order is not None:
        order_check = _described_order(platform, order, bool(exits), has_browser)
    return [
        *_api_checks(platform, post, database_url, order),
        order_check,
        *exit_checks,
        _browser_check(platform, account, home, has_browser),
    ]


def _error_text(platform: str, error: BaseException) -> str:
    return str(error).removeprefix(f"{platform}: ")


def _api_checks(
    platform: str, post: VideoPost, database_url: str, order: tuple[Layer, ...] | None
) -> list[Check]:
    """Limits (offline) and credentials (one read-only call) through the API client; the credentials are
    skipped where the fallback order has no API layer."""
    uses_api = order is None or any(path_of(layer) == "api" for layer in order if layer != "manual")
    no_api = Check("credentials", None, "not checked: the fallback order has no API layer")
    try:
        client: PlatformClient = client_from_env(platform, database_url)
    except (PlatformError, CredentialKeyError, ValueError) as error:
        reason = _error_text(platform, error)
        return [
            Check("limits", None, f"not checked: the API client could not be set up ({reason})"),
            Check("credentials", False, reason) if uses_api else no_api,
        ]
    try:
        return [_limits(platform, client, post), _credentials(platform, client) if uses_api else no_api]
    finally:
        client.close()


def _limits(platform: str, client: PlatformClient, post: VideoPost) -> Check:
    try:
        client.check(post)
    except PlatformError as error:
        return Check("limits", False, _error_text(platform, error))
    return Check("limits", True, f"{post.video.name} and its words are within {platform}'s limits")


def _credentials(platform: str, client: PlatformClient) -> Check:
    try:
        who = client.verify_access()
    except (PlatformError, CredentialKeyError) as error:
        kind = f" [{error.kind.value}]" if isinstance(error, PlatformError) else ""
        return Check("credentials", False, f"{_error_text(platform, error)}{kind}")
    return Check("credentials", True, who)


def _described_order(platform: str, order: tuple[Layer, ...], has_exits: bool, has_browser: bool) -> Check:
    """The order, each layer that cannot be used here marked with why (it is passed over, not failed)."""
    described = []
    for layer in order:
        missing = []
        if through_exit(layer) and not has_exits:
            missing.append("no exit configured")
        if path_of(layer) == "browser" and not has_browser:
            missing.append("no browser session" if platform in available_flows() else "no browser flow")
        described.append(f"{layer} ({', '.join(missing)})" if missing else layer)
    return Check("fallback order", True, " -> ".join(described))


def _exit_checks(platform: str, exits: list[Exit], environ: Mapping[str, str]) -> list[Check]:
    """Each exit checked against the platform's hosts, all at once (each returns within 2.5 x timeout)."""
    if not exits:
        where = f"{proxies_variable(platform)} or {PROXIES_FILE_VARIABLE}"
        return [Check("exits", None, f"none configured ({where})")]
    roots = platform_roots(platform, environ)
    with ThreadPoolExecutor(max_workers=len(exits), thread_name_prefix="preflight-exit") as pool:
        healths = list(pool.map(lambda exit: check_exit(exit, roots, EXIT_TIMEOUT_S), exits))
    checks = []
    for exit, health in zip(exits, healths, strict=True):
        address = exit.address
        notes = [exit.safe_url] if exit.name != f"{address.scheme}://{address.endpoint}" else []
        if exit.country:
            notes.append(exit.country)
        where = f" ({', '.join(notes)})" if notes else ""
        if health.up:
            latency = f", {health.latency_ms:.0f} ms" if health.latency_ms is not None else ""
            checks.append(Check(f"exit {exit.name}", True, f"up{latency}{where}"))
        else:
            checks.append(Check(f"exit {exit.name}", False, f"down{where}: {health.error}"))
    return checks


def _browser_check(platform: str, account: str, home: Path, has_browser: bool) -> Check:
    """The stored session's health: Chromium launched, the session restored, the upload page opened."""
    if not has_browser:
        if platform not in available_flows():
            return Check("browser session", None, f"not checked: no browser flow for {platform}")
        return Check(
            "browser session",
            None,
            f"not checked: no stored session (`pellacia-dist browser login {platform}` stores one)",
        )
    try:
        health = uploader_from_env(platform, home, account=account).health()
    except (
        PlatformError,
        BrowserUnavailableError,
        SessionLockTimeoutError,
        CredentialKeyError,
        ValueError,
    ) as error:
        return Check("browser session", False, _error_text(platform, error))
    who = f" as @{health.username}" if health.ok and health.username else ""
    return Check("browser session", health.ok, f"{health.detail}{who}")
