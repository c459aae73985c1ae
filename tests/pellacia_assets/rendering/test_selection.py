from __future__ import annotations

from pathlib import Path

import pytest

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.selection import pick_for_key, pick_music, stable_number


def test_stable_number_depends_on_key_and_purpose() -> None:
    assert stable_number("k", "music") == stable_number("k", "music")
    assert stable_number("k", "music") != stable_number("k", "background")
    assert stable_number("k", "music") != stable_number("k2", "music")


def test_pick_for_key_spreads_over_candidates() -> None:
    picks = {pick_for_key(f"story-{i}", "x", ["a", "b", "c"]) for i in range(30)}
    assert picks == {"a", "b", "c"}


def test_pick_for_key_needs_candidates() -> None:
    with pytest.raises(ValueError, match="nothing to choose"):
        pick_for_key("k", "music", [])


def test_music_file_is_used_as_is(tmp_path: Path) -> None:
    track = tmp_path / "song.mp3"
    track.write_bytes(b"")
    assert pick_music("k", track) == track
    assert pick_music("k", None) is None


def test_music_folder_gives_a_fixed_audio_file(tmp_path: Path) -> None:
    for name in ("one.mp3", "two.WAV", "cover.jpg"):
        (tmp_path / name).write_bytes(b"")
    picks = {pick_music(f"story-{i}", tmp_path) for i in range(30)}
    assert picks == {tmp_path / "one.mp3", tmp_path / "two.WAV"}
    assert pick_music("story-3", tmp_path) == pick_music("story-3", tmp_path)


def test_empty_music_folder_means_no_music(tmp_path: Path) -> None:
    assert pick_music("k", tmp_path) is None


def test_missing_music_path_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="music folder"):
        pick_music("k", tmp_path / "nope")
