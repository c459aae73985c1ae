from __future__ import annotations

from pathlib import Path

import pytest

from pellacia_assets.scripting.platform_copy import copy_for, hashtags_for, normalise_hashtag, truncate_to_fit
from resources.platforms import PLATFORMS, Platform
from resources.platforms.base import VideoPost
from resources.platforms.limits import caption_length, limits_for, validate_copy

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
    untitled = limits_for(platform).title_max is None
    head = f"{copy.title}\n\n" if untitled else ""
    assert copy.caption.startswith(head), "a post without a title field shows the title in its caption"
    if count > 1:
        assert copy.title.endswith(f"(Part {number})")
        assert copy.caption.startswith(f"{head}Part {number} of {count}.")


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
    assert normalise_hashtag("Über-story") == "#ÜberStory"
    assert normalise_hashtag("😀") is None
    assert normalise_hashtag("2024") is None
    assert hashtags_for("youtube", ("AITA", "aita", "cats")) == ("#Shorts", "#AITA", "#Cats", "#Storytime")
    assert len(hashtags_for("x", NASTY_TAGS)) == 2


def test_copy_is_deterministic() -> None:
    first = copy_for("tiktok", NASTY_TITLE, 2, 3, "Hook.", NASTY_NARRATION, NASTY_TAGS)
    assert first == copy_for("tiktok", NASTY_TITLE, 2, 3, "Hook.", NASTY_NARRATION, NASTY_TAGS)


@pytest.mark.parametrize("platform", ["tiktok", "instagram", "x"])
def test_untitled_platforms_lead_with_the_title_and_upload_composes_the_same(
    platform: Platform, tmp_path: Path
) -> None:
    """A produced story's copy already begins with its title; publishing it adds nothing and cuts nothing."""
    copy = copy_for(platform, "The keeper's last night", 1, 1, "A knock at midnight.", NASTY_NARRATION, ())
    assert copy.caption.startswith("The keeper's last night\n\nA knock at midnight.")
    post = VideoPost(tmp_path / "part-1.mp4", copy.title, copy.caption, copy.hashtags)
    assert post.caption_for(platform) == copy.caption


@pytest.mark.parametrize("platform", ["youtube", "facebook", "linkedin"])
def test_titled_platforms_keep_the_title_out_of_the_caption(platform: Platform) -> None:
    copy = copy_for(platform, "The keeper's last night", 1, 1, "A knock at midnight.", "Body.", ())
    assert copy.title == "The keeper's last night"
    assert not copy.caption.startswith(copy.title)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_story_tags_in_any_script_become_hashtags_every_platform_accepts(platform: Platform) -> None:
    assert normalise_hashtag("café") == "#Café"
    assert normalise_hashtag("日本語") == "#日本語"
    assert normalise_hashtag("new\u200byork 🗽") == "#NewYork"
    tags = hashtags_for(platform, ("café", "日本語"))
    assert "#Café" in tags and (len(tags) < 3 or "#日本語" in tags)
    copy = copy_for(platform, "Title", 1, 1, "Hook.", "Narration.", ("café", "日本語"))
    assert validate_copy(platform, copy.title, copy.caption, copy.hashtags) == []
    assert all(tag in copy.caption for tag in copy.hashtags)
