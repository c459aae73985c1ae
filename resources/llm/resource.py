"""The chat endpoint as a Dagster resource: configuration shown in the UI, the client built on demand."""

from __future__ import annotations

import dagster as dg

from resources.llm.client import OLLAMA_BASE_URL, ChatCompletionsClient


class LLMResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The chat endpoint the LLM script writer uses; defaults to a local Ollama server."""

    base_url: str = OLLAMA_BASE_URL
    model: str = "llama3.2"
    api_key: str | None = None
    timeout_s: float = 120.0

    def get_client(self) -> ChatCompletionsClient:
        return ChatCompletionsClient(self.base_url, self.model, self.api_key, self.timeout_s)
