"""A delivered video's script: one part, nothing spoken, each platform's copy from the delivery's words."""

from __future__ import annotations

import pytest

from pellacia_assets.delivery.script import delivered_script, delivered_script_problems
from pellacia_assets.scripting.model import Script
from pellacia_assets.scripting.platform_copy import delivered_copy
from pellacia_assets.stories.model import Story
from resources.platforms import PLATFORMS, Platform
from resources.platforms.limits import caption_length, limits_for, validate_copy

DESCRIPTION = "The river rose overnight and the old bridge is gone.\n\nMore at https://example.com/flood"


def story(body: str = DESCRIPTION, tags: tuple[str, ...] = ("#flood", "#Valencia")) -> Story:
    return Story(
        key="phase05-flood", source_kind="phase05", title="Flood in the valley", body=body, tags=tags
    )


def test_the_copy_is_the_delivery_s_own_words() -> None:
    written = delivered_script(story(), max_part_seconds=58)
    [part] = written.parts
    assert (written.writer, written.title, part.number, part.narration) == (
        "delivered",
        "Flood in the valley",
        1,
        "",
    )
    youtube, tiktok = part.copy["youtube"], part.copy["tiktok"]
    assert youtube.title == "Flood in the valley"
    assert youtube.caption == f"{DESCRIPTION}\n\n#flood #Valencia"  # link and paragraphs kept
    assert youtube.hashtags == ("#flood", "#Valencia")
    assert tiktok.caption.startswith("Flood in the valley\n\n")  # no title field: the caption leads with it
    assert delivered_script_problems(written) == []
    assert Script.from_json(written.to_json()) == written


@pytest.mark.parametrize("platform", PLATFORMS)
def test_long_descriptions_and_many_tags_fit_every_platform(platform: Platform) -> None:
    tags = tuple(f"#tag{number}" for number in range(60))
    copy = delivered_copy(platform, "<Title> " * 40, "A sentence about the flood. " * 400, tags)
    assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    assert caption_length(platform, copy.caption) <= limits_for(platform).caption_max
    assert copy.hashtags and all(tag in copy.caption for tag in copy.hashtags)


def test_hashtags_already_in_the_description_are_not_repeated_and_unlinkable_ones_dropped() -> None:
    copy = delivered_copy("youtube", "Sun", "Sunny day #sun", ("#sun", "#beach☀️", "#sea"))
    assert copy.caption == "Sunny day #sun\n\n#sea"
    assert copy.hashtags == ("#sun", "#sea")
    assert delivered_copy("instagram", "Sun", "", ("#beach☀️",)).hashtags == ("#beach☀️",)


def test_an_empty_description_is_fine() -> None:
    written = delivered_script(story(body="", tags=()), max_part_seconds=58)
    assert written.parts[0].copy["youtube"].caption == ""
    assert written.parts[0].copy["x"].caption == "Flood in the valley"
    assert delivered_script_problems(written) == []


def test_a_script_that_is_not_one_part_is_a_problem() -> None:
    written = delivered_script(story(), max_part_seconds=58)
    doubled = Script(**{**written.__dict__, "parts": written.parts * 2})
    assert delivered_script_problems(doubled) == ["a delivered video's script has one part, not 2"]
