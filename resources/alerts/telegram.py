"""Alerts through the Telegram Bot API: `sendMessage` to one chat.

Protocol (https://core.telegram.org/bots/api): POST {api}/bot<token>/sendMessage with a JSON object
{"chat_id", "text"}; the answer is always a JSON object {"ok": true, "result": Message} or {"ok": false,
"error_code", "description", "parameters": ResponseParameters}. The text is 1-4096 characters; we send it
as plain text (no parse_mode), so no entity parsing changes its length. Flood control answers 429 with
`parameters.retry_after`, the seconds to wait before the request can be repeated.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from resources.alerts.channels import AlertError, redact

TELEGRAM_API_URL = "https://api.telegram.org"
MAX_TEXT = 4096
MAX_FLOOD_WAIT_S = 5.0
_TOKEN_IN_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


class _RedactBotTokens(logging.Filter):
    """httpx logs every request's URL at INFO, and a bot token is part of that URL: hide it there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN_IN_URL.search(message):
            record.msg, record.args = _TOKEN_IN_URL.sub("/bot<redacted>", message), ()
        return True


logging.getLogger("httpx").addFilter(_RedactBotTokens())


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to the Bot API's limit, ending in an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TelegramChannel:
    """One bot posting to one chat. Each request waits at most `timeout_s` (connecting: at most 5 s), and
    flood control is waited out once when it asks for `max_wait_s` or less, so a send ends, delivered or
    failed, well within 30 s."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        chat_id: str,
        api_url: str = TELEGRAM_API_URL,
        *,
        timeout_s: float = 10.0,
        max_wait_s: float = MAX_FLOOD_WAIT_S,
    ) -> None:
        self._token = token
        self.chat_id = chat_id
        self.api_url = api_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self.max_wait_s = max_wait_s

    def __repr__(self) -> str:
        return f"TelegramChannel(chat_id={self.chat_id!r}, api_url={self.api_url!r})"

    @property
    def _host(self) -> str:
        return urlsplit(self.api_url).netloc or self.api_url

    def send(self, text: str) -> None:
        payload = {"chat_id": self.chat_id, "text": shorten(text)}
        with httpx.Client(timeout=self.timeout) as client:
            for attempt in (1, 2):
                answer = self._call(client, "sendMessage", payload)
                if answer.get("ok") is True:
                    return
                wait = _retry_after(answer)
                if wait is not None and attempt == 1 and wait <= self.max_wait_s:
                    time.sleep(wait)
                    continue
                raise AlertError(self._reason(answer, wait))

    def _call(self, client: httpx.Client, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.api_url}/bot{self._token}/{method}"
        try:
            response = client.post(url, json=payload)
        except httpx.TimeoutException:
            raise AlertError(f"no answer from {self._host} within {self.timeout.read:g} s") from None
        except httpx.HTTPError as error:
            detail = redact(str(error) or type(error).__name__, self._token)
            raise AlertError(f"cannot reach {self._host}: {detail}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise AlertError(
                f"{self._host} answered HTTP {response.status_code}, not as the Bot API does "
                "(is PELLACIA_TELEGRAM_API_URL right?)"
            )
        return answer

    def _reason(self, answer: dict[str, Any], wait: float | None) -> str:
        code = answer.get("error_code")
        description = redact(str(answer.get("description") or f"error {code}"), self._token)
        parameters = answer.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        if wait is not None:
            when = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%H:%M:%S UTC")
            return (
                f"{description} (flood control: Telegram accepts messages again after {wait:g} s, at {when})"
            )
        if parameters.get("migrate_to_chat_id") is not None:
            new_id = parameters["migrate_to_chat_id"]
            return f"{description} (the group became a supergroup: set PELLACIA_TELEGRAM_CHAT_ID={new_id})"
        if code == 401:
            return f"{description} (check PELLACIA_TELEGRAM_BOT_TOKEN)"
        if "chat not found" in description:
            return (
                f"{description} (check PELLACIA_TELEGRAM_CHAT_ID; the bot must be in that chat, or the "
                "user must have started it)"
            )
        return description


def _retry_after(answer: dict[str, Any]) -> float | None:
    """Flood control's wait in seconds, or None when the answer is not flood control."""
    parameters = answer.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
