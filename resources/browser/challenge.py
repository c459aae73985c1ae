"""What state a page is in (a challenge, the login page, the account's user name), and what is kept when
a browser upload fails: a screenshot, the page's HTML and a Playwright trace (`playwright show-trace`;
it records the requests, session cookies included, so its folder is the owner's alone).

A challenge is whatever the flow's `challenge` selectors find *visible*: platforms keep captcha
containers hidden in their pages, so presence alone means nothing. A page under one of the flow's
`logged_out` paths means the session is gone.
"""

from __future__ import annotations

import re
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Frame, FrameLocator, Page
from playwright.sync_api import Error as PlaywrightError

from resources.browser.flow import Flow

Scope = Page | Frame | FrameLocator
_USERNAME = re.compile(r"/@([^/?#]+)")


def visible_challenge(page: Page, flow: Flow) -> str | None:
    """The first challenge selector shown on the page (or inside its frames), else None."""
    for frame in page.frames:
        for selector in flow.challenge:
            with suppress(PlaywrightError):
                if frame.locator(selector).first.is_visible():
                    return selector
    return None


def logged_out(page: Page, flow: Flow) -> bool:
    path = urlsplit(page.url).path
    return any(
        path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in flow.session.logged_out
    )


def username_on(page: Page, flow: Flow, web_url: str) -> str | None:
    """The logged-in account's user name, from the home page's link to its profile (/@name)."""
    if flow.session.profile_link is None:
        return None
    page.goto(web_url + flow.path("home"), wait_until="domcontentloaded")
    link = page.locator(flow.session.profile_link).first
    try:
        link.wait_for(state="attached", timeout=flow.element_timeout_s * 1000)
        href = link.get_attribute("href") or ""
    except PlaywrightError:
        return None
    match = _USERNAME.search(href)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Artifacts:
    folder: Path
    screenshot: Path | None
    trace: Path | None
    notes: tuple[str, ...]


def keep_failure(
    page: Page | None, context: BrowserContext | None, artifacts_dir: Path, label: str
) -> Artifacts:
    """Screenshot, HTML and trace of a failed run under `artifacts_dir/<time>-<label>/`; what could not
    be kept (the browser had died) is said in `notes`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = artifacts_dir / f"{stamp}-{label}-{secrets.token_hex(2)}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # a trace holds the session's cookies
    notes: list[str] = []
    screenshot: Path | None = folder / "screenshot.png"
    try:
        if page is None:
            raise PlaywrightError("no page was open")
        page.screenshot(path=str(screenshot), full_page=True, timeout=15_000)
        (folder / "page.html").write_text(page.content(), encoding="utf-8")
    except PlaywrightError as error:
        screenshot = None
        notes.append(f"no screenshot ({_first_line(error)})")
    trace: Path | None = folder / "trace.zip"
    try:
        if context is None:
            raise PlaywrightError("no browser context was open")
        context.tracing.stop(path=str(trace))
    except PlaywrightError as error:
        trace = None
        notes.append(f"no trace ({_first_line(error)})")
    return Artifacts(folder, screenshot, trace, tuple(notes))


def _first_line(error: PlaywrightError) -> str:
    text = (error.message or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__
