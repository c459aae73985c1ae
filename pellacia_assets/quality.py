"""The quality gates between production and publishing, as plain rules over measured facts.

Each rule returns the list of problems it found (empty means pass), so the asset checks stay thin and the
same rules can be tested on real media without Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

from pellacia_assets.audio.loudness import Loudness
from pellacia_assets.captions.alignment import Alignment
from pellacia_assets.rendering.probe import MediaInfo
from pellacia_assets.scripting.model import Script

TARGET_LUFS = -14.0
LUFS_TOLERANCE = 1.0
MAX_TRUE_PEAK_DBTP = -1.0
MAX_CAPTION_WER = 0.15
PART_LENGTH_TOLERANCE_S = 2.0
VIDEO_DURATION_TOLERANCE_S = 0.1


@dataclass(frozen=True)
class VideoSpec:
    """What every published short must be."""

    width: int = 1080
    height: int = 1920
    fps: float = 30.0
    video_codec: str = "h264"
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_sample_rate: int = 48_000


def script_problems(script: Script | None) -> list[str]:
    if script is None or not script.parts:
        return ["the script is missing or has no parts"]
    problems = []
    limit = script.max_part_seconds + PART_LENGTH_TOLERANCE_S
    for part in script.parts:
        if not part.narration.strip():
            problems.append(f"{part.title}: empty narration")
        if part.estimated_seconds > limit:
            problems.append(
                f"{part.title}: about {part.estimated_seconds:.1f} s at {script.words_per_minute:.0f} wpm, "
                f"over the {script.max_part_seconds:.0f} s part limit"
            )
    return problems


def part_length_problems(label: str, duration_s: float, max_part_seconds: float) -> list[str]:
    """The spoken part as measured: a voice slower than its measured pace makes parts overrun."""
    if duration_s > max_part_seconds + PART_LENGTH_TOLERANCE_S:
        return [f"{label}: the voiceover is {duration_s:.1f} s, over the {max_part_seconds:.0f} s part limit"]
    return []


def loudness_problems(label: str, loudness: Loudness) -> list[str]:
    problems = []
    if abs(loudness.integrated_lufs - TARGET_LUFS) > LUFS_TOLERANCE:
        problems.append(
            f"{label}: integrated loudness {loudness.integrated_lufs:.1f} LUFS, "
            f"expected {TARGET_LUFS:.0f} ±{LUFS_TOLERANCE:.0f} LU"
        )
    if loudness.true_peak_dbtp > MAX_TRUE_PEAK_DBTP:
        problems.append(
            f"{label}: true peak {loudness.true_peak_dbtp:.1f} dBTP, above {MAX_TRUE_PEAK_DBTP:.0f} dBTP"
        )
    return problems


def alignment_problems(label: str, alignment: Alignment) -> list[str]:
    if alignment.wer > MAX_CAPTION_WER:
        return [
            f"{label}: Whisper hears {alignment.wer:.0%} of the script differently "
            f"(word error rate, limit {MAX_CAPTION_WER:.0%}); the voiceover does not say the script"
        ]
    return []


def video_problems(label: str, info: MediaInfo, expected_duration_s: float, spec: VideoSpec) -> list[str]:
    problems = []
    if (info.width, info.height) != (spec.width, spec.height):
        problems.append(f"{label}: {info.width}x{info.height}, expected {spec.width}x{spec.height}")
    if info.fps is None or abs(info.fps - spec.fps) > 0.01:
        problems.append(f"{label}: {info.fps or 0:g} fps, expected {spec.fps:g}")
    if info.video_codec != spec.video_codec or info.pix_fmt != spec.pix_fmt:
        problems.append(
            f"{label}: video {info.video_codec}/{info.pix_fmt}, expected {spec.video_codec}/{spec.pix_fmt}"
        )
    if not info.has_audio:
        problems.append(f"{label}: no audio stream")
    elif info.audio_codec != spec.audio_codec or info.audio_sample_rate != spec.audio_sample_rate:
        problems.append(
            f"{label}: audio {info.audio_codec} {info.audio_sample_rate} Hz, "
            f"expected {spec.audio_codec} {spec.audio_sample_rate} Hz"
        )
    if abs(info.duration_s - expected_duration_s) > VIDEO_DURATION_TOLERANCE_S:
        problems.append(
            f"{label}: {info.duration_s:.3f} s long, the voiceover is {expected_duration_s:.3f} s"
        )
    if not info.faststart:
        problems.append(f"{label}: the moov atom is not at the front (faststart)")
    return problems
