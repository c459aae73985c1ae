from pathlib import Path

import pytest

from resources.tts.base import TTSError
from resources.tts.resource import TTSResource


def test_engine_is_built_once_per_resource(tmp_path: Path) -> None:
    tts = TTSResource(engine="espeak", cache_dir=str(tmp_path))
    assert tts.get_engine() is tts.get_engine()


def test_defaults_to_hibari_heart(tmp_path: Path) -> None:
    tts = TTSResource(cache_dir=str(tmp_path))
    assert tts.voice_label() == "hibari/heart"
    assert tts.languages() == frozenset({"en"})
    assert tts.speaks("en-US")
    assert not tts.speaks("ja")


def test_words_per_minute_is_measured_and_cached_in_cache_dir(tmp_path: Path) -> None:
    tts = TTSResource(engine="espeak", voice="en-gb", cache_dir=str(tmp_path / "cache"))
    wpm = tts.words_per_minute()
    assert 100 <= wpm <= 260
    assert len(list((tmp_path / "cache").glob("wpm-espeak-en-gb-*.json"))) == 1
    assert tts.words_per_minute() == wpm


@pytest.mark.e2e
def test_piper_rate_is_near_narration_pace(tmp_path: Path) -> None:
    wpm = TTSResource(engine="piper", cache_dir=str(tmp_path)).words_per_minute()
    assert 170 <= wpm <= 240


def test_bad_configuration_fails_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="unknown TTS engine 'kokoro'"):
        TTSResource(engine="kokoro", cache_dir=str(tmp_path)).get_engine()
