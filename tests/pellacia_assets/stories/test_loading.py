"""Story files: what is accepted, and the clear refusals for everything that is not a story."""

from __future__ import annotations

from pathlib import Path

import pytest

from pellacia_assets.cli import SAMPLES_DIR
from pellacia_assets.stories.loading import MAX_FILE_BYTES, StoryError, read_story_file, split_title


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
