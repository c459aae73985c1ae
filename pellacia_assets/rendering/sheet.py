"""A contact sheet of a rendered short: frames evenly spaced over it, side by side in one PNG, so the
operator judges a short at a glance in the Dagster UI. ffmpeg extracts the frames (a fast seek each, scaled
on the way out), Pillow lays them out. Pure: ffmpeg and Pillow."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import ffmpeg
from PIL import Image, ImageDraw, UnidentifiedImageError

from pellacia_assets.rendering.cards import load_font
from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.probe import probe

GAP = 8  # pixels between frames
GAP_COLOR = (16, 16, 20)
LABEL_BACKGROUND = (0, 0, 0, 170)


def frame_times(duration_s: float, frames: int) -> list[float]:
    """`frames` moments evenly spaced over the video, each in the middle of its slice (never 0 or the end)."""
    return [duration_s * (index + 0.5) / frames for index in range(frames)]


def contact_sheet(video: Path, out_png: Path, frames: int = 6, height: int = 480) -> Path:
    """Write `frames` frames of `video`, evenly spaced, side by side at `height` px, each with its time.

    The sheet is frames * frame_width + (frames - 1) * GAP wide and `height` tall, where frame_width keeps
    the video's aspect ratio (even, as ffmpeg's scaler rounds it). The file appears only once complete."""
    if frames < 1:
        raise ValueError(f"a contact sheet needs at least one frame, not {frames}")
    if height < 16:
        raise ValueError(f"a contact sheet {height} px high is too small to show anything")
    info = probe(video)
    if not info.has_video or not info.width or not info.height:
        raise MediaError(f"{video} has no video stream to take frames from")
    if info.duration_s <= 0:
        raise MediaError(f"{video} has no duration to spread {frames} frames over")
    width = max(2, round(info.width * height / info.height / 2) * 2)
    stills = [_frame(video, at_s, width, height) for at_s in frame_times(info.duration_s, frames)]
    sheet = Image.new("RGB", (frames * width + (frames - 1) * GAP, height), GAP_COLOR)
    for index, (at_s, still) in enumerate(zip(frame_times(info.duration_s, frames), stills, strict=True)):
        _label(still, _clock(at_s))
        sheet.paste(still, (index * (width + GAP), 0))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    partial = out_png.with_name(f".{out_png.stem}.{uuid.uuid4().hex[:8]}.partial.png")
    try:
        sheet.save(partial, format="PNG")
        partial.replace(out_png)
    finally:
        partial.unlink(missing_ok=True)
    return out_png


def _frame(video: Path, at_s: float, width: int, height: int) -> Image.Image:
    """The frame shown at `at_s`, scaled to width x height, as an RGB image."""
    stream = ffmpeg.input(str(video), ss=f"{at_s:.3f}").output(
        "pipe:", vframes=1, vf=f"scale={width}:{height}:flags=bicubic", vcodec="png", f="image2pipe"
    )
    try:
        data, _ = ffmpeg.run(stream, cmd="ffmpeg", capture_stdout=True, capture_stderr=True, quiet=True)
    except ffmpeg.Error as error:
        tail = error.stderr.decode("utf-8", "replace").strip().splitlines()[-5:] if error.stderr else []
        raise RenderError(
            f"could not extract the frame at {at_s:.2f} s of {video}:\n" + "\n".join(tail)
        ) from error
    if not data:
        raise RenderError(f"ffmpeg wrote no frame at {at_s:.2f} s of {video}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            frame = image.convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise RenderError(f"ffmpeg's frame at {at_s:.2f} s of {video} is not a PNG: {error}") from error
    if frame.size != (width, height):
        frame = frame.resize((width, height))
    return frame


def _clock(at_s: float) -> str:
    minutes, seconds = divmod(at_s, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def _label(frame: Image.Image, text: str) -> None:
    """The frame's time in a small dark box at its bottom left."""
    size = max(10, frame.height // 24)
    font = load_font(size, True)
    pad = max(2, size // 3)
    left, top, right, bottom = (round(v) for v in font.getbbox(text))
    box = (
        pad,
        frame.height - pad - (bottom - top) - 2 * pad,
        pad + (right - left) + 2 * pad,
        frame.height - pad,
    )
    overlay = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle(box, radius=pad, fill=LABEL_BACKGROUND)
    draw.text((box[0] + pad - left, box[1] + pad - top), text, font=font, fill=(255, 255, 255, 255))
    frame.paste(Image.alpha_composite(frame.convert("RGBA"), overlay).convert("RGB"))
