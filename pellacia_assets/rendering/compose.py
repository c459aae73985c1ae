"""The short's ffmpeg filter graph (background, overlays, captions, voice and ducked music) and its run.

Everything happens in one ffmpeg process so frames are never written out between steps. The output is cut
with `-t` because `-shortest` overshoots by up to 1.6 s on Debian's ffmpeg 5.1.

Overlays (the hook card, a part badge, the end card) are small RGBA PNGs made with Pillow. Each is read
and converted to YUV with alpha once, held with the `loop` filter for its time on screen only, given
timestamps from its start, faded out on its own alpha plane and composited with `overlay` in yuv420 (it
blends just the overlay's rectangle). `overlay`'s default `format=auto` let the graph convert every whole
frame to another pixel format and back: +65 % CPU for the new look (benchmarks/bench_render.py).
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ffmpeg

from pellacia_assets.rendering.background import Background, ClipBackground, background_stream
from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.probe import MediaInfo, probe

AUDIO_SAMPLE_RATE = 48_000
# Music sits about 14 dB under the voice, and the compressor pulls it down further while someone speaks.
MUSIC_GAIN = 0.2
DUCK_THRESHOLD = 0.03
DUCK_RATIO = 8
DUCK_ATTACK_MS = 20
DUCK_RELEASE_MS = 400
# Peak ceiling of the mix (about -0.5 dBFS), with headroom for the AAC encoder's overshoot.
LIMIT = 0.94
# While an overlay fades out it also slides this far to the left (eased), like a card swiped away.
OVERLAY_SLIDE_PX = 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# x264's default adaptive quantisation (aq-mode=1) lowers the quantiser in every flat block, so a drifting
# smooth gradient cost 1.7x the encoder time of a solid colour and 6x the bits. Auto-variance AQ (mode 2)
# keeps gradients free of visible banding at 0.75x the time and half the bits (benchmarks/bench_render.py).
X264_PARAMS = "aq-mode=2"
STDERR_TAIL_LINES = 25


@dataclass(frozen=True)
class Overlay:
    """An RGBA PNG composited at (x, y), its top-left corner in output pixels, from `start_s` to `end_s`;
    over its last `fade_out_s` it fades out (alpha) while sliding a little to the left."""

    image: Path
    x: int
    y: int
    start_s: float
    end_s: float
    fade_out_s: float = 0.0


@dataclass(frozen=True)
class RenderSpec:
    """Everything one render needs. `subtitles` is an ASS file holding the word captions only.

    `title_card_end_s` is where the hook's spoken title ends (captions start after it); the hook card itself
    is one of `overlays`, drawn in order (later ones on top) under the captions. Music fades in over its
    first `music_fade_s` and out over the last `music_fade_s` of the short, before it is ducked.
    """

    voiceover: Path
    subtitles: Path
    duration_s: float
    output: Path
    background: Background
    title_card_end_s: float
    music: Path | None = None
    fonts_dir: Path | None = None
    width: int = 1080
    height: int = 1920
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 23
    audio_bitrate: str = "128k"
    threads: int = 0
    overlays: tuple[Overlay, ...] = ()
    music_fade_s: float = 1.0


@dataclass(frozen=True)
class RenderResult:
    path: Path
    wall_s: float
    info: MediaInfo


def build_render(spec: RenderSpec) -> Any:
    """The ffmpeg-python output node writing `spec.output`."""
    return _output_node(spec, spec.output)


def command_line(spec: RenderSpec) -> list[str]:
    """The full ffmpeg command for `spec`, for benchmarks and debugging."""
    command: list[str] = ffmpeg.compile(build_render(spec), overwrite_output=True)
    return command


def render(spec: RenderSpec, progress: Callable[[float], None] | None = None) -> RenderResult:
    """Render `spec`, reporting the fraction done to `progress`; the output appears only when complete."""
    _check_spec(spec)
    spec.output.parent.mkdir(parents=True, exist_ok=True)
    partial = spec.output.with_name(f".{spec.output.stem}.{uuid.uuid4().hex[:8]}.partial{spec.output.suffix}")
    command: list[str] = ffmpeg.compile(
        _output_node(spec, partial).global_args(
            "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1"
        ),
        overwrite_output=True,
    )
    started = time.perf_counter()
    try:
        _run_ffmpeg(command, spec.duration_s, progress)
        partial.replace(spec.output)
    finally:
        partial.unlink(missing_ok=True)
    wall_s = time.perf_counter() - started
    return RenderResult(spec.output, wall_s, probe(spec.output))


def _output_node(spec: RenderSpec, target: Path) -> Any:
    video = _video(spec)
    audio = _audio(spec)
    encode: dict[str, Any] = {
        "vcodec": "libx264",
        "preset": spec.preset,
        "crf": spec.crf,
        "x264-params": X264_PARAMS,
        "pix_fmt": "yuv420p",
        "r": spec.fps,
        "acodec": "aac",
        "audio_bitrate": spec.audio_bitrate,
        "ar": AUDIO_SAMPLE_RATE,
        "ac": 2,
        "movflags": "+faststart",
        "t": f"{spec.duration_s:.3f}",
        "f": "mp4",
    }
    if spec.threads > 0:
        encode["threads"] = spec.threads
    return ffmpeg.output(video, audio, str(target), **encode)


def _video(spec: RenderSpec) -> Any:
    stream = background_stream(spec.background, spec.width, spec.height, spec.fps, spec.duration_s)
    for overlay in spec.overlays:
        stream = _composite(stream, overlay, spec.fps)
    subtitle_options = {"fontsdir": str(spec.fonts_dir)} if spec.fonts_dir is not None else {}
    return stream.filter("subtitles", str(spec.subtitles), **subtitle_options).filter("format", "yuv420p")


def _composite(stream: Any, overlay: Overlay, fps: int) -> Any:
    """`overlay` over `stream`: the PNG decoded once, repeated for its frames on screen only, timed from
    its start, faded out on its alpha plane; before its first and after its last frame the main stream
    passes through untouched (`eof_action=pass`, and `enable` as a guard)."""
    frames = max(1, round((overlay.end_s - overlay.start_s) * fps))
    image = (
        ffmpeg.input(str(overlay.image))
        .video.filter("format", "yuva420p")
        .filter("loop", loop=frames - 1, size=1, start=0)
        .filter("settb", f"1/{fps}")
        .setpts(f"N+{round(overlay.start_s * fps)}")
    )
    x: str | int = overlay.x
    if overlay.fade_out_s > 0:
        fade_start = overlay.end_s - overlay.fade_out_s
        image = image.filter("fade", t="out", st=f"{fade_start:.3f}", d=f"{overlay.fade_out_s:.3f}", alpha=1)
        progress = f"clip((t-{fade_start:.3f})/{overlay.fade_out_s:.3f},0,1)"
        x = f"{overlay.x}-{OVERLAY_SLIDE_PX}*{progress}*{progress}"
    return ffmpeg.overlay(
        stream,
        image,
        x=x,
        y=overlay.y,
        eof_action="pass",
        format="yuv420",
        enable=f"between(t,{overlay.start_s:.3f},{overlay.end_s:.3f})",
    )


def _audio(spec: RenderSpec) -> Any:
    voice = _to_mix_format(ffmpeg.input(str(spec.voiceover)).audio).filter("apad")
    if spec.music is None:
        return voice
    split = voice.filter_multi_output("asplit", 2)
    speech, key = split.stream(0), split.stream(1)
    music = _to_mix_format(ffmpeg.input(str(spec.music), stream_loop=-1).audio).filter("volume", MUSIC_GAIN)
    fade_s = min(spec.music_fade_s, spec.duration_s / 2)
    if fade_s > 0:
        music = music.filter("afade", t="in", st=0, d=f"{fade_s:.3f}").filter(
            "afade", t="out", st=f"{spec.duration_s - fade_s:.3f}", d=f"{fade_s:.3f}"
        )
    ducked = ffmpeg.filter(
        [music, key],
        "sidechaincompress",
        threshold=DUCK_THRESHOLD,
        ratio=DUCK_RATIO,
        attack=DUCK_ATTACK_MS,
        release=DUCK_RELEASE_MS,
    )
    mixed = ffmpeg.filter([speech, ducked], "amix", inputs=2, duration="first", normalize=0)
    return mixed.filter("alimiter", limit=LIMIT, level=0)


def _to_mix_format(stream: Any) -> Any:
    return stream.filter("aresample", AUDIO_SAMPLE_RATE).filter(
        "aformat", sample_fmts="fltp", sample_rates=AUDIO_SAMPLE_RATE, channel_layouts="stereo"
    )


def _check_spec(spec: RenderSpec) -> None:
    """Fail before ffmpeg starts, with a message naming the bad input."""
    if spec.duration_s <= 0:
        raise RenderError(f"duration must be positive, got {spec.duration_s} s")
    if not 0 <= spec.title_card_end_s <= spec.duration_s:
        raise RenderError(
            f"the title card must end between 0 and {spec.duration_s} s, got {spec.title_card_end_s} s"
        )
    if spec.music_fade_s < 0:
        raise RenderError(f"the music fade must not be negative, got {spec.music_fade_s} s")
    for overlay in spec.overlays:
        _check_overlay(overlay, spec.duration_s)
    if not probe(spec.voiceover).has_audio:
        raise MediaError(f"voiceover {spec.voiceover} has no audio stream")
    if spec.music is not None and not probe(spec.music).has_audio:
        raise MediaError(f"music {spec.music} has no audio stream")
    if isinstance(spec.background, ClipBackground) and not probe(spec.background.path).has_video:
        raise MediaError(f"background clip {spec.background.path} has no video stream")
    if not spec.subtitles.is_file():
        raise MediaError(f"subtitles file {spec.subtitles} does not exist")
    if spec.fonts_dir is not None and not spec.fonts_dir.is_dir():
        raise MediaError(f"fonts folder {spec.fonts_dir} does not exist")


def _check_overlay(overlay: Overlay, duration_s: float) -> None:
    if not 0 <= overlay.start_s < overlay.end_s:
        raise RenderError(
            f"overlay {overlay.image.name} must start at 0 s or later and end after it starts, "
            f"got {overlay.start_s} s to {overlay.end_s} s"
        )
    if overlay.start_s >= duration_s:
        raise RenderError(f"overlay {overlay.image.name} starts at {overlay.start_s} s, after the short ends")
    if not 0 <= overlay.fade_out_s <= overlay.end_s - overlay.start_s:
        raise RenderError(
            f"overlay {overlay.image.name}: its fade-out ({overlay.fade_out_s} s) must fit in its time shown"
        )
    if not overlay.image.is_file():
        raise MediaError(f"overlay image {overlay.image} does not exist")
    with overlay.image.open("rb") as handle:
        if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise MediaError(f"overlay image {overlay.image} is not a PNG")


def _run_ffmpeg(command: list[str], duration_s: float, progress: Callable[[float], None] | None) -> None:
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as error:
        raise RenderError("ffmpeg is not installed (install the ffmpeg package)") from error
    assert process.stdout is not None and process.stderr is not None
    stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    reader = threading.Thread(target=_collect, args=(process.stderr, stderr_tail), daemon=True)
    reader.start()
    try:
        for fraction in _progress_fractions(process.stdout, duration_s):
            if progress is not None:
                progress(fraction)
    except BaseException:
        process.kill()
        raise
    finally:
        returncode = process.wait()
        reader.join()
    if returncode != 0:
        tail = "\n".join(stderr_tail) or "(no error output)"
        raise RenderError(f"ffmpeg failed with exit code {returncode}:\n{tail}")


def _progress_fractions(lines: Iterable[str], duration_s: float) -> Iterable[float]:
    """Fractions done, from ffmpeg's `-progress` key=value lines (`out_time_us`, then `progress=end`)."""
    for line in lines:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            yield min(max(int(value) / 1_000_000 / duration_s, 0.0), 1.0)
        elif key == "progress" and value == "end":
            yield 1.0


def _collect(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        tail.append(line.rstrip())
