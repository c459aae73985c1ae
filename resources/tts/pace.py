"""A voice's speaking rate, measured rather than assumed, so the script splitter can budget words per part."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import wave
from pathlib import Path

from resources.tts.base import SpeechEngine, TTSError

# Ordinary narration (no numbers, names or lists that some engines spell out slowly): 80 words.
CALIBRATION_TEXT = (
    "My neighbor knocked on my door late one evening and asked if I had seen her dog. "
    "I told her I had not, but I would keep an eye out. The next morning I found the dog "
    "sitting on my porch as if it lived there. When I called her, she laughed and said the "
    "dog had done the same thing to every house on the street. Apparently it just likes "
    "meeting new people before breakfast."
)
CALIBRATION_WORDS = len(CALIBRATION_TEXT.split())


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def measure_words_per_minute(engine: SpeechEngine, work_dir: Path) -> float:
    """Synthesize the calibration paragraph and divide its words by the audio's minutes."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        sample = Path(scratch) / "calibration.wav"
        engine.synthesize(CALIBRATION_TEXT, sample)
        seconds = wav_duration_s(sample)
    if seconds <= 0:
        raise TTSError(f"the {engine.voice.engine} voice {engine.voice.name!r} produced no calibration audio")
    return CALIBRATION_WORDS * 60.0 / seconds


def _cache_file(engine: SpeechEngine, cache_dir: Path) -> Path:
    """One file per engine, voice and version: a new release of a voice is measured again."""
    identity = f"{engine.voice.engine}|{engine.voice.name}|{engine.version}|{CALIBRATION_TEXT}"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return cache_dir / f"wpm-{engine.voice.engine}-{engine.voice.name}-{digest}.json"


def _read_cached(cache_file: Path) -> float | None:
    """A missing or unreadable cache entry just means measuring again."""
    try:
        return float(json.loads(cache_file.read_text(encoding="utf-8"))["words_per_minute"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cached_words_per_minute(engine: SpeechEngine, cache_dir: Path) -> float:
    """The measured rate, read from cache_dir when this voice and version were measured before."""
    cache_file = _cache_file(engine, cache_dir)
    cached = _read_cached(cache_file)
    if cached is not None:
        return cached
    wpm = round(measure_words_per_minute(engine, cache_dir), 2)
    record = {
        "engine": engine.voice.engine,
        "voice": engine.voice.name,
        "version": engine.version,
        "words": CALIBRATION_WORDS,
        "words_per_minute": wpm,
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{cache_file.name}.", suffix=".part", dir=cache_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(record, out, indent=2)
    Path(tmp_name).replace(cache_file)
    return wpm
