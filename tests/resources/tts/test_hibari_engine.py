import urllib.request
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from resources.tts.base import TTSError
from resources.tts.hibari_engine import HibariEngine


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty hibari cache and a urlopen that fails the test if anything tries to download."""

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail(f"tried to open a URL: {args}")

    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "hibari-cache"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_speaks_a_sentence_at_24_khz(tmp_path: Path, no_network: None) -> None:
    engine = HibariEngine()
    out = tmp_path / "speech.wav"
    engine.synthesize("She sells sea shells by the sea shore, every single morning.", out)
    with wave.open(str(out), "rb") as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 24000)
        seconds = audio.getnframes() / audio.getframerate()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    assert 2.0 < seconds < 8.0
    assert np.abs(samples.astype(np.int32)).max() > 3000


def test_same_text_gives_the_same_audio(tmp_path: Path) -> None:
    engine = HibariEngine()
    engine.synthesize("Repeatable speech.", tmp_path / "a.wav")
    engine.synthesize("Repeatable speech.", tmp_path / "b.wav")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_default_voice_is_heart_speaking_english() -> None:
    voice = HibariEngine().voice
    assert (voice.engine, voice.name, voice.languages, voice.sample_rate) == (
        "hibari",
        "heart",
        frozenset({"en"}),
        24000,
    )


def test_voice_that_would_download_is_refused(no_network: None) -> None:
    with pytest.raises(TTSError, match=r"hibari voice 'emma' is not shipped offline.*never downloads"):
        HibariEngine("emma")


def test_unknown_voice_lists_known_ones(no_network: None) -> None:
    with pytest.raises(TTSError, match=r"unknown hibari voice 'nobody'.*heart"):
        HibariEngine("nobody")


def test_concurrent_first_use_loads_once_and_speaks_consistently(tmp_path: Path) -> None:
    engine = HibariEngine()
    outputs = [tmp_path / f"{index}.wav" for index in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda out: engine.synthesize("Threads share one model.", out), outputs))
    assert len({out.read_bytes() for out in outputs}) == 1
