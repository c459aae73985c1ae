"""A browser upload's failure: a PlatformError that also points at what the browser saw."""

from __future__ import annotations

from pathlib import Path

from resources.platforms.errors import ErrorKind, PlatformError


class BrowserError(PlatformError):
    """A classified browser failure; `screenshot`, `trace` (a Playwright trace.zip for
    `playwright show-trace`) and `artifacts` (their folder) are kept for the person who looks into it."""

    def __init__(
        self,
        platform: str,
        kind: ErrorKind,
        message: str,
        *,
        code: str,
        screenshot: Path | None = None,
        trace: Path | None = None,
        artifacts: Path | None = None,
    ) -> None:
        super().__init__(platform, kind, message, code=code)
        self.reason = message
        self.screenshot = screenshot
        self.trace = trace
        self.artifacts = artifacts


class BrowserUnavailableError(RuntimeError):
    """Chromium cannot be started here (missing, no display for a headed window, refused to launch)."""


class LoginError(RuntimeError):
    """A login that did not finish (window closed, time ran out, no QR code login on the site)."""
