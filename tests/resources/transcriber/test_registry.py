from __future__ import annotations

import sys
from pathlib import Path

import pytest

from resources.transcriber.base import TranscriberError
from resources.transcriber.faster_whisper_backend import FasterWhisperTranscriber
from resources.transcriber.registry import make_transcriber
from resources.transcriber.resource import TranscriberResource


def test_resource_shares_one_transcriber_per_setting(tmp_path: Path) -> None:
    resource = TranscriberResource(model="tiny.en", models_dir=str(tmp_path), threads=1)

    first = resource.get_transcriber()

    assert isinstance(first, FasterWhisperTranscriber)
    assert first.threads == 1
    assert resource.get_transcriber() is first
    other = TranscriberResource(model="tiny.en", models_dir=str(tmp_path), threads=2)
    assert other.get_transcriber() is not first


def test_unknown_backend_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TranscriberError, match="unknown transcription backend 'whisperx'"):
        make_transcriber("whisperx", "tiny.en", tmp_path)


def test_unknown_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TranscriberError, match="unknown Whisper model 'huge'"):
        make_transcriber("faster-whisper", "huge", tmp_path)


def test_missing_openai_whisper_extra_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)

    with pytest.raises(TranscriberError, match=r"optional extra: pip install torch==2\.13\.0"):
        make_transcriber("openai-whisper", "tiny.en", tmp_path)
