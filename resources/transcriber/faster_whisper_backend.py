"""Default transcription backend: faster-whisper (CTranslate2, int8 on CPU) with word timestamps.

Settings follow the measurements in reference/offline_stack.md: greedy decoding (beam 1) gives the same WER
as beam 5 on clean TTS speech and is faster; VAD is off because TTS audio has no noise to skip, and
`condition_on_previous_text=False` stops one misheard window from derailing the next.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from resources.transcriber.base import TranscriberError, Transcript, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


class FasterWhisperTranscriber:
    """Transcribes with one lazily loaded CTranslate2 Whisper model, shared safely between threads."""

    def __init__(self, model_dir: Path, *, threads: int = 2, beam_size: int = 1) -> None:
        if threads < 1:
            raise TranscriberError(f"threads must be at least 1, got {threads}")
        if beam_size < 1:
            raise TranscriberError(f"beam_size must be at least 1, got {beam_size}")
        self.model_dir = model_dir
        self.threads = threads
        self.beam_size = beam_size
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    def transcribe(self, audio: Path, language: str = "en", prompt: str | None = None) -> Transcript:
        """Transcribe `audio` into words with start/end seconds; `prompt` biases spellings."""
        if not audio.is_file():
            raise TranscriberError(f"audio file not found: {audio}")
        model = self._loaded_model()
        if language != "en" and not model.model.is_multilingual:
            raise TranscriberError(
                f"model {self.model_dir.name} is English-only; cannot transcribe {language!r}"
            )
        try:
            segments, info = model.transcribe(
                str(audio),
                language=language,
                beam_size=self.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=False,
                initial_prompt=prompt,
            )
            words = tuple(
                Word(
                    text=w.word.strip(),
                    start=float(w.start),
                    end=float(w.end),
                    probability=float(w.probability),
                )
                for segment in segments
                for w in segment.words or ()
                if w.word.strip()
            )
        except (OSError, ValueError) as exc:
            raise TranscriberError(f"could not transcribe {audio}: {exc}") from exc
        return Transcript(
            words=words,
            text=" ".join(word.text for word in words),
            language=info.language,
            duration_s=float(info.duration),
        )

    def _loaded_model(self) -> WhisperModel:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                try:
                    self._model = WhisperModel(
                        str(self.model_dir),
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self.threads,
                        local_files_only=True,
                    )
                except (OSError, RuntimeError, ValueError) as exc:
                    raise TranscriberError(
                        f"could not load Whisper model from {self.model_dir}: {exc}"
                    ) from exc
            return self._model
