"""Each platform's video rules, checked on the probed file before a single byte is uploaded."""

from __future__ import annotations

from dataclasses import dataclass

from pellacia_assets.rendering.probe import MediaInfo

MB = 1_000_000


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int
    min_seconds: float
    max_seconds: float
    max_width: int = 4096
    max_height: int = 4096
    min_side: int = 0
    min_fps: float = 0.0
    max_fps: float = 60.0
    video_codecs: frozenset[str] = frozenset({"h264", "hevc"})
    audio_required: bool = False


# Sound: none of the six documents a video without an audio track as refused (sections 2.6, 3.4, 4.4, 5.2,
# 6.5, 7.2 list the audio codec a track must use, not that one must exist; Instagram and X's "AAC" rules
# are checked in their clients for the track that is there; a silent Reel publishes, [S] gitroomhq/postiz-app
# PR #2033). So no platform gets `audio_required`, and a
# silent video is a warning in the clients; `pellacia-dist upload` refuses one unless --allow-silent, as a
# short without a voice is almost always the wrong file. A platform found to refuse silence gets
# `audio_required=True` and `video_problems` refuses it there, --allow-silent or not.


# Sources: docs/reference/platform_protocols.md sections 2.6, 3.4, 4.4, 5.2, 6.5, 7.2.
VIDEO_LIMITS: dict[str, VideoLimits] = {
    "youtube": VideoLimits(max_bytes=256 * 1024**3, min_seconds=1.0, max_seconds=15 * 60,
                           video_codecs=frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})),
    "tiktok": VideoLimits(max_bytes=4 * 1000 * MB, min_seconds=1.0, max_seconds=10 * 60, min_side=360,
                          min_fps=23.0, video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"})),
    "instagram": VideoLimits(max_bytes=300 * MB, min_seconds=3.0, max_seconds=15 * 60, max_width=1920,
                             min_fps=23.0),
    "facebook": VideoLimits(max_bytes=1000 * MB, min_seconds=3.0, max_seconds=90.0, min_side=540,
                            min_fps=24.0),
    "x": VideoLimits(max_bytes=512 * MB, min_seconds=0.5, max_seconds=140.0, max_width=1920, max_height=1920,
                     min_side=32),
    "linkedin": VideoLimits(max_bytes=500 * MB, min_seconds=3.0, max_seconds=30 * 60),
}  # fmt: skip


def silent_allowed(platform: str) -> bool:
    """Whether `platform` publishes a video without an audio track."""
    return not VIDEO_LIMITS[platform].audio_required


def video_problems(
    platform: str, info: MediaInfo, size_bytes: int, limits: VideoLimits | None = None
) -> list[str]:
    """Every rule of `platform` (or of `limits`, when given) that the probed video breaks (empty when it
    may be uploaded)."""
    limits = limits or VIDEO_LIMITS[platform]
    problems = []
    if size_bytes > limits.max_bytes:
        problems.append(f"{size_bytes / MB:.1f} MB is over the {limits.max_bytes / MB:.0f} MB limit")
    if not limits.min_seconds <= info.duration_s <= limits.max_seconds:
        problems.append(f"{info.duration_s:.1f} s is outside {limits.min_seconds:g}-{limits.max_seconds:g} s")
    if info.width is None or info.height is None or info.video_codec is None:
        problems.append("no video stream")
        return problems
    if info.width > limits.max_width or info.height > limits.max_height:
        problems.append(f"{info.width}x{info.height} is larger than {limits.max_width}x{limits.max_height}")
    if min(info.width, info.height) < limits.min_side:
        problems.append(f"{info.width}x{info.height} is smaller than {limits.min_side} px on a side")
    if info.fps is not None and not limits.min_fps <= info.fps <= limits.max_fps:
        problems.append(f"{info.fps:g} fps is outside {limits.min_fps:g}-{limits.max_fps:g}")
    if limits.audio_required and not info.has_audio:
        problems.append(f"no audio track; {platform} takes only videos with sound")
    if info.video_codec not in limits.video_codecs:
        problems.append(
            f"video codec {info.video_codec} is not accepted ({', '.join(sorted(limits.video_codecs))})"
        )
    return problems
