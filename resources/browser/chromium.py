"""Starting Debian's Chromium under Playwright: never a downloaded browser, optionally through an exit.

Playwright drives /usr/bin/chromium (`executable_path`); `playwright install` is never needed. The flags
are those measured in docs/reference/offline_stack.md. A proxy (a VPN exit exposing HTTP or SOCKS5) is
given per launch; Playwright also sends loopback traffic through it, so a local sandbox behind an exit is
reached the way a real site would be.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser, ProxySettings, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from resources.browser.errors import BrowserUnavailableError

DEFAULT_EXECUTABLE = Path("/usr/bin/chromium")
FLAGS = (
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
PROXY_SCHEMES = {
    "http": "http",
    "https": "https",
    "socks5": "socks5",
    "socks5h": "socks5",
    "socks4": "socks4",
}


@dataclass(frozen=True)
class BrowserOptions:
    executable: Path = DEFAULT_EXECUTABLE
    headless: bool = True
    proxy: str | None = None


def proxy_settings(url: str) -> ProxySettings:
    """A proxy URL as Playwright takes it. Chromium authenticates to HTTP proxies only, so a SOCKS exit
    with a user name is refused here, not by a browser that would silently go direct or hang."""
    parts = urlsplit(url.strip())
    scheme = PROXY_SCHEMES.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    if scheme is None or not parts.hostname or port is None:
        raise ValueError(
            f"proxy {_redacted(url)} is not scheme://host:port with scheme {', '.join(sorted(PROXY_SCHEMES))}"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    settings: ProxySettings = {"server": f"{scheme}://{host}:{port}"}
    if parts.username:
        if scheme.startswith("socks"):
            raise ValueError(
                f"proxy {_redacted(url)}: Chromium cannot log in to a SOCKS proxy; use the exit's HTTP "
                "proxy, or one without a user name"
            )
        settings["username"] = unquote(parts.username)
        settings["password"] = unquote(parts.password or "")
    return settings


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        return url.replace(parts.netloc, parts.netloc.rpartition("@")[2])
    return url


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def flags() -> list[str]:
    """Chromium's flags; as root its sandbox cannot start, so it runs without (as in containers)."""
    return [*FLAGS, "--no-sandbox"] if os.geteuid() == 0 else list(FLAGS)


@contextmanager
def chromium(options: BrowserOptions) -> Iterator[Browser]:
    """A launched Chromium, closed on the way out (also when it already died)."""
    if not os.access(options.executable, os.X_OK):
        raise BrowserUnavailableError(
            f"no Chromium at {options.executable}: install Debian's chromium package "
            "(apt-get install chromium) or set PELLACIA_BROWSER_EXECUTABLE"
        )
    if not options.headless and not has_display():
        raise BrowserUnavailableError(
            "a visible browser window needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set"
        )
    proxy = proxy_settings(options.proxy) if options.proxy else None
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(options.executable),
                headless=options.headless,
                args=flags(),
                proxy=proxy,
            )
        except PlaywrightError as error:
            first = str(error.message).strip().splitlines()[0] if error.message else "failed"
            raise BrowserUnavailableError(f"Chromium ({options.executable}) did not start: {first}") from None
        try:
            yield browser
        finally:
            with suppress(PlaywrightError):
                browser.close()
