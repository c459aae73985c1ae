"""espeak-ng through its command line: robotic but instant and always installed; tests and CI rely on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from resources.tts.base import TTSError, Voice, primary_language, require_text

DEFAULT_VOICE = "en-us"
# Words per minute handed to espeak-ng: its default 175 is hurried for narration.
SPEED_WPM = 160
SAMPLE_RATE = 22050


def _binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise TTSError("espeak-ng is not installed: install it with `apt-get install espeak-ng`")
    return found


def _run(args: list[str]) -> str:
    try:
        done = subprocess.run([_binary(), *args], capture_output=True, text=True, check=False, timeout=120)
    except subprocess.TimeoutExpired as error:
        raise TTSError(f"espeak-ng did not finish within {error.timeout:.0f} s") from None
    if done.returncode != 0:
        raise TTSError(f"espeak-ng failed (exit {done.returncode}): {done.stderr.strip()[:300]}")
    return done.stdout


def installed_voices() -> dict[str, str]:
    """Language code -> primary language of espeak-ng's own voices (MBROLA ones need extra data: skipped)."""
    voices: dict[str, str] = {}
    for line in _run(["--voices"]).splitlines()[1:]:
        columns = line.split()
        if len(columns) < 5 or columns[4].startswith(("mb/", "!v/")):
            continue
        voices[columns[1].lower()] = primary_language(columns[1])
    return voices


class EspeakEngine:
    """One espeak-ng voice, identified by its language code (e.g. 'en-us', 'en-gb', 'de')."""

    def __init__(self, voice: str = DEFAULT_VOICE) -> None:
        voices = installed_voices()
        name = voice.lower()
        if name not in voices:
            english = sorted(code for code, language in voices.items() if language == "en")
            raise TTSError(
                f"unknown espeak-ng voice {voice!r}; use a language code from `espeak-ng --voices`, "
                f"for English: {', '.join(english)}"
            )
        self._voice = Voice("espeak", name, frozenset({voices[name]}), SAMPLE_RATE)
        self._version_lock = threading.Lock()
        self._version: str | None = None

    @property
    def voice(self) -> Voice:
        return self._voice

    @property
    def version(self) -> str:
        with self._version_lock:
            if self._version is None:
                banner = _run(["--version"]).split("Data at:")[0].strip()
                self._version = f"{banner}, {SPEED_WPM} wpm"
            return self._version

    def synthesize(self, text: str, out_wav: Path) -> None:
        spoken = require_text(text)
        out_wav.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out_wav.name}.", suffix=".part", dir=out_wav.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            # Text goes through stdin so a leading '-' is never read as an option.
            done = subprocess.run(
                [_binary(), "-v", self._voice.name, "-s", str(SPEED_WPM), "-w", str(tmp), "--stdin"],
                input=spoken,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            if done.returncode != 0 or tmp.stat().st_size <= 44:
                reason = done.stderr.strip()[:300]
                raise TTSError(f"espeak-ng produced no audio (exit {done.returncode}): {reason}")
            tmp.replace(out_wav)
        except subprocess.TimeoutExpired as error:
            raise TTSError(f"espeak-ng did not finish within {error.timeout:.0f} s") from None
        finally:
            tmp.unlink(missing_ok=True)
