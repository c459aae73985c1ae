"""Media helpers the tests share (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import struct
from pathlib import Path


def grow_mp4(path: Path, total_bytes: int) -> Path:
    """Make a real MP4 `total_bytes` long without writing them: a sparse `free` box fills the rest.

    The file stays a whole, valid MP4 (its boxes add up to its size, as `verify_media` demands), so a
    test can reach a platform's size limit without the truncation check refusing the file first."""
    size = path.stat().st_size
    padding = total_bytes - size
    if padding < 16:
        raise ValueError(f"{path} is already {size} bytes; cannot grow it to {total_bytes}")
    with path.open("r+b") as handle:
        handle.seek(size)
        if padding < 2**32:
            handle.write(struct.pack(">I4s", padding, b"free"))
        else:
            handle.write(struct.pack(">I4sQ", 1, b"free", padding))
        handle.truncate(total_bytes)
    return path
