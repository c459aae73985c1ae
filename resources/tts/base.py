"""What every text-to-speech engine promises, so the voiceover code never cares which one it drives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TTSError(Exception):
    """A speech request that cannot be served: unknown engine or voice, voice not installed, bad text."""


def primary_language(language: str) -> str:
    """'en-US' and 'en_gb' both mean English: engines are matched on the primary subtag only."""
    return language.strip().replace("_", "-").split("-")[0].lower()


@dataclass(frozen=True)
class Voice:
    """One speaker of one engine; `languages` holds primary subtags ("en"), the texts it can read aloud."""

    engine: str
    name: str
    languages: frozenset[str]
    sample_rate: int

    def speaks(self, language: str) -> bool:
        return primary_language(language) in self.languages

    def require_language(self, language: str) -> None:
        """Refuse early: a voice reading a language it does not know produces confident gibberish."""
        if not self.speaks(language):
            spoken = ", ".join(sorted(self.languages))
            raise TTSError(
                f"the {self.engine} voice {self.name!r} does not speak {language!r} (it speaks: {spoken}); "
                "pick another voice or engine"
            )


class SpeechEngine(Protocol):
    """A loaded-on-demand TTS voice that writes mono 16-bit PCM WAV files at `voice.sample_rate`."""

    @property
    def voice(self) -> Voice: ...

    @property
    def version(self) -> str:
        """Software and model versions; a change invalidates anything measured on the old voice."""
        ...

    def synthesize(self, text: str, out_wav: Path) -> None: ...


def require_text(text: str) -> str:
    """Every engine rejects blank text the same way instead of writing an empty or silent file."""
    stripped = text.strip()
    if not stripped:
        raise TTSError("cannot synthesize empty text: give the voice at least one word to say")
    return stripped
