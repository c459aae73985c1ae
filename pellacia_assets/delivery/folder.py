"""The phase-05 drop folder: which `NAME.mp4` + `NAME.json` pairs are new, whole and safe to take.

- A name is a slug: `[A-Za-z0-9][A-Za-z0-9_-]{0,79}` (it becomes the story key `phase05-NAME`). Entries
  starting with "." are ignored (the temporary files rsync, browsers and editors write before renaming),
  as is anything but `.mp4`, `.json` and `.breaking`, and folders such as `quarantine/`.
- A pair is taken only when its video's and its sidecar's size and mtime_ns were the same at two looks:
  a file still being written changes between them.
- Refused at once: a symbolic link (wherever it points: a drop is the file itself, never a way to reach
  files outside the folder), anything that is not a regular file, a name that is not a slug. Refused
  after `GRACE_LOOKS` unchanged looks: a video without its sidecar, a sidecar without its video.
- What is remembered between looks is small: the names already taken (`seen`, packed by `pack_names`)
  and the last look at names not taken yet (`pending`, at most `MAX_PENDING`). A name already seen costs
  no system call at all, so ten thousand finished drops in the folder do not slow a look; it follows that
  a file replaced under a name already taken is not looked at again (a new video takes a new name).

Pure code (no Dagster): the drop sensor (sensors/phase05.py) calls it and keeps the state in its cursor.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
VIDEO, SIDECAR, FLAG = "mp4", "json", "breaking"
QUARANTINE_DIR = "quarantine"
MAX_PENDING = 100  # names watched at once; more new files wait for a later look
GRACE_LOOKS = 5  # unchanged looks a video waits for its sidecar (and a sidecar for its video)
_MAX_NOTE_NAME = 200  # bytes: a quarantine note's name must fit the file system's 255

Stat = tuple[int, int]  # (size, mtime_ns)


@dataclass(frozen=True)
class Look:
    """The last look at a name not taken yet: its video's and sidecar's (size, mtime_ns), None where the
    file is missing, and how many looks in a row found exactly that."""

    video: Stat | None
    sidecar: Stat | None
    looks: int = 1

    def same_files(self, other: Look) -> bool:
        return (self.video, self.sidecar) == (other.video, other.sidecar)


@dataclass(frozen=True)
class Candidate:
    """A pair unchanged across two looks: ready to be verified and taken."""

    name: str
    video: Path
    sidecar: Path
    size: int
    mtime_ns: int
    flagged: bool  # a NAME.breaking flag lies beside it


@dataclass(frozen=True)
class Refusal:
    """Files to quarantine, and why (one line)."""

    name: str
    paths: tuple[Path, ...]
    reason: str


@dataclass(frozen=True)
class Scan:
    """One look at the folder. `pending` holds every name watched (the stable ones included, so one the
    caller leaves for the next tick stays stable); `first_looks` the names seen for the first time;
    `present` every name with a video or sidecar in the folder."""

    stable: tuple[Candidate, ...]
    refused: tuple[Refusal, ...]
    pending: dict[str, Look]
    first_looks: tuple[str, ...]
    present: frozenset[str]
    files: dict[str, tuple[Path, ...]]  # the files of every name looked at


def scan_folder(
    folder: Path,
    seen: frozenset[str],
    pending: Mapping[str, Look],
    *,
    max_pending: int = MAX_PENDING,
    grace_looks: int = GRACE_LOOKS,
) -> Scan:
    """Look at `folder` once: names in `seen` are skipped without a system call; the others are compared
    with their `pending` look. Names watched already come first, then flagged ones, then by name."""
    groups: dict[str, dict[str, os.DirEntry[str]]] = {}
    present: set[str] = set()
    flags: set[str] = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            stem, dot, suffix = entry.name.rpartition(".")
            if not dot or not stem or entry.name.startswith("."):
                continue
            kind = suffix.lower()
            if kind == FLAG:
                flags.add(stem)
            elif kind in (VIDEO, SIDECAR):
                present.add(stem)
                if stem not in seen:
                    groups.setdefault(stem, {})[kind] = entry
    order = sorted(groups, key=lambda stem: (stem not in pending, stem not in flags, stem))
    room = max_pending - sum(1 for stem in groups if stem in pending)
    stable: list[Candidate] = []
    refused: list[Refusal] = []
    watched: dict[str, Look] = {}
    first_looks: list[str] = []
    files: dict[str, tuple[Path, ...]] = {}
    for stem in order:
        if stem not in pending:
            if room <= 0:
                break
            room -= 1
        found = groups[stem]
        paths = files[stem] = tuple(Path(entry.path) for entry in found.values())
        problem = _problem(stem, found)
        if problem is not None:
            refused.append(Refusal(stem, paths, problem))
            continue
        video, sidecar = found.get(VIDEO), found.get(SIDECAR)
        now = Look(_stat(video), _stat(sidecar))
        previous = pending.get(stem)
        if previous is None:
            first_looks.append(stem)
        looks = previous.looks + 1 if previous is not None and previous.same_files(now) else 1
        look = Look(now.video, now.sidecar, looks)
        if video is not None and sidecar is not None and now.video is not None and looks >= 2:
            stable.append(
                Candidate(stem, Path(video.path), Path(sidecar.path), *now.video, flagged=stem in flags)
            )
        elif looks >= grace_looks and (video is None or sidecar is None):
            refused.append(Refusal(stem, paths, _missing_partner(stem, found)))
            continue
        watched[stem] = look
    return Scan(
        stable=tuple(stable),
        refused=tuple(refused),
        pending=watched,
        first_looks=tuple(first_looks),
        present=frozenset(present),
        files=files,
    )


def flag_names(folder: Path) -> frozenset[str]:
    """The names with a `NAME.breaking` flag in `folder`."""
    with os.scandir(folder) as entries:
        return frozenset(
            stem
            for stem, dot, suffix in (entry.name.rpartition(".") for entry in entries)
            if dot and suffix.lower() == FLAG and SAFE_NAME.fullmatch(stem)
        )


def _problem(stem: str, found: Mapping[str, os.DirEntry[str]]) -> str | None:
    names = " and ".join(repr(entry.name) for entry in found.values())
    if not SAFE_NAME.fullmatch(stem):
        return (
            f"{names}: {stem!r} is not a safe name; use letters, digits, '-' and '_' only (at most 80, "
            "beginning with a letter or digit)"
        )
    for entry in found.values():
        if entry.is_symlink():
            try:
                target = str(Path(entry.path).readlink())
            except OSError:
                target = "?"
            return f"{entry.name} is a symbolic link (to {target!r}); drop the file itself, not a link to it"
        if not entry.is_file(follow_symlinks=False):
            return f"{entry.name} is not a regular file"
    return None


def _stat(entry: os.DirEntry[str] | None) -> Stat | None:
    if entry is None:
        return None
    try:
        info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (info.st_size, info.st_mtime_ns)


def _missing_partner(stem: str, found: Mapping[str, os.DirEntry[str]]) -> str:
    if VIDEO in found:
        return f"{found[VIDEO].name} has no sidecar {stem}.json; drop the video and its sidecar together"
    return f"{found[SIDECAR].name} has no video {stem}.mp4 beside it"


# --- What was seen ------------------------------------------------------------------------------------


def pack_names(names: Iterable[str]) -> str:
    """Names (slugs) as one compact string: sorted, newline-joined, zlib-compressed, base64."""
    raw = "\n".join(sorted(names)).encode("ascii")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def unpack_names(packed: str) -> frozenset[str]:
    raw = zlib.decompress(base64.b64decode(packed)).decode("ascii")
    return frozenset(raw.split("\n")) if raw else frozenset()


class CursorStore(Protocol):
    """A key-value store of strings (Dagster's `instance.daemon_cursor_storage` is one)."""

    def get_cursor_values(self, keys: set[str]) -> Mapping[str, str]: ...

    def set_cursor_values(self, pairs: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class SeenRef:
    """Where the packed seen names lie in the store (`slot` a or b) and their digest."""

    slot: str
    digest: str
    count: int


def _digest(packed: str) -> str:
    return hashlib.sha256(packed.encode("ascii")).hexdigest()[:16]


def store_key(folder: Path, slot: str) -> str:
    return f"pellacia/phase05/{hashlib.sha256(os.fsencode(folder)).hexdigest()[:12]}/seen-{slot}"


def load_seen(store: CursorStore, folder: Path, ref: SeenRef | None) -> frozenset[str] | None:
    """The names `ref` points at; None when the store no longer holds them (a wiped instance)."""
    if ref is None:
        return frozenset()
    key = store_key(folder, ref.slot)
    packed = store.get_cursor_values({key}).get(key)
    if packed is None or _digest(packed) != ref.digest:
        return None
    return unpack_names(packed)


def save_seen(store: CursorStore, folder: Path, ref: SeenRef | None, names: frozenset[str]) -> SeenRef | None:
    """Store `names` in the slot `ref` does not use, so the names the last committed cursor points at are
    intact until the new cursor is committed with its runs (a tick that dies in between loses nothing).
    None while there are no names to keep."""
    if not names and ref is None:
        return None
    packed = pack_names(names)
    digest = _digest(packed)
    if ref is not None and ref.digest == digest:
        return ref
    slot = "b" if ref is not None and ref.slot == "a" else "a"
    store.set_cursor_values({store_key(folder, slot): packed})
    return SeenRef(slot, digest, len(names))


@dataclass(frozen=True)
class DropCursor:
    """The drop sensor's cursor: where the seen names lie, and the pending looks. A few hundred bytes
    whatever the folder holds, because Dagster stores the cursor with every tick."""

    seen: SeenRef | None = None
    pending: dict[str, Look] = field(default_factory=dict)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "seen": None if self.seen is None else [self.seen.slot, self.seen.digest, self.seen.count],
            "pending": {
                name: [*(look.video or (None, None)), *(look.sidecar or (None, None)), look.looks]
                for name, look in sorted(self.pending.items())
            },
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> DropCursor:
        """The cursor `to_json` wrote; an empty one for no text or text it cannot read (then the names
        already taken are found again through the stories table, see sensors/phase05.py)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            ref = data["seen"]
            seen = SeenRef(str(ref[0]), str(ref[1]), int(ref[2])) if ref else None
            pending = {
                str(name): Look(_pair(values[0], values[1]), _pair(values[2], values[3]), int(values[4]))
                for name, values in data["pending"].items()
            }
        except (ValueError, KeyError, TypeError, IndexError):
            return cls()
        return cls(seen, pending)


def _pair(size: object, mtime_ns: object) -> Stat | None:
    if size is None or mtime_ns is None:
        return None
    return (int(str(size)), int(str(mtime_ns)))


# --- Quarantine ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarantine:
    """Where a refused drop's files go (`<folder>/quarantine/`), and the note saying why."""

    moves: tuple[tuple[Path, Path], ...]
    note: Path

    @property
    def main_file(self) -> Path:
        """The quarantined video where there is one, else the first file moved (else the note)."""
        targets = [target for _, target in self.moves]
        videos = [target for target in targets if target.suffix.lower() == f".{VIDEO}"]
        return (videos or targets or [self.note])[0]

    def carry_out(self, reason: str) -> None:
        """Write the note (the reason on one line), then move the files; one gone already is skipped."""
        self.note.parent.mkdir(parents=True, exist_ok=True)
        self.note.write_text(" ".join(reason.split()) + "\n", encoding="utf-8")
        for source, target in self.moves:
            try:
                source.rename(target)
            except FileNotFoundError:
                continue


def plan_quarantine(folder: Path, name: str, paths: Sequence[Path]) -> Quarantine:
    """Targets `quarantine/NAME.mp4`, `NAME.json`, `NAME.error.txt`; `NAME-2...` when those are taken."""
    box = folder / QUARANTINE_DIR
    base = name
    if len(os.fsencode(name)) > _MAX_NOTE_NAME:
        base = "long-name-" + hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    number = 1
    while True:
        stem = base if number == 1 else f"{base}-{number}"
        moves = tuple((path, box / (stem + path.name[len(name) :])) for path in paths)
        note = box / f"{stem}.error.txt"
        if not note.exists() and not any(os.path.lexists(target) for _, target in moves):
            return Quarantine(moves, note)
        number += 1


def quarantine(folder: Path, name: str, paths: Sequence[Path], reason: str) -> Quarantine:
    """Move `paths` (NAME.mp4, NAME.json, whichever exist) to the quarantine with NAME.error.txt."""
    planned = plan_quarantine(folder, name, paths)
    planned.carry_out(reason)
    return planned
