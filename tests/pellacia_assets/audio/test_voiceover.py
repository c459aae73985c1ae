import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from pellacia_assets.audio.voiceover import VoiceoverError, render_voiceover
from resources.tts.registry import make_engine

HOOK = "You will not believe what my landlord did last night."
NARRATION = "He texted me at midnight asking if I had seen his cat. I do not have his cat. I never did."
CALL_TO_ACTION = "Follow for part two."


def _probe_duration(path: Path) -> float:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(probe.stdout)["format"]["duration"])


def _rms(samples: np.ndarray, rate: int, start_s: float, end_s: float) -> float:
    window = samples[int(start_s * rate) : int(end_s * rate)].astype(np.float64)
    return float(np.sqrt(np.mean(window**2)))


@pytest.mark.parametrize("engine", ["espeak", "hibari", pytest.param("piper", marks=pytest.mark.e2e)])
def test_segments_are_timed_exactly_in_the_normalised_file(engine: str, tmp_path: Path) -> None:
    out = tmp_path / "media" / "part-1.wav"
    track = render_voiceover(make_engine(engine), [HOOK, NARRATION, CALL_TO_ACTION], out, tmp_path / "work")
    assert track.path == out
    assert track.sample_rate == 48000
    assert track.duration_s == pytest.approx(_probe_duration(out), abs=0.001)
    assert [segment.text for segment in track.segments] == [HOOK, NARRATION, CALL_TO_ACTION]
    edges = [edge for segment in track.segments for edge in (segment.start_s, segment.end_s)]
    assert edges == sorted(edges)
    assert edges[0] == 0.0
    for before, after in zip(track.segments, track.segments[1:], strict=False):
        assert after.start_s - before.end_s == pytest.approx(0.35, abs=0.001)
    assert track.duration_s - track.segments[-1].end_s == pytest.approx(0.5, abs=0.01)
    assert abs(track.loudness.integrated_lufs + 14.0) <= 1.0
    assert track.loudness.true_peak_dbtp <= -1.0

    with wave.open(str(out), "rb") as audio:
        rate = audio.getframerate()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    for segment in track.segments:
        assert _rms(samples, rate, segment.start_s, segment.end_s) > 1000
    for before, after in zip(track.segments, track.segments[1:], strict=False):
        assert _rms(samples, rate, before.end_s + 0.02, after.start_s - 0.02) < 30
    assert _rms(samples, rate, track.segments[-1].end_s + 0.02, track.duration_s) < 30
    assert sorted(path.name for path in out.parent.iterdir()) == ["part-1.wav"]
    assert list((tmp_path / "work").iterdir()) == []


def test_empty_segments_are_skipped(tmp_path: Path) -> None:
    track = render_voiceover(
        make_engine("espeak"), ["", HOOK, "   ", CALL_TO_ACTION], tmp_path / "vo.wav", tmp_path, pause_s=0.2
    )
    assert [segment.text for segment in track.segments] == [HOOK, CALL_TO_ACTION]
    assert track.segments[1].start_s - track.segments[0].end_s == pytest.approx(0.2, abs=0.001)


def test_nothing_to_say_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VoiceoverError, match="nothing to say"):
        render_voiceover(make_engine("espeak"), ["", " \n"], tmp_path / "vo.wav", tmp_path)


def test_failure_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "vo.wav"
    out.write_bytes(b"previous take")
    # espeak-ng writes pure silence for text with nothing to pronounce.
    with pytest.raises(VoiceoverError, match=r"nothing audible for '\.\.\.'"):
        render_voiceover(make_engine("espeak"), [HOOK, "..."], out, tmp_path / "work")
    assert out.read_bytes() == b"previous take"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["vo.wav", "work"]
