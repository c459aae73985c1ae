from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from resources.transcriber.base import TranscriberError
from resources.transcriber.models import (
    BASE_MODEL_SHA256,
    MARKER_FILE,
    SUPPORT_FILES,
    join_model_parts,
    whisper_model_dir,
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tiny_en_is_the_packaged_folder(tmp_path: Path) -> None:
    folder = whisper_model_dir("tiny.en", tmp_path)

    assert (folder / "model.bin").is_file()
    assert all((folder / name).is_file() for name in SUPPORT_FILES)
    assert list(tmp_path.iterdir()) == []


def test_base_is_joined_and_verified(tmp_path: Path) -> None:
    folder = whisper_model_dir("base", tmp_path)

    assert _sha256(folder / "model.bin") == BASE_MODEL_SHA256
    assert all((folder / name).is_file() for name in SUPPORT_FILES)
    assert (folder / MARKER_FILE).is_file()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_base_is_reused_without_rewriting(tmp_path: Path) -> None:
    model = whisper_model_dir("base", tmp_path) / "model.bin"
    before = model.stat()

    again = whisper_model_dir("base", tmp_path) / "model.bin"

    assert again == model
    assert (again.stat().st_ino, again.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_base_is_rejoined_when_the_file_changed(tmp_path: Path) -> None:
    model = whisper_model_dir("base", tmp_path) / "model.bin"
    with model.open("r+b") as handle:
        handle.truncate(1000)

    whisper_model_dir("base", tmp_path)

    assert _sha256(model) == BASE_MODEL_SHA256


def test_corrupted_part_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    good = whisper_model_dir("base", tmp_path / "good")
    half = (good / "model.bin").stat().st_size // 2
    part1, part2 = tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"
    with (good / "model.bin").open("rb") as source:
        part1.write_bytes(source.read(half))
        corrupted = bytearray(source.read())
    corrupted[12345] ^= 0xFF
    part2.write_bytes(bytes(corrupted))
    target = tmp_path / "bad"

    with pytest.raises(TranscriberError, match="checksum mismatch"):
        join_model_parts((part1, part2), support_dir=good, target_dir=target, sha256=BASE_MODEL_SHA256)

    assert not (target / "model.bin").exists()
    assert not [p for p in target.iterdir() if p.name.endswith(".tmp")]


def test_missing_part_is_reported(tmp_path: Path) -> None:
    support = tmp_path / "support"
    support.mkdir()
    for name in SUPPORT_FILES:
        (support / name).write_text("{}")

    with pytest.raises(TranscriberError, match="missing"):
        join_model_parts((tmp_path / "nope.part1",), support, tmp_path / "out", BASE_MODEL_SHA256)


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(TranscriberError, match="unknown Whisper model"):
        whisper_model_dir("large-v3", tmp_path)
