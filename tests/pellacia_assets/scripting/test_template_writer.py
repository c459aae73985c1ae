from __future__ import annotations

import pytest

from pellacia_assets.scripting.errors import ScriptWriterError
from pellacia_assets.scripting.parts import CLOSING_CALL_TO_ACTION
from pellacia_assets.scripting.speech_text import words
from pellacia_assets.scripting.template_writer import TemplateScriptWriter, hook_from_title
from pellacia_assets.stories.model import Story
from resources.platforms import PLATFORMS
from resources.platforms.limits import validate_copy

PARAGRAPH = (
    "So this happened at 7:30 pm and it cost me $1,200 (ugh 😭). My BF said IMO it was fine, "
    "but it really wasn't, and I told him so. See https://example.com/proof for the receipt."
)


def _story(paragraphs: int, title: str = "TIFU by trusting my BF (27M) with $500") -> Story:
    body = "\n\n".join(f"**Day {index}.** {PARAGRAPH}" for index in range(1, paragraphs + 1))
    return Story(
        key="reddit-abc", source_kind="reddit", title=title, body=body, tags=("TIFU", "relationships")
    )


def test_short_story_is_one_part_titled_part_1() -> None:
    script = TemplateScriptWriter().write(_story(1), words_per_minute=165)
    assert script.writer == "template"
    assert [part.title for part in script.parts] == ["Part 1"]
    part = script.parts[0]
    assert part.hook == "Today I messed up by trusting my boyfriend with five hundred dollars."
    assert part.call_to_action == CLOSING_CALL_TO_ACTION
    assert "one thousand two hundred dollars" in part.narration
    assert "http" not in part.narration and "😭" not in part.narration and "**" not in part.narration
    assert set(part.copy) == set(PLATFORMS)
    assert part.spoken_segments() == [part.hook, part.narration, part.call_to_action]


def test_long_story_parts_fit_the_budget_and_every_platform() -> None:
    script = TemplateScriptWriter().write(_story(14), words_per_minute=165, max_part_seconds=58)
    assert len(script.parts) > 1
    assert [part.title for part in script.parts] == [f"Part {n}" for n in range(1, len(script.parts) + 1)]
    for part in script.parts:
        assert part.estimated_seconds <= 58
        assert part.word_count == len(words(part.spoken_text))
        for platform, copy in part.copy.items():
            assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
            assert f"(Part {part.number})" in copy.title


def test_template_writer_is_deterministic() -> None:
    story = _story(9)
    assert (
        TemplateScriptWriter().write(story, 150).to_json()
        == TemplateScriptWriter().write(story, 150).to_json()
    )


def test_hook_uses_the_first_clause_of_a_long_title() -> None:
    title = (
        "AITA for telling my sister that her wedding plans were ridiculous, and then refusing to attend "
        "the rehearsal dinner she planned for months?"
    )
    assert (
        hook_from_title(title, "")
        == "Am I the a-hole for telling my sister that her wedding plans were ridiculous."
    )
    assert hook_from_title("", "First sentence here. Second one.") == "First sentence here."


def test_a_story_without_body_is_a_clear_error() -> None:
    story = Story(key="empty", source_kind="reddit", title="Title", body="😀 https://x.com")
    with pytest.raises(ScriptWriterError, match="'empty' has no body text"):
        TemplateScriptWriter().write(story, 160)
