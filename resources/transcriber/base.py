"""What every transcription backend returns, so the caption step never depends on a particular engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TranscriberError(RuntimeError):
    """A transcription could not run: missing model package, bad checksum, unreadable audio, missing extra."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its time span in seconds; `probability` is the engine's confidence (0-1)."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """Everything a backend heard in one audio file, words in spoken order."""

    words: tuple[Word, ...]
    text: str
    language: str
    duration_s: float


class Transcriber(Protocol):
    """A speech-to-text engine that gives word-level timestamps."""

    def transcribe(self, audio: Path, language: str = "en", prompt: str | None = None) -> Transcript:
        """Transcribe `audio`; `prompt` biases the decoder towards expected spellings."""
        ...
