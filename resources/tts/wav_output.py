"""Atomic mono 16-bit WAV writing shared by the in-process engines."""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from resources.tts.base import TTSError


def write_mono_pcm16(path: Path, audio: npt.NDArray[np.float32], sample_rate: int, text: str) -> None:
    """Write float audio in [-1, 1] as PCM16; temp file + rename so a crash never leaves half a WAV."""
    if audio.size == 0:
        raise TTSError(f"the voice produced no audio for {text[:60]!r}: nothing in it can be pronounced")
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm.tobytes())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
