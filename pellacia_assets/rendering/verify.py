"""Is a video whole? Checked before a single byte of it is sent anywhere.

`probe` reads a file's header only, and the header of an MP4 cut in half still states the full duration,
so a truncated file looks perfect to it. `verify_media` looks at the whole file, in three steps from cheap
to dear, and stops at the first problem:

1. container structure (MP4/MOV, pure Python): the top-level boxes follow each other exactly to the end of
   the file, `moov` (the index) and `mdat` (the media) are present and complete, the boxes inside `moov`
   fit their parents, and every chunk the sample tables point at lies inside the file;
2. packets (`ffprobe -show_entries packet`, no decoding): every packet can be read, and each stream's last
   packet reaches the duration its header states;
3. decoding (`ffmpeg -xerror -sseof`): the last seconds of every audio and video stream decode without error.

A file that is not a container of moving pictures (a PNG renamed `.mp4`, a text file) is refused as well.
What was verified is remembered per (file, size, modification time), so the publisher and each platform
client may all ask without paying again. Costs are in docs/benchmarks.md (`benchmarks/bench_verify.py`).
"""

from __future__ import annotations

import struct
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pellacia_assets.rendering.errors import DamagedMediaError, MediaError
from pellacia_assets.rendering.probe import MediaInfo, probe

# ISO-BMFF boxes that may open a file; anything else first means the file is not MP4/MOV at all.
_FIRST_BOXES = frozenset({b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin", b"uuid"})
# Boxes whose payload is nothing but boxes (ISO/IEC 14496-12), walked to check they fit their parents.
_CONTAINER_BOXES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex"})
_MP4_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".3gp"})
_STILL_IMAGE_FORMATS = frozenset({"image2", "gif", "apng", "webp", "ico", "bmp_pipe", "tiff_pipe"})
TAIL_SECONDS = 1.5
CHECK_TIMEOUT_S = 600.0
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Box:
    kind: str
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def verify_media(path: Path) -> MediaInfo:
    """`probe(path)` of a file verified whole; a one-line MediaError naming the first problem otherwise."""
    try:
        stat = path.stat()
    except OSError as error:
        raise MediaError(f"media file {path} does not exist") from error
    key = (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _verified:
            _verified.move_to_end(key)
            return _verified[key]
    if is_iso_bmff(path):
        check_mp4_structure(path)
    info = probe(path)
    if info.container in _STILL_IMAGE_FORMATS or info.container.endswith("_pipe"):
        raise MediaError(f"{path.name} is a still image ({info.container}), not a video")
    if path.suffix.lower() in _MP4_SUFFIXES and not is_iso_bmff(path):
        raise MediaError(f"{path.name} is not an MP4/MOV file (ffprobe reads it as {info.container})")
    check_packets(path, info)
    check_tail_decodes(path, info)
    with _lock:
        _verified[key] = info
        while len(_verified) > _CACHE_SIZE:
            _verified.popitem(last=False)
    return info


_verified: OrderedDict[tuple[str, int, int, int, int], MediaInfo] = OrderedDict()
_lock = threading.Lock()


# --- 1. container structure ----------------------------------------------------------------------------


def is_iso_bmff(path: Path) -> bool:
    """True when the file opens with an MP4/MOV box."""
    with path.open("rb") as handle:
        header = handle.read(8)
    return len(header) == 8 and header[4:8] in _FIRST_BOXES


def check_mp4_structure(path: Path) -> list[Box]:
    """The top-level boxes, after checking that they account for every byte of the file; MediaError when
    a box runs past the end (a truncated file), garbage follows, or `moov` or `mdat` is missing."""
    try:
        return _walk(path)
    except MediaError as error:
        raise DamagedMediaError(f"{path.name}: {error}") from error


def _walk(path: Path) -> list[Box]:
    size = path.stat().st_size
    if not is_iso_bmff(path):
        raise MediaError("not an MP4/MOV file (it does not begin with an MP4 box)")
    with path.open("rb") as handle:
        boxes = list(_boxes(handle, 0, size, size, "the file"))
        kinds = [box.kind for box in boxes]
        if "moov" not in kinds:
            raise MediaError("no 'moov' box (the index of its media): the file is incomplete")
        if "mdat" not in kinds:
            raise MediaError("no 'mdat' box: it holds no media data")
        moov = boxes[kinds.index("moov")]
        handle.seek(moov.offset + moov.header)
        payload = handle.read(moov.size - moov.header)
    media = [(box.offset + box.header, box.end) for box in boxes if box.kind == "mdat"]
    _check_moov(payload, moov.offset + moov.header, media)
    return boxes


class _Source(Protocol):
    def seek(self, offset: int, /) -> object: ...

    def read(self, count: int, /) -> bytes: ...


def _boxes(handle: _Source, start: int, end: int, file_size: int, parent: str) -> Iterator[Box]:
    """The boxes between `start` and `end` of the file, each checked to fit inside its parent."""
    offset = start
    while offset < end:
        handle.seek(offset)
        header = handle.read(8)
        if len(header) < 8:
            raise MediaError(
                f"{end - offset} stray byte(s) at byte {offset:,} after the last box of {parent}; "
                "the file is damaged"
            )
        size, raw_kind = struct.unpack(">I4s", header)
        kind = raw_kind.decode("latin-1")
        header_size = 8
        if size == 1:
            large = handle.read(8)
            if len(large) < 8:
                raise MediaError(f"the '{kind}' box at byte {offset:,} is cut off: the file is truncated")
            (size,) = struct.unpack(">Q", large)
            header_size = 16
        elif size == 0 and parent == "the file":
            size = end - offset  # "extends to the end of the file" (allowed for the last box only)
        if not kind.isprintable() or not kind.isascii():
            raise MediaError(f"garbage instead of an MP4 box at byte {offset:,} of {parent}")
        if size < header_size:
            raise MediaError(f"the '{kind}' box at byte {offset:,} has an impossible size ({size})")
        if offset + size > end:
            missing = offset + size - end
            where = "the file ends" if end == file_size else f"{parent} ends"
            raise MediaError(
                f"the '{kind}' box at byte {offset:,} is {size:,} bytes long but {where} {missing:,} bytes "
                "before it does: the file is truncated or damaged"
            )
        yield Box(kind, offset, size, header_size)
        offset += size


class _Readable:
    """A file-like object over bytes (the `moov` payload), for `_boxes`."""

    def __init__(self, data: bytes, base: int) -> None:
        self.data = data
        self.base = base
        self.position = base

    def seek(self, offset: int, /) -> object:
        self.position = offset
        return offset

    def read(self, count: int, /) -> bytes:
        start = self.position - self.base
        chunk = self.data[start : start + count]
        self.position += len(chunk)
        return chunk


def _check_moov(payload: bytes, base: int, media: list[tuple[int, int]]) -> None:
    """The boxes inside `moov` fit their parents; every chunk offset (stco/co64) points into an mdat."""
    reader = _Readable(payload, base)
    pending = [(base, base + len(payload), "the 'moov' box")]
    tracks = 0
    while pending:
        start, end, parent = pending.pop()
        for box in _boxes(reader, start, end, base + len(payload), parent):
            if box.kind == "trak":
                tracks += 1
            if box.kind.encode("latin-1") in _CONTAINER_BOXES:
                pending.append((box.offset + box.header, box.end, f"the '{box.kind}' box"))
            elif box.kind in ("stco", "co64"):
                _check_chunk_offsets(reader, box, media)
    if tracks == 0:
        raise MediaError("its 'moov' box lists no tracks")


def _check_chunk_offsets(reader: _Readable, box: Box, media: list[tuple[int, int]]) -> None:
    reader.seek(box.offset + box.header)
    table = reader.read(box.size - box.header)
    if len(table) < 8:
        raise MediaError(f"its '{box.kind}' chunk table is cut off")
    (count,) = struct.unpack(">I", table[4:8])
    width = 8 if box.kind == "co64" else 4
    if 8 + count * width > len(table):
        raise MediaError(f"its '{box.kind}' chunk table lists more chunks than it holds")
    offsets = struct.unpack(f">{count}{'Q' if width == 8 else 'I'}", table[8 : 8 + count * width])
    for offset in offsets:
        if not any(start <= offset < end for start, end in media):
            raise MediaError(
                f"a media chunk at byte {offset:,} lies outside the media data: the file is damaged"
            )


# --- 2. packets ----------------------------------------------------------------------------------------


def check_packets(path: Path, info: MediaInfo) -> None:
    """Read every packet (no decoding): each readable, and each stream's last one reaching the duration."""
    output = _run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time,dts_time,duration_time",
         "-of", "compact=p=0", str(path)],
        path,
    )  # fmt: skip
    ends: dict[int, float] = {}
    for line in output.splitlines():
        fields = {}
        for item in line.split("|"):
            name, _, value = item.partition("=")
            fields[name] = value
        stamp = _seconds(fields.get("pts_time")) or _seconds(fields.get("dts_time"))
        if stamp is None or "stream_index" not in fields:
            continue
        end = stamp + (_seconds(fields.get("duration_time")) or 0.0)
        index = int(fields["stream_index"])
        ends[index] = max(end, ends.get(index, end))
    if not ends:
        raise DamagedMediaError(f"{path.name} holds no media packets")
    reached = max(ends.values())
    tolerance = max(0.5, info.duration_s * 0.01)
    if reached + tolerance < info.duration_s:
        raise DamagedMediaError(
            f"{path.name} stops at {reached:.1f} s of its stated {info.duration_s:.1f} s: "
            "the file is truncated or damaged"
        )


def _seconds(value: str | None) -> float | None:
    if value is None or value in ("", "N/A"):
        return None
    try:
        return float(value)
    except ValueError:
        return None


# --- 3. decoding ---------------------------------------------------------------------------------------


def check_tail_decodes(path: Path, info: MediaInfo) -> None:
    """Decode the last seconds of the audio and video (a stream's end is where damage shows first)."""
    start = max(info.duration_s - TAIL_SECONDS, 0.0)
    _run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-xerror", "-ss", f"{start:.3f}",
         "-i", str(path), "-map", "0:v?", "-map", "0:a?", "-f", "null", "-"],
        path,
        stage="does not decode to its end",
    )  # fmt: skip


def _run(command: list[str], path: Path, stage: str = "cannot be read to its end") -> str:
    """stdout of an ffmpeg tool; MediaError with its first error line when it reports any problem."""
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=CHECK_TIMEOUT_S, check=False
        )
    except FileNotFoundError as error:
        raise MediaError(f"{command[0]} is not installed (install the ffmpeg package)") from error
    except subprocess.TimeoutExpired as error:
        raise MediaError(f"{path.name}: checking it took over {CHECK_TIMEOUT_S:.0f} s") from error
    problems = [_clean(line) for line in completed.stderr.splitlines() if line.strip()]
    if completed.returncode != 0 or problems:
        reason = problems[0] if problems else f"{command[0]} exited with status {completed.returncode}"
        raise DamagedMediaError(f"{path.name} {stage}: {reason}; the file is truncated or damaged")
    return completed.stdout


def _clean(line: str) -> str:
    """ffmpeg's line without its `[demuxer @ 0x...]` prefix or the file name it repeats."""
    text = line.strip()
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]
    return text.rstrip(".")
