"""Each platform's video rules, sound included."""

from __future__ import annotations

import dataclasses

import pytest

from pellacia_assets.rendering.probe import MediaInfo
from resources.platforms import PLATFORMS
from resources.platforms.video_limits import VIDEO_LIMITS, silent_allowed, video_problems

SHORT = MediaInfo(
    duration_s=30.0, width=1080, height=1920, fps=30.0, video_codec="h264", pix_fmt="yuv420p",
    audio_codec="aac", audio_sample_rate=48_000, audio_channels=2, has_audio=True, faststart=True,
    size_bytes=20_000_000, container="mov,mp4,m4a,3gp,3g2,mj2",
)  # fmt: skip
SILENT = dataclasses.replace(
    SHORT, audio_codec=None, audio_sample_rate=None, audio_channels=None, has_audio=False
)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_short_with_sound_fits_every_platform(platform: str) -> None:
    assert video_problems(platform, SHORT, SHORT.size_bytes) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_platform_documents_refusing_a_silent_video(platform: str) -> None:
    """docs/reference/platform_protocols.md names the codec of a sound track, never that one must exist."""
    assert silent_allowed(platform)
    assert video_problems(platform, SILENT, SILENT.size_bytes) == []


def test_a_platform_requiring_sound_refuses_a_silent_video() -> None:
    strict = dataclasses.replace(VIDEO_LIMITS["instagram"], audio_required=True)
    assert video_problems("instagram", SILENT, SILENT.size_bytes, strict) == [
        "no audio track; instagram takes only videos with sound"
    ]
    assert video_problems("instagram", SHORT, SHORT.size_bytes, strict) == []
