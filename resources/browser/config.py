"""A browser uploader configured from the environment, for the fallback chain and the CLI.

PELLACIA_BROWSER_EXECUTABLE  Chromium to drive (default /usr/bin/chromium, Debian's package)
PELLACIA_BROWSER_HEADLESS    "false" shows the window (default true)
PELLACIA_BROWSER_PACE        seconds between actions, "0.5-2" (default) or "0" for none
PELLACIA_BROWSER_LOCK_TIMEOUT_S  how long to wait for another browser on the same account (default 900)
PELLACIA_BROWSER_FLOWS_DIR   a folder of replacement flow files (flow.py)
PELLACIA_<PLATFORM>_WEB_URL  the site's root (default: the flow's, e.g. https://www.tiktok.com)
PELLACIA_<PLATFORM>_WEB_USERNAME  the account's user name there, when the site does not show it
PELLACIA_<PLATFORM>_ACCOUNT and the declarations (PELLACIA_TIKTOK_PRIVACY_LEVEL, _IS_AIGC) are the
API path's own variables: both paths publish with the same choices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from resources.browser.chromium import DEFAULT_EXECUTABLE
from resources.browser.flow import load_flow
from resources.browser.sessions import SessionStore
from resources.browser.uploader import BrowserUploader, Pace
from resources.platforms.config import PlatformSettings

DEFAULT_PACE = "0.5-2"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class BrowserSettings:
    executable: Path
    headless: bool
    pace: Pace
    lock_timeout_s: float

    @classmethod
    def from_env(cls) -> BrowserSettings:
        headless = (_env("PELLACIA_BROWSER_HEADLESS") or "true").lower()
        if headless not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"PELLACIA_BROWSER_HEADLESS={headless} is not true or false")
        lock = _env("PELLACIA_BROWSER_LOCK_TIMEOUT_S") or "900"
        try:
            lock_timeout_s = float(lock)
        except ValueError:
            raise ValueError(f"PELLACIA_BROWSER_LOCK_TIMEOUT_S={lock} is not a number of seconds") from None
        return cls(
            executable=Path(_env("PELLACIA_BROWSER_EXECUTABLE") or DEFAULT_EXECUTABLE),
            headless=headless in ("true", "1", "yes"),
            pace=Pace.parse(_env("PELLACIA_BROWSER_PACE") or DEFAULT_PACE),
            lock_timeout_s=lock_timeout_s,
        )


def artifacts_root(home: Path) -> Path:
    """Where failed browser uploads keep their screenshots and traces by default."""
    return home / "browser-failures"


def uploader_from_env(
    platform: str,
    home: Path,
    *,
    account: str | None = None,
    proxy: str | None = None,
    artifacts_dir: Path | None = None,
) -> BrowserUploader:
    """The platform account's browser uploader as the environment configures it; `proxy` an exit's URL."""
    settings = PlatformSettings.from_env(platform)
    browser = BrowserSettings.from_env()
    flow = load_flow(settings.platform)
    return BrowserUploader(
        settings.platform,
        account or settings.account,
        SessionStore.for_home(home),
        web_url=settings.options.get("web_url") or flow.web_url,
        proxy=proxy,
        headless=browser.headless,
        artifacts_dir=artifacts_dir or artifacts_root(home),
        pace=browser.pace,
        flow=flow,
        options=settings.options,
        username=settings.options.get("web_username"),
        executable=browser.executable,
        lock_timeout_s=browser.lock_timeout_s,
    )
