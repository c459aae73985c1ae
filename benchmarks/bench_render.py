"""Render speed of a 60 s short: our ffmpeg-python graph against hand-written ffmpeg commands.

Variants, all 1080x1920 30 fps libx264 veryfast CRF 23 aq-mode=2 (as compose.py), AAC 48 kHz, ~170 burned
ASS word events, cut with `-t`:
  (a) ours: `render()` with the generated drifting mesh-gradient background (probe checks included)
  (b) the same graph written by hand as one ffmpeg command line (what (a) should cost)
  (c) a solid colour background (the cost floor)
  (d) zoompan over full frames of the same still (the usual "moving background")
  (e) an animated low-resolution `gradients` source upscaled every frame
  (f) (b) with x264's default aq-mode=1, to show what the AQ choice saves
Each run happens in its own child process, so the peak RSS (RUSAGE_CHILDREN) is that render's ffmpeg.
The machine's load average is printed: other jobs on the 2 cores make single runs vary by +-30 %.

    python benchmarks/bench_render.py [--runs 3] [--variants a,b,c,d,e,f]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shlex
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.rendering.background import GeneratedBackground
from pellacia_assets.rendering.compose import RenderSpec, render
from pellacia_assets.rendering.fonts import find_fonts_dir
from pellacia_assets.rendering.probe import probe

STORY = (
    "I never thought my neighbor would be the one to ruin my wedding. It started three months before the big "
    "day, when she asked if she could borrow our garden for a small party. We said yes, because we are nice "
    "people, and because she had always been kind to us. But the party was not small. There were cars "
    "parked on our lawn, music until three in the morning, and somebody broke the old fountain my "
    "grandfather built. "
    "When I asked her to pay for the repair she laughed and said it was already cracked. My fiance wanted to "
    "call the police, but I wanted to keep the peace. So we let it go. Then, two weeks before the wedding, "
    "she told everyone in the street that we had cancelled it. Guests called us confused, the florist almost "
    "gave away our flowers, and my mother cried on the phone for an hour. I finally knocked on her door and "
    "asked her why. What she said next still makes me shake. Follow for part two."
)
TITLE = "My neighbor tried to cancel my wedding"
TITLE_END_S = 3.0
# A hand-written mesh gradient like (a)'s: seven Gaussian blobs on a 174x312 canvas, sigma 0.3 of its width.
BLOBS = ((20, 40, 0x3A1C71), (150, 60, 0xD76D77), (90, 160, 0xFFAF7B), (30, 250, 0xD76D77),
         (160, 280, 0x3A1C71), (100, 20, 0xFFAF7B), (60, 120, 0x3A1C71))  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    voice: Path
    captions: Path
    fonts: Path
    duration_s: float
    out_dir: Path


def write_captions(path: Path, duration_s: float) -> int:
    """The product's own captions (pellacia_assets.captions.ass) over evenly timed story words."""
    words = STORY.split()
    per_word = (duration_s - TITLE_END_S - 0.5) / len(words)
    timed = [
        TimedWord(word, TITLE_END_S + i * per_word, TITLE_END_S + (i + 1) * per_word, matched=True)
        for i, word in enumerate(words)
    ]
    document = build_ass(timed, title=TITLE, title_end_s=TITLE_END_S)
    path.write_text(document, encoding="utf-8")
    return document.count("\nDialogue:")


def _mesh_geq() -> str:
    spread = 2 * (0.3 * 174) ** 2
    weights = ";".join(
        f"st({i},exp(-((X-{x})*(X-{x})+(Y-{y})*(Y-{y}))/{spread:.0f}))" for i, (x, y, _) in enumerate(BLOBS)
    )
    total = "+".join(f"ld({i})" for i in range(len(BLOBS)))

    def channel(shift: int) -> str:
        mixed = "+".join(f"{c >> shift & 0xFF}*ld({i})" for i, (_, _, c) in enumerate(BLOBS))
        return f"'{weights};({mixed})/({total})'"

    return f"geq=r={channel(16)}:g={channel(8)}:b={channel(0)}".replace(",", "\\,")


MESH_STILL = f"[0:v]trim=end_frame=1,format=gbrp,{_mesh_geq()},scale=1404:2496:flags=bicubic,format=yuv420p"
BACKGROUNDS = {
    "b": (
        "color=c=black:s=174x312:r=30:d=1",
        f"{MESH_STILL},loop=loop=-1:size=1,setpts=N/(30*TB),"
        "crop=1080:1920:x='abs(mod(n*1.1+200\\,2*(iw-ow))-(iw-ow))':y='abs(mod(n*0.9\\,2*(ih-oh))-(ih-oh))'",
    ),
    "c": ("color=c=0x3a1c71:s=1080x1920:r=30", "[0:v]null"),
    "d": (
        "color=c=black:s=174x312:r=30:d=1",
        f"{MESH_STILL},scale=1296:2304,loop=loop=-1:size=1,setpts=N/(30*TB),"
        "zoompan=z='1+0.15*on/1800':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=1080x1920:fps=30",
    ),
    "e": (
        "gradients=s=270x480:r=30:n=3:c0=0x3a1c71:c1=0xd76d77:c2=0xffaf7b:speed=0.02",
        "[0:v]scale=1080:1920:flags=bicubic",
    ),
}


def hand_command(variant: str, inputs: Inputs, output: Path) -> list[str]:
    """The whole render as one ffmpeg command written out by hand (variants b-e differ in the background,
    f is b with x264's default adaptive quantisation)."""
    source, background = BACKGROUNDS["b" if variant == "f" else variant]
    graph = (
        f"{background},setsar=1,"
        f"drawbox=60:672:960:576:black@0.45:t=fill:enable='lt(t,{TITLE_END_S})',"
        f"subtitles={inputs.captions}:fontsdir={inputs.fonts},format=yuv420p[v];"
        "[1:a]aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,apad[a]"
    )
    command = (
        f"ffmpeg -hide_banner -nostdin -loglevel error -y "
        f"-f lavfi -i {shlex.quote(source)} -i {inputs.voice} "
        f"-filter_complex {shlex.quote(graph)} -map [v] -map [a] "
        f"-c:v libx264 -preset veryfast -crf 23 {'' if variant == 'f' else '-x264-params aq-mode=2'} "
        f"-pix_fmt yuv420p -r 30 -c:a aac -b:a 128k -ar 48000 -ac 2 -movflags +faststart "
        f"-t {inputs.duration_s:.3f} -f mp4 {output}"
    )
    return shlex.split(command)


def run_ours(inputs: Inputs, output: Path) -> None:
    spec = RenderSpec(
        voiceover=inputs.voice,
        subtitles=inputs.captions,
        duration_s=inputs.duration_s,
        output=output,
        background=GeneratedBackground.for_story("bench-story"),
        title_card_end_s=TITLE_END_S,
        fonts_dir=inputs.fonts,
    )
    render(spec)


def _timed_child(variant: str, inputs: Inputs, output: Path) -> tuple[float, float, int]:
    """Runs in a fresh process: wall seconds of one render, CPU seconds and peak RSS (KiB) of its ffmpeg."""
    started = time.perf_counter()
    if variant == "a":
        run_ours(inputs, output)
    else:
        subprocess.run(hand_command(variant, inputs, output), check=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


LABELS = {
    "a": "(a) ours: render(), drifting mesh gradient",
    "b": "(b) same graph, hand-written ffmpeg command",
    "c": "(c) solid colour background",
    "d": "(d) zoompan over full frames",
    "e": "(e) animated 270x480 gradients, upscaled",
    "f": "(f) = (b) with x264's default aq-mode=1",
}


@dataclass
class Runs:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peak_kib: int = 0
    size_bytes: int = 0
    duration_s: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", default="a,b,c,d,e,f")
    args = parser.parse_args()
    variants = args.variants.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        folder = Path(tmp)
        voice = folder / "voice.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(voice), STORY], check=True)
        duration_s = probe(voice).duration_s
        captions = folder / "captions.ass"
        events = write_captions(captions, duration_s)
        inputs = Inputs(voice, captions, find_fonts_dir(), duration_s, folder)
        print(f"voiceover {duration_s:.2f} s (espeak-ng), {events} ASS events, {os.cpu_count()} CPUs, "
              f"load average before: {os.getloadavg()[0]:.2f}")  # fmt: skip
        context = multiprocessing.get_context("spawn")
        results = {variant: Runs() for variant in variants}
        for run in range(args.runs):
            for variant in variants:
                output = folder / f"{variant}.mp4"
                with context.Pool(1) as pool:
                    wall, cpu, peak_kib = pool.apply(_timed_child, (variant, inputs, output))
                info = probe(output)
                runs = results[variant]
                runs.walls.append(wall)
                runs.cpus.append(cpu)
                runs.peak_kib = max(runs.peak_kib, peak_kib)
                runs.size_bytes, runs.duration_s = info.size_bytes, info.duration_s
                print(f"  run {run + 1} {variant}: {wall:.1f} s wall, {cpu:.1f} s CPU")
        print(f"load average after: {os.getloadavg()[0]:.2f}\n")
        _print_table(results, duration_s)


def _print_table(results: dict[str, Runs], duration_s: float) -> None:
    reference = statistics.median(results["b"].walls) if "b" in results else None
    print("| variant | wall median (runs) | x real time | vs (b) | CPU | output | duration | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for variant, runs in results.items():
        median = statistics.median(runs.walls)
        walls = ", ".join(f"{w:.1f}" for w in runs.walls)
        ratio = f"{median / reference:.2f}" if reference else "-"
        print(
            f"| {LABELS[variant]} | {median:.1f} s ({walls}) | {duration_s / median:.1f}x | {ratio} | "
            f"{statistics.median(runs.cpus):.1f} s | {runs.size_bytes / 1e6:.1f} MB | "
            f"{runs.duration_s:.3f} s | {runs.peak_kib / 1024:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
