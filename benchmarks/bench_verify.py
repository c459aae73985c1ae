"""What verifying a video whole costs before an upload (`pellacia_assets/rendering/verify.py`).

Issue 12: a truncated MP4 must be refused before a byte is sent, at a cost well under the upload's. Two
files, each verified `--runs` times (median), every stage timed on its own:
  - a 60 s 1080x1920 30 fps short, libx264 veryfast CRF 23 + AAC 48 kHz, faststart, from ffmpeg's
    `testsrc2` (busy test pictures: ~5.9 Mbit/s, about 13x the bitrate of the factory's own renders, so
    the per-byte stages are measured pessimistically);
  - a ~1 GB file: that short repeated (stream copy) to about `--target-gb`, i.e. ~23 minutes of real
    packets, not a padded header.
Stages: (1) MP4 structure, pure Python; (2) every packet read with ffprobe, no decoding; (3) the last
1.5 s decoded with ffmpeg -xerror; "verify" is `verify_media` end to end (probe included, cache cleared).
For reference: sha256 of the file (what the publisher computes anyway before uploading, one read of the
whole file) and, for the short only, a full decode (`ffmpeg -xerror -i FILE -f null -`), the check
verify_media does not do. The page cache is warm after the first run (the upload reads the file anyway).

    python benchmarks/bench_verify.py [--runs 3] [--target-gb 1.0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pellacia_assets.rendering import verify
from pellacia_assets.rendering.probe import probe
from resources.platforms.base import sha256_of


def render_short(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=30", "-f", "lavfi",
         "-i", "sine=f=440:r=48000", "-t", "60", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


def repeat_to(short: Path, target_bytes: int, path: Path) -> None:
    copies = math.ceil(target_bytes / short.stat().st_size)
    listing = path.with_suffix(".txt")
    listing.write_text("".join(f"file '{short}'\n" for _ in range(copies)))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


def full_decode(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-map", "0:v?", "-map", "0:a?",
         "-f", "null", "-"],
        check=True,
    )  # fmt: skip


def timed(action: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def whole_verify(path: Path) -> None:
    verify._verified.clear()
    verify.verify_media(path)


def measure(path: Path, runs: int, with_full_decode: bool) -> dict[str, tuple[float, list[float]]]:
    info = probe(path)
    stages: dict[str, Callable[[], object]] = {
        "structure": lambda: verify.check_mp4_structure(path),
        "packets": lambda: verify.check_packets(path, info),
        "tail decode": lambda: verify.check_tail_decodes(path, info),
        "verify (all, probe included)": lambda: whole_verify(path),
        "sha256 (reference)": lambda: sha256_of(path),
    }
    if with_full_decode:
        stages["full decode (reference)"] = lambda: full_decode(path)
    sha256_of(path)  # warm the page cache once, as the publisher's own hashing does
    return {name: timed(action, runs) for name, action in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target-gb", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-verify-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        short, big = folder / "short-60s.mp4", folder / "big-1gb.mp4"
        if not short.exists():
            started = time.perf_counter()
            render_short(short)
            print(f"rendered {short.name} in {time.perf_counter() - started:.1f} s")
        if not big.exists():
            repeat_to(short, int(args.target_gb * 1e9), big)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for path, decode in ((short, True), (big, False)):
            info = probe(path)
            print(
                f"\n{path.name}: {path.stat().st_size / 1e6:,.1f} MB, {info.duration_s:,.1f} s, "
                f"{info.width}x{info.height} {info.video_codec}/{info.audio_codec}"
            )
            print("| stage | median | runs |\n|---|---|---|")
            for name, (median, times) in measure(path, args.runs, decode).items():
                print(f"| {name} | {median:.3f} s | {', '.join(f'{t:.3f}' for t in times)} |")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
