from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandbox.openai_chat import SANDBOX_MODEL, Fault, running_chat_server, sandbox_script

KEY = "sk-sandbox-secret-123"


def _post(base_url: str, body: Any, key: str | None = KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{base_url}/chat/completions", json=body, headers=headers, timeout=10)


def _chat(content: str = "Reply in JSON.\n\nTITLE: T\n\nSTORY:\nIt began. It ended.") -> dict[str, Any]:
    return {"model": SANDBOX_MODEL, "messages": [{"role": "user", "content": content}], "temperature": 0.2}


def test_chat_completion_is_well_formed_and_deterministic() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        response = _post(sandbox.base_url, _chat())
        again = _post(sandbox.base_url, _chat())
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert data["model"] == SANDBOX_MODEL
    assert isinstance(data["created"], int)
    choice = data["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert json.loads(choice["message"]["content"]) == {
        "hook": "T",
        "narration": "It began. It ended.",
        "call_to_action": "Follow for more stories like this.",
    }
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert again.json()["choices"] == data["choices"]
    assert sandbox.requests[0].authorization == f"Bearer {KEY}"


def test_hook_falls_back_to_the_first_sentence() -> None:
    assert json.loads(sandbox_script("STORY:\nFirst one. Second."))["hook"] == "First one."


def test_models_listing() -> None:
    with running_chat_server() as sandbox:
        listing = httpx.get(f"{sandbox.base_url}/models", timeout=10).json()
        single = httpx.get(f"{sandbox.base_url}/models/{SANDBOX_MODEL}", timeout=10)
    assert listing["object"] == "list"
    assert listing["data"][0]["id"] == SANDBOX_MODEL
    assert single.json()["object"] == "model"


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, 400, None, None),
        ({"model": SANDBOX_MODEL}, 400, "messages", "missing_required_parameter"),
        ({"model": SANDBOX_MODEL, "messages": []}, 400, "messages", "empty_array"),
        (
            {"model": SANDBOX_MODEL, "messages": [{"content": "hi"}]},
            400,
            "messages[0].role",
            "missing_required_parameter",
        ),
        (
            {"model": SANDBOX_MODEL, "messages": [{"role": "robot", "content": "hi"}]},
            400,
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": SANDBOX_MODEL, "messages": [{"role": "user"}]},
            400,
            "messages[0].content",
            "missing_required_parameter",
        ),
        ({**_chat(), "temperature": 3}, 400, "temperature", "decimal_out_of_range"),
        ({**_chat("no j-word here"), "response_format": {"type": "json_object"}}, 400, "messages", None),
        ({**_chat(), "model": "gpt-nope"}, 404, None, "model_not_found"),
    ],
)
def test_invalid_requests_get_openai_shaped_errors(
    body: Any, status: int, param: str | None, code: str | None
) -> None:
    with running_chat_server() as sandbox:
        response = _post(sandbox.base_url, body, key=None)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]


def test_non_json_body_and_unknown_path() -> None:
    with running_chat_server() as sandbox:
        garbage = httpx.post(f"{sandbox.base_url}/chat/completions", content=b"{nope", timeout=10)
        unknown = httpx.post(f"{sandbox.base_url}/completions/legacy", json={}, timeout=10)
        no_prefix = httpx.post(
            sandbox.base_url.removesuffix("/v1") + "/chat/completions", json=_chat(), timeout=10
        )
    assert (
        garbage.status_code == 400 and "could not parse the JSON body" in garbage.json()["error"]["message"]
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["message"].startswith("Invalid URL")
    assert no_prefix.status_code == 404


def test_bearer_key_is_checked() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        missing = _post(sandbox.base_url, _chat(), key=None)
        wrong = _post(sandbox.base_url, _chat(), key="sk-wrong-key-0000")
    assert missing.status_code == 401 and "didn't provide an API key" in missing.json()["error"]["message"]
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key-0000" not in wrong.json()["error"]["message"]


def test_faults_apply_once_in_order() -> None:
    with running_chat_server() as sandbox:
        sandbox.inject(Fault(status=500))
        sandbox.inject(Fault(content="not a script"))
        sandbox.inject(Fault(raw_body="<html>oops</html>"))
        failed = _post(sandbox.base_url, _chat(), key=None)
        odd = _post(sandbox.base_url, _chat(), key=None)
        raw = _post(sandbox.base_url, _chat(), key=None)
        fine = _post(sandbox.base_url, _chat(), key=None)
    assert failed.status_code == 500 and failed.json()["error"]["type"] == "server_error"
    assert odd.json()["choices"][0]["message"]["content"] == "not a script"
    assert raw.text == "<html>oops</html>"
    assert fine.status_code == 200
