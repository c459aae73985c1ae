"""Normalising source records: length and language limits with messages an operator can act on."""

from __future__ import annotations

import pytest

from pellacia_assets.stories.loading import SourceRecord, StoryError
from pellacia_assets.stories.normalise import detect_language, normalise

ENGLISH = frozenset({"en"})


def record(body: str, key: str = "s1", language: str | None = None) -> SourceRecord:
    return SourceRecord(key=key, source_kind="file", source_ref="x", title="T", body=body, language=language)


def test_tidies_whitespace_and_keeps_paragraphs() -> None:
    story = normalise(
        record("One  two.\r\n\r\n\r\nThree   four."), max_words=100, speakable=ENGLISH, voice_name="v"
    )
    assert story.body == "One two.\n\nThree four."
    assert story.language == "en"


def test_absurdly_long_story_is_refused() -> None:
    with pytest.raises(StoryError, match=r"3,000 words is too long.*PELLACIA_MAX_STORY_WORDS"):
        normalise(record("word " * 3000), max_words=2500, speakable=ENGLISH, voice_name="v")


def test_language_the_voice_cannot_speak_is_refused() -> None:
    german = (
        "Gestern Abend bin ich mit meiner Schwester in die Stadt gefahren, weil wir im neuen Restaurant "
        "am Marktplatz essen wollten. Leider war es geschlossen, also haben wir zu Hause gekocht."
    )
    assert detect_language(german) == "de"
    with pytest.raises(
        StoryError, match=r"written in German \(de\); the voice hibari/heart speaks only English"
    ):
        normalise(record(german), max_words=2500, speakable=ENGLISH, voice_name="hibari/heart")


def test_declared_language_wins_and_short_texts_default_to_english() -> None:
    assert detect_language("Short text here.") is None
    with pytest.raises(StoryError, match="French"):
        normalise(record("Bonjour.", language="fr"), max_words=10, speakable=ENGLISH, voice_name="v")


def test_unsafe_keys_are_refused() -> None:
    with pytest.raises(StoryError, match="keys use letters"):
        normalise(record("Hello.", key="../etc"), max_words=10, speakable=ENGLISH, voice_name="v")


@pytest.mark.parametrize(
    ("body", "language", "name"),
    [
        ("日本語の話です。", "ja", "Japanese"),
        ("猫が好き", "ja", "Japanese"),
        ("我昨天去了公园", "zh-cn", "Chinese"),
        ("안녕하세요 친구", "ko", "Korean"),
        ("Γειά σου κόσμε", "el", "el"),
    ],
)
def test_a_short_story_in_another_script_is_refused_not_read_as_english(
    body: str, language: str, name: str
) -> None:
    assert detect_language(body) == language
    with pytest.raises(
        StoryError, match=rf"written in {name} \({language}\); the voice v speaks only English"
    ):
        normalise(record(body), max_words=100, speakable=ENGLISH, voice_name="v")


def test_a_long_japanese_story_is_one_word_to_split_but_still_japanese() -> None:
    body = "私は昨日、友達と一緒に公園へ行きました。とても楽しかったです。" * 6
    assert len(body.split()) == 1
    assert detect_language(body) == "ja"


def test_a_short_cyrillic_story_is_read_by_a_voice_that_speaks_one_cyrillic_language() -> None:
    body = "Привет, как дела?"
    assert detect_language(body) == "und-Cyrl"
    with pytest.raises(StoryError, match=r"written in a language in Cyrillic script \(und-Cyrl\)"):
        normalise(record(body), max_words=100, speakable=ENGLISH, voice_name="v")
    story = normalise(record(body), max_words=100, speakable=frozenset({"en", "ru"}), voice_name="v")
    assert story.language == "ru"


@pytest.mark.parametrize("body", ["😀 🎉 🚌 ❤️", "!!! ??? ...", "👍🏽👍🏽👍🏽"])
def test_a_story_without_letters_is_unpronounceable(body: str) -> None:
    with pytest.raises(StoryError, match="no words a voice can read aloud"):
        normalise(record(body), max_words=100, speakable=ENGLISH, voice_name="v")


def test_a_short_english_story_with_an_emoji_is_still_english() -> None:
    story = normalise(record("The bus came 🚌 at nine."), max_words=100, speakable=ENGLISH, voice_name="v")
    assert story.language == "en"


def test_terminal_escapes_are_stripped_from_title_and_body() -> None:
    raw = SourceRecord(
        key="s1",
        source_kind="reddit",
        source_ref="x",
        title="\x1b[31mRed\x1b[0m\x00 title\x07",
        body="The \x1b[1mbus\x1b[0m came\x1b]0;pwned\x07 at nine.",
    )
    story = normalise(raw, max_words=100, speakable=ENGLISH, voice_name="v")
    assert (story.title, story.body) == ("Red title", "The bus came at nine.")
