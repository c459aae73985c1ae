"""The Dagster resource that hands the caption assets a loaded-once Whisper model."""

from __future__ import annotations

import functools

import dagster as dg

from resources.transcriber.base import Transcriber
from resources.transcriber.registry import make_transcriber

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
