"""What the `script` asset needs from a writer, so the template and LLM writers are interchangeable."""

from __future__ import annotations

from typing import Protocol

from pellacia_assets.scripting.model import Script
from pellacia_assets.stories.model import Story


class ScriptWriter(Protocol):
    """Turns a story into a script whose parts fit `max_part_seconds` at the voice's speaking rate."""

    @property
    def name(self) -> str:
        """Recorded on the script ("template", "llm:<model>") so a materialisation shows who wrote it."""
        ...

    def write(self, story: Story, words_per_minute: float, max_part_seconds: float = ...) -> Script:
        """Raises ScriptWriterError (or another ScriptError) with a message a user understands."""
        ...
