"""Instagram: a container that becomes PUBLISHED while we wait for its processing (another process
published it) is the post; nothing more is sent and no one polls for ten minutes (issue 12)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resources.platforms.base import VideoPost
from resources.platforms.config import PlatformSettings
from resources.platforms.instagram import Container, InstagramClient
from sandbox.instagram import InstagramSandbox


class MemoryJournal:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.states: list[str] = []

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def put(self, name: str, value: str) -> None:
        self.ids[name] = value

    def set_state(self, state: str) -> None:
        self.states.append(state)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[InstagramSandbox]:
    server = InstagramSandbox(tmp_path / "instagram", processing_polls=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(sandbox: InstagramSandbox) -> PlatformSettings:
    grant = sandbox.issue_tokens()
    return PlatformSettings(
        platform="instagram",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.user_id,
    )


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "reel.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30", "-f", "lavfi",
         "-i", "sine", "-t", "3.5", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_a_container_published_by_another_process_while_we_wait_is_our_post(
    sandbox: InstagramSandbox, settings: PlatformSettings, video: Path
) -> None:
    journal = MemoryJournal()
    other = InstagramClient(settings, sleep=lambda _s: None)
    by_other: list[Any] = []

    def meanwhile(_seconds: float) -> None:
        """Between our polls the other process sees the container FINISHED and publishes it."""
        if by_other:
            return
        container = Container(str(journal.get("container_id")), str(journal.get("upload_uri")))
        for _poll in range(10):
            if (other._status(container.id) or {}).get("status_code") == "FINISHED":
                break
        by_other.append(other._publish_container(container, MemoryJournal()))

    client = InstagramClient(settings, sleep=meanwhile, max_polls=5)
    post = VideoPost(video, "The keeper", "A knock at midnight.", ("#story",))
    found = client.publish(post, journal)

    [published] = by_other
    assert found.post_id == published.post_id
    assert journal.get("media_id") == published.post_id
    assert len(sandbox.posts) == 1
    assert sandbox.requests.count(("publish", "POST")) == 1
    client.close()
    other.close()
