"""The media store never leaves half-written artefacts behind."""

from __future__ import annotations

import os
import subprocess
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


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_staging_folders_are_named_after_their_process(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s1", "video") as folder:
        assert folder.name.startswith(f".staging-video-{os.getpid()}-")


def test_a_new_stage_removes_what_a_killed_process_left_but_not_a_live_ones(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    story = tmp_path / "s1"
    killed = story / f".staging-video-{_dead_pid()}-0123abcd"
    running = story / ".staging-video-1-89abcdef"  # pid 1 is always running
    legacy = story / ".staging-video-deadbeef"  # named before folders carried a pid
    for folder in (killed, running, legacy):
        folder.mkdir(parents=True)
        (folder / "part-1.mp4").write_text("half")
    with store.stage("s1", "video") as folder:
        (folder / "part-1.mp4").write_text("whole")
    assert not killed.exists() and not legacy.exists()
    assert running.exists(), "another process's work in progress is not touched"


def test_sweep_removes_every_abandoned_staging_folder_in_the_store(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    dead = _dead_pid()
    left = [
        tmp_path / "a" / f".staging-voiceover-{dead}-00000000",
        tmp_path / "b" / f".staging-video-retired-{dead}-11111111",
        tmp_path / "c" / ".staging-captions-22222222",
    ]
    kept = [tmp_path / "d" / ".staging-video-1-33333333", tmp_path / "d" / "video"]
    for folder in left + kept:
        folder.mkdir(parents=True)
    with store.stage("e", "script") as mine:
        assert sorted(store.sweep_staging()) == sorted(left)
        assert mine.exists(), "this process's own stage stays"
    assert all(folder.exists() for folder in kept)
    assert store.sweep_staging() == []


def test_sweep_of_a_store_not_yet_created_does_nothing(tmp_path: Path) -> None:
    assert MediaStore(tmp_path / "media").sweep_staging() == []
