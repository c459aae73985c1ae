import json
import subprocess
from pathlib import Path

import pytest

from pellacia_assets.audio.loudness import Loudness, LoudnessError, measure, normalize
from resources.tts.registry import make_engine

NARRATION = (
    "I moved into a new apartment last spring. On the first night, I heard footsteps above me, "
    "even though the landlord swore the unit upstairs was empty. So I went up and knocked."
)


def _ffmpeg(*args: str) -> str:
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", *args], capture_output=True, text=True, check=True
    )
    return done.stderr


def _loudnorm_reading(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak read by loudnorm's analysis, a code path independent of measure()."""
    log = _ffmpeg("-i", str(path), "-af", "loudnorm=print_format=json", "-f", "null", "-")
    stats = json.loads(log[log.rfind("{") : log.rfind("}") + 1])
    return float(stats["input_i"]), float(stats["input_tp"])


def _wav_format(path: Path) -> tuple[str, int, int]:
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    return stream["codec_name"], int(stream["sample_rate"]), int(stream["channels"])


def _assert_normalised(path: Path, reported: Loudness) -> None:
    integrated, true_peak = _loudnorm_reading(path)
    assert abs(integrated + 14.0) <= 1.0
    assert true_peak <= -1.0
    assert abs(reported.integrated_lufs + 14.0) <= 1.0
    assert reported.true_peak_dbtp <= -1.0
    assert _wav_format(path) == ("pcm_s16le", 48000, 1)


def _speech(engine: str, tmp_path: Path) -> Path:
    out = tmp_path / f"{engine}.wav"
    make_engine(engine).synthesize(NARRATION, out)
    return out


def _scaled(src: Path, dst: Path, gain_db: float) -> Path:
    _ffmpeg("-i", str(src), "-af", f"volume={gain_db}dB", "-c:a", "pcm_s16le", "-y", str(dst))
    return dst


def test_measure_reads_a_known_sine(tmp_path: Path) -> None:
    # A 997 Hz sine peaking at -6.02 dBFS in one channel: -9.0 LUFS by the EBU R128 definition.
    sine = tmp_path / "sine.wav"
    _ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*997*t):s=48000:d=5", "-c:a", "pcm_s16le", str(sine))
    loudness = measure(sine)
    assert loudness.integrated_lufs == pytest.approx(-9.0, abs=0.3)
    assert loudness.true_peak_dbtp == pytest.approx(-6.0, abs=0.3)
    assert loudness.loudness_range_lu == pytest.approx(0.0, abs=0.5)


def test_measure_of_silence_does_not_crash(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "2", "-c:a", "pcm_s16le", str(silent))
    loudness = measure(silent)
    assert loudness.integrated_lufs == -70.0
    assert loudness.true_peak_dbtp == float("-inf")


def test_measure_refuses_what_is_not_audio(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(LoudnessError, match="ffmpeg failed"):
        measure(text)
    with pytest.raises(LoudnessError, match="not found"):
        measure(tmp_path / "missing.wav")


@pytest.mark.parametrize("engine", ["espeak", "hibari", pytest.param("piper", marks=pytest.mark.e2e)])
def test_engine_speech_is_normalised(engine: str, tmp_path: Path) -> None:
    out = tmp_path / "normalised.wav"
    _assert_normalised(out, normalize(_speech(engine, tmp_path), out))


def test_quiet_speech_is_raised(tmp_path: Path) -> None:
    speech = _speech("espeak", tmp_path)
    quiet = _scaled(speech, tmp_path / "quiet.wav", -35.0 - measure(speech).integrated_lufs)
    assert measure(quiet).integrated_lufs == pytest.approx(-35.0, abs=0.5)
    out = tmp_path / "normalised.wav"
    _assert_normalised(out, normalize(quiet, out))


def test_clipping_speech_is_tamed(tmp_path: Path) -> None:
    hot = _scaled(_speech("hibari", tmp_path), tmp_path / "hot.wav", 24.0)
    assert measure(hot).true_peak_dbtp > 0.0
    out = tmp_path / "normalised.wav"
    _assert_normalised(out, normalize(hot, out))


def test_other_targets_are_honoured(tmp_path: Path) -> None:
    out = tmp_path / "broadcast.wav"
    result = normalize(_speech("espeak", tmp_path), out, target_lufs=-23.0, max_true_peak_dbtp=-2.0)
    integrated, true_peak = _loudnorm_reading(out)
    assert abs(integrated + 23.0) <= 1.0
    assert true_peak <= -2.0
    assert abs(result.integrated_lufs + 23.0) <= 1.0


@pytest.mark.parametrize(
    "source",
    ["anullsrc=r=22050:cl=mono", "anoisesrc=a=0.0005:r=22050:c=white"],
    ids=["digital-silence", "faint-hiss"],
)
def test_silent_input_is_refused_and_writes_nothing(source: str, tmp_path: Path) -> None:
    src = tmp_path / "silent.wav"
    _ffmpeg("-f", "lavfi", "-i", source, "-t", "3", "-ac", "1", "-c:a", "pcm_s16le", str(src))
    with pytest.raises(LoudnessError, match="audio is silent"):
        normalize(src, tmp_path / "out" / "normalised.wav")
    assert list((tmp_path / "out").iterdir()) == []
