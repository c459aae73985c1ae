from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from resources.transcriber.base import TranscriberError
from resources.transcriber.convert import read_ctranslate2_variables
from resources.transcriber.models import whisper_model_dir


def test_reads_every_tiny_en_variable(tmp_path: Path) -> None:
    variables = read_ctranslate2_variables(whisper_model_dir("tiny.en", tmp_path) / "model.bin")

    assert variables["encoder/conv1/weight"].shape == (384, 80, 3)
    assert variables["encoder/layer_3/self_attention/linear_0/weight"].shape == (3 * 384, 384)
    assert variables["decoder/layer_0/attention/linear_1/weight"].shape == (2 * 384, 384)
    assert int(variables["decoder/num_heads"]) == 6
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert variables["decoder/embeddings/weight"].dtype == np.float16
    assert np.isfinite(variables["encoder/layer_norm/gamma"].astype(np.float32)).all()


def test_truncated_model_is_reported(tmp_path: Path) -> None:
    source = whisper_model_dir("tiny.en", tmp_path) / "model.bin"
    truncated = tmp_path / "model.bin"
    truncated.write_bytes(source.read_bytes()[:5_000_000])

    with pytest.raises(TranscriberError, match="truncated"):
        read_ctranslate2_variables(truncated)


def test_other_files_are_rejected(tmp_path: Path) -> None:
    not_a_model = tmp_path / "model.bin"
    not_a_model.write_bytes(b"\x01\x02\x03\x04 definitely not a model")

    with pytest.raises(TranscriberError, match="unsupported CTranslate2 binary version"):
        read_ctranslate2_variables(not_a_model)
