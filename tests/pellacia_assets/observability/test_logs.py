"""Log lines: JSON that parses and carries the correlation in force, or text with it appended."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pellacia_assets.observability.logs import (
    LogConfigError,
    configure_logging,
    correlation,
    current_correlation,
    log_format,
    logging_configured,
)

log = logging.getLogger("pellacia.test")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_correlation_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "json")
    stream = io.StringIO()
    configure_logging(stream=stream)
    log.info("outside")
    with correlation(story_key="flood", run_id="r-1"):
        with correlation(platform="youtube", queue_id=7, account=None):
            log.warning("uploading %s", "part 1")
        log.info("between")
    log.info("after", extra={"request_id": "req-9"})
    outside, inner, between, after = lines(stream)
    assert set(outside) == {"ts", "level", "logger", "message"}
    assert (outside["level"], outside["logger"], outside["message"]) == ("INFO", "pellacia.test", "outside")
    assert outside["ts"].endswith("+00:00")
    assert inner["message"] == "uploading part 1"
    assert {key: inner[key] for key in ("story_key", "run_id", "platform", "queue_id")} == {
        "story_key": "flood",
        "run_id": "r-1",
        "platform": "youtube",
        "queue_id": 7,
    }
    assert "account" not in inner  # None values are left out
    assert (between["story_key"], "platform" in between) == ("flood", False)
    assert after["request_id"] == "req-9" and "story_key" not in after
    assert current_correlation() == {}


def test_an_exception_is_kept_in_one_json_line() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    try:
        raise RuntimeError("render failed\non two lines")
    except RuntimeError:
        log.exception("story failed")
    [line] = lines(stream)
    assert line["message"] == "story failed"
    assert "RuntimeError: render failed" in line["exc_info"]


def test_the_correlation_follows_a_copied_context_into_a_thread() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    with correlation(request_id="req-1"):
        context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(log.info, "in a worker"))
    thread.start()
    thread.join()
    [line] = lines(stream)
    assert line["request_id"] == "req-1"


def test_text_lines_append_the_correlation() -> None:
    stream = io.StringIO()
    configure_logging(fmt="text", level="DEBUG", stream=stream)
    log.debug("plain")
    with correlation(story_key="flood", platform="x"):
        log.info("posting")
    plain, posting = stream.getvalue().splitlines()
    assert plain.endswith("DEBUG pellacia.test: plain")
    assert posting.endswith("INFO pellacia.test: posting [story_key=flood platform=x]")


def test_configuring_again_replaces_only_our_handler() -> None:
    root = logging.getLogger()
    others = [h for h in root.handlers if type(h).__name__ != "_PellaciaHandler"]
    first, second = io.StringIO(), io.StringIO()
    configure_logging(fmt="json", stream=first)
    configure_logging(fmt="json", level="WARNING", stream=second)
    assert [h for h in root.handlers if type(h).__name__ != "_PellaciaHandler"] == others
    assert len(root.handlers) == len(others) + 1
    log.info("dropped")
    log.warning("kept")
    assert first.getvalue() == ""
    assert [line["message"] for line in lines(second)] == ["kept"]


def test_unknown_settings_are_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert log_format() in ("text", "json")
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "yaml")
    with pytest.raises(LogConfigError, match="PELLACIA_LOG_FORMAT"):
        configure_logging()
    monkeypatch.setenv("PELLACIA_LOG_FORMAT", "JSON")
    assert log_format() == "json"
    monkeypatch.setenv("PELLACIA_LOG_LEVEL", "chatty")
    with pytest.raises(LogConfigError, match="PELLACIA_LOG_LEVEL"):
        configure_logging()


def test_a_command_leaves_no_handler_behind_and_writes_to_stderr_as_it_is_then(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pellacia-dist` runs a command inside `logging_configured`: its warnings go to the stderr of the
    moment (a test's capture here), and afterwards the root logger is as it was."""
    monkeypatch.delenv("PELLACIA_LOG_FORMAT", raising=False)
    monkeypatch.delenv("PELLACIA_LOG_LEVEL", raising=False)
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    with logging_configured(default_level="WARNING"):
        log.info("quiet")
        log.warning("shown")
    assert root.handlers == before and root.level == level
    err = capsys.readouterr().err
    assert "shown" in err and "quiet" not in err
    log.warning("after the command")
    assert "after the command" not in capsys.readouterr().err
