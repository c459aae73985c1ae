"""Speed, memory and accuracy of each Whisper backend/model on a ~60-second hibari narration.

The narration is synthesised once with hibari (the default voice). Each backend/model then runs in its own
subprocess, so its peak RSS is its own. "prepare" locates the model in a fresh temporary models folder
(the base join and the openai-whisper conversion included); the model itself loads during the first
transcription, which is timed separately; then the narration is transcribed `--runs` times. The Markdown
table gives the real-time factor (transcribe seconds / audio seconds, median), the peak RSS and the caption
alignment numbers (WER against the script, drift). openai-whisper rows are skipped without the extra.

    python benchmarks/bench_transcribe.py [--runs 3] [--configs faster-whisper:base faster-whisper:tiny.en]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

NARRATION = (
    "Every night at twelve, the bakery on Rowan Street turned its lights on. There was no sign and no "
    "menu, just a bell above the door and a woman named Ines who baked whatever the first customer asked "
    "for. I found it during a week when I could not sleep. The first night I asked for cinnamon rolls. The "
    "second night a nurse asked for rye bread, and we waited together while it baked. By the third week "
    "there were twelve of us: nurses, a taxi driver, a student, and a man who fixed the trams. Nobody "
    "talked much. We just waited for the bread and watched the ovens glow. When the building was sold in "
    "March, Ines gave each of us a jar of her starter dough. Mine lives on my kitchen counter now. Every "
    "Friday at midnight I bake two loaves, and I leave one on the step of whoever in my building still "
    "has their lights on. Last week the new neighbor knocked on my door to return the empty basket. She "
    "asked where the bread came from, and I told her about Ines and the bell above the door."
)
DEFAULT_CONFIGS = ["faster-whisper:base", "faster-whisper:tiny.en", "openai-whisper:base"]


@dataclass(frozen=True)
class Measurement:
    config: str
    threads: int
    beam_size: int
    prepare_s: float
    first_transcribe_s: float
    transcribe_s: list[float]
    audio_s: float
    wer: float
    matched_ratio: float
    max_drift_s: float
    mean_drift_s: float
    peak_rss_mb: float

    def markdown_row(self) -> str:
        median = statistics.median(self.transcribe_s)
        return (
            f"| {self.config} | {self.threads} | {self.beam_size} | {self.prepare_s:.2f} s | "
            f"{self.first_transcribe_s:.2f} s | {median:.2f} s | {median / self.audio_s:.3f} | "
            f"{self.peak_rss_mb:.0f} MB | {self.wer:.1%} | {self.matched_ratio:.0%} | "
            f"{self.max_drift_s:.2f} / {self.mean_drift_s:.3f} s |"
        )


def _measure(
    config: str, audio: Path, models_dir: Path, runs: int, threads: int, beam_size: int
) -> Measurement:
    from pellacia_assets.captions.alignment import align
    from resources.transcriber.registry import make_transcriber

    backend, model = config.split(":", 1)
    started = time.perf_counter()
    transcriber = make_transcriber(backend, model, models_dir, threads=threads, beam_size=beam_size)
    prepare_s = time.perf_counter() - started
    started = time.perf_counter()
    transcript = transcriber.transcribe(audio)
    first_s = time.perf_counter() - started
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        transcript = transcriber.transcribe(audio)
        timings.append(time.perf_counter() - started)
    alignment = align(NARRATION, transcript)
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Measurement(
        config=config,
        threads=threads,
        beam_size=beam_size,
        prepare_s=prepare_s,
        first_transcribe_s=first_s,
        transcribe_s=timings,
        audio_s=transcript.duration_s,
        wer=alignment.wer,
        matched_ratio=alignment.matched_ratio,
        max_drift_s=alignment.max_drift_s,
        mean_drift_s=alignment.mean_drift_s,
        peak_rss_mb=max(own_kb, children_kb) / 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, help="backend:model pairs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--models-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measured = _measure(args.child, args.audio, args.models_dir, args.runs, args.threads, args.beam_size)
        print(json.dumps(asdict(measured)))
        return
    from hibari import Hibari

    with tempfile.TemporaryDirectory() as scratch:
        audio = Path(scratch) / "narration.wav"
        Hibari(voice="heart").save(NARRATION, str(audio))
        print(
            f"Narration: {len(NARRATION.split())} words spoken by hibari 'heart'; median of {args.runs} "
            "transcriptions after one warm-up, one process per backend/model.\n"
        )
        print(
            "| backend:model | threads | beam | prepare | first run (loads model) | transcribe (median) "
            "| RTF | peak RSS | WER | words matched | drift max / mean |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for config in args.configs:
            if config.startswith("openai-whisper") and importlib.util.find_spec("whisper") is None:
                print(f"| {config} | skipped: optional extra openai-whisper not installed |")
                continue
            child = subprocess.run(
                [
                    sys.executable, __file__, "--child", config, "--audio", str(audio),
                    "--models-dir", str(Path(scratch) / "models"), "--runs", str(args.runs),
                    "--threads", str(args.threads), "--beam-size", str(args.beam_size),
                ],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            measured = Measurement(**json.loads(child.stdout.strip().splitlines()[-1]))
            print(measured.markdown_row(), flush=True)


if __name__ == "__main__":
    main()
