"""Second transcription backend: openai-whisper (PyTorch), an optional extra.

It runs the same Whisper weights as the default backend, converted from the shipped CTranslate2 model
(resources.transcriber.convert), so it needs no download. It is 2.5-5x slower than faster-whisper on CPU
(reference/offline_stack.md) and exists for people who already run PyTorch or want its decoder.
torch and whisper are imported only when a model is loaded, so the package works without the extra.
"""

from __future__ import annotations

import base64
import gzip
import threading
from pathlib import Path
from typing import Any

import numpy as np

from resources.transcriber.base import TranscriberError, Transcript, Word
from resources.transcriber.convert import EXTRA_HINT

SAMPLE_RATE = 16_000


class OpenAIWhisperTranscriber:
    """Transcribes with openai-whisper from a converted checkpoint, loaded once and shared between threads."""

    def __init__(self, checkpoint: Path, *, threads: int = 2, beam_size: int = 1) -> None:
        if threads < 1:
            raise TranscriberError(f"threads must be at least 1, got {threads}")
        if beam_size < 1:
            raise TranscriberError(f"beam_size must be at least 1, got {beam_size}")
        self.checkpoint = checkpoint
        self.threads = threads
        self.beam_size = beam_size
        self._model: Any = None
        self._lock = threading.Lock()

    def transcribe(self, audio: Path, language: str = "en", prompt: str | None = None) -> Transcript:
        """Transcribe `audio` into words with start/end seconds; `prompt` biases spellings."""
        if not audio.is_file():
            raise TranscriberError(f"audio file not found: {audio}")
        whisper = _import_whisper()
        with self._lock:
            model = self._loaded_model(whisper)
            if language != "en" and not model.is_multilingual:
                raise TranscriberError(f"{self.checkpoint.name} is English-only, not {language!r}")
            try:
                samples = whisper.load_audio(str(audio))
            except RuntimeError as exc:
                raise TranscriberError(f"could not decode {audio}: {exc}") from exc
            result = whisper.transcribe(
                model,
                samples,
                language=language,
                word_timestamps=True,
                condition_on_previous_text=False,
                initial_prompt=prompt,
                temperature=0.0,
                beam_size=self.beam_size if self.beam_size > 1 else None,
                fp16=False,
                verbose=None,
            )
        words = tuple(
            Word(
                text=str(w["word"]).strip(),
                start=float(w["start"]),
                end=float(w["end"]),
                probability=float(w["probability"]),
            )
            for segment in result["segments"]
            for w in segment.get("words", ())
            if str(w["word"]).strip()
        )
        return Transcript(
            words=words,
            text=" ".join(word.text for word in words),
            language=str(result.get("language", language)),
            duration_s=len(samples) / SAMPLE_RATE,
        )

    def _loaded_model(self, whisper: Any) -> Any:
        if self._model is None:
            import torch

            torch.set_num_threads(self.threads)
            try:
                checkpoint = torch.load(self.checkpoint, map_location="cpu", weights_only=True)
                model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
                model.load_state_dict(checkpoint["model_state_dict"])
            except (OSError, RuntimeError, KeyError) as exc:
                message = f"could not load openai-whisper checkpoint {self.checkpoint}: {exc}"
                raise TranscriberError(message) from exc
            heads = checkpoint.get("alignment_heads")
            if heads:
                model.set_alignment_heads(_alignment_heads_dump(heads, model.dims))
            self._model = model.eval()
        return self._model


def _alignment_heads_dump(heads: list[list[int]], dims: Any) -> bytes:
    """Encode (layer, head) pairs the way `Whisper.set_alignment_heads` reads them."""
    mask = np.zeros((dims.n_text_layer, dims.n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def _import_whisper() -> Any:
    try:
        import whisper
    except ImportError as exc:
        raise TranscriberError(f"openai-whisper backend needs the optional extra: {EXTRA_HINT}") from exc
    return whisper
