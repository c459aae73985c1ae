import json
from pathlib import Path

import pytest

from resources.tts.espeak_engine import EspeakEngine
from resources.tts.hibari_engine import HibariEngine
from resources.tts.pace import CALIBRATION_WORDS, cached_words_per_minute, measure_words_per_minute


def test_calibration_paragraph_is_about_eighty_words() -> None:
    assert 70 <= CALIBRATION_WORDS <= 90


@pytest.mark.parametrize("engine_class", [EspeakEngine, HibariEngine])
def test_measured_rate_is_a_plausible_speaking_rate(engine_class: type, tmp_path: Path) -> None:
    wpm = measure_words_per_minute(engine_class(), tmp_path)
    assert 100 <= wpm <= 260
    assert list(tmp_path.iterdir()) == []


def test_rate_is_cached_and_the_cache_is_what_the_second_call_reads(tmp_path: Path) -> None:
    engine = EspeakEngine()
    first = cached_words_per_minute(engine, tmp_path)
    (cache_file,) = tmp_path.glob("wpm-espeak-en-us-*.json")
    record = json.loads(cache_file.read_text())
    assert record["words_per_minute"] == first
    assert record["version"] == engine.version
    record["words_per_minute"] = 123.45
    cache_file.write_text(json.dumps(record))
    assert cached_words_per_minute(engine, tmp_path) == 123.45


def test_another_voice_is_measured_separately(tmp_path: Path) -> None:
    cached_words_per_minute(EspeakEngine("en-us"), tmp_path)
    cached_words_per_minute(EspeakEngine("en-gb"), tmp_path)
    assert len(list(tmp_path.glob("wpm-espeak-*.json"))) == 2


def test_unreadable_cache_is_measured_again(tmp_path: Path) -> None:
    engine = EspeakEngine()
    first = cached_words_per_minute(engine, tmp_path)
    (cache_file,) = tmp_path.glob("wpm-*.json")
    cache_file.write_text("{not json")
    assert cached_words_per_minute(engine, tmp_path) == pytest.approx(first, rel=0.01)
