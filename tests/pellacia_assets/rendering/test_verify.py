"""verify_media: a file is refused unless it is whole, whatever its header says."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from pellacia_assets.rendering.errors import DamagedMediaError, MediaError
from pellacia_assets.rendering.probe import probe
from pellacia_assets.rendering.verify import check_mp4_structure, verify_media
from tests.media import grow_mp4

Ffmpeg = Callable[..., bytes]


def _clip(ffmpeg_cli: Ffmpeg, path: Path, *extra: str, seconds: float = 2.0, audio: bool = True) -> Path:
    sound = ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}:sample_rate=48000"] if audio else []
    codecs = ["-c:a", "aac"] if audio else []
    ffmpeg_cli(
        "-f", "lavfi", "-i", f"testsrc=s=96x160:r=25:d={seconds}", *sound,
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *codecs, *extra, str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory, ffmpeg_cli: Ffmpeg) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    return _clip(ffmpeg_cli, folder / "whole.mp4", "-movflags", "+faststart")


def _copy(source: Path, target: Path, keep: int | None = None) -> Path:
    data = source.read_bytes()
    target.write_bytes(data if keep is None else data[:keep])
    return target


def test_a_whole_video_passes_and_is_described_like_probe(whole: Path) -> None:
    info = verify_media(whole)
    assert info == probe(whole)
    assert info.has_audio and info.container.startswith("mov,mp4")


def test_a_whole_video_with_its_index_at_the_end_passes(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    late_index = _clip(ffmpeg_cli, tmp_path / "late.mp4")
    assert [box.kind for box in check_mp4_structure(late_index)][-1] == "moov"
    assert verify_media(late_index).duration_s == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("faststart", [True, False], ids=["index-first", "index-last"])
def test_an_mp4_cut_in_half_is_refused_though_its_header_is_intact(
    tmp_path: Path, ffmpeg_cli: Ffmpeg, faststart: bool
) -> None:
    extra = ("-movflags", "+faststart") if faststart else ()
    source = _clip(ffmpeg_cli, tmp_path / "source.mp4", *extra, seconds=4.0)
    half = _copy(source, tmp_path / "half.mp4", keep=source.stat().st_size // 2)
    if faststart:
        assert probe(half).duration_s == pytest.approx(4.0, abs=0.1), "the header still promises 4 s"
    with pytest.raises(DamagedMediaError, match=r"'mdat' box .* the file is truncated") as raised:
        verify_media(half)
    assert str(raised.value).startswith("half.mp4: ")
    assert "\n" not in str(raised.value)


def test_bytes_after_the_last_box_are_refused(whole: Path, tmp_path: Path) -> None:
    padded = _copy(whole, tmp_path / "padded.mp4")
    with padded.open("ab") as handle:
        handle.write(b"\x00\x00\x00")
    with pytest.raises(DamagedMediaError, match="3 stray byte"):
        verify_media(padded)


def test_a_chunk_pointing_outside_the_media_data_is_refused(whole: Path, tmp_path: Path) -> None:
    data = bytearray(whole.read_bytes())
    table = data.index(b"stco")
    data[table + 12 : table + 16] = struct.pack(">I", len(data) + 1000)  # first chunk offset, past the end
    broken = tmp_path / "stco.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(DamagedMediaError, match="lies outside the media data"):
        verify_media(broken)


def test_damaged_media_at_the_end_is_refused(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    source = _clip(ffmpeg_cli, tmp_path / "source.mp4", "-movflags", "+faststart", seconds=4.0)
    data = bytearray(source.read_bytes())
    tail = len(data) // 5
    data[-tail:-64] = os.urandom(tail - 64)  # same size, same boxes: only decoding can tell
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    check_mp4_structure(damaged)
    with pytest.raises(DamagedMediaError, match="truncated or damaged"):
        verify_media(damaged)


def test_a_webm_cut_short_is_refused_by_its_packets(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    webm = tmp_path / "clip.webm"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "testsrc=s=96x160:r=25:d=4", "-c:v", "libvpx", "-deadline", "realtime",
        "-b:v", "400k", str(webm),
    )  # fmt: skip
    assert verify_media(webm).has_video
    cut = _copy(webm, tmp_path / "cut.webm", keep=webm.stat().st_size // 2)
    with pytest.raises(DamagedMediaError, match="truncated or damaged"):
        verify_media(cut)


def test_a_png_renamed_mp4_is_a_still_image_not_a_video(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    picture = tmp_path / "holiday.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "testsrc=s=64x48", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(picture)
    )
    with pytest.raises(MediaError, match=r"holiday\.mp4 is a still image \(png_pipe\), not a video"):
        verify_media(picture)


def test_text_and_missing_files_are_media_errors(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("a shopping list\n" * 20)
    with pytest.raises(MediaError, match="not readable media"):
        verify_media(notes)
    with pytest.raises(MediaError, match="does not exist"):
        verify_media(tmp_path / "nothing.mp4")


def test_a_video_padded_with_a_free_box_stays_whole(whole: Path, tmp_path: Path) -> None:
    big = grow_mp4(_copy(whole, tmp_path / "big.mp4"), 50_000_000)
    assert verify_media(big).size_bytes == 50_000_000


def test_a_silent_video_is_whole_and_says_it_has_no_sound(tmp_path: Path, ffmpeg_cli: Ffmpeg) -> None:
    silent = _clip(ffmpeg_cli, tmp_path / "silent.mp4", audio=False)
    info = verify_media(silent)
    assert info.has_video and not info.has_audio


def test_the_verdict_is_remembered_until_the_file_changes(whole: Path, tmp_path: Path) -> None:
    video = _copy(whole, tmp_path / "video.mp4")
    first = verify_media(video)
    assert verify_media(video) is first
    with video.open("r+b") as handle:
        handle.truncate(video.stat().st_size // 2)
    with pytest.raises(DamagedMediaError):
        verify_media(video)
