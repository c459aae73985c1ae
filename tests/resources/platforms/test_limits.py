from __future__ import annotations

import pytest

from resources.platforms import PLATFORMS, UnknownPlatformError
from resources.platforms.limits import (
    LIMITS,
    caption_length,
    escape_little_text,
    limits_for,
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
