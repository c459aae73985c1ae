"""Engine name -> engine: the one place that knows which engines exist and their default voices."""

from __future__ import annotations

from collections.abc import Callable

from resources.tts import espeak_engine, hibari_engine, piper_engine
from resources.tts.base import SpeechEngine, TTSError

ENGINES: dict[str, tuple[Callable[[str], SpeechEngine], str]] = {
    "hibari": (hibari_engine.HibariEngine, hibari_engine.DEFAULT_VOICE),
    "piper": (piper_engine.PiperEngine, piper_engine.DEFAULT_VOICE),
    "espeak": (espeak_engine.EspeakEngine, espeak_engine.DEFAULT_VOICE),
}
DEFAULT_ENGINE = "hibari"


def make_engine(engine: str = DEFAULT_ENGINE, voice: str = "") -> SpeechEngine:
    """Build an engine; an empty voice means the engine's default voice. Models load on first synthesis."""
    entry = ENGINES.get(engine.strip().lower())
    if entry is None:
        raise TTSError(f"unknown TTS engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    build, default_voice = entry
    return build(voice.strip() or default_voice)
