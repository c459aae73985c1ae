from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pellacia_assets.captions.wer import script_wer
from resources.transcriber.base import Transcriber, TranscriberError
from resources.transcriber.faster_whisper_backend import FasterWhisperTranscriber
from resources.transcriber.models import whisper_model_dir

SENTENCE = (
    "I found a letter under my door this morning. It was from the neighbor who moved away ten years ago."
)


@pytest.fixture(scope="module")
def sentence_wav(speak: Callable[[str], Path]) -> Path:
    return speak(SENTENCE)


def _check_transcript(transcriber: Transcriber, audio: Path) -> None:
    transcript = transcriber.transcribe(audio)

    assert script_wer(SENTENCE, transcript.words) < 0.15
    assert transcript.language == "en"
    assert transcript.duration_s > 3
    starts = [word.start for word in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= transcript.duration_s for w in transcript.words)
    assert all(0 <= w.probability <= 1 for w in transcript.words)
    assert transcript.text.split() == [word.text for word in transcript.words]


@pytest.mark.e2e
def test_base_transcribes_speech(base_transcriber: Transcriber, sentence_wav: Path) -> None:
    _check_transcript(base_transcriber, sentence_wav)


@pytest.mark.e2e
def test_tiny_en_transcribes_speech(tiny_transcriber: Transcriber, sentence_wav: Path) -> None:
    _check_transcript(tiny_transcriber, sentence_wav)


@pytest.mark.e2e
def test_tiny_en_refuses_other_languages(tiny_transcriber: Transcriber, sentence_wav: Path) -> None:
    with pytest.raises(TranscriberError, match="English-only"):
        tiny_transcriber.transcribe(sentence_wav, language="de")


def test_missing_audio_is_reported(tmp_path: Path) -> None:
    transcriber = FasterWhisperTranscriber(whisper_model_dir("tiny.en", tmp_path))

    with pytest.raises(TranscriberError, match="audio file not found"):
        transcriber.transcribe(tmp_path / "missing.wav")


def test_unreadable_audio_is_reported(tmp_path: Path) -> None:
    transcriber = FasterWhisperTranscriber(whisper_model_dir("tiny.en", tmp_path))
    audio = tmp_path / "noise.wav"
    audio.write_text("this is not audio")

    with pytest.raises(TranscriberError, match="could not transcribe"):
        transcriber.transcribe(audio)


def test_invalid_settings_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TranscriberError, match="threads"):
        FasterWhisperTranscriber(tmp_path, threads=0)
    with pytest.raises(TranscriberError, match="beam_size"):
        FasterWhisperTranscriber(tmp_path, beam_size=0)


def test_broken_model_folder_is_reported(tmp_path: Path, sentence_wav: Path) -> None:
    transcriber = FasterWhisperTranscriber(tmp_path)

    with pytest.raises(TranscriberError, match="could not load Whisper model"):
        transcriber.transcribe(sentence_wav)
