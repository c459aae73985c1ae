import wave
from pathlib import Path

import numpy as np
import pytest

from resources.tts.base import TTSError
from resources.tts.espeak_engine import EspeakEngine, installed_voices

SENTENCE = "The landlord texted me at midnight asking if I had seen his cat."


def _read(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as audio:
        return audio.getparams(), np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")


def test_speaks_a_sentence_as_mono_16_bit_wav_at_its_rate(tmp_path: Path) -> None:
    engine = EspeakEngine()
    out = tmp_path / "speech.wav"
    engine.synthesize(SENTENCE, out)
    params, samples = _read(out)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, engine.voice.sample_rate)
    seconds = params.nframes / params.framerate
    assert 2.0 < seconds < 8.0  # 13 words at espeak's 160 wpm
    assert np.abs(samples.astype(np.int32)).max() > 3000
    assert list(tmp_path.iterdir()) == [out]


def test_default_voice_is_american_english() -> None:
    voice = EspeakEngine().voice
    assert (voice.engine, voice.name, voice.languages) == ("espeak", "en-us", frozenset({"en"}))


def test_declares_the_language_of_the_chosen_voice() -> None:
    assert EspeakEngine("de").voice.languages == frozenset({"de"})
    assert installed_voices()["en-gb"] == "en"


def test_unknown_voice_lists_the_english_ones() -> None:
    with pytest.raises(TTSError, match=r"unknown espeak-ng voice 'klingon'.*en-gb.*en-us"):
        EspeakEngine("klingon")


def test_empty_text_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="empty text"):
        EspeakEngine().synthesize("   ", tmp_path / "x.wav")
    assert list(tmp_path.iterdir()) == []


def test_missing_binary_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TTSError, match="espeak-ng is not installed"):
        EspeakEngine()


def test_version_names_the_espeak_release() -> None:
    assert "eSpeak NG" in EspeakEngine().version
