"""Reading a story file (text, Markdown or JSON) into a source record, refusing what is not a story.

Every refusal is a `StoryError` whose message names the file and what is wrong with it, because the
operator sees it verbatim in the CLI and in the Dagster UI.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pellacia_assets.stories.model import PRIORITIES

MAX_FILE_BYTES = 1_000_000
_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".json": "json"}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


class StoryError(ValueError):
    """A story that cannot be produced, with a message meant for the operator."""


@dataclass(frozen=True)
class SourceRecord:
    """A story as its source delivered it, before any cleaning."""

    key: str
    source_kind: str
    source_ref: str
    title: str
    body: str
    url: str | None = None
    language: str | None = None
    priority: str = "normal"
    tags: tuple[str, ...] = field(default_factory=tuple)


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "story"


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 text or a clear refusal: empty, binary and other encodings are named as such."""
    if not data.strip():
        raise StoryError(f"{origin}: the story is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StoryError(f"{origin}: the story is UTF-16 text; save it as UTF-8 and try again")
    if b"\x00" in data[:8192]:
        raise StoryError(f"{origin}: this is a binary file, not a text story")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StoryError(
            f"{origin}: the story is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8 and try again"
        ) from error
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
    if controls > max(8, len(text) // 100):
        raise StoryError(f"{origin}: the file is full of control characters; it looks binary, not a story")
    if not text.strip():
        raise StoryError(f"{origin}: the story is empty")
    return text


def read_story_file(path: Path, key: str | None = None) -> SourceRecord:
    """The source record in `path`; the key defaults to `file-<name>`."""
    origin = str(path)
    if not path.is_file():
        raise StoryError(f"{origin}: no such file")
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise StoryError(f"{origin}: unsupported story file type; use .txt, .md or .json")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise StoryError(f"{origin}: {size:,} bytes is far too long for a short (limit {MAX_FILE_BYTES:,})")
    text = decode_text(path.read_bytes(), origin)
    story_key = key or f"file-{slugify(path.stem)}"
    if kind == "json":
        return _from_json(text, origin, story_key)
    title, body = split_title(text)
    return SourceRecord(
        key=story_key, source_kind="file", source_ref=origin, title=title or path.stem, body=body
    )


def split_title(text: str) -> tuple[str, str]:
    """A Markdown heading or a short first line is the title; the rest is the body."""
    lines = text.strip().splitlines()
    first = lines[0].strip()
    heading = _HEADING.match(first)
    if heading:
        return heading.group(1).strip(), "\n".join(lines[1:]).strip()
    if len(lines) > 1 and len(first) <= 120 and not first.endswith((".", ",", ";")):
        return first, "\n".join(lines[1:]).strip()
    return "", text.strip()


def _from_json(text: str, origin: str, key: str) -> SourceRecord:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise StoryError(
            f"{origin}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    if not isinstance(data, dict):
        raise StoryError(f"{origin}: a JSON story must be an object with 'title' and 'body'")
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        raise StoryError(f"{origin}: a JSON story needs a non-empty string 'body'")
    title = data.get("title", "")
    if not isinstance(title, str):
        raise StoryError(f"{origin}: 'title' must be a string")
    priority = data.get("priority", "normal")
    if priority not in PRIORITIES:
        raise StoryError(f"{origin}: 'priority' must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise StoryError(f"{origin}: 'tags' must be a list of strings")
    language = data.get("language")
    url = data.get("url")
    for name, value in (("language", language), ("url", url), ("key", data.get("key"))):
        if value is not None and not isinstance(value, str):
            raise StoryError(f"{origin}: '{name}' must be a string")
    return SourceRecord(
        key=data.get("key") or key,
        source_kind=str(data.get("source_kind", "file")),
        source_ref=origin,
        title=title.strip(),
        body=body,
        url=url,
        language=language,
        priority=priority,
        tags=tuple(tags),
    )
