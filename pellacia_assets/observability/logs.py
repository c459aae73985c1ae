"""Logs a machine can read: one JSON object per line when `PELLACIA_LOG_FORMAT=json`, carrying the
correlation fields (story key, run id, platform, queue id, request id) of whatever the line is about.

The correlation lives in a context variable, so it follows the code that set it through calls, threads
started with `contextvars.copy_context()` and asyncio tasks (each FastAPI request has its own), without
every log call repeating it:

    with correlation(story_key="reddit-t3_abc", platform="youtube"):
        log.info("uploading")   # {"ts": ..., "message": "uploading", "story_key": "reddit-t3_abc", ...}

`text` (the default) keeps the familiar one-line format, with the correlation appended in brackets.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

FORMAT_VARIABLE = "PELLACIA_LOG_FORMAT"
LEVEL_VARIABLE = "PELLACIA_LOG_LEVEL"
FORMATS = ("text", "json")
FIELDS = ("story_key", "run_id", "platform", "account", "queue_id", "request_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_context: ContextVar[Mapping[str, Any]] = ContextVar("pellacia_correlation", default={})  # noqa: B039 - never mutated


class LogConfigError(ValueError):
    """A logging variable with a value we do not know; the message names the variable."""


def current_correlation() -> dict[str, Any]:
    """The correlation fields in force here."""
    return dict(_context.get())


@contextmanager
def correlation(**fields: Any) -> Iterator[dict[str, Any]]:
    """Add `fields` (None values are left out) to every log line written inside the block, on top of the
    fields already in force; the previous ones return when it ends."""
    merged = {**_context.get(), **{name: value for name, value in fields.items() if value is not None}}
    token = _context.set(merged)
    try:
        yield dict(merged)
    finally:
        _context.reset(token)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The correlation of a record: the context's, then the correlation names a call passed in `extra=`
    (other extras are left out: libraries attach their own, such as uvicorn's `color_message`)."""
    fields = dict(_context.get())
    for name in FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, the correlation
    fields, and `exc_info` (the traceback) when the record carries an exception."""

    def __init__(self, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.extra = dict(extra or {})

    def message(self, record: logging.LogRecord) -> str:
        return record.getMessage()

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The fields of `record` besides the fixed ones; a subclass adds its own (Dagster's run)."""
        return record_fields(record)

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.message(record),
        }
        document.update(self.extra)
        for name, value in self.fields(record).items():
            document.setdefault(name, value)
        if record.exc_info:
            document["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exc_info"] = record.exc_text
        if record.stack_info:
            document["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The usual one-line format, with the correlation (if any) appended as `[name=value ...]`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record)
        if not fields:
            return line
        first, newline, rest = line.partition("\n")
        tail = " ".join(f"{name}={value}" for name, value in fields.items())
        return f"{first} [{tail}]{newline}{rest}"


class _PellaciaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs, told apart from others so a second call replaces it.
    Without a stream of its own it writes to whatever `sys.stderr` is when a record comes, as Python's
    last-resort handler does, so a replaced stderr (a test's capture, a closed pipe) is never written to."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._own_stream = stream

    @property
    def stream(self) -> TextIO:
        return self._own_stream if self._own_stream is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._own_stream = value


def log_format(value: str | None = None) -> str:
    """`PELLACIA_LOG_FORMAT` (or `value`): `text` (default) or `json`."""
    chosen = (value if value is not None else os.environ.get(FORMAT_VARIABLE, "")).strip().lower() or "text"
    if chosen not in FORMATS:
        raise LogConfigError(f"{FORMAT_VARIABLE}={chosen!r} is not a log format: use text or json")
    return chosen


def log_level(value: str | None = None, default: str = "INFO") -> int:
    """`PELLACIA_LOG_LEVEL` (or `value`): a level name such as INFO or DEBUG (`default` when unset)."""
    chosen = (value if value is not None else os.environ.get(LEVEL_VARIABLE, "")).strip().upper() or default
    level = logging.getLevelNamesMapping().get(chosen)
    if level is None:
        raise LogConfigError(
            f"{LEVEL_VARIABLE}={chosen!r} is not a log level: use DEBUG, INFO, WARNING or ERROR"
        )
    return level


def formatter_for(fmt: str) -> logging.Formatter:
    return JsonFormatter() if log_format(fmt) == "json" else TextFormatter()


def configure_logging(
    fmt: str | None = None,
    level: str | None = None,
    stream: TextIO | None = None,
    default_level: str = "INFO",
) -> None:
    """Send the root logger's records to `stream` (stderr) in the chosen format (see `log_format`), from
    `PELLACIA_LOG_LEVEL` up (`default_level` when unset: the CLI keeps its terminal to warnings).

    Idempotent: a second call replaces the handler the first installed and leaves other handlers alone
    (pytest's, Dagster's)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _PellaciaHandler)]:
        root.removeHandler(handler)
    handler = _PellaciaHandler(stream)
    handler.setFormatter(formatter_for(log_format(fmt)))
    root.addHandler(handler)
    root.setLevel(log_level(level, default_level))


@contextmanager
def logging_configured(default_level: str = "INFO") -> Iterator[None]:
    """`configure_logging` for the length of a block (one CLI command), then the root logger as it was:
    a command run in-process (a test, a notebook) leaves no handler behind."""
    root = logging.getLogger()
    level, previous = root.level, [h for h in root.handlers if isinstance(h, _PellaciaHandler)]
    configure_logging(default_level=default_level)
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if isinstance(h, _PellaciaHandler)]:
            root.removeHandler(handler)
        for handler in previous:
            root.addHandler(handler)
        root.setLevel(level)
