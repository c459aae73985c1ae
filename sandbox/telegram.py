"""A local Telegram Bot API server for the alert tests and demos, written from the Bot API's documentation
(https://core.telegram.org/bots/api), not from our client.

What it follows: requests go to /bot<token>/<METHOD>, by GET or POST, with parameters in the query string,
an application/json, application/x-www-form-urlencoded or multipart/form-data body; method names are
case-insensitive; every answer is a JSON object {"ok": true, "result": ...} or {"ok": false, "error_code",
"description", "parameters"}, with the HTTP status equal to the error code. It serves `getMe` and
`sendMessage` for one bot (one token) and one chat: a text of 1-4096 characters becomes a Message.
Flood control is on demand: `throttle_next` makes the next calls answer 429 with
`parameters.retry_after` (and a Retry-After header).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar

from sandbox.common import MultipartError, Request, Response, Route, SandboxServer, read_multipart, running

BOT_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{35}")
CHAT_ID = re.compile(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{3,}")
MAX_TEXT = 4096
DEFAULT_CHAT_ID = "424242424"


class _BotError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def bot_error(
    code: int, description: str, headers: dict[str, str] | None = None, **parameters: Any
) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response(code, body, headers or {})


def new_bot_token() -> str:
    """A token shaped like those @BotFather hands out: the bot's id, a colon, 35 URL-safe characters."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(27)[:35]}"


class BotApiServer(SandboxServer):
    """One bot (`token`) that may write to one chat (`chat_id`: a numeric id or a @channelusername)."""

    name = "telegram"
    roots: ClassVar[Mapping[str, str]] = {"api": "api.telegram.org"}

    def __init__(self, data_dir: Path, *, token: str | None = None, chat_id: str = DEFAULT_CHAT_ID) -> None:
        self.token = token or new_bot_token()
        if not BOT_TOKEN.fullmatch(self.token):
            raise ValueError("a bot token is digits, a colon and 35 characters of A-Z, a-z, 0-9, _ and -")
        if not CHAT_ID.fullmatch(str(chat_id)):
            raise ValueError(f"chat id {chat_id!r}: a number or a @channelusername")
        self.chat_id = str(chat_id)
        self._sent: list[dict[str, Any]] = []
        self._forgotten = 0
        self._sent_lock = threading.Lock()
        super().__init__(data_dir)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message delivered, oldest first: chat_id, text, message_id, date."""
        with self._sent_lock:
            return [dict(message) for message in self._sent]

    def forget_messages(self) -> None:
        """Start a fresh inbox (one sandbox serving many tests); message ids keep increasing."""
        with self._sent_lock:
            self._forgotten += len(self._sent)
            self._sent.clear()

    # --- the protocol -------------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        bot = r"/bot(?P<token>[^/]*)/"
        table: list[Route] = []
        for verb in ("GET", "POST"):
            table += [
                (verb, bot + "(?i:getMe)", "getMe", self._get_me),
                (verb, bot + "(?i:sendMessage)", "sendMessage", self._send_message),
                (verb, bot + "[^/]*", "unknown", self._unknown_method),
            ]
        return table

    def unrouted(self, request: Request) -> Response:
        return bot_error(404, "Not Found")

    def server_error(self, status: int, route: str) -> Response:
        return bot_error(status, HTTPStatus(status).phrase)

    def throttled(self, wait_s: float | None, route: str) -> Response:
        wait = max(1, math.ceil(wait_s if wait_s is not None else 3))
        return bot_error(
            429, f"Too Many Requests: retry after {wait}", {"Retry-After": str(wait)}, retry_after=wait
        )

    def _get_me(self, request: Request) -> Response:
        return self._answer(request, lambda _parameters: self._bot_user())

    def _send_message(self, request: Request) -> Response:
        return self._answer(request, self._deliver)

    def _unknown_method(self, request: Request) -> Response:
        return self._answer(request, _not_found)

    def _answer(self, request: Request, method: Callable[[dict[str, Any]], Any]) -> Response:
        """Authorise the bot, read the parameters, run `method`: its result or its error, as the API says."""
        token = request.params["token"]
        if not (BOT_TOKEN.fullmatch(token) and secrets.compare_digest(token, self.token)):
            request.drain()
            return bot_error(401, "Unauthorized")
        try:
            return Response(200, {"ok": True, "result": method(_parameters(request))})
        except _BotError as error:
            return bot_error(error.code, error.description)

    def _deliver(self, parameters: dict[str, Any]) -> dict[str, Any]:
        chat_id = parameters.get("chat_id")
        if chat_id is None or str(chat_id).strip() == "":
            raise _BotError(400, "Bad Request: chat_id is empty")
        text = parameters.get("text")
        text = "" if text is None else text if isinstance(text, str) else json.dumps(text)
        if not text.strip():
            raise _BotError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise _BotError(400, "Bad Request: message is too long")
        if str(chat_id).strip() != self.chat_id:
            raise _BotError(400, "Bad Request: chat not found")
        with self._sent_lock:
            message_id = self._forgotten + len(self._sent) + 1
            date = int(time.time())
            self._sent.append({"chat_id": self.chat_id, "text": text, "message_id": message_id, "date": date})
        chat = self._chat()
        message: dict[str, Any] = {"message_id": message_id, "date": date, "chat": chat, "text": text}
        if chat["type"] == "channel":
            message["sender_chat"] = chat  # posts in a channel carry the channel, not a sender
        else:
            message["from"] = self._bot_user(short=True)
        return message

    def _bot_user(self, short: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": int(self.token.partition(":")[0]),
            "is_bot": True,
            "first_name": "Pellacia Sandbox",
            "username": "pellacia_sandbox_bot",
        }
        if not short:  # getMe's User carries the bot's settings too
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return user

    def _chat(self) -> dict[str, Any]:
        if self.chat_id.startswith("@"):
            number = int.from_bytes(self.chat_id.encode()[:4].ljust(4, b"\0"), "big")
            return {
                "id": -(10**12) - number,
                "type": "channel",
                "title": "Pellacia alerts",
                "username": self.chat_id[1:],
            }
        number = int(self.chat_id)
        if number > 0:
            return {"id": number, "type": "private", "first_name": "Pellacia", "username": "pellacia_editor"}
        kind = "supergroup" if self.chat_id.startswith("-100") else "group"
        return {"id": number, "type": kind, "title": "Pellacia alerts"}


def _not_found(_parameters: dict[str, Any]) -> Any:
    raise _BotError(404, "Not Found")


def _parameters(request: Request) -> dict[str, Any]:
    """The query string's parameters, overridden by the body's (JSON, URL-encoded form or multipart form)."""
    parameters: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(request.body() or b"{}")
        except ValueError:
            raise _BotError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _BotError(400, "Bad Request: JSON object expected")
        parameters |= body
    elif content_type == "application/x-www-form-urlencoded":
        parameters |= request.form()
    elif content_type == "multipart/form-data":
        try:
            parameters |= read_multipart(request, field_limit=64 * 1024)[0]
        except MultipartError as error:
            raise _BotError(400, f"Bad Request: {error}") from None
    return parameters


class TelegramSandbox:
    """What a test holds: the Bot API root (`url`), the bot's `token`, its `chat_id`, the `messages`
    delivered, and `throttle_next` to make the next calls hit flood control."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server

    def __repr__(self) -> str:
        return f"TelegramSandbox(url={self.url!r}, chat_id={self.chat_id!r})"

    @property
    def url(self) -> str:
        """The Bot API root (what https://api.telegram.org is for the real one)."""
        return self.server.base_url

    @property
    def token(self) -> str:
        return self.server.token

    @property
    def chat_id(self) -> str:
        return self.server.chat_id

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.server.messages

    def forget_messages(self) -> None:
        self.server.forget_messages()

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the factory's alerts at this sandbox."""
        return {
            "PELLACIA_TELEGRAM_API_URL": self.url,
            "PELLACIA_TELEGRAM_BOT_TOKEN": self.token,
            "PELLACIA_TELEGRAM_CHAT_ID": self.chat_id,
        }

    def throttle_next(self, times: int = 1, retry_after: float = 3) -> None:
        """The next `times` sendMessage calls hit flood control and are told to wait `retry_after` s."""
        self.server.rate_limit_next("sendMessage", wait_s=retry_after, times=times)


@contextmanager
def telegram_sandbox(
    *, token: str | None = None, chat_id: str = DEFAULT_CHAT_ID, data_dir: Path | None = None
) -> Iterator[TelegramSandbox]:
    """A running Telegram sandbox on 127.0.0.1 (`.url`, `.token`, `.chat_id`, `.messages`, `.env`)."""
    with tempfile.TemporaryDirectory(prefix="telegram-sandbox-") as scratch:
        server = BotApiServer(data_dir or Path(scratch), token=token, chat_id=chat_id)
        with running(server):
            yield TelegramSandbox(server)
