import pytest

from resources.tts.base import TTSError
from resources.tts.registry import ENGINES, make_engine


def test_every_engine_builds_with_its_default_voice() -> None:
    names = {engine: make_engine(engine).voice.name for engine in ENGINES}
    assert names == {"hibari": "heart", "piper": "joe", "espeak": "en-us"}


def test_hibari_is_the_default_engine() -> None:
    assert make_engine().voice.engine == "hibari"


def test_named_voice_is_used() -> None:
    assert make_engine("espeak", "en-gb").voice.name == "en-gb"


def test_unknown_engine_lists_the_choices() -> None:
    with pytest.raises(TTSError, match=r"unknown TTS engine 'polly'.*hibari, piper, espeak"):
        make_engine("polly")
