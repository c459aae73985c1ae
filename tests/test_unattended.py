"""The factory unattended, end to end: `pellacia-dist serve` on a temporary home with the six platform
sandboxes, the Telegram sandbox and a real SMTP server. Files dropped in the phase-05 folder are published
in order with the gap respected, a breaking file jumps the queue, a corrupt one is quarantined with its
alert on both channels, the daemon is killed with SIGKILL mid-way and `serve` started again, and at the
end every video is on every platform exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, ManualQueueItem, as_utc
from sandbox.platforms import SandboxSuite
from sandbox.telegram import telegram_sandbox
from tests.resources.alerts.smtp_server import make_certificate, smtp_server

PELLACIA_DIST = str(Path(sys.executable).parent / "pellacia-dist")
PLATFORMS = ["youtube", "x", "linkedin"]
GAP_S = 60  # longer than taking and delivering a drop, so the second post still waits for it
MakeVideo = Callable[..., Path]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """One `pellacia-dist serve` at a time on the test's home, its output kept in a log per start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.starts = 0
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        import httpx

        self.starts += 1
        port = free_port()
        with (self.folder / f"serve-{self.starts}.log").open("w") as log:
            self.process = subprocess.Popen(
                [PELLACIA_DIST, "serve", "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"serve did not come up\n{self.log()}")

    def kill_daemon(self) -> None:
        assert self.process is not None
        [daemon] = [child for child in psutil.Process(self.process.pid).children() if _is_daemon(child)]
        daemon.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=90) == 2, self.log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log(self) -> str:
        return "\n".join(path.read_text()[-4000:] for path in sorted(self.folder.glob("serve-*.log")))


def _is_daemon(process: psutil.Process) -> bool:
    try:
        return "dagster-daemon" in " ".join(process.cmdline())
    except psutil.Error:  # a run worker that just ended
        return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def drop(folder: Path, name: str, video: Path, priority: str = "normal") -> None:
    """The production step's delivery: the sidecar first, the video moved in whole last."""
    sidecar = {
        "title": f"Story {name}",
        "description": f"The {name} story, delivered by phase 05.",
        "hashtags": ["#news", "#pellacia"],
        "platforms": PLATFORMS,
        "priority": priority,
    }
    (folder / f"{name}.json").write_text(json.dumps(sidecar))
    video.rename(folder / f"{name}.mp4")


def published(database_url: str) -> dict[tuple[str, str], datetime]:
    with transaction(open_database(database_url)) as session:
        rows = session.scalars(select(LedgerEntry).where(LedgerEntry.state == "published"))
        return {(row.story_key, row.platform): as_utc(row.published_at) for row in rows if row.published_at}


def wait_for(condition: Callable[[], bool], what: str, served: Served, timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}\n{served.log()}")


@pytest.mark.e2e
def test_drops_publish_spaced_in_order_breaking_first_and_exactly_once_across_a_daemon_kill(
    sandboxes: SandboxSuite,
    make_video: MakeVideo,
    served: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "phase05"
    folder.mkdir()
    monkeypatch.setenv("PELLACIA_PHASE05_DIR", str(folder))
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", str(GAP_S))
    monkeypatch.setenv("PELLACIA_POST_JITTER_SECONDS", "0")
    certificate = make_certificate(tmp_path / "tls")
    with telegram_sandbox() as telegram, smtp_server("starttls", certificate) as mail:
        for name, value in telegram.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PELLACIA_SMTP_URL", mail.url())
        monkeypatch.setenv("PELLACIA_SMTP_CA_FILE", str(certificate.cert_file))
        monkeypatch.setenv("PELLACIA_ALERT_EMAIL_TO", "desk@pellacia.test")
        monkeypatch.setenv("PELLACIA_ALERT_EMAIL_FROM", "factory@pellacia.test")
        database_url = Settings.from_env().database_url
        staged = tmp_path / "staged"
        staged.mkdir()
        videos = {
            name: make_video(staged / f"{name}.mp4", seconds=4.0, tone=tone)
            for name, tone in (("first", 330), ("second", 440), ("urgent", 550))
        }
        (staged / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))

        served.start()
        drop(folder, "first", videos["first"])
        drop(folder, "second", videos["second"])
        drop(folder, "broken", staged / "broken.mp4")

        def story_live(name: str) -> bool:
            live = published(database_url)
            return all((f"phase05-{name}", platform) in live for platform in PLATFORMS)

        wait_for(lambda: story_live("first"), "the first drop on every platform", served)
        early = [p for p in PLATFORMS if ("phase05-second", p) in published(database_url)]
        assert early == [], f"the second post ignored the gap on {early}"
        drop(folder, "urgent", videos["urgent"], priority="breaking")
        wait_for(lambda: story_live("urgent"), "the breaking drop on every platform", served)

        late = [p for p in PLATFORMS if ("phase05-second", p) in published(database_url)]
        assert late == [], f"breaking news did not jump the queue on {late}"
        served.kill_daemon()
        served.start()
        wait_for(lambda: story_live("second"), "the second drop after the restart", served)

        wait_for(lambda: len(telegram.messages) >= 1 and len(mail.messages()) >= 1, "alerts", served, 60)
        time.sleep(8)  # a few more ticks: anything that would post twice or alert twice has time to
        live = published(database_url)

    for platform in PLATFORMS:
        first, urgent, second = (live[(f"phase05-{n}", platform)] for n in ("first", "urgent", "second"))
        assert first < urgent < second, platform
        assert (second - urgent).total_seconds() >= GAP_S, platform
        posts = sandboxes.servers[platform].posts
        digests = [post["sha256"] for post in posts]
        assert len(digests) == 3 and len(set(digests)) == 3, (platform, posts)

    quarantine = folder / "quarantine"
    assert (quarantine / "broken.mp4").exists()
    assert "broken" in (quarantine / "broken.error.txt").read_text()
    with transaction(open_database(database_url)) as session:
        entries = list(session.scalars(select(ManualQueueItem)))
    assert [entry.reason for entry in entries] == ["quarantined"]
    quarantine_alerts = [m for m in telegram.messages if "broken" in m["text"]]
    assert len(quarantine_alerts) == 1, telegram.messages
    assert len([m for m in mail.messages() if "broken" in m.message.get_content()]) == 1
