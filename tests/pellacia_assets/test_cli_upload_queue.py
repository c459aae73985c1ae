"""`pellacia-dist upload` respects each account's gap: what may go now goes now, the rest is queued for its
slot (`queued` with `not_before`), `--priority breaking` goes at once, `--wait` sends it in its slot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, QueuedPost, StoryRecord, as_utc
from sandbox.platforms import SandboxSuite

PLATFORMS = ("youtube", "x")


@pytest.fixture
def gap(monkeypatch: pytest.MonkeyPatch, sandboxes: SandboxSuite) -> Callable[[float], None]:
    """Set the spacing gap (no jitter, so a slot is exactly the gap after the last post)."""
    monkeypatch.setenv("PELLACIA_POST_JITTER_SECONDS", "0")

    def set_gap(seconds: float) -> None:
        monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", str(seconds))

    set_gap(1800)
    return set_gap


def upload(
    capsys: pytest.CaptureFixture[str], video: Path, title: str, *extra: str
) -> tuple[int, list[dict[str, Any]]]:
    code = main(
        [
            "upload",
            "--platforms",
            ",".join(PLATFORMS),
            "--file",
            str(video),
            "--title",
            title,
            "--json",
            *extra,
        ]
    )
    results: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["results"]
    return code, results


def published_at(platform: str, story_key: str | None = None) -> list[datetime]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        statement = select(LedgerEntry).where(
            LedgerEntry.platform == platform, LedgerEntry.state == "published"
        )
        if story_key is not None:
            statement = statement.where(LedgerEntry.story_key == story_key)
        return sorted(as_utc(e.published_at) for e in session.scalars(statement) if e.published_at)


def queue_rows() -> list[tuple[int, str, str, str, datetime]]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return [
            (row.id, row.story_key, row.platform, row.state, as_utc(row.not_before))
            for row in session.scalars(select(QueuedPost).order_by(QueuedPost.id))
        ]


def test_a_second_upload_within_the_gap_is_queued_for_the_slot_and_a_rerun_changes_nothing(
    gap: Callable[[float], None],
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    first, second = make_video(tmp_path / "first.mp4"), make_video(tmp_path / "second.mp4", tone=660)
    code, results = upload(capsys, first, "First")
    assert code == 0 and [r["status"] for r in results] == ["published"] * 2, results
    assert all(r["not_before"] is None and r["queue_id"] for r in results)

    code, queued = upload(capsys, second, "Second")
    assert code == 0, queued
    assert [r["status"] for r in queued] == ["queued"] * 2
    for result in queued:
        [last] = published_at(result["platform"])
        assert datetime.fromisoformat(result["not_before"]) == last + timedelta(seconds=1800)
        assert result["post_id"] is None and result["error"] is None
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS), "nothing sent within the gap"
    rows = queue_rows()
    assert [(platform, state) for _, _, platform, state, _ in rows] == [
        ("youtube", "published"), ("x", "published"), ("youtube", "queued"), ("x", "queued")
    ]  # fmt: skip
    key = rows[2][1]
    with transaction(open_database(Settings.from_env().database_url)) as session:
        story = session.get(StoryRecord, key)
        assert story is not None and story.source_kind == "upload" and story.platforms == list(PLATFORMS)
        assert story.status == "produced", "the delivery run validated the file, so serve can send it"

    # The same two commands again: nothing is sent, nothing is queued twice, the same slots are reported.
    code, again = upload(capsys, first, "First")
    assert code == 0 and [(r["status"], r["already_published"]) for r in again] == [("published", True)] * 2
    code, requeued = upload(capsys, second, "Second")
    assert code == 0
    assert [(r["queue_id"], r["not_before"]) for r in requeued] == [
        (r["queue_id"], r["not_before"]) for r in queued
    ]
    assert queue_rows() == rows
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)


def test_the_text_report_says_when_a_queued_post_goes_out_and_why(
    gap: Callable[[float], None],
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PELLACIA_TIMEZONE", "America/New_York")
    first, second = make_video(tmp_path / "first.mp4"), make_video(tmp_path / "second.mp4", tone=660)
    assert main(["upload", "--platform", "x", "--file", str(first), "--title", "First"]) == 0
    capsys.readouterr()
    assert main(["upload", "--platform", "x", "--file", str(second), "--title", "Second"]) == 0
    out = capsys.readouterr().out
    [last] = published_at("x")
    slot = (last + timedelta(seconds=1800)).astimezone(ZoneInfo("America/New_York"))
    line = next(line for line in out.splitlines() if line.startswith("x "))
    assert f"queued: goes out at {slot:%Y-%m-%d %H:%M:%S %Z} (spacing gap since the last post)" in line


def test_priority_breaking_goes_out_at_once_within_the_gap(
    gap: Callable[[float], None],
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    first, urgent = make_video(tmp_path / "first.mp4"), make_video(tmp_path / "urgent.mp4", tone=880)
    assert upload(capsys, first, "First")[0] == 0
    code, results = upload(capsys, urgent, "Breaking", "--priority", "breaking")
    assert code == 0, results
    assert [r["status"] for r in results] == ["published"] * 2
    assert all(len(sandboxes.servers[p].posts) == 2 for p in PLATFORMS)
    with transaction(open_database(Settings.from_env().database_url)) as session:
        lanes = {
            row.lane for row in session.scalars(select(QueuedPost).where(QueuedPost.state == "published"))
        }
    assert lanes == {"normal", "breaking"}


def test_wait_sends_the_queued_post_in_its_slot_once(
    gap: Callable[[float], None],
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    gap(2)
    first, second = make_video(tmp_path / "first.mp4"), make_video(tmp_path / "second.mp4", tone=660)
    assert upload(capsys, first, "First")[0] == 0
    code, results = upload(capsys, second, "Second", "--wait")
    assert code == 0, results
    assert [r["status"] for r in results] == ["published"] * 2
    for result in results:
        before, after = published_at(result["platform"])
        slot = datetime.fromisoformat(result["not_before"])
        assert slot == before + timedelta(seconds=2)
        assert after >= slot, "not sent before its slot"
        assert after - slot < timedelta(seconds=5)
        assert len(sandboxes.servers[result["platform"]].posts) == 2
    assert [state for *_, state, _ in queue_rows()] == ["published"] * 4

    # Again, with --wait: the ledger already has both posts, nothing waits and nothing is sent.
    code, again = upload(capsys, second, "Second", "--wait")
    assert code == 0 and all(r["status"] == "published" and r["already_published"] for r in again)
    assert all(len(sandboxes.servers[p].posts) == 2 for p in PLATFORMS)
