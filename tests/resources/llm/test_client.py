from __future__ import annotations

import json

import pytest

from resources.llm.client import (
    ChatCompletionsClient,
    ChatMessage,
    LLMConnectionError,
    LLMHTTPError,
    LLMResponseError,
)
from resources.llm.resource import LLMResource
from sandbox.openai_chat import SANDBOX_MODEL, Fault, running_chat_server

KEY = "sk-test-very-secret-key"
MESSAGES: list[ChatMessage] = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "TITLE: A\n\nSTORY:\nOne thing happened."},
]


def test_complete_sends_the_protocol_and_returns_the_content() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        client = ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, KEY, timeout_s=10)
        content = client.complete(MESSAGES, temperature=0.3, json_mode=True)
        assert client.models() == [SANDBOX_MODEL]
    assert json.loads(content)["narration"] == "One thing happened."
    request = sandbox.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.authorization == f"Bearer {KEY}"
    assert request.body == {
        "model": SANDBOX_MODEL,
        "messages": MESSAGES,
        "temperature": 0.3,
        "response_format": {"type": "json_object"},
    }


def test_http_errors_carry_status_and_server_message() -> None:
    with running_chat_server() as sandbox:
        sandbox.inject(Fault(status=500, message="The engine overheated."))
        client = ChatCompletionsClient(sandbox.base_url + "/", SANDBOX_MODEL, timeout_s=10)
        with pytest.raises(LLMHTTPError, match=r"HTTP 500: The engine overheated\.") as caught:
            client.complete(MESSAGES)
        assert caught.value.status_code == 500
        with pytest.raises(LLMHTTPError, match="HTTP 404: The model `other` does not exist"):
            ChatCompletionsClient(sandbox.base_url, "other", timeout_s=10).complete(MESSAGES)


def test_wrong_key_is_reported_without_the_key() -> None:
    with running_chat_server(api_key=KEY) as sandbox:
        client = ChatCompletionsClient(
            sandbox.base_url, SANDBOX_MODEL, "sk-wrong-but-secret-0000", timeout_s=10
        )
        with pytest.raises(LLMHTTPError, match="HTTP 401: Incorrect API key") as caught:
            client.complete(MESSAGES)
    assert "sk-wrong-but-secret-0000" not in str(caught.value)
    assert "secret" not in repr(client)


def test_malformed_bodies_are_response_errors() -> None:
    with running_chat_server() as sandbox:
        client = ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, timeout_s=10)
        sandbox.inject(Fault(raw_body="<html>proxy error</html>"))
        with pytest.raises(LLMResponseError, match="not JSON: <html>proxy error"):
            client.complete(MESSAGES)
        sandbox.inject(Fault(raw_body='{"choices": []}'))
        with pytest.raises(LLMResponseError, match="not a chat completion"):
            client.complete(MESSAGES)


def test_timeouts_and_unreachable_servers_are_connection_errors() -> None:
    with running_chat_server() as sandbox:
        sandbox.inject(Fault(delay_s=1.0))
        with pytest.raises(LLMConnectionError, match=r"no answer within 0\.2 s"):
            ChatCompletionsClient(sandbox.base_url, SANDBOX_MODEL, timeout_s=0.2).complete(MESSAGES)
        closed_url = sandbox.base_url
    with pytest.raises(LLMConnectionError, match="cannot reach the chat endpoint"):
        ChatCompletionsClient(closed_url, SANDBOX_MODEL, timeout_s=5).complete(MESSAGES)


def test_resource_defaults_to_local_ollama_and_builds_a_client() -> None:
    resource = LLMResource(model="llama3.2:3b")
    client = resource.get_client()
    assert client.base_url == "http://127.0.0.1:11434/v1"
    assert client.model == "llama3.2:3b"
