"""What a media file really contains, read with ffprobe, to check renders and inputs before use."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from pellacia_assets.rendering.errors import MediaError

# Top-level ISO-BMFF (MP4/MOV) box types; seeing one of these first means the file is an MP4-like container.
_MP4_TOP_LEVEL_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin"})


@dataclass(frozen=True)
class MediaInfo:
    """The facts about a file that the render and the platforms care about."""

    duration_s: float
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    pix_fmt: str | None
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    has_audio: bool
    faststart: bool
    size_bytes: int
    container: str = ""  # ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "png_pipe"

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


def probe(path: Path) -> MediaInfo:
    """Describe `path`; raises MediaError when it is missing or not readable media."""
    if not path.is_file():
        raise MediaError(f"media file {path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"media file {path} is empty")
    data = _ffprobe(path)
    streams: list[dict[str, Any]] = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaError(f"{path} contains neither video nor audio")
    return MediaInfo(
        duration_s=_duration(data.get("format", {}), streams),
        width=_int_or_none(video, "width"),
        height=_int_or_none(video, "height"),
        fps=_frame_rate(video),
        video_codec=video.get("codec_name") if video else None,
        pix_fmt=video.get("pix_fmt") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        audio_sample_rate=_int_or_none(audio, "sample_rate"),
        audio_channels=_int_or_none(audio, "channels"),
        has_audio=audio is not None,
        faststart=is_faststart(path),
        size_bytes=size,
        container=str(data.get("format", {}).get("format_name", "")),
    )


def is_faststart(path: Path) -> bool:
    """True when an MP4's index (moov) comes before its media data (mdat), so playback can start at once."""
    with path.open("rb") as handle:
        offset = 0
        first = True
        while True:
            handle.seek(offset)
            header = handle.read(8)
            if len(header) < 8:
                return False
            size, box_type = struct.unpack(">I4s", header)
            if first and box_type not in _MP4_TOP_LEVEL_BOXES:
                return False
            first = False
            if box_type == b"moov":
                return True
            if box_type == b"mdat":
                return False
            if size == 1:
                large = handle.read(8)
                if len(large) < 8:
                    return False
                (size,) = struct.unpack(">Q", large)
            if size < 8:
                return False
            offset += size


def _ffprobe(path: Path) -> dict[str, Any]:
    try:
        result: dict[str, Any] = ffmpeg.probe(str(path))
    except FileNotFoundError as error:
        raise MediaError("ffprobe is not installed (install the ffmpeg package)") from error
    except ffmpeg.Error as error:
        stderr = error.stderr.decode("utf-8", "replace").strip() if error.stderr else ""
        reason = stderr.splitlines()[-1] if stderr else "ffprobe failed"
        raise MediaError(f"{path} is not readable media: {reason}") from error
    return result


def _duration(fmt: dict[str, Any], streams: list[dict[str, Any]]) -> float:
    candidates = [fmt.get("duration"), *(s.get("duration") for s in streams)]
    for value in candidates:
        if value not in (None, "N/A"):
            return float(value)
    return 0.0


def _frame_rate(video: dict[str, Any] | None) -> float | None:
    if video is None:
        return None
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = video.get(key, "0/0")
        numerator, _, denominator = rate.partition("/")
        if denominator not in ("", "0") and numerator != "0":
            return float(Fraction(int(numerator), int(denominator)))
    return None


def _int_or_none(stream: dict[str, Any] | None, key: str) -> int | None:
    if stream is None or stream.get(key) in (None, "N/A"):
        return None
    return int(stream[key])
