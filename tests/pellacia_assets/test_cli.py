"""`pellacia-dist`: adding stories, refusing bad ones, and the demo as the README runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.cli.demo import SPACING_ACCOUNT, SPACING_PLATFORMS
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, as_utc
from resources.database.stories import list_stories
from resources.platforms import PLATFORMS

PELLACIA_DIST = Path(sys.executable).parent / "pellacia-dist"


def spacing_posts(platform: str) -> list[datetime]:
    """When the demo's spacing part posted on `platform` (its own sandbox account), in order."""
    with transaction(open_database(Settings.from_env().database_url)) as session:
        entries = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.platform == platform,
                LedgerEntry.account == SPACING_ACCOUNT,
                LedgerEntry.state == "published",
            )
        )
        return sorted(as_utc(entry.published_at) for entry in entries if entry.published_at)


def story_keys() -> list[str]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return [row.key for row in list_stories(session)]


def test_story_add_registers_record_and_partition(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = tmp_path / "Night bus.md"
    story.write_text("# The night bus\n\nThe driver waited for me every night for a year.\n")
    assert main(["story", "add", str(story)]) == 0
    assert "added story 'file-night-bus'" in capsys.readouterr().out
    assert story_keys() == ["file-night-bus"]
    with dg.DagsterInstance.get() as instance:
        assert instance.get_dynamic_partitions("story") == ["file-night-bus"]
    assert main(["story", "list"]) == 0
    assert "file-night-bus" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the story is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        ("Grüße, Café".encode("latin-1"), "not UTF-8 text"),
        (b"word " * 3000, "too long for shorts"),
    ],
)
def test_bad_stories_exit_2_with_one_clear_line_and_leave_nothing(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    story = tmp_path / "bad.txt"
    story.write_bytes(content)
    assert main(["story", "add", str(story)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("pellacia-dist: ") and message in error
    assert error.count("\n") == 1
    assert not (pellacia_home / "media").exists() or not any((pellacia_home / "media").iterdir())
    assert story_keys() == []


@pytest.mark.e2e
def test_demo_produces_every_sample_and_publishes_to_the_sandbox(pellacia_home: Path) -> None:
    """The README's first command, as a user runs it (default voice and Whisper model)."""
    completed = subprocess.run(
        [str(PELLACIA_DIST), "demo"],
        env={**os.environ, "PELLACIA_HOME": str(pellacia_home)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    videos = sorted((pellacia_home / "media").glob("*/video/part-*.mp4"))
    assert len(videos) >= 4  # three samples, the long one in parts
    for video in videos:
        assert str(video) in completed.stdout
    assert "pellacia-dist serve" in completed.stdout
    assert "LOCAL PLATFORM SANDBOX" in completed.stdout
    for platform in PLATFORMS:
        assert completed.stdout.count(f"      {platform:9} part") == len(videos)
    assert "FAILED" not in completed.stdout
    assert "SWITCHED OFF for this part (PELLACIA_POST_GAP_SECONDS=0)" in completed.stdout
    analytics = completed.stdout.split("=== analytics: today's snapshot", 1)[1]
    for platform in PLATFORMS:
        assert f"\n{platform}" in analytics or f" {platform} " in analytics, platform
    chart = Path(analytics.split("chart: ", 1)[1].splitlines()[0])
    assert chart.read_bytes().startswith(b"\x89PNG")

    # Then the queue at work: the second short waits for each account's slot, 3 s after the first.
    assert "a gap of 3 s between two posts on one account" in completed.stdout
    for spaced in SPACING_PLATFORMS:
        assert f"short 1 -> {spaced:8} its slot is open" in completed.stdout
        assert f"short 2 -> {spaced:8} queued for " in completed.stdout
        first, second = spacing_posts(spaced)
        assert second - first >= timedelta(seconds=3), (spaced, first, second)
        assert second - first < timedelta(seconds=8), "sent when its slot opened, not later"
