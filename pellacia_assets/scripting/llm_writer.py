"""The optional script writer that asks an OpenAI-compatible chat model to rewrite the story for speech.

The model only supplies hook, narration and closing call to action; cleaning, part splitting and platform
copy are the same code the template writer uses, so a model can never produce an over-long part or caption.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pellacia_assets.scripting.assembly import assemble_script
from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.model import Script
from pellacia_assets.scripting.parts import DEFAULT_MAX_PART_SECONDS
from pellacia_assets.stories.model import Story
from resources.llm.client import ChatCompletionsClient, ChatMessage, LLMError

SYSTEM_PROMPT = """\
You write narration scripts for vertical short videos (YouTube Shorts, TikTok, Reels).
Rewrite the story you are given as a script to be read aloud by a text-to-speech voice.
Rules:
- Keep every fact of the story: names, numbers, order of events. Invent nothing.
- Write in the first person if the story is in the first person.
- Plain spoken English: no markdown, no emoji, no URLs, no hashtags, no stage directions.
- "hook": one short sentence (at most 15 words) that makes a viewer keep watching.
- "narration": the whole story, retold for listening, in short sentences.
- "call_to_action": one short sentence inviting the viewer to follow for more stories.
Answer with a single JSON object and nothing else:
{"hook": "...", "narration": "...", "call_to_action": "..."}"""

FIELDS = ("hook", "narration", "call_to_action")
_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def story_prompt(story: Story) -> str:
    return f"TITLE: {story.title}\n\nSTORY:\n{story.body}"


def parse_answer(answer: str) -> dict[str, str]:
    """The model's JSON object, tolerating a ```json fence or prose around it; ValueError when unusable."""
    text = answer.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text.startswith("{") and "{" in text:
        text = text[text.index("{") : text.rindex("}") + 1]
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the answer is not JSON ({error.msg})") from error
    if not isinstance(data, dict):
        raise ValueError("the answer is JSON but not an object")
    missing = [field for field in FIELDS if not isinstance(data.get(field), str) or not data[field].strip()]
    if missing:
        raise ValueError(f"the answer lacks non-empty text for {', '.join(missing)}")
    return {field: str(data[field]).strip() for field in FIELDS}


class LLMScriptWriter:
    """Writes scripts through a chat-completions endpoint; raises ScriptWriterError on any bad answer."""

    def __init__(self, client: ChatCompletionsClient, temperature: float = 0.3) -> None:
        self.client = client
        self.temperature = temperature

    @property
    def name(self) -> str:
        return f"llm:{self.client.model}"

    def write(
        self, story: Story, words_per_minute: float, max_part_seconds: float = DEFAULT_MAX_PART_SECONDS
    ) -> Script:
        if not story.body.strip():
            raise ScriptWriterError(f"story {story.key!r} has no body text to narrate")
        messages: list[ChatMessage] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": story_prompt(story)},
        ]
        try:
            answer = self.client.complete(messages, temperature=self.temperature, json_mode=True)
        except LLMError as error:
            raise ScriptWriterError(f"story {story.key!r}: the {self.name} writer failed: {error}") from error
        try:
            fields = parse_answer(answer)
        except ValueError as error:
            excerpt = answer.strip()[:200]
            raise ScriptWriterError(
                f"story {story.key!r}: {self.name} gave an unusable script: {error}. "
                f"Answer began: {excerpt!r}"
            ) from error
        return assemble_script(
            story,
            self.name,
            fields["hook"],
            fields["narration"],
            fields["call_to_action"],
            words_per_minute,
            max_part_seconds,
        )
