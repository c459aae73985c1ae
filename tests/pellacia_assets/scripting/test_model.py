from __future__ import annotations

import pytest

from pellacia_assets.scripting.errors import ScriptError
from pellacia_assets.scripting.model import PlatformCopy, Script, ScriptPart


def _script() -> Script:
    part = ScriptPart(
        number=1,
        title="Part 1",
        hook="A hook.",
        narration="The story | with a pipe.",
        call_to_action="Follow for more stories like this.",
        estimated_seconds=4.5,
        copy={"x": PlatformCopy(title="Tïtle", caption="Line one\n\nLine | two #Tag", hashtags=("#Tag",))},
    )
    return Script("key-1", "Tïtle", "template", 160.0, 58.0, (part,))


def test_json_round_trip() -> None:
    script = _script()
    assert Script.from_json(script.to_json()) == script
    assert "Tïtle" in script.to_json()


def test_bad_json_is_a_script_error() -> None:
    with pytest.raises(ScriptError, match="not valid script JSON"):
        Script.from_json('{"story_key": "k"}')


def test_part_text_and_word_count() -> None:
    part = _script().parts[0]
    assert part.spoken_text == "A hook. The story | with a pipe. Follow for more stories like this."
    assert part.word_count == 13


def test_markdown_preview_escapes_table_cells() -> None:
    markdown = _script().to_markdown()
    assert markdown.startswith("# Tïtle\n")
    assert "## Part 1 (~4.5 s, 13 words)" in markdown
    assert "**Hook:** A hook." in markdown
    assert "| x | Tïtle | Line one<br><br>Line \\| two #Tag | #Tag |" in markdown
