"""A client for any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM).

Only the chat-completions protocol is spoken, so the same code reaches a cloud model or a local one by
changing the base URL. Errors name the endpoint and the server's own message, never the API key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

import httpx

OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class LLMError(Exception):
    """The chat endpoint could not give an answer; the message says why, without secrets."""


class LLMConnectionError(LLMError):
    """The endpoint could not be reached or did not answer in time."""


class LLMHTTPError(LLMError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMResponseError(LLMError):
    """The endpoint answered 200 but not with a chat completion."""


class ChatCompletionsClient:
    """POST {base_url}/chat/completions with a Bearer key; returns the first choice's message content."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._transport = transport

    def __repr__(self) -> str:
        return f"ChatCompletionsClient(base_url={self.base_url!r}, model={self.model!r})"

    def complete(
        self, messages: Sequence[ChatMessage], temperature: float = 0.2, json_mode: bool = False
    ) -> str:
        """The assistant's reply; `json_mode` asks the server for a JSON object (response_format)."""
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "temperature": temperature}
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        data = self._request("POST", "/chat/completions", body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as error:
            raise LLMResponseError(
                f"{self.base_url}: the answer is not a chat completion (no choices[0].message.content): "
                f"{self._excerpt(json.dumps(data))}"
            ) from error
        if not isinstance(content, str):
            raise LLMResponseError(f"{self.base_url}: choices[0].message.content is not text")
        return content

    def models(self) -> list[str]:
        """The model ids the endpoint serves (GET {base_url}/models)."""
        data = self._request("GET", "/models", None)
        entries = data.get("data")
        if not isinstance(entries, list):
            raise LLMResponseError(f"{self.base_url}: GET /models did not return a model list")
        return [str(entry["id"]) for entry in entries if isinstance(entry, dict) and "id" in entry]

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        url = self.base_url + path
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
                response = client.request(method, url, json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise LLMConnectionError(
                f"{method} {url}: no answer within {self.timeout_s:g} s "
                "(raise timeout_s for slow local models)"
            ) from error
        except httpx.HTTPError as error:
            raise LLMConnectionError(
                f"{method} {url}: cannot reach the chat endpoint "
                f"({type(error).__name__}: {self._redact(str(error))})"
            ) from error
        if response.status_code >= 400:
            raise LLMHTTPError(
                f"{method} {url} failed with HTTP {response.status_code}: {self._server_message(response)}",
                response.status_code,
            )
        try:
            data = response.json()
        except ValueError as error:
            raise LLMResponseError(
                f"{method} {url}: the answer is not JSON: {self._excerpt(response.text)}"
            ) from error
        if not isinstance(data, dict):
            raise LLMResponseError(
                f"{method} {url}: the answer is not a JSON object: {self._excerpt(response.text)}"
            )
        return data

    def _server_message(self, response: httpx.Response) -> str:
        """The OpenAI-style error.message when there is one, else the start of the body."""
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return self._redact(error["message"])
        if isinstance(error, str):
            return self._redact(error)
        return self._excerpt(response.text) or response.reason_phrase

    def _excerpt(self, text: str, limit: int = 300) -> str:
        text = self._redact(text.strip())
        return text if len(text) <= limit else text[:limit] + "…"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text
