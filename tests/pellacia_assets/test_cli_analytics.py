"""`pellacia-dist analytics` without posts or with bad input: one line and exit 2, nothing collected; the
progress bar a backfill draws."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from pellacia_assets.cli.progress import ProgressBar, duration


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["backfill", "--platform", "x", "--start-date", "2026-02-01", "--end-date", "2026-01-01"],
            "before it starts",
        ),
        (
            ["backfill", "--platform", "x", "--start-date", "2026-01-01", "--end-date", "2999-01-01"],
            "in the future",
        ),
        (
            ["backfill", "--platform", "myspace", "--start-date", "2026-01-01", "--end-date", "2026-01-02"],
            "unknown platform",
        ),
        (["summary", "--start-date", "2999-01-01"], "in the future"),
    ],
)
def test_a_bad_range_or_platform_is_one_line(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["analytics", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pellacia-dist: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["fetch", "--platform", "x", "--days", "0"],
        ["history", "--platform", "x", "--post-id", "1", "--start-date", "June"],
    ],
)
def test_bad_arguments_are_refused_by_the_parser(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["analytics", *argv])
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_a_platform_without_live_posts_is_skipped_and_said(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=2)).isoformat()
    argv = [
        "analytics",
        "backfill",
        "--platform",
        "all",
        "--start-date",
        start,
        "--end-date",
        today.isoformat(),
    ]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {value["skipped"] for value in report.values()} == {"no live post in the ledger"}
    assert main(["analytics", "history", "--platform", "x", "--post-id", "123"]) == 0
    assert "no stored metrics" in capsys.readouterr().out


def test_the_progress_bar_writes_a_line_every_tenth_when_not_on_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar("x 2026-01-01..2026-12-31", out)
    for done in range(1, 101):
        bar.update(done, 100, "requests")
    bar.finish("365 rows")
    lines = out.getvalue().splitlines()
    assert len(lines) == 12  # 1/100, then each tenth, then the end
    assert lines[0].startswith("x 2026-01-01..2026-12-31 [....") and "1/100 requests" in lines[0]
    assert "[###......" in lines[1] and "10/100" in lines[1]
    assert "100/100" in lines[-2] and lines[-1].endswith("(365 rows)")
    assert [duration(s) for s in (42, 192, 7500)] == ["42 s", "3 min 12 s", "2 h 05 min"]
