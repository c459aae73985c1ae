"""The quality rules behind the blocking checks, on real measurements of deliberately bad media."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pellacia_assets.audio.loudness import measure
from pellacia_assets.quality import (
    VideoSpec,
    loudness_problems,
    part_length_problems,
    script_problems,
    video_problems,
)
from pellacia_assets.rendering.probe import probe
from pellacia_assets.scripting.model import Script, ScriptPart


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def part(number: int, seconds: float, narration: str = "Words.") -> ScriptPart:
    return ScriptPart(
        number=number,
        title=f"Part {number}",
        hook="Hook.",
        narration=narration,
        call_to_action="Follow.",
        estimated_seconds=seconds,
        copy={},
    )


def script(*parts: ScriptPart) -> Script:
    return Script(
        story_key="s", title="T", writer="test", words_per_minute=180, max_part_seconds=58, parts=parts
    )


def test_script_rules() -> None:
    assert script_problems(script(part(1, 55.0), part(2, 59.5))) == []
    assert script_problems(None) == ["the script is missing or has no parts"]
    assert script_problems(script()) == ["the script is missing or has no parts"]
    [problem] = script_problems(script(part(1, 75.0)))
    assert problem == "Part 1: about 75.0 s at 180 wpm, over the 58 s part limit"
    assert script_problems(script(part(1, 10.0, narration=" "))) == ["Part 1: empty narration"]


def test_part_length_rule() -> None:
    assert part_length_problems("Part 1", 59.9, 58) == []
    assert part_length_problems("Part 1", 61.0, 58) == [
        "Part 1: the voiceover is 61.0 s, over the 58 s part limit"
    ]


def test_silent_audio_fails_the_loudness_rule(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "3", str(silent))
    problems = loudness_problems("Part 1", measure(silent))
    assert any("integrated loudness" in problem for problem in problems)


def test_hot_audio_fails_the_true_peak_rule(tmp_path: Path) -> None:
    hot = tmp_path / "hot.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=48000", "-af", "volume=8", "-t", "3", str(hot))
    loudness = measure(hot)
    problems = loudness_problems("Part 1", loudness)
    assert any("true peak" in problem for problem in problems)


def test_wrong_resolution_and_missing_audio_fail_the_video_rule(tmp_path: Path) -> None:
    landscape = tmp_path / "landscape.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=s=1280x720:r=30", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", str(landscape),
    )  # fmt: skip
    problems = video_problems("Part 1", probe(landscape), 2.0, VideoSpec())
    assert "Part 1: 1280x720, expected 1080x1920" in problems
    assert "Part 1: no audio stream" in problems
    assert not any("long" in problem for problem in problems)
    assert any(
        "long, the voiceover is 5.000 s" in p for p in video_problems("P", probe(landscape), 5.0, VideoSpec())
    )
