"""A local stand-in for an OpenAI-compatible chat-completions server, for tests and offline demos.

It speaks the protocol strictly enough for real clients (paths under /v1, Bearer auth, OpenAI-shaped
error bodies, a valid chat.completion object), but its "model" is deterministic: it answers with a JSON
script built from the story in the last user message. Faults can be queued to exercise error handling.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SANDBOX_MODEL = "sandbox-script-writer"
SANDBOX_CALL_TO_ACTION = "Follow for more stories like this."
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.DOTALL)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour for the next chat completion.

    `status` answers with that HTTP status and an OpenAI error body; `content` replaces the assistant's
    message content (malformed scripts); `raw_body` replaces the whole response body (malformed JSON);
    `delay_s` sleeps before answering (client timeouts).
    """

    status: int | None = None
    message: str = "The server had an error while processing your request."
    content: str | None = None
    raw_body: str | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class ChatSandbox:
    """The running server's state: its address, the queued faults and every request it received."""

    base_url: str
    api_key: str | None
    models: tuple[str, ...]
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _completions: int = 0

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _next_id(self) -> str:
        with self._lock:
            self._completions += 1
            return f"chatcmpl-sandbox{self._completions:08d}"


class _OpenAIError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> dict[str, Any]:
        error_type = "invalid_request_error" if self.status < 500 else "server_error"
        return {
            "error": {"message": self.message, "type": error_type, "param": self.param, "code": self.code}
        }


def _mask(key: str) -> str:
    return f"{key[:3]}***{key[-2:]}" if len(key) > 8 else "***"


def _story_text(content: str) -> tuple[str, str]:
    """(title, story) from a "TITLE: ...\\n\\nSTORY:\\n..." prompt; the whole text is the story otherwise."""
    title_match = re.search(r"^TITLE:\s*(.*)$", content, re.MULTILINE)
    story_match = re.search(r"^STORY:\s*\n?(.*)\Z", content, re.MULTILINE | re.DOTALL)
    story = (story_match.group(1) if story_match else content).strip()
    return (title_match.group(1).strip() if title_match else ""), story


def sandbox_script(content: str) -> str:
    """The sandbox model's deterministic answer: hook = first sentence (or title), narration = the story."""
    title, story = _story_text(content)
    first = _FIRST_SENTENCE.match(story)
    hook = title or (first.group(1) if first else story)
    return json.dumps({"hook": hook, "narration": story, "call_to_action": SANDBOX_CALL_TO_ACTION})


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _validate_request(body: Any, models: tuple[str, ...]) -> dict[str, Any]:
    """The checks OpenAI applies, with its messages, params and codes."""
    if not isinstance(body, dict):
        raise _OpenAIError(400, "Invalid type for request body: expected an object.", None, "invalid_type")
    if "model" not in body:
        raise _OpenAIError(400, "you must provide a model parameter")
    if "messages" not in body:
        raise _OpenAIError(
            400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _OpenAIError(400, "Invalid type for 'messages': expected an array.", "messages", "invalid_type")
    if not messages:
        raise _OpenAIError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _OpenAIError(400, f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        if "role" not in message:
            raise _OpenAIError(
                400,
                f"Missing required parameter: '{where}.role'.",
                f"{where}.role",
                "missing_required_parameter",
            )
        if message["role"] not in ROLES:
            supported = ", ".join(f"'{role}'" for role in ROLES)
            raise _OpenAIError(
                400,
                f"Invalid value: '{message['role']}'. Supported values are: {supported}.",
                f"{where}.role",
                "invalid_value",
            )
        if message["role"] != "assistant" and "content" not in message:
            raise _OpenAIError(
                400,
                f"Missing required parameter: '{where}.content'.",
                f"{where}.content",
                "missing_required_parameter",
            )
    temperature = body.get("temperature", 1)
    if not isinstance(temperature, int | float) or isinstance(temperature, bool):
        raise _OpenAIError(
            400, "Invalid type for 'temperature': expected a decimal.", "temperature", "invalid_type"
        )
    if not 0 <= temperature <= 2:
        raise _OpenAIError(
            400,
            f"Invalid 'temperature': decimal out of range. Expected a value between 0 and 2, but got "
            f"{temperature} instead.",
            "temperature",
            "decimal_out_of_range",
        )
    if body.get("stream"):
        raise _OpenAIError(
            400, "This sandbox does not stream; send stream=false.", "stream", "unsupported_value"
        )
    response_format = body.get("response_format")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            raise _OpenAIError(
                400,
                f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
                "response_format.type",
                "invalid_value",
            )
        if kind == "json_object" and not any("json" in _text_of(m.get("content")).lower() for m in messages):
            raise _OpenAIError(
                400,
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                "'json_object'.",
                "messages",
            )
    if body["model"] not in models:
        raise _OpenAIError(
            404,
            f"The model `{body['model']}` does not exist or you do not have access to it.",
            None,
            "model_not_found",
        )
    return body


def _completion(sandbox: ChatSandbox, body: dict[str, Any], content: str) -> dict[str, Any]:
    prompt_words = sum(len(_text_of(message.get("content")).split()) for message in body["messages"])
    answer_words = len(content.split())
    choices = [
        {
            "index": index,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
        for index in range(int(body.get("n", 1)))
    ]
    return {
        "id": sandbox._next_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_words,
            "completion_tokens": answer_words,
            "total_tokens": prompt_words + answer_words,
        },
        "system_fingerprint": "fp_sandbox",
    }


def _handler(sandbox: ChatSandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: tests read `sandbox.requests` instead of stderr."""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
            path = self.path.split("?", 1)[0]
            sandbox.requests.append(RecordedRequest(method, path, self.headers.get("Authorization"), body))
            try:
                self._authorise()
                if (method, path) == ("GET", "/v1/models"):
                    self._send(
                        200, {"object": "list", "data": [self._model(model) for model in sandbox.models]}
                    )
                elif method == "GET" and path.startswith("/v1/models/") and path[11:] in sandbox.models:
                    self._send(200, self._model(path[11:]))
                elif (method, path) == ("POST", "/v1/chat/completions"):
                    self._chat(raw, body)
                else:
                    raise _OpenAIError(404, f"Invalid URL ({method} {path})")
            except _OpenAIError as error:
                self._send(error.status, error.body())

        def _authorise(self) -> None:
            if sandbox.api_key is None:
                return
            header = self.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or not header[7:].strip():
                raise _OpenAIError(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization "
                    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                )
            if header[7:].strip() != sandbox.api_key:
                raise _OpenAIError(
                    401, f"Incorrect API key provided: {_mask(header[7:].strip())}.", None, "invalid_api_key"
                )

        def _chat(self, raw: bytes, body: Any) -> None:
            if raw and isinstance(body, str):
                raise _OpenAIError(
                    400,
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                    "sent was not valid JSON.)",
                )
            request = _validate_request(body, sandbox.models)
            fault = sandbox._next_fault()
            if fault and fault.delay_s:
                time.sleep(fault.delay_s)
            if fault and fault.status:
                raise _OpenAIError(fault.status, fault.message)
            if fault and fault.raw_body is not None:
                self._send_raw(200, fault.raw_body.encode("utf-8"))
                return
            users = [message for message in request["messages"] if message["role"] == "user"]
            prompt = _text_of(users[-1]["content"]) if users else ""
            content = fault.content if fault and fault.content is not None else sandbox_script(prompt)
            self._send(200, _completion(sandbox, request, content))

        @staticmethod
        def _model(model: str) -> dict[str, Any]:
            return {"id": model, "object": "model", "created": 0, "owned_by": "pellacia-sandbox"}

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(payload).encode("utf-8"))

        def _send_raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running_chat_server(
    api_key: str | None = None, models: tuple[str, ...] = (SANDBOX_MODEL,), host: str = "127.0.0.1"
) -> Iterator[ChatSandbox]:
    """Serve the sandbox on a free port in a background thread; `.base_url` ends in /v1 like OpenAI's."""
    sandbox = ChatSandbox(base_url="", api_key=api_key, models=models)
    server = ThreadingHTTPServer((host, 0), _handler(sandbox))
    server.daemon_threads = True
    sandbox.base_url = f"http://{host}:{server.server_address[1]}/v1"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-chat-sandbox", daemon=True
    )
    thread.start()
    try:
        yield sandbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
