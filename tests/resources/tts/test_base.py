import pytest

from resources.tts.base import TTSError, Voice, primary_language, require_text


@pytest.mark.parametrize(("tag", "primary"), [("en", "en"), ("en-US", "en"), ("EN_gb", "en"), (" de ", "de")])
def test_primary_language_keeps_only_the_primary_subtag(tag: str, primary: str) -> None:
    assert primary_language(tag) == primary


def test_voice_speaks_regional_variants_of_its_languages() -> None:
    voice = Voice("hibari", "heart", frozenset({"en"}), 24000)
    assert voice.speaks("en-GB")
    assert not voice.speaks("fr")


def test_require_language_names_the_voice_and_what_it_speaks() -> None:
    voice = Voice("piper", "joe", frozenset({"en"}), 22050)
    voice.require_language("en-US")
    with pytest.raises(TTSError, match=r"piper voice 'joe' does not speak 'de'.*speaks: en"):
        voice.require_language("de")


def test_require_text_rejects_blank_text() -> None:
    assert require_text("  Hello.  ") == "Hello."
    with pytest.raises(TTSError, match="empty text"):
        require_text(" \n\t ")
