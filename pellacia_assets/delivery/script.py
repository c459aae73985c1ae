"""The script of a delivered video: one part, nothing spoken, each platform's copy from the delivery's words.

The `script` asset writes it instead of asking a script writer, so the post assets and the manual export
read a delivered story's title, caption and hashtags exactly where they read a produced story's.
"""

from __future__ import annotations

from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.model import Script, ScriptPart
from pellacia_assets.scripting.platform_copy import delivered_copy
from pellacia_assets.stories.model import Story
from resources.platforms import PLATFORMS
from resources.platforms.limits import validate_copy

WRITER = "delivered"


def delivered_script(story: Story, max_part_seconds: float) -> Script:
    """One part whose copy is the story's title, body (the description) and tags (the hashtags), fitted
    to every platform's limits; the platforms a story is not posted on get copy too, as a produced
    story's script does, so any post asset can read it."""
    if not story.title.strip():
        raise ScriptWriterError(f"story {story.key!r}: a delivered video needs a title")
    part = ScriptPart(
        number=1,
        title="Part 1",
        hook="",
        narration="",
        call_to_action="",
        estimated_seconds=0.0,
        copy={
            platform: delivered_copy(platform, story.title, story.body, story.tags) for platform in PLATFORMS
        },
    )
    return Script(
        story_key=story.key,
        title=story.title,
        writer=WRITER,
        words_per_minute=0.0,
        max_part_seconds=max_part_seconds,
        parts=(part,),
    )


def delivered_script_problems(script: Script) -> list[str]:
    """The `script_ready` rule for a delivered video: exactly one part, its copy valid on every platform
    (nothing is spoken, so no narration or part length applies)."""
    if len(script.parts) != 1:
        return [f"a delivered video's script has one part, not {len(script.parts)}"]
    [part] = script.parts
    problems = [f"{platform}: no copy" for platform in PLATFORMS if platform not in part.copy]
    for platform, copy in part.copy.items():
        problems += validate_copy(platform, copy.title, copy.caption, copy.hashtags)
    return problems
