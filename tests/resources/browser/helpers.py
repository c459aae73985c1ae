"""What the browser tests share: a session for the TikTok web sandbox, a journal in memory, a real clip,
and the Chromium that a test kills on purpose."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psutil

from resources.browser.sessions import SessionStore, StoredSession
from sandbox.web.tiktok import SESSION_COOKIE, TikTokWebSandbox


def sandbox_cookie(sandbox: TikTokWebSandbox) -> dict[str, Any]:
    """A live `sessionid` cookie of the sandbox, as a browser that logged in there holds it."""
    return {
        "name": SESSION_COOKIE,
        "value": sandbox.log_in(),
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }


def store_session(
    store: SessionStore, sandbox: TikTokWebSandbox, account: str = "default", username: str | None = None
) -> StoredSession:
    session = StoredSession({"cookies": [sandbox_cookie(sandbox)], "origins": []}, username=username)
    store.save("tiktok", account, session)
    return session


class MemoryJournal:
    """The ledger row's journal, in memory: ids by name and the state."""

    def __init__(self, **ids: str) -> None:
        self.ids: dict[str, str] = dict(ids)
        self.states: list[str] = []

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def put(self, name: str, value: str) -> None:
        self.ids[name] = value

    def set_state(self, state: str) -> None:
        self.states.append(state)


def make_clip(path: Path, seconds: float = 3.0) -> Path:
    """A real vertical short with sound, as the factory renders them (small and quick to make)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-f", "lavfi",
         "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


def kill_our_chromium() -> int:
    """Kill (SIGKILL) the Chromium browser processes this test process started; how many there were."""
    killed = 0
    for process in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "chrom" in process.name() and not any(arg.startswith("--type=") for arg in process.cmdline()):
                process.kill()
                killed += 1
        except psutil.NoSuchProcess:
            continue
    return killed
