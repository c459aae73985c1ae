"""The half of script writing every writer shares: speech cleaning, part splitting and platform copy.

Writers differ only in how they get a hook, a narration and a closing call to action; everything after
that must behave identically, or an LLM-written script could break limits the template never breaks.
"""

from __future__ import annotations

from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.model import Script, ScriptPart
from pellacia_assets.scripting.parts import split_into_parts
from pellacia_assets.scripting.platform_copy import copy_for, credit_line
from pellacia_assets.scripting.speech_text import plain_text, to_speech, words
from pellacia_assets.stories.model import Story
from resources.platforms import PLATFORMS


def assemble_script(
    story: Story,
    writer: str,
    hook: str,
    narration: str,
    closing_call_to_action: str,
    words_per_minute: float,
    max_part_seconds: float,
) -> Script:
    """Clean the three spoken pieces for speech, split them into parts and attach every platform's copy."""
    spoken = {
        "hook": to_speech(hook),
        "narration": to_speech(narration),
        "call to action": to_speech(closing_call_to_action),
    }
    empty = [name for name, text in spoken.items() if not words(text)]
    if empty:
        raise ScriptWriterError(
            f"story {story.key!r}: the {' and the '.join(empty)} has no speakable words after cleaning"
        )
    credit = credit_line(story)
    texts = split_into_parts(
        spoken["hook"], spoken["narration"], words_per_minute, max_part_seconds, spoken["call to action"]
    )
    parts = tuple(
        ScriptPart(
            number=text.number,
            title=f"Part {text.number}",
            hook=text.hook,
            narration=text.narration,
            call_to_action=text.call_to_action,
            estimated_seconds=text.estimated_seconds,
            copy={
                platform: copy_for(
                    platform,
                    story.title,
                    text.number,
                    len(texts),
                    text.hook,
                    text.narration,
                    story.tags,
                    credit=credit,
                )
                for platform in PLATFORMS
            },
        )
        for text in texts
    )
    return Script(
        story_key=story.key,
        title=plain_text(story.title) or spoken["hook"],
        writer=writer,
        words_per_minute=words_per_minute,
        max_part_seconds=max_part_seconds,
        parts=parts,
    )
