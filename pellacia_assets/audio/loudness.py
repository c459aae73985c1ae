"""EBU R128 loudness with ffmpeg, so every short plays at the level the platforms expect.

Platforms turn loud uploads down and leave quiet ones quiet; -14 LUFS integrated with the true peak at or
below -1 dBTP plays back untouched. ffmpeg's two-pass `loudnorm` gets close; a measured gain step with an
oversampled limiter then makes the result reliable, and a final `ebur128` pass verifies it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# ebur128 reports -70 LUFS for digital silence; anything this quiet is hiss, and amplifying it makes noise.
SILENCE_FLOOR_LUFS = -60.0
# loudnorm and the corrections aim inside this band so the promised ±1 LU holds with room to spare.
AIM_TOLERANCE_LU = 0.5
# Resampling and 16-bit rounding after the limiter can lift peaks a little: limit this far below the ceiling.
PEAK_MARGIN_DB = 0.5
MAX_CORRECTIONS = 4
# Below this share of a gain surviving the limiter, more gain only buys distortion: the search stops growing.
MIN_GAIN_SLOPE = 0.25
# The limiter runs at 4x 48 kHz, where inter-sample (true) peaks become sample peaks it can catch.
OVERSAMPLED_RATE = 192000
FFMPEG_TIMEOUT_S = 600


class LoudnessError(Exception):
    """Audio that cannot be measured or brought to the loudness target."""


@dataclass(frozen=True)
class Loudness:
    """EBU R128 figures: integrated loudness, true peak (-inf for silence) and loudness range."""

    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float


def _ffmpeg(args: list[str]) -> str:
    """Run ffmpeg and return its log (stderr), where the loudness filters print their results."""
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise LoudnessError("ffmpeg is not installed: install it with `apt-get install ffmpeg`")
    try:
        done = subprocess.run(
            [binary, "-hide_banner", "-nostdin", "-nostats", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=FFMPEG_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise LoudnessError(f"ffmpeg took longer than {FFMPEG_TIMEOUT_S} s on the audio") from None
    if done.returncode != 0:
        raise LoudnessError(f"ffmpeg failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    return done.stderr


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise LoudnessError(f"audio file not found: {path}")


_SUMMARY_VALUE = r"{label}:\s+(-?(?:inf|nan|\d+(?:\.\d+)?))\s+{unit}"


def _summary_value(summary: str, label: str, unit: str) -> float:
    found = re.search(_SUMMARY_VALUE.format(label=label, unit=unit), summary)
    if found is None:
        raise LoudnessError(f"ffmpeg's ebur128 summary has no {label} value")
    return float(found.group(1))


def measure(path: Path) -> Loudness:
    """Integrated loudness, true peak and loudness range of an audio file (ffmpeg's ebur128 filter)."""
    _require_file(path)
    log = _ffmpeg(["-i", str(path), "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"])
    _, marker, summary = log.rpartition("Summary:")
    if not marker:
        raise LoudnessError(f"ffmpeg printed no loudness summary for {path}: is it an audio file?")
    return Loudness(
        integrated_lufs=_summary_value(summary, "I", "LUFS"),
        true_peak_dbtp=_summary_value(summary, "Peak", "dBFS"),
        loudness_range_lu=_summary_value(summary, "LRA", "LU"),
    )


def _loudnorm_stats(log: str) -> dict[str, str]:
    """The JSON block loudnorm prints last in the log."""
    start, end = log.rfind("{"), log.rfind("}")
    if start < 0 or end < start:
        raise LoudnessError("ffmpeg's loudnorm printed no measurement")
    stats: dict[str, str] = json.loads(log[start : end + 1])
    return stats


def _is_on_target(result: Loudness, target_lufs: float, max_true_peak_dbtp: float) -> bool:
    return (
        abs(result.integrated_lufs - target_lufs) <= AIM_TOLERANCE_LU
        and result.true_peak_dbtp <= max_true_peak_dbtp
    )


def _pcm_output(path: Path, sample_rate: int) -> list[str]:
    return ["-ac", "1", "-ar", str(sample_rate), "-c:a", "pcm_s16le", "-f", "wav", "-y", str(path)]


def _loudnorm_two_pass(
    src: Path, out: Path, target_lufs: float, peak_ceiling: float, sample_rate: int
) -> None:
    """ffmpeg loudnorm: measure, then apply with the measured values (linear whenever the peaks allow)."""
    base = f"loudnorm=I={target_lufs}:TP={peak_ceiling}"
    first = _loudnorm_stats(_ffmpeg(["-i", str(src), "-af", f"{base}:print_format=json", "-f", "null", "-"]))
    measured_i = float(first["input_i"])
    if not measured_i > SILENCE_FLOOR_LUFS:
        raise LoudnessError(
            f"audio is silent or nearly so ({measured_i:.1f} LUFS integrated, below "
            f"{SILENCE_FLOOR_LUFS:.0f}): refusing to amplify noise; check that the voice produced speech"
        )
    # A loudness-range target at least the input's own keeps loudnorm linear (a plain gain) when it can be.
    lra_target = min(50.0, max(11.0, float(first["input_lra"]) + 1.0))
    second = (
        f"{base}:LRA={lra_target}:measured_I={first['input_i']}:measured_TP={first['input_tp']}"
        f":measured_LRA={first['input_lra']}:measured_thresh={first['input_thresh']}"
        f":offset={first['target_offset']}:linear=true"
    )
    _ffmpeg(["-i", str(src), "-af", second, *_pcm_output(out, sample_rate)])


def _gain_and_limit(src: Path, out: Path, gain_db: float, peak_ceiling: float, sample_rate: int) -> None:
    """A plain gain, then a true-peak-safe limiter (4x oversampled, delay compensated so timings stay put)."""
    limit = 10 ** (peak_ceiling / 20)
    chain = (
        f"aresample={OVERSAMPLED_RATE},volume={gain_db:.3f}dB,"
        f"alimiter=limit={limit:.5f}:level=0:latency=1:attack=5:release=50,"
        f"aresample={sample_rate}"
    )
    _ffmpeg(["-i", str(src), "-af", chain, *_pcm_output(out, sample_rate)])


def normalize(
    src: Path,
    dst: Path,
    target_lufs: float = -14.0,
    max_true_peak_dbtp: float = -1.0,
    sample_rate: int = 48000,
) -> Loudness:
    """Write src to dst as mono 16-bit WAV at target_lufs (±1 LU) with true peak <= max_true_peak_dbtp.

    Raises LoudnessError for silent input or when the target cannot be reached; dst is only ever replaced
    by a finished, verified file.
    """
    _require_file(src)
    peak_ceiling = max_true_peak_dbtp - PEAK_MARGIN_DB
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dst.name}.", dir=dst.parent) as scratch:
        base = Path(scratch) / "loudnorm.wav"
        _loudnorm_two_pass(src, base, target_lufs, peak_ceiling, sample_rate)
        current, result = base, measure(base)
        # Secant search on the gain applied to loudnorm's output: the limiter eats part of every gain, so
        # each try learns how much of it survives. Tries always start from `base`, never limit twice.
        tried_gain, tried_lufs = 0.0, result.integrated_lufs
        gain_db = target_lufs - result.integrated_lufs
        for step in range(MAX_CORRECTIONS):
            if _is_on_target(result, target_lufs, max_true_peak_dbtp):
                break
            current = Path(scratch) / f"corrected-{step}.wav"
            _gain_and_limit(base, current, gain_db, peak_ceiling, sample_rate)
            result = measure(current)
            slope = (
                (result.integrated_lufs - tried_lufs) / (gain_db - tried_gain)
                if gain_db != tried_gain
                else 1.0
            )
            tried_gain, tried_lufs = gain_db, result.integrated_lufs
            gain_db += (target_lufs - result.integrated_lufs) / max(slope, MIN_GAIN_SLOPE)
        if not _is_on_target(result, target_lufs, max_true_peak_dbtp):
            raise LoudnessError(
                f"could not bring {src.name} to {target_lufs:.1f} LUFS / {max_true_peak_dbtp:.1f} dBTP: "
                f"ended at {result.integrated_lufs:.1f} LUFS, {result.true_peak_dbtp:.1f} dBTP"
            )
        current.replace(dst)
    return result
