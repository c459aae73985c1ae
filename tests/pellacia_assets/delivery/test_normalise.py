"""Which delivered videos a platform takes as they are, and what one normalising pass must make of others."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from pellacia_assets.delivery.normalise import (
    Conversion,
    delivery_problems,
    expected_after,
    normalise_video,
    place_video,
    plan_conversion,
    unfixable_problems,
)
from pellacia_assets.rendering.probe import MediaInfo, probe
from resources.platforms import PLATFORMS

SHORT = MediaInfo(
    duration_s=20.0,
    width=1080,
    height=1920,
    fps=30.0,
    video_codec="h264",
    pix_fmt="yuv420p",
    audio_codec="aac",
    audio_sample_rate=48_000,
    audio_channels=2,
    has_audio=True,
    faststart=True,
    size_bytes=8_000_000,
    container="mov,mp4,m4a,3gp,3g2,mj2",
)


def test_a_factory_short_goes_everywhere_as_it_is() -> None:
    assert delivery_problems(SHORT, PLATFORMS) == []
    assert plan_conversion(SHORT, PLATFORMS) is None


def test_only_the_platforms_named_decide() -> None:
    four_four_four = replace(SHORT, pix_fmt="yuv444p")
    assert plan_conversion(four_four_four, ["youtube", "tiktok"]) is None
    conversion = plan_conversion(four_four_four, ["youtube", "x"])
    assert conversion is not None
    assert conversion.reasons == ("x: pixel format yuv444p is not YUV 4:2:0",)
    assert (conversion.width, conversion.height, conversion.fps, conversion.stereo) == (
        1080,
        1920,
        None,
        False,
    )


def test_size_frame_rate_audio_and_faststart_are_normalised() -> None:
    heavy = replace(
        SHORT, width=2160, height=3841, fps=120.0, audio_codec="opus", audio_channels=6, faststart=False
    )
    conversion = plan_conversion(heavy, PLATFORMS)
    assert conversion is not None
    assert (conversion.width, conversion.height, conversion.fps, conversion.stereo) == (
        1078,
        1920,
        30.0,
        True,
    )
    assert "instagram: the moov atom must come before the media data (faststart)" in conversion.reasons
    assert unfixable_problems(heavy, PLATFORMS) == []
    after = expected_after(heavy, conversion)
    assert (after.video_codec, after.pix_fmt, after.audio_codec, after.audio_channels) == (
        "h264",
        "yuv420p",
        "aac",
        2,
    )


def test_a_container_other_than_mp4_is_normalised() -> None:
    conversion = plan_conversion(SHORT, ["youtube"], iso_bmff=False)
    assert conversion is not None and conversion.reasons == ("the file is not an MP4/MOV container",)


def test_what_normalising_cannot_fix_is_said() -> None:
    too_short = replace(SHORT, duration_s=2.0)
    assert unfixable_problems(too_short, ["youtube", "instagram"]) == ["instagram: 2.0 s is outside 3-900 s"]
    panorama = replace(SHORT, width=4000, height=1000, pix_fmt="yuv444p")
    assert unfixable_problems(panorama, ["x"]) == ["x: aspect ratio 1080:270 is outside 1:3 to 3:1"]


def test_a_long_landscape_video_is_a_page_video_on_facebook() -> None:
    landscape = replace(SHORT, width=1920, height=1080, duration_s=300.0)
    assert delivery_problems(landscape, ["facebook"]) == []


def test_normalising_makes_what_it_promised(tmp_path: Path) -> None:
    source = tmp_path / "tall.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1200x2000:r=50", "-f", "lavfi",
         "-i", "sine=f=440:r=44100", "-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv444p", "-c:a", "aac", "-ac", "1", str(source)],
        check=True,
    )  # fmt: skip
    info = probe(source)
    conversion = plan_conversion(info, ["x"])
    assert conversion == Conversion(
        1080,
        1800,
        None,
        False,
        ("x: 1200x2000 is larger than 1920x1920", "x: pixel format yuv444p is not YUV 4:2:0"),
    )
    output = tmp_path / "out.mp4"
    normalise_video(source, output, conversion, preset="ultrafast")
    result = probe(output)
    assert (result.width, result.height, result.video_codec, result.pix_fmt) == (
        1080,
        1800,
        "h264",
        "yuv420p",
    )
    assert (result.audio_codec, result.audio_sample_rate, result.faststart) == ("aac", 48_000, True)
    assert delivery_problems(result, ["x"]) == []


def test_a_video_taken_as_it_is_is_linked(tmp_path: Path) -> None:
    source = tmp_path / "source.mp4"
    source.write_bytes(b"video")
    place_video(source, tmp_path / "part-1.mp4")
    assert (tmp_path / "part-1.mp4").stat().st_ino == source.stat().st_ino
