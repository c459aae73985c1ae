from __future__ import annotations

import pytest

from resources.platforms import PLATFORMS, UnknownPlatformError
from resources.platforms.limits import (
    HASHTAG_EMOJI_PLATFORMS,
    LIMITS,
    caption_length,
    escape_little_text,
    hashtag_problem,
    limits_for,
    post_caption,
    utf8_length,
    utf16_length,
    validate_copy,
    x_weighted_length,
    youtube_tags_length,
)


def test_every_platform_has_limits_with_a_source() -> None:
    assert set(LIMITS) == set(PLATFORMS)
    assert all(limits.source for limits in LIMITS.values())
    assert limits_for("youtube").caption_unit == "bytes"
    with pytest.raises(UnknownPlatformError, match="myspace"):
        limits_for("myspace")


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("日本語", 6),
        ("😀", 2),
        ("👨‍👩‍👧", 2),
        ("👍🏽", 2),
        ("🇬🇧", 2),
        ("café", 4),
        ("e\u0301", 1),  # NFC folds e + combining accent into é
        ("see https://example.com/a/very/long/path/that/is/long", 4 + 23),
        ("‐’", 2),  # U+2010 and U+2019 are in the light ranges
        ("→", 2),
    ],
)
def test_x_weighted_length_follows_twitter_text(text: str, weight: int) -> None:
    assert x_weighted_length(text) == weight


def test_utf16_and_utf8_lengths_count_multibyte_text() -> None:
    assert utf16_length("a😀") == 3
    assert utf8_length("a😀é") == 1 + 4 + 2


def test_youtube_tags_counting_rule() -> None:
    assert youtube_tags_length(["cats", "funny cats"]) == 4 + 1 + 12
    assert youtube_tags_length([]) == 0


def test_little_text_escaping_keeps_hashtags_plain() -> None:
    assert escape_little_text("Hi (me) @you #Story a#b # x_y*") == r"Hi \(me\) \@you #Story a\#b \# x\_y\*"
    assert caption_length("linkedin", "(a)") == 5


def test_valid_copy_has_no_violations() -> None:
    for platform in PLATFORMS:
        assert validate_copy(platform, "A title", "A caption #Storytime", ("#Storytime",)) == []


def test_youtube_description_limit_is_in_bytes() -> None:
    ascii_fits = "a" * 5000
    multibyte = "é" * 2501  # 5002 bytes but only 2501 characters
    assert validate_copy("youtube", "t", ascii_fits, ()) == []
    problems = validate_copy("youtube", "t", multibyte, ())
    assert len(problems) == 1
    assert "5002 UTF-8 bytes" in problems[0]


def test_violations_are_listed_in_words() -> None:
    problems = validate_copy("youtube", "x" * 101 + "<b>", "fine", ("#Ok", "#not valid"))
    assert any("title is 104" in problem for problem in problems)
    assert any("forbidden characters < >" in problem for problem in problems)
    assert any("'#not valid'" in problem for problem in problems)
    too_many = (
        " ".join(f"#Tag{index}" for index in range(31)) + " " + " ".join(f"@u{index}" for index in range(21))
    )
    problems = validate_copy("instagram", "t", too_many, ())
    assert any("31 hashtags" in problem for problem in problems)
    assert any("21 @mentions" in problem for problem in problems)
    assert validate_copy("x", "t", "字" * 141, ()) == [
        "x: the caption is 282 weighted characters long; the limit is 280"
    ]
    assert validate_copy("tiktok", " ", "ok", ()) == ["tiktok: the title is empty"]
    tags = tuple(f"#{'a' * 40}{index}" for index in range(12))
    assert any("tags take" in problem for problem in validate_copy("youtube", "t", "c", tags))


TAGS = ("#storytime", "#fyp")


@pytest.mark.parametrize("platform", ["tiktok", "instagram", "x"])
def test_a_post_without_a_title_field_shows_the_title_first(platform: str) -> None:
    caption = post_caption(platform, "The keeper's last night", "A knock at midnight.", TAGS)
    assert caption == "The keeper's last night\n\nA knock at midnight. #storytime #fyp"
    assert post_caption(platform, "Title", "", TAGS) == "Title\n\n#storytime #fyp"
    assert post_caption(platform, "Title", "Title\n\nWritten for it #fyp", TAGS) == (
        "Title\n\nWritten for it #fyp #storytime"
    )


@pytest.mark.parametrize("platform", ["youtube", "facebook", "linkedin"])
def test_a_post_with_a_title_field_keeps_its_caption(platform: str) -> None:
    assert post_caption(platform, "Title", "A knock.", TAGS) == "A knock. #storytime #fyp"
    long = "word " * 2000
    assert post_caption(platform, "Title", long, ()) == long.strip()  # refused by the checks, not cut


@pytest.mark.parametrize(
    ("platform", "word"),
    [("tiktok", "🎬🎬"), ("instagram", "Wörter"), ("x", "日本語"), ("x", "example.com")],
)
def test_a_long_description_is_cut_between_words_never_the_title_or_hashtags(
    platform: str, word: str
) -> None:
    title = "The keeper's last night 🌊"
    caption = post_caption(platform, title, " ".join([word] * 3000), TAGS)
    limit = limits_for(platform).caption_max
    assert caption_length(platform, caption) <= limit
    assert caption_length(platform, caption) > limit - 30  # the room is used, in the platform's own unit
    assert caption.startswith(f"{title}\n\n{word} {word}")
    assert caption.endswith(f"{word}… #storytime #fyp")


def test_a_hashtag_cut_out_of_the_description_is_appended_again() -> None:
    caption = post_caption("x", "Title", "#storytime " + "word " * 100 + "#fyp", TAGS)
    assert caption_length("x", caption) <= 280
    assert caption.startswith("Title\n\n#storytime word")
    assert caption.endswith("word… #fyp")


def test_title_and_hashtags_too_long_alone_are_left_for_the_checks_to_refuse() -> None:
    caption = post_caption("x", "T" * 300, "description", TAGS)
    assert caption == "T" * 300 + "\n\n#storytime #fyp"
    assert any("the caption is" in problem for problem in validate_copy("x", "T" * 300, caption, TAGS))


def test_a_link_is_never_cut_in_the_middle() -> None:
    caption = post_caption("x", "Title", "see https://example.com/a/very/long/path/indeed " * 20, TAGS)
    assert caption_length("x", caption) <= 280
    links = [word.rstrip("…") for word in caption.split() if word.startswith("http")]
    assert links and set(links) == {"https://example.com/a/very/long/path/indeed"}
    assert caption.endswith("… #storytime #fyp")


# --- Hashtags -------------------------------------------------------------------------------------------

ACCEPTED_EVERYWHERE = ["#café", "#日本語", "#Über", "#हिन्दी", "#ä_2024", "#Москва", "#한국어", "#tag_1"]
REFUSED_EVERYWHERE = {
    "#a\u202eb": "a bidirectional control character (U+202E)",
    "#a\u2066b": "a bidirectional control character (U+2066)",
    "#a\u200bb": "a zero-width character (U+200B)",
    "#a\ufeffb": "a zero-width character (U+FEFF)",
    "#two words": "a space",
    "#end.": "'.', where the tag would end",
    "#a-b": "'-', where the tag would end",
    "#2024": "has no letter",
    "##double": "does not start with a single #",
    "nohash": "does not start with a single #",
    "#": "is only a #",
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("tag", ACCEPTED_EVERYWHERE)
def test_hashtags_in_any_script_are_accepted_on_every_platform(platform: str, tag: str) -> None:
    assert hashtag_problem(platform, tag) is None
    assert validate_copy(platform, "Title", f"Words. {tag}", (tag,)) == []


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(("tag", "reason"), REFUSED_EVERYWHERE.items())
def test_hashtags_the_platforms_would_not_link_are_refused(platform: str, tag: str, reason: str) -> None:
    problem = hashtag_problem(platform, tag)
    assert problem is not None and reason in problem
    assert any(
        f"hashtag {tag!r} is not a single #word" in p for p in validate_copy(platform, "T", "W", (tag,))
    )


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("tag", ["#pizza🍕", "#🍕", "#I❤️NY", "#👍🏽"])
def test_emoji_in_hashtags_only_where_the_platform_links_them(platform: str, tag: str) -> None:
    problem = hashtag_problem(platform, tag)
    if platform in HASHTAG_EMOJI_PLATFORMS:
        assert problem is None
    else:
        assert problem is not None and f"which {platform} does not link in hashtags" in problem


def test_linkedin_little_text_keeps_unicode_hashtags_plain() -> None:
    assert escape_little_text("#日本語 #café (x) a#b # z") == "#日本語 #café \\(x\\) a\\#b \\# z"
