"""The drop folder: stable pairs taken, unsafe files refused, seen names cost nothing, state stays small."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from pellacia_assets.delivery.folder import (
    GRACE_LOOKS,
    MAX_PENDING,
    DropCursor,
    Look,
    Scan,
    SeenRef,
    flag_names,
    load_seen,
    pack_names,
    quarantine,
    save_seen,
    scan_folder,
    store_key,
    unpack_names,
)


class MemoryStore:
    """A plain dict with the two calls of Dagster's cursor storage."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_cursor_values(self, keys: set[str]) -> Mapping[str, str]:
        return {key: self.values[key] for key in keys if key in self.values}

    def set_cursor_values(self, pairs: Mapping[str, str]) -> None:
        self.values.update(pairs)


def drop(folder: Path, name: str, video: bytes = b"video", sidecar: str | None = '{"title": "t"}') -> None:
    (folder / f"{name}.mp4").write_bytes(video)
    if sidecar is not None:
        (folder / f"{name}.json").write_text(sidecar)


def look(folder: Path, scan: Scan | None = None, seen: frozenset[str] = frozenset(), **options: int) -> Scan:
    return scan_folder(folder, seen, scan.pending if scan else {}, **options)


def test_a_pair_is_taken_only_once_unchanged_across_two_looks(tmp_path: Path) -> None:
    drop(tmp_path, "flood", video=b"half")
    first = look(tmp_path)
    assert first.stable == () and first.first_looks == ("flood",)
    with (tmp_path / "flood.mp4").open("ab") as handle:
        handle.write(b" and the rest")  # still being written at the first look
    second = look(tmp_path, first)
    assert second.stable == () and second.first_looks == ()
    third = look(tmp_path, second)
    [candidate] = third.stable
    assert (candidate.name, candidate.video, candidate.sidecar) == (
        "flood",
        tmp_path / "flood.mp4",
        tmp_path / "flood.json",
    )
    assert candidate.size == len(b"half and the rest") and not candidate.flagged
    assert third.pending["flood"].looks == 2  # kept: a caller that defers it finds it stable next time


def test_a_changed_sidecar_also_restarts_the_wait(tmp_path: Path) -> None:
    drop(tmp_path, "clip")
    first = look(tmp_path)
    (tmp_path / "clip.json").write_text('{"title": "a longer title"}')
    assert look(tmp_path, first).stable == ()


def test_seen_names_are_skipped_without_looking_at_them(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.mp4"
    outside.write_bytes(b"x")
    (tmp_path / "done.mp4").symlink_to(outside)  # would be refused at once if it were looked at
    scan = look(tmp_path, seen=frozenset({"done"}))
    assert scan.refused == () and scan.pending == {} and scan.present == {"done"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad name!", "'bad name!' is not a safe name"),
        ("-leading-dash", "is not a safe name"),
        ("a" * 81, "is not a safe name"),
        ("dotted.name", "is not a safe name"),
    ],
)
def test_unsafe_names_are_refused_at_once(tmp_path: Path, name: str, reason: str) -> None:
    drop(tmp_path, name)
    [refusal] = look(tmp_path).refused
    assert reason in refusal.reason
    assert set(refusal.paths) == {tmp_path / f"{name}.mp4", tmp_path / f"{name}.json"}


def test_links_and_non_files_are_refused_and_hidden_or_foreign_files_ignored(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret.mp4"
    outside.write_bytes(b"secret")
    (tmp_path / "linked.mp4").symlink_to(outside)
    (tmp_path / "linked.json").write_text("{}")
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / ".partial.mp4").write_bytes(b"rsync writes here first")
    (tmp_path / "notes.txt").write_text("not a drop")
    (tmp_path / "quarantine").mkdir()
    refusals = {refusal.name: refusal.reason for refusal in look(tmp_path).refused}
    assert refusals == {
        "linked": f"linked.mp4 is a symbolic link (to {str(outside)!r}); drop the file itself, not a link to "
        "it",
        "folder": "folder.mp4 is not a regular file",
    }


def test_a_lone_video_or_sidecar_is_refused_after_the_grace_looks(tmp_path: Path) -> None:
    drop(tmp_path, "lonely", sidecar=None)
    (tmp_path / "orphan.json").write_text("{}")
    scan = None
    for _ in range(GRACE_LOOKS - 1):
        scan = look(tmp_path, scan)
        assert scan.refused == ()
    refusals = {refusal.name: refusal.reason for refusal in look(tmp_path, scan).refused}
    assert refusals == {
        "lonely": "lonely.mp4 has no sidecar lonely.json; drop the video and its sidecar together",
        "orphan": "orphan.json has no video orphan.mp4 beside it",
    }


def test_the_names_watched_at_once_are_bounded_and_flagged_ones_come_first(tmp_path: Path) -> None:
    for number in range(MAX_PENDING + 50):
        drop(tmp_path, f"clip-{number:04d}")
    (tmp_path / "clip-0149.breaking").touch()
    first = look(tmp_path)
    assert len(first.pending) == MAX_PENDING and "clip-0149" in first.pending
    second = look(tmp_path, first)
    assert len(second.stable) == MAX_PENDING
    assert next(c for c in second.stable if c.name == "clip-0149").flagged
    assert flag_names(tmp_path) == {"clip-0149"}


def test_names_pack_small_and_back() -> None:
    names = frozenset(
        f"2026-12-{day:02d}-story-{number:05d}" for day in range(1, 29) for number in range(400)
    )
    packed = pack_names(names)
    assert unpack_names(packed) == names
    assert len(packed) < len("\n".join(names)) / 5
    assert unpack_names(pack_names(frozenset())) == frozenset()


def test_the_cursor_round_trips_and_an_unreadable_one_starts_afresh() -> None:
    cursor = DropCursor(
        SeenRef("b", "0123456789abcdef", 3), {"clip": Look((10, 123), None, 2), "other": Look(None, (5, 6))}
    )
    assert DropCursor.from_json(cursor.to_json()) == cursor
    assert DropCursor.from_json('{"seen": [1]') == DropCursor()
    assert DropCursor.from_json(None) == DropCursor()


def test_seen_names_alternate_slots_so_the_committed_set_survives(tmp_path: Path) -> None:
    store = MemoryStore()
    assert save_seen(store, tmp_path, None, frozenset()) is None
    first = save_seen(store, tmp_path, None, frozenset({"a"}))
    assert first is not None
    second = save_seen(store, tmp_path, first, frozenset({"a", "b"}))
    assert second is not None and second.slot != first.slot
    # a tick dying before its cursor is stored loses nothing: the committed slot is untouched
    assert load_seen(store, tmp_path, first) == frozenset({"a"})
    assert load_seen(store, tmp_path, second) == frozenset({"a", "b"})
    assert save_seen(store, tmp_path, second, frozenset({"a", "b"})) is second  # unchanged: nothing written
    del store.values[store_key(tmp_path, second.slot)]
    assert load_seen(store, tmp_path, second) is None
    assert load_seen(store, tmp_path, None) == frozenset()


def test_quarantine_moves_the_files_and_writes_one_line_why(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-target.mp4"
    outside.write_bytes(b"keep me")
    (tmp_path / "clip.mp4").symlink_to(outside)
    (tmp_path / "clip.json").write_text("{}")
    moved = quarantine(tmp_path, "clip", [tmp_path / "clip.mp4", tmp_path / "clip.json"], "bad\nthing")
    box = tmp_path / "quarantine"
    assert moved.main_file == box / "clip.mp4" and (box / "clip.mp4").is_symlink()
    assert outside.read_bytes() == b"keep me"
    assert (box / "clip.error.txt").read_text() == "bad thing\n"
    assert not (tmp_path / "clip.mp4").exists() and (box / "clip.json").exists()
    drop(tmp_path, "clip")
    again = quarantine(tmp_path, "clip", [tmp_path / "clip.mp4"], "again")
    assert again.main_file == box / "clip-2.mp4" and (box / "clip-2.error.txt").read_text() == "again\n"
    assert (tmp_path / "clip.json").exists()  # only the files named are moved


def test_a_name_too_long_for_a_note_is_quarantined_under_a_short_one(tmp_path: Path) -> None:
    name = "é" * 120  # 240 bytes: NAME.error.txt would pass the 255-byte limit
    (tmp_path / f"{name}.mp4").write_bytes(b"x")
    moved = quarantine(tmp_path, name, [tmp_path / f"{name}.mp4"], "unsafe")
    assert moved.note.name.startswith("long-name-") and moved.note.read_text() == "unsafe\n"
    assert [path.name for path in tmp_path.iterdir()] == ["quarantine"]
