"""Real speech (espeak-ng), ffmpeg silence and real Whisper models shared by the caption tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from resources.transcriber.base import Transcriber
from resources.transcriber.registry import make_transcriber


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Synthesise `text` with espeak-ng into a WAV file and return its path."""
    folder = tmp_path_factory.mktemp("speech")

    def _speak(text: str) -> Path:
        path = folder / f"clip{len(list(folder.iterdir()))}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text], check=True)
        return path

    return _speak


@pytest.fixture(scope="session")
def silence_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("silence") / "silence.wav"
    silence = ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "5"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *silence, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def base_transcriber(models_dir: Path) -> Transcriber:
    return make_transcriber("faster-whisper", "base", models_dir)


@pytest.fixture(scope="session")
def tiny_transcriber(models_dir: Path) -> Transcriber:
    return make_transcriber("faster-whisper", "tiny.en", models_dir)
