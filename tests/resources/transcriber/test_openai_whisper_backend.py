from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pellacia_assets.captions.wer import script_wer
from resources.transcriber.base import Transcriber
from resources.transcriber.convert import openai_whisper_checkpoint
from resources.transcriber.registry import make_transcriber

whisper = pytest.importorskip("whisper")
torch = pytest.importorskip("torch")

SENTENCE = (
    "I found a letter under my door this morning. It was from the neighbor who moved away ten years ago."
)


@pytest.fixture(scope="module")
def sentence_wav(speak: Callable[[str], Path]) -> Path:
    return speak(SENTENCE)


def test_converted_checkpoint_matches_openai_whisper_layout(models_dir: Path) -> None:
    checkpoint = torch.load(openai_whisper_checkpoint("tiny.en", models_dir), weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    expected = model.state_dict()

    assert checkpoint["dims"]["n_text_layer"] == 4
    assert checkpoint["dims"]["n_vocab"] == 51864
    assert set(checkpoint["model_state_dict"]) == set(expected)
    assert all(checkpoint["model_state_dict"][k].shape == v.shape for k, v in expected.items())
    assert checkpoint["alignment_heads"]


def test_checkpoint_is_cached(models_dir: Path) -> None:
    first = openai_whisper_checkpoint("tiny.en", models_dir)
    mtime = first.stat().st_mtime_ns

    assert openai_whisper_checkpoint("tiny.en", models_dir) == first
    assert first.stat().st_mtime_ns == mtime


@pytest.mark.e2e
@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_transcribes_like_faster_whisper(
    model: str,
    models_dir: Path,
    sentence_wav: Path,
    base_transcriber: Transcriber,
    tiny_transcriber: Transcriber,
) -> None:
    reference = {"tiny.en": tiny_transcriber, "base": base_transcriber}[model].transcribe(sentence_wav)
    transcript = make_transcriber("openai-whisper", model, models_dir).transcribe(sentence_wav)

    wer = script_wer(SENTENCE, transcript.words)
    assert wer < 0.15
    assert abs(wer - script_wer(SENTENCE, reference.words)) <= 0.05
    starts = [word.start for word in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= transcript.duration_s for w in transcript.words)
    first_word_gap = abs(transcript.words[0].start - reference.words[0].start)
    assert first_word_gap < 0.3
