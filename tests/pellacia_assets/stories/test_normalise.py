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
