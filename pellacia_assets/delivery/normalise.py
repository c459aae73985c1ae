"""A delivered video against the platforms it goes to: taken as it is where every one of them accepts it,
otherwise normalised once (H.264 yuv420p, AAC 48 kHz, faststart, within 1080x1920), never re-rendered.

Each platform is held to what its own client refuses before an upload (`video_limits` plus the client's
extra rules: Instagram's faststart and AAC, X's 4:2:0, AAC and stereo, Facebook's Reel-or-Page-video
choice), so a file that passes here is not refused at publishing time. A problem normalising cannot fix
(too long, too short, too big on disk, an aspect X refuses) is left for the caller to refuse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.probe import MediaInfo
from resources.platforms.facebook import classic_video_problems, is_reel
from resources.platforms.video_limits import VIDEO_LIMITS, video_problems
from resources.platforms.x import x_video_problems

BOX_WIDTH, BOX_HEIGHT = 1080, 1920
NORMALISED_FPS = 30.0
SAMPLE_RATE = 48_000
AUDIO_BITRATE = "192k"
NORMALISE_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Conversion:
    """What the one ffmpeg pass produces, and why it is needed (each "platform: problem")."""

    width: int
    height: int
    fps: float | None  # None: the source's frame rate is kept
    stereo: bool  # more than two audio channels are mixed down
    reasons: tuple[str, ...]


def _instagram_problems(info: MediaInfo) -> list[str]:
    """The Reels rules the Instagram client adds to its limits (`instagram._reel_problems`)."""
    problems = []
    if not info.faststart:
        problems.append("the moov atom must come before the media data (faststart)")
    if info.has_audio and info.audio_codec != "aac":
        problems.append(f"audio must be AAC, not {info.audio_codec}")
    return problems


def platform_problems(platform: str, info: MediaInfo) -> list[str]:
    """Everything `platform`'s client would refuse in this video before uploading it."""
    if platform == "facebook" and not is_reel(info):
        return classic_video_problems(info, info.size_bytes)
    problems = video_problems(platform, info, info.size_bytes)
    if platform == "instagram":
        problems += _instagram_problems(info)
    if platform == "x":
        problems += x_video_problems(info)
    return problems


def delivery_problems(info: MediaInfo, platforms: Sequence[str]) -> list[str]:
    """Every platform's problems with the video, each as "platform: problem"."""
    return [
        f"{platform}: {problem}" for platform in platforms for problem in platform_problems(platform, info)
    ]


def plan_conversion(info: MediaInfo, platforms: Sequence[str], *, iso_bmff: bool = True) -> Conversion | None:
    """None when every platform takes the file as it is (and it is an MP4/MOV file); otherwise the one
    conversion that makes it acceptable wherever that is possible."""
    reasons = delivery_problems(info, platforms)
    if not iso_bmff:
        reasons.insert(0, "the file is not an MP4/MOV container")
    if not reasons:
        return None
    width, height = info.width or BOX_WIDTH, info.height or BOX_HEIGHT
    scale = min(1.0, BOX_WIDTH / width, BOX_HEIGHT / height)
    lowest = max((VIDEO_LIMITS[p].min_fps for p in platforms), default=0.0)
    highest = min((VIDEO_LIMITS[p].max_fps for p in platforms), default=60.0)
    fps_ok = info.fps is not None and lowest <= info.fps <= highest
    return Conversion(
        width=_even(width * scale),
        height=_even(height * scale),
        fps=None if fps_ok else NORMALISED_FPS,
        stereo=(info.audio_channels or 0) > 2,
        reasons=tuple(reasons),
    )


def expected_after(info: MediaInfo, conversion: Conversion) -> MediaInfo:
    """What `normalise_video` will make of the file (its size on disk is taken to stay the same)."""
    return replace(
        info,
        width=conversion.width,
        height=conversion.height,
        fps=conversion.fps or info.fps,
        video_codec="h264",
        pix_fmt="yuv420p",
        audio_codec="aac" if info.has_audio else None,
        audio_sample_rate=SAMPLE_RATE if info.has_audio else None,
        audio_channels=min(info.audio_channels, 2) if info.audio_channels else None,
        faststart=True,
    )


def unfixable_problems(info: MediaInfo, platforms: Sequence[str], *, iso_bmff: bool = True) -> list[str]:
    """The platforms' problems that normalising would not remove (a duration outside a platform's
    range, a file too big, an aspect ratio X refuses): such a delivery cannot be posted as asked."""
    conversion = plan_conversion(info, platforms, iso_bmff=iso_bmff)
    return delivery_problems(info if conversion is None else expected_after(info, conversion), platforms)


def normalise_video(
    source: Path, output: Path, conversion: Conversion, *, preset: str = "veryfast", crf: int = 20
) -> float:
    """Re-encode `source` into `output` in one ffmpeg pass; the seconds it took come back."""
    scale = (
        f"scale=w='min({conversion.width},iw)':h='min({conversion.height},ih)'"
        ":force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1"
    )
    filters = scale + (f",fps={conversion.fps:g}" if conversion.fps else "")
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(source),
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", filters,
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(SAMPLE_RATE),
        *(["-ac", "2"] if conversion.stereo else []),
        "-movflags", "+faststart", str(output),
    ]  # fmt: skip
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=NORMALISE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as error:
        raise MediaError("ffmpeg is not installed (install the ffmpeg package)") from error
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"normalising {source.name} took over {NORMALISE_TIMEOUT_S:.0f} s") from error
    if completed.returncode != 0 or not output.is_file():
        tail = " / ".join(line.strip() for line in completed.stderr.splitlines()[-3:] if line.strip())
        raise RenderError(f"ffmpeg could not normalise {source.name}: {tail or 'no output'}")
    return time.monotonic() - started


def place_video(source: Path, output: Path) -> None:
    """`source` at `output` as it is: a hard link where the two share a file system, a copy otherwise."""
    try:
        os.link(source, output)
    except OSError:
        shutil.copy2(source, output)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
