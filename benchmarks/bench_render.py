"""Render speed of a 60 s short: our ffmpeg-python graph against hand-written ffmpeg commands, and the new
look (issue 11) against the old one.

Variants, all 1080x1920 30 fps libx264 veryfast CRF 23 aq-mode=2 (as compose.py), AAC 48 kHz, ~170 burned
ASS word events, cut with `-t`:
  (a) ours: `render()` with the generated drifting mesh-gradient background, captions only (probe checks
      included)
  (b) the old look (before issue 11) as one hand-written ffmpeg command: the mesh background, a drawbox
      title panel, the title and one-line word captions in one ASS file
  mesh, bokeh, bands, rings: the new look, `render()` with that background style, a hook card
      overlay (0-3 s, faded and slid out), a "Part 1/2" badge all along, an end card for the last 2 s and
      the word captions in the default caption style; each is compared with (b): new/old
  (c) a solid colour background (the cost floor)
  (d) zoompan over full frames of the same still (the usual "moving background")
  (e) an animated low-resolution `gradients` source upscaled every frame
  (f) (b) with x264's default aq-mode=1, to show what the AQ choice saves
Each run happens in its own child process, so the peak RSS (RUSAGE_CHILDREN) is that render's ffmpeg.
The machine's load average is printed: other jobs on the 2 cores make single runs vary by +-30 %.

Stills of the new look go to --stills (default docs/look/, "" for none): one 540x960 PNG per background
style and per caption style, and one of the hook card, each cut from a short render of the same graph.

    python benchmarks/bench_render.py [--runs 3] [--variants b,mesh,bokeh,bands,rings] [--stills DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import resource
import shlex
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from pellacia_assets.captions.alignment import TimedWord
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.captions.styles import DEFAULT_STYLE, caption_style, style_names
from pellacia_assets.rendering.background import PALETTES, STYLES, GeneratedBackground
from pellacia_assets.rendering.compose import Overlay, RenderSpec, render
from pellacia_assets.rendering.finishing import part_cards
from pellacia_assets.rendering.fonts import find_fonts_dir
from pellacia_assets.rendering.probe import probe
from pellacia_assets.stories.model import Byline

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


NEW_LOOK = STYLES  # variant names of the new look: one per background style


@dataclass(frozen=True)
class Inputs:
    voice: Path
    captions: Path  # the old look's ASS: title card and one-line captions
    new_captions: Path  # the new look's ASS: word captions only, in the default caption style
    overlays: tuple[Overlay, ...]
    fonts: Path
    duration_s: float
    out_dir: Path


def timed_story(duration_s: float, start_s: float = TITLE_END_S) -> list[TimedWord]:
    words = STORY.split()
    per_word = (duration_s - start_s - 0.5) / len(words)
    return [
        TimedWord(word, start_s + i * per_word, start_s + (i + 1) * per_word, matched=True)
        for i, word in enumerate(words)
    ]


def write_captions(path: Path, duration_s: float) -> int:
    """The old look's captions: a title event, then two-line pages of words, one event per spoken word with
    that word yellow at 110 %: the document build_ass made before issue 11, frozen here for the old look."""
    header = (
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 1080\nPlayResY: 1920\nWrapStyle: 2\n"
        "ScaledBorderAndShadow: yes\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, "
        "SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, "
        "Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Caption,DejaVu Sans,54,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,"
        "1,5,2,2,60,60,560,1\n"
        "Style: Title,DejaVu Sans,92,&H00FFFFFF,&H00FFFFFF,&H00000000,&H40000000,-1,0,0,0,100,100,0,0,3,24,0,"
        "5,60,60,0,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
        "Text\n"
    )
    events = [
        _old_dialogue(
            1, 0.0, TITLE_END_S, "Title", r"{\an5\pos(540,640)}My neighbor tried to\Ncancel my wedding"
        )
    ]
    words = timed_story(duration_s)
    pages: list[list[TimedWord]] = [[]]
    for word in words:
        if len(" ".join(w.text for w in [*pages[-1], word])) > 56 or (
            pages[-1] and pages[-1][-1].text.endswith((".", "?", "!"))
        ):
            pages.append([])
        pages[-1].append(word)
    for page in pages:
        for index, word in enumerate(page):
            texts = [rf"{{\c&H00FFFF&\fscx110\fscy110}}{w.text}{{\r}}" if w is word else w.text for w in page]
            half = (len(texts) + 1) // 2
            text = " ".join(texts[:half]) + (r"\N" + " ".join(texts[half:]) if texts[half:] else "")
            end = page[index + 1].start if index + 1 < len(page) else page[-1].end + 0.5
            events.append(_old_dialogue(0, page[0].start if index == 0 else word.start, end, "Caption", text))
    path.write_text(header + "\n".join(events) + "\n", encoding="utf-8")
    return len(events)


def _old_dialogue(layer: int, start_s: float, end_s: float, style: str, text: str) -> str:
    def stamp(seconds: float) -> str:
        centiseconds = round(seconds * 100)
        return f"0:{centiseconds // 6000:02d}:{centiseconds // 100 % 60:02d}.{centiseconds % 100:02d}"

    return f"Dialogue: {layer},{stamp(start_s)},{stamp(end_s)},{style},,0,0,0,,{text}"


def new_captions(words: Sequence[TimedWord], style_name: str = DEFAULT_STYLE) -> str:
    """The new look's captions: build_ass in a caption style preset, after the hook."""
    return build_ass(words, style=caption_style(style_name), not_before_s=TITLE_END_S)


def write_overlays(folder: Path, duration_s: float) -> tuple[Overlay, ...]:
    """The new look's overlays: the product's own cards for Part 1 of 2 of a Reddit story (a post card
    while the hook is spoken, the part badge, the call to action), cut to what they draw."""
    return part_cards(
        folder,
        part=1,
        parts=2,
        title="My neighbor tried to cancel my wedding",
        byline=Byline("reddit", "AmItheAsshole", "quiet_neighbour", 24123, 3245),
        call_to_action="Follow for part 2",
        duration_s=duration_s,
        hook_end_s=TITLE_END_S,
    ).overlays


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
        background=GeneratedBackground("mesh", PALETTES[0], 1234567),
        title_card_end_s=TITLE_END_S,
        fonts_dir=inputs.fonts,
    )
    render(spec)


def new_look_spec(inputs: Inputs, style: str, output: Path, palette: int = 0) -> RenderSpec:
    return RenderSpec(
        voiceover=inputs.voice,
        subtitles=inputs.new_captions,
        duration_s=inputs.duration_s,
        output=output,
        background=GeneratedBackground(style, PALETTES[palette % len(PALETTES)], 1234567),
        title_card_end_s=TITLE_END_S,
        fonts_dir=inputs.fonts,
        overlays=inputs.overlays,
    )


def _timed_child(variant: str, inputs: Inputs, output: Path) -> tuple[float, float, int]:
    """Runs in a fresh process: wall seconds of one render, CPU seconds and peak RSS (KiB) of its ffmpeg."""
    started = time.perf_counter()
    if variant == "a":
        run_ours(inputs, output)
    elif variant in NEW_LOOK:
        render(new_look_spec(inputs, variant, output))
    else:
        subprocess.run(hand_command(variant, inputs, output), check=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


LABELS = {
    "a": "(a) ours: render(), drifting mesh gradient, captions only",
    "b": "(b) old look: mesh, title panel, one-line captions (hand-written command)",
    **{style: f"new look: {style} background, hook card, badge, end card, captions" for style in NEW_LOOK},
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
    parser.add_argument("--variants", default=",".join(("b", *NEW_LOOK)))
    parser.add_argument("--stills", default="docs/look", help='folder for the look\'s stills ("" for none)')
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        folder = Path(tmp)
        voice = folder / "voice.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(voice), STORY], check=True)
        duration_s = probe(voice).duration_s
        captions, fresh = folder / "captions.ass", folder / "new-captions.ass"
        events = write_captions(captions, duration_s)
        fresh.write_text(new_captions(timed_story(duration_s)), encoding="utf-8")
        overlays = write_overlays(folder, duration_s)
        inputs = Inputs(voice, captions, fresh, overlays, find_fonts_dir(), duration_s, folder)
        if args.stills:
            write_stills(inputs, Path(args.stills))
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
        if args.runs > 0:
            _print_table(results, duration_s)


STILL_SIZE = (540, 960)
STILL_COLOURS = 256
STILL_AT_S = 5.2  # a caption page with its spoken word highlighted


def write_stills(inputs: Inputs, folder: Path) -> None:
    """A 540x960 PNG per background style and per caption style, and one of the hook card, each a frame of
    a short render of the new look's graph (quantised to STILL_COLOURS colours to keep the files small)."""
    folder.mkdir(parents=True, exist_ok=True)
    short = dataclasses.replace(inputs, overlays=inputs.overlays[:2], duration_s=6.0)
    shots: list[tuple[str, RenderSpec, float]] = []
    for index, style in enumerate(STYLES):
        spec = new_look_spec(short, style, inputs.out_dir / f"still-{style}.mp4", palette=index * 3)
        shots.append((f"background-{style}.png", spec, STILL_AT_S))
    for index, name in enumerate(style_names()):
        ass = inputs.out_dir / f"captions-{name}.ass"
        ass.write_text(new_captions(timed_story(inputs.duration_s), name), encoding="utf-8")
        output = inputs.out_dir / f"still-c-{name}.mp4"
        spec = new_look_spec(short, STYLES[(index + 1) % len(STYLES)], output, index + 1)
        shots.append((f"captions-{name}.png", dataclasses.replace(spec, subtitles=ass), STILL_AT_S))
    shots.append(("hook-card.png", new_look_spec(short, "mesh", inputs.out_dir / "still-hook.mp4", 5), 1.5))
    total = 0
    for name, spec, at_s in shots:
        render(spec)
        frame = inputs.out_dir / "frame.png"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{at_s}", "-i", str(spec.output),
             "-frames:v", "1", "-vf", f"scale={STILL_SIZE[0]}:{STILL_SIZE[1]}:flags=lanczos", str(frame)],
            check=True,
        )  # fmt: skip
        with Image.open(frame) as image:
            image.convert("RGB").quantize(
                STILL_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
            ).save(folder / name, optimize=True)
        total += (folder / name).stat().st_size
    print(f"stills: {len(shots)} PNGs in {folder}, {total / 1024:.0f} KiB in all")


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
    looks = [v for v in results if v in NEW_LOOK]
    if reference and looks:
        print("\nnew look / old look (b), median wall and median CPU:")
        ratios = []
        for variant in looks:
            runs = results[variant]
            wall_ratio = statistics.median(runs.walls) / reference
            cpu_ratio = statistics.median(runs.cpus) / statistics.median(results["b"].cpus)
            ratios.append(wall_ratio)
            print(f"  {variant}: {wall_ratio:.2f} wall, {cpu_ratio:.2f} CPU")
        print(f"  median over the styles: {statistics.median(ratios):.2f} wall (goal: <= 1.10)")


if __name__ == "__main__":
    main()
