"""Reading a story file (text, Markdown or JSON) into a source record, refusing what is not a story.

Every refusal is a `StoryError` whose message names the file and what is wrong with it, because the
operator sees it verbatim in the CLI and in the Dagster UI.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pellacia_assets.stories.model import BYLINE_KINDS, PRIORITIES, Byline

MAX_FILE_BYTES = 1_000_000
_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".json": "json"}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
# Terminal escape sequences (ECMA-48): CSI (colours, cursor moves), OSC (window titles, links; ended by BEL
# or ST), other two-byte escapes; in their 7-bit and 8-bit (C1) forms.
_ANSI_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[P^_X][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_KEPT_CONTROLS = "\n\r\t"


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
    platforms: tuple[str, ...] = ()  # where to post; empty: every configured platform
    publish_after: datetime | None = None  # not before this time (aware), when the source named one
    byline: Byline | None = None  # where it was first posted (the hook card shows it)


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "story"


def strip_controls(text: str) -> str:
    """`text` without terminal escape sequences (colours, cursor moves, titles) and control characters
    (C0, DEL, C1) other than newlines and tabs: what a story or a title may never carry to a voice, a
    caption or an operator's terminal."""
    text = _ANSI_ESCAPE.sub("", text)
    return "".join(ch for ch in text if ch in _KEPT_CONTROLS or unicodedata.category(ch) != "Cc")


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 text or a clear refusal: empty, binary and other encodings are named as such; terminal
    escapes and control characters are stripped (`strip_controls`)."""
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
    text = _ANSI_ESCAPE.sub("", text)
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _KEPT_CONTROLS)
    if controls > max(8, len(text) // 100):
        raise StoryError(f"{origin}: the file is full of control characters; it looks binary, not a story")
    text = strip_controls(text)
    if not text.strip():
        raise StoryError(f"{origin}: the story is empty")
    return text


def read_story_file(path: Path, key: str | None = None) -> SourceRecord:
    """The source record in `path`; the key defaults to `file-<name>`.

    `path` may also be a stream such as `/dev/stdin` or a named pipe (`-` is standard input): read up to
    the size limit, a JSON story when it begins with `{`, text or Markdown otherwise."""
    origin = "standard input" if str(path) == "-" else str(path)
    stream = str(path) == "-" or (path.exists() and not path.is_file() and not path.is_dir())
    if path.is_dir() and str(path) != "-":
        raise StoryError(f"{origin}: is a directory, not a story file")
    if not stream and not path.exists():
        raise StoryError(f"{origin}: no such file")
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None and not (stream or str(path).startswith(("/dev/", "/proc/"))):
        raise StoryError(f"{origin}: unsupported story file type; use .txt, .md or .json")
    data = _read_stream(path, origin) if stream else _read_file(path, origin)
    text = decode_text(data, origin)
    if kind is None:
        kind = "json" if text.lstrip().startswith("{") else "text"
    name = "stdin" if str(path) == "-" else path.stem
    story_key = key or f"file-{slugify(name)}"
    if kind == "json":
        return _from_json(text, origin, story_key)
    title, body = split_title(text)
    return SourceRecord(key=story_key, source_kind="file", source_ref=origin, title=title or name, body=body)


def _read_file(path: Path, origin: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise StoryError(
                f"{origin}: {size:,} bytes is far too long for a short (limit {MAX_FILE_BYTES:,})"
            )
        return path.read_bytes()
    except OSError as error:
        raise StoryError(f"{origin}: cannot be read ({error.strerror or error})") from error


def _read_stream(path: Path, origin: str) -> bytes:
    """A pipe, terminal or standard input: read no more than the limit (plus one byte, to know)."""
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise StoryError(f"{origin}: cannot be read ({error.strerror or error})") from error
    if len(data) > MAX_FILE_BYTES:
        raise StoryError(f"{origin}: more than {MAX_FILE_BYTES:,} bytes is far too long for a short")
    return data


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
    except RecursionError as error:
        raise StoryError(f"{origin}: the JSON is nested too deeply to be a story") from error
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
        title=strip_controls(title).strip(),
        body=strip_controls(body),
        url=url,
        language=language,
        priority=priority,
        tags=tuple(tags),
        byline=_byline(data.get("byline"), origin),
    )


def _byline(data: Any, origin: str) -> Byline | None:
    """`"byline": {"kind": "reddit", "site": "AskReddit", "author": "u", "score": 1234, "comments": 56}`."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise StoryError(f'{origin}: \'byline\' must be an object like {{"kind": "reddit", "site": ...}}')
    unknown = sorted(set(data) - {"kind", "site", "author", "score", "comments"})
    if unknown:
        raise StoryError(f"{origin}: 'byline' has unknown field(s) {', '.join(unknown)}")
    kind = data.get("kind", "other")
    if kind not in BYLINE_KINDS:
        raise StoryError(f"{origin}: 'byline.kind' must be one of {', '.join(BYLINE_KINDS)}, not {kind!r}")
    for name in ("site", "author"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise StoryError(f"{origin}: 'byline.{name}' must be a string")
    for name in ("score", "comments"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise StoryError(f"{origin}: 'byline.{name}' must be a whole number of at least 0")
    site, author = data.get("site"), data.get("author")
    return Byline(
        kind,
        strip_controls(site).strip().removeprefix("r/") or None if site else None,
        strip_controls(author).strip().removeprefix("u/") or None if author else None,
        data.get("score"),
        data.get("comments"),
    )
