"""A story retold from someone else's video credits its maker in every platform's caption, within limits."""

from __future__ import annotations

import pytest

from pellacia_assets.scripting.assembly import assemble_script
from pellacia_assets.scripting.platform_copy import copy_for, credit_line
from pellacia_assets.stories.model import Byline, Story
from resources.platforms import PLATFORMS, Platform
from resources.platforms.limits import validate_copy

URL = "https://www.tiktok.com/@ann.tells/video/7301234567890123456"
LONG_NARRATION = "The lighthouse keeper climbed the stairs again that night and found another letter. " * 80


ANN = Byline("other", "TikTok", "Ann Tells")


def link_story(byline: Byline | None = ANN, url: str = URL) -> Story:
    return Story(
        key="link-tiktok-7301234567890123456",
        source_kind="link",
        title="The letter in the bottle",
        body="The keeper found a letter.",
        url=url,
        byline=byline,
    )


def test_the_credit_names_the_maker_and_the_site_then_the_url() -> None:
    assert credit_line(link_story()) == f"Source: Ann Tells on TikTok\n{URL}"
    assert credit_line(link_story(Byline("other", "example.org", None))) == f"Source: example.org\n{URL}"
    assert credit_line(link_story(None)) == f"Source: {URL}"


def test_stories_of_other_sources_carry_no_credit() -> None:
    told = Story(key="reddit-t3_x", source_kind="reddit", title="T", body="B", url="https://reddit.com/r/x/1")
    assert credit_line(told) == ""


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_credit_survives_a_long_teaser_and_the_copy_stays_valid(platform: Platform) -> None:
    credit = credit_line(link_story())
    copy = copy_for(
        platform, "The letter in the bottle", 2, 3, "Hook.", LONG_NARRATION, ("story",), credit=credit
    )
    assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    assert "Source: Ann Tells on TikTok\n" + URL in copy.caption
    assert copy.hashtags and copy.caption.endswith(" ".join(copy.hashtags))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_address_longer_than_the_caption_leaves_only_the_name(platform: Platform) -> None:
    credit = credit_line(link_story(url="https://example.org/" + "a" * 70_000))
    copy = copy_for(platform, "Title", 1, 1, "Hook.", "Narration.", (), credit=credit)
    assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    assert "Source: Ann Tells on TikTok" in copy.caption
    # X counts any link as 23 characters (t.co), so there the address still fits.
    assert ("example.org" in copy.caption) == (platform == "x")


def test_every_part_of_an_assembled_script_carries_the_credit() -> None:
    script = assemble_script(
        link_story(), "template", "Hook.", LONG_NARRATION, "Follow for more.", 160.0, 58.0
    )
    assert len(script.parts) > 1
    captions = [copy.caption for part in script.parts for copy in part.copy.values()]
    assert len(captions) == len(script.parts) * len(PLATFORMS)
    assert all(URL in caption for caption in captions)
