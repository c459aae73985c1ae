"""The Dagster resource that hands assets a configured, loaded-once speech engine."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from resources.tts.base import SpeechEngine
from resources.tts.pace import cached_words_per_minute
from resources.tts.registry import DEFAULT_ENGINE, make_engine


class TTSResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Text to speech with an interchangeable engine: hibari (default), piper or espeak."""

    engine: str = DEFAULT_ENGINE
    voice: str = ""
    cache_dir: str

    _engine: SpeechEngine | None = PrivateAttr(default=None)
    _engine_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def get_engine(self) -> SpeechEngine:
        """The same engine object on every call, so its model is loaded once per resource."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = make_engine(self.engine, self.voice)
            return self._engine

    def words_per_minute(self) -> float:
        """Measured on this voice (cached per engine, voice and version in cache_dir)."""
        return cached_words_per_minute(self.get_engine(), Path(self.cache_dir).expanduser())

    def speaks(self, language: str) -> bool:
        return self.get_engine().voice.speaks(language)

    def languages(self) -> frozenset[str]:
        """Primary language subtags ("en") the configured voice can read."""
        return self.get_engine().voice.languages

    def voice_label(self) -> str:
        """'engine/voice', as shown to operators and stored next to the audio."""
        voice = self.get_engine().voice
        return f"{voice.engine}/{voice.name}"
