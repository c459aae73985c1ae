"""Telegram alerts against the local Bot API sandbox: delivery, the API's refusals, flood control."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from resources.alerts.channels import AlertError
from resources.alerts.telegram import MAX_TEXT, TelegramChannel
from sandbox.common import Fault
from sandbox.telegram import TelegramSandbox, new_bot_token, telegram_sandbox


@pytest.fixture(scope="module")
def bot_api() -> Iterator[TelegramSandbox]:
    with telegram_sandbox(chat_id="-1001234567890") as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(bot_api: TelegramSandbox) -> Iterator[TelegramSandbox]:
    yield bot_api
    bot_api.server.clear_faults()


def channel(sandbox: TelegramSandbox, **options: float) -> TelegramChannel:
    return TelegramChannel(sandbox.token, sandbox.chat_id, sandbox.url, **options)


def test_send_delivers_the_text_to_the_chat(sandbox: TelegramSandbox) -> None:
    before = len(sandbox.messages)
    channel(sandbox).send("Pellacia: run failed (story-1 on youtube)\nhttp://127.0.0.1:3000/runs/abc")
    sent = sandbox.messages[before:]
    assert [(m["chat_id"], m["text"]) for m in sent] == [
        ("-1001234567890", "Pellacia: run failed (story-1 on youtube)\nhttp://127.0.0.1:3000/runs/abc")
    ]


def test_a_long_text_is_shortened_to_the_apis_limit(sandbox: TelegramSandbox) -> None:
    channel(sandbox).send("é" * (MAX_TEXT + 500))
    text = sandbox.messages[-1]["text"]
    assert len(text) == MAX_TEXT and text.endswith("…")


def test_a_wrong_token_is_unauthorized_and_never_shown(sandbox: TelegramSandbox) -> None:
    token = new_bot_token()
    wrong = TelegramChannel(token, sandbox.chat_id, sandbox.url)
    with pytest.raises(AlertError) as failure:
        wrong.send("hello")
    assert str(failure.value) == "Unauthorized (check PELLACIA_TELEGRAM_BOT_TOKEN)"
    assert token not in repr(wrong) and sandbox.token not in repr(channel(sandbox))


def test_an_unknown_chat_names_the_variable(sandbox: TelegramSandbox) -> None:
    with pytest.raises(AlertError, match=r"^Bad Request: chat not found \(check PELLACIA_TELEGRAM_CHAT_ID"):
        TelegramChannel(sandbox.token, "123", sandbox.url).send("hello")


def test_a_short_flood_wait_is_waited_out_once(sandbox: TelegramSandbox) -> None:
    before = len(sandbox.messages)
    sandbox.throttle_next(times=1, retry_after=1)
    started = time.monotonic()
    channel(sandbox).send("after the flood wait")
    assert time.monotonic() - started >= 1.0
    assert [m["text"] for m in sandbox.messages[before:]] == ["after the flood wait"]


def test_a_long_flood_wait_fails_at_once_saying_when(sandbox: TelegramSandbox) -> None:
    sandbox.throttle_next(times=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(
        AlertError, match=r"^Too Many Requests: retry after 30 \(flood control: .* after 30 s, at "
    ):
        channel(sandbox).send("hello")
    assert time.monotonic() - started < 2


def test_flood_control_twice_in_a_row_fails(sandbox: TelegramSandbox) -> None:
    sandbox.throttle_next(times=2, retry_after=1)
    with pytest.raises(AlertError, match="Too Many Requests"):
        channel(sandbox).send("hello")


def test_a_silent_server_is_a_failure_within_the_timeout(sandbox: TelegramSandbox) -> None:
    sandbox.server.delay_next("sendMessage", 2.0)
    started = time.monotonic()
    with pytest.raises(AlertError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.5 s"):
        channel(sandbox, timeout_s=0.5).send("hello")
    assert time.monotonic() - started < 2


def test_an_unreachable_server_is_a_failure() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(AlertError, match=f"cannot reach 127.0.0.1:{port}"):
        TelegramChannel(new_bot_token(), "1", f"http://127.0.0.1:{port}").send("hello")


def test_an_answer_that_is_not_the_bot_apis_is_named(sandbox: TelegramSandbox) -> None:
    sandbox.server.inject(Fault("sendMessage", status=502, body=b"<html>Bad Gateway</html>"))
    with pytest.raises(
        AlertError, match=r"answered HTTP 502, not as the Bot API does \(is PELLACIA_TELEGRAM_API_URL"
    ):
        channel(sandbox).send("hello")


def test_the_token_stays_out_of_the_http_log(
    sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        channel(sandbox).send("logged?")
    assert "HTTP Request: POST" in caplog.text
    assert sandbox.token not in caplog.text and "/bot<redacted>/sendMessage" in caplog.text
