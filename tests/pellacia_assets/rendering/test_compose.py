from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from pellacia_assets.rendering.background import ClipBackground, GeneratedBackground
from pellacia_assets.rendering.compose import Overlay, RenderResult, RenderSpec, command_line, render
from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.fonts import find_fonts_dir

DURATION_S = 5.0
TITLE_END_S = 1.5
ONE_FRAME_S = 1 / 30

FrameReader = Callable[[Path, float], npt.NDArray[np.uint8]]
AudioReader = Callable[[Path], npt.NDArray[np.float32]]
Ffmpeg = Callable[..., bytes]


def _spec(tmp: Path, speech: Path, captions: Path, **changes: Any) -> RenderSpec:
    spec = RenderSpec(
        voiceover=speech,
        subtitles=captions,
        duration_s=DURATION_S,
        output=tmp / "short.mp4",
        background=GeneratedBackground.for_story("story-42"),
        title_card_end_s=TITLE_END_S,
        fonts_dir=find_fonts_dir(),
    )
    return dataclasses.replace(spec, **changes)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path, captions_ass: Path) -> RenderResult:
    fractions: list[float] = []
    result = render(_spec(tmp_path_factory.mktemp("render"), speech_wav, captions_ass), fractions.append)
    assert fractions, "no progress was reported"
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    return result


@pytest.mark.e2e
def test_render_meets_the_platform_format(rendered: RenderResult) -> None:
    info = rendered.info
    assert (info.width, info.height, info.fps) == (1080, 1920, 30.0)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.audio_codec, info.audio_sample_rate) == ("aac", 48_000)
    assert info.faststart
    assert abs(info.duration_s - DURATION_S) <= ONE_FRAME_S


@pytest.mark.e2e
def test_render_leaves_only_the_finished_file(rendered: RenderResult) -> None:
    assert [p.name for p in rendered.path.parent.iterdir()] == ["short.mp4"]


@pytest.mark.e2e
def test_generated_background_moves(rendered: RenderResult, frame_at: FrameReader) -> None:
    # The top third holds no text, so any change there comes from the background. A still background
    # differs between frames by encoder noise only (mean < 0.1); test_background.py checks the drift exactly.
    early = frame_at(rendered.path, 1.6)[:600].astype(np.int16)
    late = frame_at(rendered.path, 4.9)[:600].astype(np.int16)
    assert np.abs(early - late).mean() > 0.5


@pytest.mark.e2e
def test_captions_are_burned_in(rendered: RenderResult, frame_at: FrameReader) -> None:
    # Yellow active word (high red and green, low blue) in the safe zone's band (y 250..1440).
    band = frame_at(rendered.path, 2.0)[250:1440].astype(np.int16)
    yellow = (band[..., 0] > 200) & (band[..., 1] > 200) & (band[..., 2] < 80)
    assert yellow.sum() > 500


def test_command_line_is_one_ffmpeg_graph(tmp_path: Path, speech_wav: Path, captions_ass: Path) -> None:
    card = tmp_path / "card.png"
    card.write_bytes(b"")
    overlays = (Overlay(card, 60, 300, 0.0, 1.5, fade_out_s=0.3),)
    command = command_line(_spec(tmp_path, speech_wav, captions_ass, overlays=overlays))
    assert command[0] == "ffmpeg"
    assert command.count("-filter_complex") == 1
    graph = command[command.index("-filter_complex") + 1]
    assert "subtitles=" in graph and "overlay=" in graph and "crop=" in graph
    assert "drawbox" not in graph
    assert graph.index("overlay=") < graph.index("subtitles="), "captions must be drawn over the overlays"
    assert command[command.index("-t") + 1] == "5.000"
    assert "+faststart" in command


@pytest.mark.e2e
def test_short_clip_background_loops_for_the_whole_render(
    tmp_path: Path, speech_wav: Path, captions_ass: Path, frame_at: FrameReader, ffmpeg_cli: Ffmpeg
) -> None:
    # A 1 s landscape clip: red for 0.5 s, then blue. Looped, it alternates for the whole short.
    clip = tmp_path / "clip.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "color=c=red:s=320x240:r=30:d=0.5",
        "-f", "lavfi", "-i", "color=c=blue:s=320x240:r=30:d=0.5",
        "-filter_complex", "[0][1]concat=n=2:v=1:a=0", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip),
    )  # fmt: skip
    spec = _spec(tmp_path, speech_wav, captions_ass, background=ClipBackground(clip), duration_s=3.5)
    result = render(spec)
    assert abs(result.info.duration_s - 3.5) <= ONE_FRAME_S
    assert (result.info.width, result.info.height) == (1080, 1920)
    for at_s, (red, blue) in {0.25: (1, 0), 0.75: (0, 1), 2.25: (1, 0), 3.25: (1, 0), 2.75: (0, 1)}.items():
        corner = frame_at(result.path, at_s)[:200, :200].reshape(-1, 3).mean(axis=0)
        assert (corner[0] > 150, corner[2] > 150) == (bool(red), bool(blue)), f"at {at_s} s: {corner}"


@pytest.mark.e2e
def test_music_is_ducked_under_speech_and_the_mix_does_not_clip(
    tmp_path: Path, captions_ass: Path, audio_samples: AudioReader, ffmpeg_cli: Ffmpeg
) -> None:
    # "Voice": a loud 440 Hz tone, silent from 1.5 to 3 s. Music: a 1 s 1000 Hz tone that must loop.
    voice = tmp_path / "voice.wav"
    tone_with_gap = "aevalsrc=0.9*sin(2*PI*440*t)*not(between(t\\,1.5\\,3)):s=24000:d=4"
    ffmpeg_cli("-f", "lavfi", "-i", tone_with_gap, str(voice))
    music = tmp_path / "music.mp3"
    ffmpeg_cli("-f", "lavfi", "-i", "sine=f=1000:d=1:sample_rate=44100", "-ac", "2", str(music))
    spec = _spec(tmp_path, voice, captions_ass, music=music, duration_s=4.0)
    samples = audio_samples(render(spec).path)

    def music_level(start_s: float, end_s: float) -> float:
        window = samples[int(start_s * 48_000) : int(end_s * 48_000)]
        spectrum = np.abs(np.fft.rfft(window))
        freqs = np.fft.rfftfreq(len(window), 1 / 48_000)
        return float(spectrum[(freqs > 980) & (freqs < 1020)].max() / len(window))

    during_speech = music_level(0.5, 1.3)
    in_the_gap = music_level(2.1, 2.9)
    after_loop = music_level(3.3, 3.9)
    assert in_the_gap > 0.01, "music missing"
    assert in_the_gap > 2 * during_speech, "music not ducked under speech"
    assert after_loop > 0, "music did not loop"
    assert np.abs(samples).max() < 1.0


@pytest.mark.e2e
def test_music_fades_in_and_out(
    tmp_path: Path, captions_ass: Path, audio_samples: AudioReader, ffmpeg_cli: Ffmpeg
) -> None:
    # A silent "voice" (nothing to duck under) and a steady 1000 Hz tone: only the fades change its level.
    voice = tmp_path / "voice.wav"
    ffmpeg_cli("-f", "lavfi", "-i", "anullsrc=r=24000:cl=mono", "-t", "4", str(voice))
    music = tmp_path / "music.wav"
    ffmpeg_cli("-f", "lavfi", "-i", "sine=f=1000:d=5:sample_rate=48000", str(music))
    spec = _spec(tmp_path, voice, captions_ass, music=music, duration_s=4.0, music_fade_s=1.0)
    samples = audio_samples(render(spec).path)

    def rms(start_s: float, end_s: float) -> float:
        return float(np.sqrt(np.mean(samples[int(start_s * 48_000) : int(end_s * 48_000)] ** 2)))

    steady = rms(1.5, 2.5)
    assert steady > 0.01, "music missing"  # a sine at 1/8 amplitude, under MUSIC_GAIN
    assert rms(0.0, 0.2) < 0.3 * steady, "music does not fade in"
    assert rms(3.8, 4.0) < 0.3 * steady, "music does not fade out"
    assert rms(0.4, 0.6) < rms(0.8, 1.0) < 1.1 * steady


def test_corrupt_voiceover_is_a_media_error(tmp_path: Path, captions_ass: Path) -> None:
    voice = tmp_path / "voice.wav"
    voice.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 10)
    with pytest.raises(MediaError, match=r"voice\.wav"):
        render(_spec(tmp_path, voice, captions_ass))
    assert not (tmp_path / "short.mp4").exists()


def test_corrupt_background_clip_is_a_media_error(
    tmp_path: Path, speech_wav: Path, captions_ass: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with pytest.raises(MediaError, match=r"clip\.mp4"):
        render(_spec(tmp_path, speech_wav, captions_ass, background=ClipBackground(clip)))


def test_missing_subtitles_is_a_media_error(tmp_path: Path, speech_wav: Path) -> None:
    with pytest.raises(MediaError, match="subtitles file"):
        render(_spec(tmp_path, speech_wav, tmp_path / "nope.ass"))


@pytest.mark.parametrize(("duration_s", "title_end_s"), [(0.0, 0.0), (3.0, 4.0), (3.0, -1.0)])
def test_impossible_timing_is_a_render_error(
    tmp_path: Path, speech_wav: Path, captions_ass: Path, duration_s: float, title_end_s: float
) -> None:
    spec = _spec(tmp_path, speech_wav, captions_ass, duration_s=duration_s, title_card_end_s=title_end_s)
    with pytest.raises(RenderError):
        render(spec)


def test_ffmpeg_failure_reports_its_error_and_writes_nothing(
    tmp_path: Path, speech_wav: Path, captions_ass: Path
) -> None:
    spec = _spec(tmp_path, speech_wav, captions_ass, preset="no-such-preset")
    with pytest.raises(RenderError, match="no-such-preset"):
        render(spec)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_progress_callback_stops_ffmpeg_and_writes_nothing(
    tmp_path: Path, speech_wav: Path, captions_ass: Path
) -> None:
    class UserCancelledError(Exception):
        """What a UI's cancel button might raise from the progress callback."""

    def cancel(fraction: float) -> None:
        raise UserCancelledError

    with pytest.raises(UserCancelledError):
        render(_spec(tmp_path, speech_wav, captions_ass), cancel)
    assert list(tmp_path.iterdir()) == []
