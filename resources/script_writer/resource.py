"""Choosing the script writer: the deterministic template (default) or an OpenAI-compatible chat model."""

from __future__ import annotations

import dagster as dg

from pellacia_assets.scripting.llm_writer import LLMScriptWriter
from pellacia_assets.scripting.model import Script
from pellacia_assets.scripting.template_writer import TemplateScriptWriter
from pellacia_assets.stories.model import Story
from resources.llm.resource import LLMResource

WRITERS = ("template", "llm")


class ScriptWriterResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Which writer turns stories into scripts, and the length rules every writer obeys."""

    writer: str = "template"
    max_part_seconds: float = 58.0
    max_story_words: int = 2500
    llm: LLMResource

    def write(self, story: Story, words_per_minute: float) -> Script:
        if self.writer == "template":
            return TemplateScriptWriter().write(story, words_per_minute, self.max_part_seconds)
        if self.writer == "llm":
            writer = LLMScriptWriter(self.llm.get_client())
            return writer.write(story, words_per_minute, self.max_part_seconds)
        raise ValueError(f"unknown script writer {self.writer!r}; choose one of {', '.join(WRITERS)}")
