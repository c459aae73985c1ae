"""Deterministic per-story choices (background clip, music track, palette): a re-render looks the same."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from pellacia_assets.rendering.errors import MediaError

T = TypeVar("T")

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm"})
AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus"})


def stable_number(story_key: str, purpose: str) -> int:
    """A number fixed by the story key; `purpose` keeps choices for different things independent."""
    digest = hashlib.sha256(f"{purpose}:{story_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def pick_for_key(story_key: str, purpose: str, candidates: Sequence[T]) -> T:
    """One of `candidates`, always the same one for the same story key and purpose."""
    if not candidates:
        raise ValueError(f"nothing to choose the {purpose} from")
    return candidates[stable_number(story_key, purpose) % len(candidates)]


def media_files(folder: Path, suffixes: frozenset[str], what: str) -> list[Path]:
    """The files in `folder` with one of `suffixes`, sorted so that choices do not depend on listing order."""
    if not folder.is_dir():
        raise MediaError(f"{what} folder {folder} does not exist")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def pick_music(story_key: str, music_path: Path | None) -> Path | None:
    """The music track for a story: the file itself, or a fixed pick from a folder (None when it is empty)."""
    if music_path is None:
        return None
    if music_path.is_file():
        return music_path
    tracks = media_files(music_path, AUDIO_SUFFIXES, "music")
    return pick_for_key(story_key, "music", tracks) if tracks else None
