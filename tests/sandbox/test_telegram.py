"""The Telegram Bot API sandbox speaks the documented protocol: every way to pass parameters, the API's
error answers, flood control with retry_after, Message objects with increasing ids."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.telegram import BotApiServer, TelegramSandbox, new_bot_token, telegram_sandbox

CHAT = "424242424"


@pytest.fixture(scope="module")
def bot_api() -> Iterator[TelegramSandbox]:
    with telegram_sandbox(chat_id=CHAT) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(bot_api: TelegramSandbox) -> Iterator[TelegramSandbox]:
    bot_api.forget_messages()
    yield bot_api
    bot_api.server.clear_faults()


def method_url(sandbox: TelegramSandbox, method: str, token: str | None = None) -> str:
    return f"{sandbox.url}/bot{token or sandbox.token}/{method}"


def test_get_me_describes_the_bot(sandbox: TelegramSandbox) -> None:
    answer = httpx.get(method_url(sandbox, "getMe")).json()
    assert answer["ok"] is True
    user = answer["result"]
    assert user["id"] == int(sandbox.token.split(":")[0])
    assert user["is_bot"] is True and user["username"].endswith("bot")


@pytest.mark.parametrize("how", ["json", "form", "query", "get", "multipart"])
def test_send_message_takes_parameters_every_documented_way(sandbox: TelegramSandbox, how: str) -> None:
    url = method_url(sandbox, "sendMessage")
    parameters = {"chat_id": CHAT, "text": f"via {how}"}
    if how == "json":
        response = httpx.post(url, json={"chat_id": int(CHAT), "text": "via json"})
    elif how == "form":
        response = httpx.post(url, data=parameters)
    elif how == "query":
        response = httpx.post(url, params=parameters)
    elif how == "get":
        response = httpx.get(url, params=parameters)
    else:
        response = httpx.post(url, data=parameters, files={"unused": ("a.txt", b"x")})
    assert response.status_code == 200, response.text
    message = response.json()["result"]
    assert message["text"] == f"via {how}"
    assert message["chat"] == {
        "id": int(CHAT),
        "type": "private",
        "first_name": "Pellacia",
        "username": "pellacia_editor",
    }
    assert message["from"]["is_bot"] is True
    assert abs(message["date"] - time.time()) < 5
    assert sandbox.messages == [
        {"chat_id": CHAT, "text": f"via {how}", "message_id": message["message_id"], "date": message["date"]}
    ]


def test_message_ids_increase_and_method_names_are_case_insensitive(sandbox: TelegramSandbox) -> None:
    ids = [
        httpx.post(method_url(sandbox, name), json={"chat_id": CHAT, "text": name}).json()["result"][
            "message_id"
        ]
        for name in ("sendMessage", "sendmessage", "SENDMESSAGE")
    ]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize(
    ("token", "method", "status", "description"),
    [
        ("123:short", "sendMessage", 401, "Unauthorized"),
        ("other", "getMe", 401, "Unauthorized"),
        (None, "sendPhotograph", 404, "Not Found"),
    ],
)
def test_tokens_and_methods_are_checked(
    sandbox: TelegramSandbox, token: str | None, method: str, status: int, description: str
) -> None:
    wrong = new_bot_token() if token == "other" else token
    response = httpx.post(method_url(sandbox, method, wrong), json={"chat_id": CHAT, "text": "x"})
    assert response.status_code == status
    assert response.json() == {"ok": False, "error_code": status, "description": description}
    assert sandbox.messages == []


def test_a_path_outside_the_api_is_not_found(sandbox: TelegramSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/sendMessage")
    assert (response.status_code, response.json()["description"]) == (404, "Not Found")


@pytest.mark.parametrize(
    ("parameters", "description"),
    [
        ({"chat_id": "1", "text": "hello"}, "Bad Request: chat not found"),
        ({"text": "hello"}, "Bad Request: chat_id is empty"),
        ({"chat_id": CHAT}, "Bad Request: message text is empty"),
        ({"chat_id": CHAT, "text": "  \n "}, "Bad Request: message text is empty"),
        ({"chat_id": CHAT, "text": "x" * 4097}, "Bad Request: message is too long"),
    ],
)
def test_bad_requests_are_refused_with_the_apis_descriptions(
    sandbox: TelegramSandbox, parameters: dict[str, str], description: str
) -> None:
    response = httpx.post(method_url(sandbox, "sendMessage"), json=parameters)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert sandbox.messages == []


def test_exactly_4096_characters_are_accepted(sandbox: TelegramSandbox) -> None:
    text = "ü" * 4096
    response = httpx.post(method_url(sandbox, "sendMessage"), json={"chat_id": CHAT, "text": text})
    assert response.status_code == 200 and sandbox.messages[0]["text"] == text


def test_malformed_json_is_a_bad_request(sandbox: TelegramSandbox) -> None:
    response = httpx.post(
        method_url(sandbox, "sendMessage"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["ok"] is False


def test_flood_control_on_demand(sandbox: TelegramSandbox) -> None:
    sandbox.throttle_next(times=2, retry_after=7)
    url = method_url(sandbox, "sendMessage")
    for _ in range(2):
        response = httpx.post(url, json={"chat_id": CHAT, "text": "flood"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert httpx.post(url, json={"chat_id": CHAT, "text": "flood"}).status_code == 200
    assert [message["text"] for message in sandbox.messages] == ["flood"]


def test_a_channel_chat_carries_the_channel_not_a_sender() -> None:
    with telegram_sandbox(chat_id="@pellacia_alerts") as sandbox:
        answer = httpx.post(
            method_url(sandbox, "sendMessage"), json={"chat_id": "@pellacia_alerts", "text": "to the channel"}
        ).json()
    message = answer["result"]
    assert message["chat"]["type"] == "channel" and message["chat"]["username"] == "pellacia_alerts"
    assert str(message["chat"]["id"]).startswith("-100")
    assert "from" not in message and message["sender_chat"] == message["chat"]


def test_the_token_and_chat_are_checked_when_the_sandbox_is_made(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bot token"):
        BotApiServer(tmp_path, token="12345")
    with pytest.raises(ValueError, match="chat id"):
        BotApiServer(tmp_path, chat_id="my chat")


def test_env_names_the_variables_of_the_alerts(sandbox: TelegramSandbox) -> None:
    assert sandbox.env == {
        "PELLACIA_TELEGRAM_API_URL": sandbox.url,
        "PELLACIA_TELEGRAM_BOT_TOKEN": sandbox.token,
        "PELLACIA_TELEGRAM_CHAT_ID": CHAT,
    }
    assert sandbox.token not in repr(sandbox)
