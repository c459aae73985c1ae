"""hibari-tts: the default voice, small and fast; only voices inside the wheel are used, never downloaded."""

from __future__ import annotations

import threading
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

from resources.tts.base import TTSError, Voice, primary_language, require_text
from resources.tts.wav_output import write_mono_pcm16

if TYPE_CHECKING:
    from hibari import Hibari

DEFAULT_VOICE = "heart"
# A fixed noise seed makes the same text give the same audio, so re-runs and caches stay reproducible.
NOISE_SEED = 0


def _offline_model_path(voice: str) -> str:
    """The voice's ONNX file if already on disk (bundled, or copied into hibari's cache); never downloads."""
    from hibari.voices import VOICES, voice_path

    if voice not in VOICES:
        raise TTSError(f"unknown hibari voice {voice!r}; hibari knows: {', '.join(VOICES)}")
    try:
        return str(voice_path(voice, download_missing=False))
    except FileNotFoundError:
        raise TTSError(
            f"the hibari voice {voice!r} is not shipped offline (only {DEFAULT_VOICE!r} is inside the "
            "package) and this factory never downloads models; use voice 'heart' or another engine"
        ) from None


class HibariEngine:
    """Loads hibari's model on first use, once, and serialises synthesis (its G2P is not thread-safe)."""

    def __init__(self, voice: str = DEFAULT_VOICE) -> None:
        from hibari import SAMPLE_RATE
        from hibari.voices import VOICES

        self._model_path = _offline_model_path(voice)
        language = primary_language(str(VOICES[voice]["language"]))
        self._voice = Voice("hibari", voice, frozenset({language}), int(SAMPLE_RATE))
        self._lock = threading.Lock()
        self._model: Hibari | None = None

    @property
    def voice(self) -> Voice:
        return self._voice

    @property
    def version(self) -> str:
        return f"hibari-tts {package_version('hibari-tts')}"

    def synthesize(self, text: str, out_wav: Path) -> None:
        spoken = require_text(text)
        with self._lock:
            if self._model is None:
                from hibari import Hibari

                self._model = Hibari(voice=self._voice.name, model=self._model_path, threads=1)
            audio = self._model(spoken, seed=NOISE_SEED)
        write_mono_pcm16(out_wav, audio, self._voice.sample_rate, spoken)
