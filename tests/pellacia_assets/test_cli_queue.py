"""`pellacia-dist queue|schedule|story flag`: what the operator sees of the posting queue, text and JSON,
and one clear line with exit status 2 for whatever cannot be done."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.cli import build_parser, main
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import QueuedPost, StoryRecord
from resources.database.post_queue import mark_outcome
from tests.pellacia_assets.posting.history import published, queued


@pytest.fixture
def factory(pellacia_home: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    for name in ("PELLACIA_QUIET_HOURS", "PELLACIA_POST_JITTER_SECONDS", "PELLACIA_YOUTUBE_DAILY_CAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PELLACIA_PLATFORMS", "youtube,x")
    monkeypatch.setenv("PELLACIA_YOUTUBE_ACCOUNT", "main")
    monkeypatch.setenv("PELLACIA_X_ACCOUNT", "main")
    monkeypatch.setenv("PELLACIA_TIMEZONE", "America/New_York")
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "1800")
    monkeypatch.setenv("PELLACIA_POST_JITTER_SECONDS", "0")
    return open_database(Settings.from_env().database_url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("pellacia-dist: ") and err.count("\n") == 1, err
    return err


def test_queue_status_shows_each_account(
    factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        published(session, "earlier", now - timedelta(minutes=10))
        queued(session, "next", not_before=now)
        queued(session, "flood", lane="breaking", not_before=now)
        failed = queued(session, "refused", "x", not_before=now)[0]
        mark_outcome(session, failed.id, "failed", "x: media too long")
    code, out, _ = run(capsys, "queue", "status")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "gap 1800 s + up to 0 s jitter; quiet hours none; times in America/New_York"
    assert lines[1].startswith("x/main: next slot ") and "queued breaking 0 normal 0 backlog 0" in lines[1]
    assert lines[2] == "  last error: x: media too long"
    assert "(spacing gap since the last post); queued breaking 1 normal 1 backlog 0" in lines[3]
    assert lines[3].startswith("youtube/main:") and lines[3].endswith("published today 1/6")
    code, out, _ = run(capsys, "queue", "status", "--json")
    report = json.loads(out)
    assert (report["timezone"], report["gap_s"], report["quiet_hours"]) == ("America/New_York", 1800.0, None)
    youtube = {(a["platform"], a["account"]): a for a in report["accounts"]}[("youtube", "main")]
    assert youtube["queued"] == {"breaking": 1, "normal": 1, "backlog": 0}
    assert (youtube["published_today"], youtube["daily_cap"], youtube["hard_cap"]) == (1, 6, 100)
    assert youtube["next_slot_reason"] == "spacing gap since the last post"


def test_schedule_list_and_cancel(factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    at = datetime(2026, 12, 27, 19, 0, tzinfo=UTC)  # 14:00 in New York
    with transaction(factory) as session:
        first, second = queued(session, "holiday", parts=2, not_before=at)
        done = queued(session, "old", "x", not_before=at - timedelta(days=1))[0]
        done.state = "published"
    code, out, _ = run(capsys, "schedule", "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["id", "story", "part", "platform", "account", "lane", "not", "before",
                              "(America/New_York)", "state"]  # fmt: skip
    assert [row.split() for row in rows] == [
        [
            str(first.id),
            "holiday",
            "1/2",
            "youtube",
            "main",
            "normal",
            "2026-12-27",
            "14:00",
            "EST",
            "queued",
        ],
        [
            str(second.id),
            "holiday",
            "2/2",
            "youtube",
            "main",
            "normal",
            "2026-12-27",
            "14:00",
            "EST",
            "queued",
        ],
    ]
    code, out, _ = run(capsys, "schedule", "cancel", "--id", str(second.id), "--json")
    assert code == 0 and json.loads(out)["state"] == "cancelled"
    code, out, _ = run(capsys, "schedule", "list", "--json")
    listed = json.loads(out)
    assert listed["timezone"] == "America/New_York"
    [post] = listed["posts"]
    assert (post["id"], post["not_before"], post["not_before_local"]) == (
        first.id,
        "2026-12-27T19:00:00+00:00",
        "2026-12-27 14:00 EST",
    )
    assert "is cancelled; only queued or due posts" in refused(
        capsys, "schedule", "cancel", "--id", str(second.id)
    )
    assert "no queued post with id 999" in refused(capsys, "schedule", "cancel", "--id", "999")
    assert "needs --id" in refused(capsys, "schedule", "cancel")


def test_schedule_names_what_the_file_form_lacks(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "schedule needs --file, --at" in refused(capsys, "schedule", "--platforms", "x")
    assert "`schedule list` takes no --file" in refused(capsys, "schedule", "list", "--file", "a.mp4")
    assert "--id goes with `schedule cancel`" in refused(capsys, "schedule", "--id", "3")
    missing = refused(
        capsys,
        "schedule",
        "--platforms",
        "x",
        "--file",
        str(pellacia_home / "nope.mp4"),
        "--at",
        "2026-12-27 14:00",
    )
    assert "nope.mp4" in missing  # the file form went on to `submission.cmd_schedule_add`


def test_queue_retry_and_clear(factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        failed = queued(session, "a", not_before=now)[0]
        mark_outcome(session, failed.id, "failed", "boom")
        manual = queued(session, "b", not_before=now)[0]
        mark_outcome(session, manual.id, "manual", "reauth")
        waiting = queued(session, "c", not_before=now)[0]
    code, out, _ = run(capsys, "queue", "retry", "--id", str(failed.id))
    assert (code, out) == (0, f"queued post {failed.id} (a part 1 on youtube) queued again\n")
    assert "is queued; only failed, manual or cancelled" in refused(
        capsys, "queue", "retry", "--id", str(waiting.id)
    )
    code, out, _ = run(capsys, "queue", "clear", "--status", "manual", "--json")
    assert code == 0 and json.loads(out) == {"status": "manual", "cleared": 1}
    code, out, _ = run(capsys, "queue", "clear", "--status", "failed")
    assert (code, out) == (0, "cleared 0 failed posts from the queue\n")
    with transaction(factory) as session:
        states = {row.story_key: row.state for row in session.query(QueuedPost)}
    assert states == {"a": "queued", "c": "queued"}


def test_story_flag_breaking_moves_waiting_posts_and_later_ones(
    factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with transaction(factory) as session:
        rows = queued(session, "flood", parts=2, not_before=now)
        rows[0].state = "published"
    code, out, _ = run(capsys, "story", "flag", "flood", "--breaking", "--json")
    assert code == 0 and json.loads(out) == {"story": "flood", "priority": "breaking", "moved": [rows[1].id]}
    with transaction(factory) as session:
        assert session.get_one(StoryRecord, "flood").priority == "breaking"
        assert [row.lane for row in session.query(QueuedPost).order_by(QueuedPost.id)] == [
            "normal",
            "breaking",
        ]
    code, out, _ = run(capsys, "story", "flag", "flood", "--breaking")
    assert out == "story flood is breaking news: 1 waiting post moved to the breaking lane\n"
    assert "no story 'nothing'" in refused(capsys, "story", "flag", "nothing", "--breaking")


def test_a_bad_posting_setting_is_one_line(
    factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_QUIET_HOURS", "late")
    assert "PELLACIA_QUIET_HOURS='late': expected HH:MM-HH:MM" in refused(capsys, "queue", "status")


def test_upload_takes_a_priority_and_wait() -> None:
    args = build_parser().parse_args(
        ["upload", "--platform", "x", "--file", "a.mp4", "--title", "T", "--priority", "breaking", "--wait"]
    )
    assert (args.priority, args.wait) == ("breaking", True)
    plain = build_parser().parse_args(["upload", "--platform", "x", "--file", "a.mp4", "--title", "T"])
    assert (plain.priority, plain.wait) == (None, False)
