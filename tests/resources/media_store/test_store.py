"""The media store never leaves half-written artefacts behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.media_store.store import MediaStore


def test_stage_replaces_previous_output_on_success(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s1", "video") as folder:
        (folder / "a.mp4").write_text("one")
    with store.stage("s1", "video") as folder:
        (folder / "b.mp4").write_text("two")
    assert sorted(p.name for p in (tmp_path / "s1").iterdir()) == ["video"]
    assert [p.name for p in store.asset_dir("s1", "video").iterdir()] == ["b.mp4"]


def test_failure_keeps_previous_output_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s1", "video") as folder:
        (folder / "good.mp4").write_text("good")
    with pytest.raises(RuntimeError), store.stage("s1", "video") as folder:
        (folder / "half.mp4").write_text("half")
        raise RuntimeError("ffmpeg died")
    assert [p.name for p in (tmp_path / "s1").iterdir()] == ["video"]
    assert (store.asset_dir("s1", "video") / "good.mp4").read_text() == "good"


def test_failed_first_write_removes_the_story_folder(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with pytest.raises(ValueError), store.stage("new", "story"):
        raise ValueError("bad story")
    assert not (tmp_path / "new").exists()


def test_require_names_the_missing_asset(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="materialise the 'script' asset for story 's1'"):
        MediaStore(tmp_path).require("s1", "script", "script.json")


def test_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        MediaStore(tmp_path).story_dir("../x")
