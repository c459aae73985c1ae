"""A script part spoken segment by segment, joined with short pauses and loudness-normalised.

The captions and title cards need to know where each segment (hook, narration, call to action) sits in the
final file, so the joining is done here, sample-exact, instead of synthesizing the whole text at once.
"""

from __future__ import annotations

import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pellacia_assets.audio.loudness import Loudness, normalize
from resources.tts.base import SpeechEngine

# Engines pad speech with up to ~0.5 s of silence; trimming it makes pause_s the pause the listener hears.
# Anything 40 dB below the segment's peak counts as silence; a little is kept so onsets are not clipped.
SILENCE_BELOW_PEAK_DB = 40.0
EDGE_PAD_S = 0.06
# After resampling to 48 kHz the file may differ from the joined audio by a few samples, never more.
DURATION_TOLERANCE_S = 0.01


class VoiceoverError(Exception):
    """A voiceover that cannot be made: nothing to say, or the engine wrote audio in an unexpected format."""


@dataclass(frozen=True)
class SegmentTiming:
    """Where one spoken segment lies in the final file, in seconds."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class VoiceoverTrack:
    """The finished voiceover WAV with its measured duration, segment timings and loudness."""

    path: Path
    duration_s: float
    segments: tuple[SegmentTiming, ...]
    loudness: Loudness
    sample_rate: int


def _read_mono_pcm16(path: Path, expected_rate: int) -> npt.NDArray[np.int16]:
    with wave.open(str(path), "rb") as audio:
        layout = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
        if layout != (1, 2, expected_rate):
            raise VoiceoverError(
                f"{path.name}: expected mono 16-bit audio at {expected_rate} Hz from the engine, got "
                f"{layout[0]} channel(s), {8 * layout[1]}-bit, {layout[2]} Hz"
            )
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2").astype(np.int16)


def _trim_silence(samples: npt.NDArray[np.int16], sample_rate: int, text: str) -> npt.NDArray[np.int16]:
    """Cut the engine's leading and trailing silence, keeping EDGE_PAD_S around the speech."""
    magnitude = np.abs(samples.astype(np.int32))
    peak = int(magnitude.max()) if magnitude.size else 0
    if peak == 0:
        raise VoiceoverError(f"the voice said nothing audible for {text[:60]!r}: is it pronounceable text?")
    loud = np.flatnonzero(magnitude > peak * 10 ** (-SILENCE_BELOW_PEAK_DB / 20))
    pad = round(EDGE_PAD_S * sample_rate)
    return samples[max(0, int(loud[0]) - pad) : min(samples.size, int(loud[-1]) + 1 + pad)]


def _write_pcm16(path: Path, samples: npt.NDArray[np.int16], sample_rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.astype("<i2").tobytes())


def _wav_duration_s(path: Path) -> tuple[float, int]:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate(), audio.getframerate()


def render_voiceover(
    engine: SpeechEngine,
    segments: list[str],
    out_wav: Path,
    work_dir: Path,
    pause_s: float = 0.35,
    tail_s: float = 0.5,
) -> VoiceoverTrack:
    """Speak each non-empty segment, join them with pause_s of silence, add tail_s, normalise to -14 LUFS.

    out_wav is replaced only by the finished, verified file; timings are exact in it.
    """
    spoken = [text.strip() for text in segments if text.strip()]
    if not spoken:
        raise VoiceoverError("nothing to say: every segment of the script part is empty")
    if pause_s < 0 or tail_s < 0:
        raise VoiceoverError(f"pauses cannot be negative (pause_s={pause_s}, tail_s={tail_s})")
    rate = engine.voice.sample_rate
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voiceover-", dir=work_dir) as scratch:
        pieces: list[npt.NDArray[np.int16]] = []
        bounds: list[tuple[int, int]] = []
        cursor = 0
        for index, text in enumerate(spoken):
            if index:
                pieces.append(np.zeros(round(pause_s * rate), dtype=np.int16))
                cursor += pieces[-1].size
            segment_wav = Path(scratch) / f"segment-{index}.wav"
            engine.synthesize(text, segment_wav)
            speech = _trim_silence(_read_mono_pcm16(segment_wav, rate), rate, text)
            pieces.append(speech)
            bounds.append((cursor, cursor + speech.size))
            cursor += speech.size
        pieces.append(np.zeros(round(tail_s * rate), dtype=np.int16))
        joined = Path(scratch) / "joined.wav"
        _write_pcm16(joined, np.concatenate(pieces), rate)
        joined_s, _ = _wav_duration_s(joined)
        # Staged next to out_wav (same filesystem, so the final rename is atomic) and checked before it lands.
        staged = out_wav.with_name(f".{out_wav.name}.partial.wav")
        try:
            loudness = normalize(joined, staged)
            duration_s, final_rate = _wav_duration_s(staged)
            if abs(duration_s - joined_s) > DURATION_TOLERANCE_S:
                raise VoiceoverError(
                    f"normalising changed the voiceover's length ({joined_s:.3f} s -> {duration_s:.3f} s); "
                    "segment timings would be wrong"
                )
            staged.replace(out_wav)
        finally:
            staged.unlink(missing_ok=True)
    timings = tuple(
        SegmentTiming(text, start / rate, end / rate)
        for text, (start, end) in zip(spoken, bounds, strict=True)
    )
    return VoiceoverTrack(out_wav, duration_s, timings, loudness, final_rate)
