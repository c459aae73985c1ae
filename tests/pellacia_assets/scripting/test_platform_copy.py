from __future__ import annotations

import pytest

from pellacia_assets.scripting.platform_copy import copy_for, hashtags_for, normalise_hashtag, truncate_to_fit
from resources.platforms import PLATFORMS, Platform
from resources.platforms.limits import caption_length, validate_copy

NASTY_TITLE = "<b>Mein 🤯 Nachbar</b> stahl mein Paket " * 12 + "日本語のタイトル" * 20
NASTY_NARRATION = (
    "Ein sehr langer Satz über 😀 Dinge, ünd 日本語 Zeichen, <und> spitze Klammern. " * 300
) + ("x" * 6000)
NASTY_TAGS = (
    "true crime",
    "Über-Story",
    "😀",
    "2024",
    "a" * 60,
    "AITA",
    "aita",
    "wedding drama",
    *[f"t{i}" for i in range(40)],
)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("part", [(1, 1), (3, 12)])
def test_copy_is_valid_for_nasty_inputs(platform: Platform, part: tuple[int, int]) -> None:
    number, count = part
    copy = copy_for(platform, NASTY_TITLE, number, count, "Hook 😀 here.", NASTY_NARRATION, NASTY_TAGS)
    assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    assert copy.hashtags, "hashtags should survive: the teaser shrinks first"
    assert all(tag in copy.caption for tag in copy.hashtags)
    if count > 1:
        assert copy.title.endswith(f"(Part {number})")
        assert copy.caption.startswith(f"Part {number} of {count}.")


def test_x_caption_uses_the_weighted_budget() -> None:
    copy = copy_for("x", "Title", 1, 1, "日本語の話です。", "日本語" * 300, ("story",))
    assert caption_length("x", copy.caption) <= 280
    assert caption_length("x", copy.caption) > 200
    assert copy.caption.endswith("#Storytime #Story")


def test_youtube_copy_strips_angle_brackets_and_leads_with_shorts() -> None:
    copy = copy_for("youtube", "Why 5 < 7 and 9 > 2", 1, 1, "Hook <3.", "Body > text.", ("cats",))
    assert "<" not in copy.title + copy.caption
    assert copy.hashtags[0] == "#Shorts"
    assert copy.title == "Why 5 7 and 9 2"


def test_truncation_is_on_word_boundaries_with_an_ellipsis() -> None:
    assert truncate_to_fit("one two three four", lambda text: len(text) <= 12) == "one two…"
    assert truncate_to_fit("short", lambda text: len(text) <= 12) == "short"
    assert truncate_to_fit("abcdefghijklmnop", lambda text: len(text) <= 5) == "abcd…"
    assert truncate_to_fit("abc", lambda text: False) == ""
    assert truncate_to_fit("ab " + "字" * 40, lambda text: len(text) <= 13) == "ab 字字字字字字字字字…"


def test_hashtags_are_normalised_deduplicated_and_capped() -> None:
    assert normalise_hashtag("true crime") == "#TrueCrime"
    assert normalise_hashtag("Über-story") == "#UberStory"
    assert normalise_hashtag("😀") is None
    assert normalise_hashtag("2024") is None
    assert hashtags_for("youtube", ("AITA", "aita", "cats")) == ("#Shorts", "#AITA", "#Cats", "#Storytime")
    assert len(hashtags_for("x", NASTY_TAGS)) == 2


def test_copy_is_deterministic() -> None:
    first = copy_for("tiktok", NASTY_TITLE, 2, 3, "Hook.", NASTY_NARRATION, NASTY_TAGS)
    assert first == copy_for("tiktok", NASTY_TITLE, 2, 3, "Hook.", NASTY_NARRATION, NASTY_TAGS)
