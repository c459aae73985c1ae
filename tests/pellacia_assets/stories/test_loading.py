"""Story files: what is accepted, and the clear refusals for everything that is not a story."""

from __future__ import annotations

import io
import os
import sys
import threading
from pathlib import Path

import pytest

from pellacia_assets.cli import SAMPLES_DIR
from pellacia_assets.stories.loading import (
    MAX_FILE_BYTES,
    StoryError,
    read_story_file,
    split_title,
    strip_controls,
)
from pellacia_assets.stories.model import Byline


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_markdown_heading_becomes_title(tmp_path: Path) -> None:
    record = read_story_file(write(tmp_path, "My Story!.md", b"# A title\n\nThe body.\n"))
    assert (record.key, record.title, record.body) == ("file-my-story", "A title", "The body.")


def test_json_story_with_every_field(tmp_path: Path) -> None:
    data = (
        b'{"key": "k-1", "title": "T", "body": "B", "tags": ["a"], "priority": "breaking", "language": "en"}'
    )
    record = read_story_file(write(tmp_path, "s.json", data))
    assert (record.key, record.priority, record.tags, record.language) == ("k-1", "breaking", ("a",), "en")


def test_a_reddit_byline_is_kept_for_the_hook_card(tmp_path: Path) -> None:
    data = (
        b'{"title": "T", "body": "B", "byline": {"kind": "reddit", "site": "r/nosleep", "author": "u/ines",'
        b' "score": 24817, "comments": 1312}}'
    )
    record = read_story_file(write(tmp_path, "s.json", data))
    assert record.byline == Byline("reddit", "nosleep", "ines", 24817, 1312)


def test_bundled_samples_load() -> None:
    records = [read_story_file(path) for path in sorted(SAMPLES_DIR.iterdir())]
    assert len(records) == 3
    assert all(record.title and record.body for record in records)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "the story is empty"),
        ("blank.md", b"  \n\t\n", "the story is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.txt", "Café crème".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 3)"),
        ("utf16.txt", "Grüße".encode("utf-16"), "UTF-16 text; save it as UTF-8"),
        ("bad.json", b'{"title": "x", "body": ', "malformed JSON at line 1"),
        ("list.json", b"[1, 2]", "must be an object"),
        ("nobody.json", b'{"title": "x"}', "non-empty string 'body'"),
        ("prio.json", b'{"body": "x", "priority": "urgent"}', "'priority' must be one of"),
        ("by.json", b'{"body": "x", "byline": "reddit"}', "'byline' must be an object"),
        ("bykind.json", b'{"body": "x", "byline": {"kind": "forum"}}', "'byline.kind' must be one of"),
        ("byscore.json", b'{"body": "x", "byline": {"kind": "reddit", "score": "9k"}}', "'byline.score'"),
        ("byextra.json", b'{"body": "x", "byline": {"kind": "reddit", "ups": 3}}', "unknown field(s) ups"),
        ("story.pdf", b"%PDF-1.7", "unsupported story file type"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(StoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_story_file(write(tmp_path, name, data))


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="far too long"):
        read_story_file(write(tmp_path, "huge.txt", b"word " * (MAX_FILE_BYTES // 4)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="no such file"):
        read_story_file(tmp_path / "nope.md")


def test_first_sentence_is_not_mistaken_for_a_title() -> None:
    assert split_title("It was late. We left.\nThen rain.") == ("", "It was late. We left.\nThen rain.")


def test_json_nested_too_deeply_is_a_story_error_not_a_crash(tmp_path: Path) -> None:
    deep = b'{"title": "x", "body": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(StoryError, match=r"deep\.json: the JSON is nested too deeply to be a story"):
        read_story_file(write(tmp_path, "deep.json", deep))


def test_a_directory_is_named_a_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(StoryError, match=r"folder\.md: is a directory, not a story file"):
        read_story_file(tmp_path / "folder.md")


def test_a_named_pipe_is_read_as_a_stream(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    def feed() -> None:
        with pipe.open("wb") as writer:
            writer.write(b'{"title": "Piped", "body": "The bus came at nine."}')

    writer = threading.Thread(target=feed)
    writer.start()
    record = read_story_file(pipe)
    writer.join()
    assert (record.key, record.title, record.body) == ("file-pipe", "Piped", "The bus came at nine.")


def test_standard_input_is_a_story_and_stops_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"# Title\n\nBody.\n")))
    record = read_story_file(Path("-"))
    assert (record.key, record.title, record.body, record.source_ref) == (
        "file-stdin",
        "Title",
        "Body.",
        "standard input",
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"word " * MAX_FILE_BYTES)))
    with pytest.raises(StoryError, match="standard input: more than 1,000,000 bytes"):
        read_story_file(Path("-"))


def test_terminal_escapes_and_control_bytes_are_stripped(tmp_path: Path) -> None:
    text = (
        "# \x1b[1;31mBreaking\x1b[0m news\x07\n\n"
        "The \x1b]0;title\x07bus\x1b[2J came\x7f at\x9b31m nine.\x1b(B\n"
    )
    record = read_story_file(write(tmp_path, "ansi.md", text.encode()))
    assert (record.title, record.body) == ("Breaking news", "The bus came at nine.")
    escaped = b'{"title": "\\u001b[31mRed\\u001b[0m", "body": "Calm\\u0000 words\\u001b[K."}'
    record = read_story_file(write(tmp_path, "ansi.json", escaped))
    assert (record.title, record.body) == ("Red", "Calm words.")


def test_a_colourful_story_is_not_mistaken_for_a_binary_file(tmp_path: Path) -> None:
    text = "# Colours\n\n" + "Some \x1b[32mgreen\x1b[0m words. " * 40
    record = read_story_file(write(tmp_path, "colours.txt", text.encode()))
    assert "\x1b" not in record.body and record.body.count("green") == 40


def test_strip_controls_keeps_text_lines_and_tabs() -> None:
    assert strip_controls("a\tb\nc\r\n\x1b[31md\x1b[0m\x00\x85") == "a\tb\nc\r\nd"
