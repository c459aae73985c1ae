"""`pellacia-dist` with bad input or a hostile environment: one line and exit 2, never a traceback."""

from __future__ import annotations

import io
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.stories import list_stories, save_source

PELLACIA_DIST = Path(sys.executable).parent / "pellacia-dist"
STORY = "# The night bus\n\nThe driver waited for me every night for a year, and I never asked why.\n"


def story_keys() -> list[str]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return [row.key for row in list_stories(session)]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    error = capsys.readouterr().err
    assert error.startswith("pellacia-dist: ") and error.count("\n") == 1, error
    return error


def cli(
    *args: str, stdin: str | None = None, limit_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`pellacia-dist` in a real process (optionally with a file size limit: writes past it fail with
    EFBIG, as on a full disk, since Python ignores SIGXFSZ)."""

    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [str(PELLACIA_DIST), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=limit,
        check=False,
    )


def test_a_json_story_nested_200000_deep_is_one_line(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = tmp_path / "deep.json"
    story.write_text('{"title": "Deep", "body": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert main(["story", "add", str(story)]) == 2
    assert "deep.json: the JSON is nested too deeply to be a story" in one_line(capsys)
    assert story_keys() == []


def test_a_directory_given_as_a_story_is_a_directory(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "stories.md"
    folder.mkdir()
    assert main(["story", "add", str(folder)]) == 2
    error = one_line(capsys)
    assert "is a directory" in error and "no such file" not in error


def test_a_story_from_standard_input(
    pellacia_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(STORY.encode())))
    assert main(["story", "add", "-", "--key", "piped"]) == 0
    assert "added story 'piped'" in capsys.readouterr().out
    assert story_keys() == ["piped"]


def test_dev_stdin_is_readable_as_a_story(pellacia_home: Path) -> None:
    completed = cli("story", "add", "/dev/stdin", stdin='{"title": "Piped", "body": "The bus came at nine."}')
    assert completed.returncode == 0, completed.stderr
    assert "added story 'file-stdin'" in completed.stdout
    assert story_keys() == ["file-stdin"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("猫が窓から外を見ていました。", r"written in Japanese \(ja\)"),
        ("😀 🎉 🚌 ❤️", "no words a voice can read aloud"),
    ],
    ids=["japanese", "emoji-only"],
)
def test_a_short_story_the_voice_cannot_read_is_refused_at_once(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    story = tmp_path / "short.txt"
    story.write_text(body)
    assert main(["story", "add", str(story)]) == 2
    assert re.search(message, one_line(capsys))
    assert story_keys() == []


def test_terminal_escapes_never_reach_the_story_list(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = tmp_path / "red.md"
    story.write_text("# \x1b[31mRed\x1b[0m title\x07\n\nThe \x1b]0;pwned\x07bus came at nine.\x1b[2J\n")
    assert main(["story", "add", str(story)]) == 0
    capsys.readouterr()
    assert main(["story", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Red title" in listing
    assert "\x1b" not in listing and "\x07" not in listing


def test_story_list_into_a_reader_that_stops_early_ends_quietly(pellacia_home: Path) -> None:
    """`story list | head -1`: a real pipe closed after one line, with more output than a pipe holds."""
    with transaction(open_database(Settings.from_env().database_url)) as session:
        for number in range(3000):
            save_source(
                session, SourceRecord(f"story-{number:04}", "file", "test", f"Title {number}", "Body.")
            )
    process = subprocess.Popen(
        [str(PELLACIA_DIST), "story", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"story-0000")
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, like `yes | head -1`
    assert error == ""


def test_a_full_disk_while_adding_a_story_is_one_line(pellacia_home: Path, tmp_path: Path) -> None:
    story = tmp_path / "bus.md"
    story.write_text(STORY)
    completed = cli("story", "add", str(story), limit_file_bytes=100)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("pellacia-dist: cannot write") and completed.stderr.count("\n") == 1
    assert "File too large" in completed.stderr and "Traceback" not in completed.stderr


def test_a_full_disk_under_the_database_is_one_line(pellacia_home: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one.md", tmp_path / "two.md"
    first.write_text(STORY)
    second.write_text(STORY.replace("night bus", "day bus"))
    assert cli("story", "add", str(first)).returncode == 0
    completed = cli("story", "add", str(second), limit_file_bytes=4096)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("pellacia-dist: ") and completed.stderr.count("\n") == 1
    assert "disk I/O error" in completed.stderr and "Traceback" not in completed.stderr
    assert story_keys() == ["file-one"]
