"""Speed and memory of each text-to-speech engine on a ~60-second narration.

Each engine runs in its own subprocess, so its peak RSS is its own: the subprocess loads the engine,
synthesizes the narration `--runs` times and reports JSON; this script prints a Markdown table with the
load time, the real-time factor (synthesis seconds / audio seconds, median) and the peak RSS.

    python benchmarks/bench_tts.py [--runs 3] [--engines hibari piper espeak]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
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


@dataclass(frozen=True)
class EngineMeasurement:
    engine: str
    version: str
    sample_rate: int
    load_and_warm_up_s: float
    synth_s: list[float]
    audio_s: float
    peak_rss_mb: float

    def markdown_row(self, words: int) -> str:
        synth = statistics.median(self.synth_s)
        rtf = synth / self.audio_s
        return (
            f"| {self.engine} | {self.version} | {self.sample_rate} | {self.load_and_warm_up_s:.2f} s | "
            f"{synth:.2f} s | {self.audio_s:.1f} s | {words * 60 / self.audio_s:.0f} | "
            f"{rtf:.4f} ({1 / rtf:.0f}x) | {self.peak_rss_mb:.0f} MB |"
        )


def _measure_engine(engine_name: str, runs: int) -> EngineMeasurement:
    """Runs inside the engine's own subprocess; espeak-ng's own process counts through RUSAGE_CHILDREN."""
    from resources.tts.registry import make_engine

    engine = make_engine(engine_name)
    synth_s: list[float] = []
    audio_s = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "narration.wav"
        started = time.perf_counter()
        engine.synthesize("Warm up.", out)
        load_s = time.perf_counter() - started
        for _ in range(runs):
            started = time.perf_counter()
            engine.synthesize(NARRATION, out)
            synth_s.append(time.perf_counter() - started)
            with wave.open(str(out), "rb") as audio:
                audio_s = audio.getnframes() / audio.getframerate()
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return EngineMeasurement(
        engine=f"{engine.voice.engine}/{engine.voice.name}",
        version=engine.version,
        sample_rate=engine.voice.sample_rate,
        load_and_warm_up_s=load_s,
        synth_s=synth_s,
        audio_s=audio_s,
        peak_rss_mb=max(own_kb, children_kb) / 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=["hibari", "piper", "espeak"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asdict(_measure_engine(args.child, args.runs))))
        return
    words = len(NARRATION.split())
    print(f"Narration: {words} words; median of {args.runs} syntheses per engine, one process per engine.\n")
    print("| engine/voice | version | Hz | load + warm-up | synth (median) | audio | wpm | RTF | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for engine in args.engines:
        child = subprocess.run(
            [sys.executable, __file__, "--child", engine, "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = EngineMeasurement(**json.loads(child.stdout.strip().splitlines()[-1]))
        print(measured.markdown_row(words), flush=True)


if __name__ == "__main__":
    main()
