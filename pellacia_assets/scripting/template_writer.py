"""The default, deterministic script writer: the story's own words, cleaned for speech, framed by a hook."""

from __future__ import annotations

import re

from pellacia_assets.scripting.assembly import assemble_script
from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.model import Script
from pellacia_assets.scripting.parts import CLOSING_CALL_TO_ACTION, DEFAULT_MAX_PART_SECONDS, split_sentences
from pellacia_assets.scripting.speech_text import to_speech, words
from pellacia_assets.stories.model import Story

HOOK_MAX_WORDS = 18
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)")  # "(27M)" asides do not belong in a spoken hook
_CLAUSE_END = re.compile(r"(?<=[.!?,;:])\s+")
_CONJUNCTION = re.compile(r"\s+(?=(?:but|because|after|when|while|so|and then|until|since)\s)", re.IGNORECASE)


def hook_from_title(title: str, narration: str) -> str:
    """The title made speakable, cut to its first clause when long; without a title, the first sentence."""
    spoken = _PARENTHETICAL.sub("", to_speech(title)) or (split_sentences(narration) or [""])[0]
    if len(words(spoken)) > HOOK_MAX_WORDS:
        clauses = [*_CLAUSE_END.split(spoken)[:1], *_CONJUNCTION.split(spoken)[:1]]
        fitting = [clause for clause in clauses if 3 <= len(words(clause)) <= HOOK_MAX_WORDS]
        spoken = max(fitting, key=len) if fitting else " ".join(spoken.split()[:HOOK_MAX_WORDS])
    spoken = spoken.rstrip(" ,;:-")
    return spoken if spoken.endswith(("?", "!", ".")) else spoken + "."


class TemplateScriptWriter:
    """Deterministic: the same story always gives the same script, with no model and no network."""

    @property
    def name(self) -> str:
        return "template"

    def write(
        self, story: Story, words_per_minute: float, max_part_seconds: float = DEFAULT_MAX_PART_SECONDS
    ) -> Script:
        narration = to_speech(story.body)
        if not words(narration):
            raise ScriptWriterError(f"story {story.key!r} has no body text to narrate")
        return assemble_script(
            story,
            self.name,
            hook_from_title(story.title, narration),
            narration,
            CLOSING_CALL_TO_ACTION,
            words_per_minute,
            max_part_seconds,
        )
