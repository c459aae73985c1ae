"""Real media for the rendering tests: espeak speech, the product's captions, frame and audio readers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.captions.styles import caption_style

Frame = npt.NDArray[np.uint8]


def run_ffmpeg(*args: str) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], capture_output=True, check=True
    ).stdout


@pytest.fixture(scope="session")
def ffmpeg_cli() -> Callable[..., bytes]:
    """Run the real ffmpeg CLI (quiet, overwriting) and return its stdout."""
    return run_ffmpeg


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rendering-media")


@pytest.fixture(scope="session")
def speech_wav(media_dir: Path) -> Path:
    """About 4 s of espeak-ng speech at 22,050 Hz mono (the render must resample it to 48 kHz)."""
    path = media_dir / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), "She said what? I could not believe it."],
        check=True,
    )
    return path


def caption_document(words: Sequence[TimedWord], style_name: str = "bold") -> str:
    """The product's ASS captions (the word captions only) in a caption style preset."""
    return build_ass(words, style=caption_style(style_name))


@pytest.fixture(scope="session")
def make_captions() -> Callable[[Sequence[TimedWord], str], str]:
    """Build an ASS document from timed words in a caption style preset."""
    return caption_document


@pytest.fixture(scope="session")
def captions_ass(media_dir: Path) -> Path:
    """The product's own captions after a 1.5 s hook: "She said what?" word by word."""
    words = [
        TimedWord("She", 1.5, 2.5, True),
        TimedWord("said", 2.5, 3.5, True),
        TimedWord("what?", 3.5, 5.0, True),
    ]
    path = media_dir / "captions.ass"
    path.write_text(caption_document(words), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def frame_at() -> Callable[[Path, float], Frame]:
    """Decode the frame shown at a time as an RGB array (height, width, 3)."""

    def read(video: Path, at_s: float) -> Frame:
        raw = run_ffmpeg(
            "-ss", f"{at_s:.3f}", "-i", str(video),
            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        )  # fmt: skip
        width, height = _size(video)
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)

    return read


@pytest.fixture(scope="session")
def audio_samples() -> Callable[[Path], npt.NDArray[np.float32]]:
    """Decode a file's audio as mono 48 kHz float samples."""

    def read(path: Path) -> npt.NDArray[np.float32]:
        raw = run_ffmpeg("-i", str(path), "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-")
        return np.frombuffer(raw, dtype=np.float32)

    return read


def _size(video: Path) -> tuple[int, int]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    width, height = out.split(",")
    return int(width), int(height)
