"""How a session comes to be: a person logs in once in a browser, or imports cookies they exported.

Nothing here types a password. `log_in` opens the platform's login page in a visible Chromium and waits
for the person to finish (2FA and captchas included); on a machine without a display it opens the QR
code login headless instead and keeps a picture of the code for the person to scan with the phone app.
The login is over when the site set its session cookie and left its login pages; the account's user
name is read from the site, and the storage_state is saved encrypted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from playwright.sync_api import BrowserContext, Cookie, Page
from playwright.sync_api import Error as PlaywrightError

from resources.browser.challenge import logged_out, username_on
from resources.browser.chromium import BrowserOptions, chromium
from resources.browser.cookies import read_cookie_file, require_cookie
from resources.browser.errors import LoginError
from resources.browser.flow import Flow
from resources.browser.sessions import SessionStore, StoredSession

QR_REFRESH_S = 5.0


def log_in(
    flow: Flow,
    sessions: SessionStore,
    account: str,
    *,
    web_url: str,
    options: BrowserOptions,
    timeout_s: float,
    qr_image: Path,
    announce: Callable[[str], None],
) -> StoredSession:
    """Wait for a person to log in (visible window, or the QR code in `qr_image` when headless); save."""
    if options.headless and (flow.pages.login_qr is None or flow.session.qr_code is None):
        raise LoginError(
            f"{flow.platform} has no QR code login in {flow.source}: log in on a machine with a display, "
            f"or import cookies (pellacia-dist browser import-cookies {flow.platform} FILE)"
        )
    with chromium(options) as browser:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            if options.headless:
                page.goto(web_url + flow.path("login_qr"), wait_until="domcontentloaded")
            else:
                page.goto(web_url + flow.path("login"), wait_until="domcontentloaded")
                announce(f"log in to {flow.platform} in the Chromium window; waiting up to {timeout_s:g} s")
            _wait_for_login(
                page, context, flow, web_url, timeout_s, qr_image if options.headless else None, announce
            )
            username = username_on(page, flow, web_url)
            state = context.storage_state()
        except PlaywrightError as error:
            if page.is_closed() or not browser.is_connected():
                raise LoginError(
                    "the browser window was closed before the login finished; nothing was saved"
                ) from None
            raise LoginError(
                f"the login page failed: {(error.message or str(error)).splitlines()[0]}"
            ) from None
    session = StoredSession(dict(state), username=username, source="login")
    sessions.save(flow.platform, account, session)
    return session


def _wait_for_login(
    page: Page,
    context: BrowserContext,
    flow: Flow,
    web_url: str,
    timeout_s: float,
    qr_image: Path | None,
    announce: Callable[[str], None],
) -> None:
    """Until the session cookie is set and the login pages are left; with `qr_image`, keep the QR code
    there (the site renews it now and then) and say so once."""
    deadline = time.monotonic() + timeout_s
    shot_at: float | None = None
    while not _logged_in(context.cookies(web_url), flow) or logged_out(page, flow):
        if time.monotonic() > deadline:
            raise LoginError(f"nobody logged in to {flow.platform} within {timeout_s:g} s; nothing was saved")
        if qr_image is not None and (shot_at is None or time.monotonic() - shot_at > QR_REFRESH_S):
            code = page.locator(flow.session.qr_code or "").first
            if code.is_visible():
                qr_image.parent.mkdir(parents=True, exist_ok=True)
                code.screenshot(path=str(qr_image))
                if shot_at is None:
                    announce(
                        f"scan the QR code in {qr_image} with the {flow.platform} app on your phone; "
                        f"waiting up to {timeout_s:g} s"
                    )
                shot_at = time.monotonic()
        page.wait_for_timeout(250)


def _logged_in(cookies: Sequence[Cookie], flow: Flow) -> bool:
    return any(cookie.get("name") == flow.session.cookie and cookie.get("value") for cookie in cookies)


def import_cookies(
    flow: Flow, sessions: SessionStore, account: str, path: Path, *, username: str | None = None
) -> StoredSession:
    """A session from an exported cookie file (it must hold the site's session cookie)."""
    state = read_cookie_file(path)
    require_cookie(state, flow.session.cookie, str(path), flow.web_url)
    session = StoredSession(state, username=username, source="cookies")
    sessions.save(flow.platform, account, session)
    return session
