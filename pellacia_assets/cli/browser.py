"""Browser sessions from the command line: `browser login|logout|import-cookies`, and `test browser`.

A person logs in once (`browser login tiktok`: a Chromium window, or with --headless a QR code to scan
with the phone) or imports cookies exported from their own browser; the session is stored encrypted
with PELLACIA_SECRET_KEY. `test browser --platform tiktok` starts Chromium, restores the session, opens
the upload page and says what works. Playwright is imported by the commands that start a browser only.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from pellacia_assets.cli.alerts import test_commands
from pellacia_assets.settings import Settings
from resources.browser.cookies import CookieFileError
from resources.browser.errors import BrowserUnavailableError, LoginError
from resources.browser.flow import FlowError, load_flow
from resources.browser.sessions import SessionStore
from resources.platforms import platform_named
from resources.platforms.config import PlatformSettings
from resources.platforms.errors import PlatformError

SubCommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler = Callable[[Settings, argparse.Namespace], int]
DEFAULT_LOGIN_TIMEOUT_S = 600.0


def register(commands: SubCommands) -> None:
    """Add `browser login|logout|import-cookies` and `test browser` (see `cli.build_parser`)."""
    browser = commands.add_parser(
        "browser", help="browser sessions for web uploads: log in once, import cookies, log out"
    )
    browser_commands = browser.add_subparsers(dest="browser_command", required=True)
    login = browser_commands.add_parser(
        "login", help="open the platform's login page in Chromium, wait for you to log in, store the session"
    )
    login.add_argument("platform")
    login.add_argument(
        "--account", help="the account name (default PELLACIA_<PLATFORM>_ACCOUNT or 'default')"
    )
    login.add_argument(
        "--headless",
        action="store_true",
        help="no window: save the QR code login as a picture to scan with the phone app (for servers)",
    )
    login.add_argument(
        "--timeout", type=float, default=DEFAULT_LOGIN_TIMEOUT_S, help="seconds to wait for the login"
    )
    login.set_defaults(handler=cmd_browser_login)
    logout = browser_commands.add_parser("logout", help="delete the stored session of an account")
    logout.add_argument("platform")
    logout.add_argument("--account")
    logout.set_defaults(handler=cmd_browser_logout)
    cookies = browser_commands.add_parser(
        "import-cookies",
        help="store a session from cookies exported while logged in "
        "(cookies.txt, a JSON list, storage_state)",
    )
    cookies.add_argument("platform")
    cookies.add_argument("file", type=Path)
    cookies.add_argument("--account")
    cookies.add_argument("--username", help="the account's user name on the site, if it does not show it")
    cookies.add_argument("--no-check", action="store_true", help="store without opening the upload page")
    cookies.set_defaults(handler=cmd_browser_import_cookies)

    test = test_commands(commands).add_parser(
        "browser", help="start Chromium, restore the stored session, reach the upload page; say what works"
    )
    test.add_argument("--platform", required=True)
    test.add_argument("--account")
    test.add_argument("--proxy", help="go through this exit (http://user:pass@host:port, socks5://host:port)")
    test.add_argument("--json", action="store_true", help="print the checks as JSON")
    test.set_defaults(handler=cmd_test_browser)


def _one_line(handler: Handler) -> Handler:
    """The browser commands' own failures as one line and exit status 2, like every operator error."""

    @functools.wraps(handler)
    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return handler(settings, args)
        except (FlowError, CookieFileError, LoginError, BrowserUnavailableError, ValueError) as error:
            print(f"pellacia-dist: {error}", file=sys.stderr)
            return 2

    return run


def _account(platform: str, args: argparse.Namespace) -> str:
    return str(args.account or PlatformSettings.from_env(platform).account)


def _web_url(platform: str) -> str:
    return PlatformSettings.from_env(platform).options.get("web_url") or load_flow(platform).web_url


@_one_line
def cmd_browser_login(settings: Settings, args: argparse.Namespace) -> int:
    from resources.browser.chromium import BrowserOptions, has_display
    from resources.browser.config import BrowserSettings
    from resources.browser.login import log_in

    platform = platform_named(args.platform)
    flow = load_flow(platform)
    account = _account(platform, args)
    browser = BrowserSettings.from_env()
    headless = bool(args.headless)
    if not headless and not has_display():
        raise BrowserUnavailableError(
            "`browser login` opens a Chromium window, but this machine has no display (DISPLAY is not set): "
            f"use --headless to log in with a QR code, or "
            f"`pellacia-dist browser import-cookies {platform} FILE`"
        )
    sessions = SessionStore.for_home(settings.home)
    session = log_in(
        flow,
        sessions,
        account,
        web_url=_web_url(platform),
        options=BrowserOptions(browser.executable, headless),
        timeout_s=float(args.timeout),
        qr_image=sessions.folder(platform, account) / "login-qr.png",
        announce=lambda message: print(message, flush=True),
    )
    who = f" as @{session.username}" if session.username else ""
    print(f"{platform}: logged in{who}; the session of account '{account}' is stored encrypted")
    return 0


@_one_line
def cmd_browser_logout(settings: Settings, args: argparse.Namespace) -> int:
    platform = platform_named(args.platform)
    account = _account(platform, args)
    if SessionStore.for_home(settings.home).forget(platform, account):
        print(f"{platform}: forgot the browser session of account '{account}'")
    else:
        print(f"{platform}: account '{account}' has no stored browser session")
    return 0


@_one_line
def cmd_browser_import_cookies(settings: Settings, args: argparse.Namespace) -> int:
    from resources.browser.config import uploader_from_env
    from resources.browser.login import import_cookies

    platform = platform_named(args.platform)
    account = _account(platform, args)
    username = args.username or PlatformSettings.from_env(platform).options.get("web_username")
    import_cookies(
        load_flow(platform), SessionStore.for_home(settings.home), account, args.file, username=username
    )
    print(f"{platform}: stored the session from {args.file} for account '{account}' (encrypted)")
    if args.no_check:
        return 0
    health = uploader_from_env(platform, settings.home, account=account).health()
    print(f"{platform}: {'the site accepts it: ' if health.ok else 'but '}{health.detail}")
    return 0 if health.ok else 1


@_one_line
def cmd_test_browser(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the upload page is reachable with the stored session, 1 when a check failed, 2 when
    there is no session to check."""
    from resources.browser.config import uploader_from_env

    platform = platform_named(args.platform)
    account = _account(platform, args)
    uploader = uploader_from_env(platform, settings.home, account=account, proxy=args.proxy)
    report: dict[str, Any] = {"platform": platform, "account": account, "web_url": uploader.web_url}
    try:
        health = uploader.health()
    except PlatformError as error:
        report |= {"ok": False, "stored": True, "detail": str(error).removeprefix(f"{platform}: ")}
        return _report(report, args.json, 1)
    report |= {
        "ok": health.ok,
        "stored": health.stored,
        "browser": health.browser,
        "launch_s": None if health.launch_s is None else round(health.launch_s, 2),
        "logged_in": health.logged_in,
        "username": health.username,
        "upload_page": health.upload_page,
        "url": health.url,
        "challenge": health.challenge,
        "detail": health.detail,
    }
    return _report(report, args.json, 0 if health.ok else (2 if not health.stored else 1))


def _report(report: dict[str, Any], as_json: bool, code: int) -> int:
    if as_json:
        print(json.dumps(report, indent=2))
        return code
    where = f"{report['platform']}/{report['account']} at {report['web_url']}"
    if report.get("browser"):
        print(f"{where}: Chromium {report['browser']} started in {report['launch_s']} s")
    else:
        print(where)
    if report.get("stored") is False:
        print(f"  session: none stored ({report['detail']})")
        return code
    if "logged_in" in report:
        who = f" as @{report['username']}" if report.get("username") else ""
        print(f"  session: {'logged in' + who if report['logged_in'] else 'not logged in'}")
        print(f"  upload page: {'reachable' if report['upload_page'] else 'not reachable'}")
        if report.get("challenge"):
            print(f"  challenge: {report['challenge']} is shown")
    print(f"  {'ok' if report['ok'] else 'failed'}: {report['detail']}")
    return code
