"""`pellacia-dist schedule --platforms --file --at`: a finished video queued on each platform account for
the time asked, in the time zone asked, validated by its delivery run, idempotent; bad requests refused
before anything is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pellacia_assets.cli import build_parser, main
from pellacia_assets.cli.submission import ScheduleError, cmd_schedule_add, parse_at
from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import QueuedPost, StoryRecord, as_utc

NEW_YORK = ZoneInfo("America/New_York")


def schedule_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["schedule", *argv, "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, report


def rows() -> list[QueuedPost]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return list(session.scalars(select(QueuedPost).order_by(QueuedPost.id)))


def in_two_hours() -> datetime:
    return (datetime.now(NEW_YORK) + timedelta(hours=2)).replace(second=0, microsecond=0)


def test_a_file_is_queued_for_the_time_asked_on_each_platform_and_validated(
    pellacia_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "evening.mp4")
    at = in_two_hours()
    argv = ["--platforms", "youtube,x", "--file", str(video), "--at", f"{at:%Y-%m-%d %H:%M}",
            "--timezone", "America/New_York", "--title", "Evening news", "--description", "What happened.",
            "--hashtags", "#news #evening"]  # fmt: skip
    code, report = schedule_json(capsys, *argv)
    assert code == 0, report
    assert report["delivery"]["ok"] and report["delivery"]["run_id"] is None  # no serve: validated here
    assert [(q["platform"], q["state"]) for q in report["queued"]] == [("youtube", "queued"), ("x", "queued")]
    queued = rows()
    assert [row.id for row in queued] == [q["id"] for q in report["queued"]]
    for row in queued:
        assert as_utc(row.not_before) == at.astimezone(UTC)
        assert row.lane == "normal" and row.part == 1
    with transaction(open_database(Settings.from_env().database_url)) as session:
        story = session.get(StoryRecord, report["story_key"])
        assert story is not None
        assert (story.source_kind, story.source_ref) == ("upload", str(video.resolve()))
        assert (story.title, story.body, story.tags) == (
            "Evening news",
            "What happened.",
            ["#news", "#evening"],
        )
        assert story.platforms == ["youtube", "x"] and as_utc(story.publish_after) == at.astimezone(UTC)
        assert story.status == "produced", "its delivery run validated the file"

    # The same request again: the same rows, nothing doubled.
    code, again = schedule_json(capsys, *argv)
    assert code == 0 and [q["id"] for q in again["queued"]] == [q["id"] for q in report["queued"]]
    assert len(rows()) == 2


def test_the_text_report_names_each_queue_id_and_the_local_time(
    pellacia_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "late.mp4")
    at = in_two_hours()
    argv = ["schedule", "--platforms", "linkedin", "--file", str(video), "--at", f"{at:%Y-%m-%dT%H:%M}",
            "--timezone", "America/New_York", "--priority", "breaking"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    [row] = rows()
    assert row.lane == "breaking"
    assert f"#{row.id} linkedin" in out
    assert f"goes out at {at:%Y-%m-%d %H:%M:%S %Z}" in out
    assert "validated in" in out


def refused(tmp_path: Path, *argv: str) -> str:
    """The handler's refusal (one line), with nothing written: no story, no queue row."""
    args = build_parser().parse_args(["schedule", *argv])
    with pytest.raises((ScheduleError, MediaError)) as refusal:
        cmd_schedule_add(Settings.from_env(), args)
    database = Settings.from_env().home / "pellacia.db"
    if database.exists():
        assert rows() == []
    message = str(refusal.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("at", "zone", "message"),
    [
        ("2020-01-01 09:00", "UTC", "is in the past"),
        ("tomorrow at nine", "UTC", "expected a date and a time"),
        ("2030-01-01", "UTC", "expected a date and a time"),
        ("2030-01-01 09:00", "Mars/Olympus_Mons", "not a known time zone"),
    ],
)
def test_a_time_that_is_past_or_unreadable_is_refused(
    pellacia_home: Path, tmp_path: Path, make_video: Callable[..., Path], at: str, zone: str, message: str
) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=1)
    reason = refused(tmp_path, "--platforms", "x", "--file", str(video), "--at", at, "--timezone", zone)
    assert message in reason


def test_a_broken_file_is_refused_before_anything_is_queued(pellacia_home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    reason = refused(tmp_path, "--platforms", "x", "--file", str(broken), "--at", "2030-01-01 09:00")
    assert "not a video" in reason


def test_at_reads_the_zone_given_an_offset_given_and_a_minute_late() -> None:
    now = datetime(2026, 12, 27, 12, 0, tzinfo=UTC)
    assert parse_at("2026-12-27 14:00", NEW_YORK, now) == datetime(2026, 12, 27, 19, 0, tzinfo=UTC)
    assert parse_at("2026-12-27T14:00:30", NEW_YORK, now) == datetime(2026, 12, 27, 19, 0, 30, tzinfo=UTC)
    assert parse_at("2026-12-27 14:00+01:00", NEW_YORK, now) == datetime(2026, 12, 27, 13, 0, tzinfo=UTC)
    assert parse_at("2027-07-01 14:00", NEW_YORK, now) == datetime(2027, 7, 1, 18, 0, tzinfo=UTC)  # EDT
    assert parse_at("2026-12-27 11:59:30", ZoneInfo("UTC"), now) == now, "a moment ago: now"
    with pytest.raises(ScheduleError, match="is in the past"):
        parse_at("2026-12-27 11:58:30", ZoneInfo("UTC"), now)
    with pytest.raises(ScheduleError, match="does not exist in America/New_York"):
        parse_at("2027-03-14 02:30", NEW_YORK, now)  # the clocks skip from 02:00 to 03:00 that night
