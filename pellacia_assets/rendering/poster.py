"""The poster (thumbnail) frame of a rendered short, as a full-size PNG."""

from __future__ import annotations

import uuid
from pathlib import Path

import ffmpeg

from pellacia_assets.rendering.errors import MediaError, RenderError
from pellacia_assets.rendering.probe import probe


def extract_poster(video: Path, out_png: Path, at_s: float) -> Path:
    """Write the frame shown at `at_s` to `out_png`; the file appears only once it is complete."""
    info = probe(video)
    if not info.has_video:
        raise MediaError(f"{video} has no video stream to take a poster from")
    if not 0 <= at_s < info.duration_s:
        raise MediaError(f"poster time {at_s} s is outside the video ({info.duration_s:.3f} s long)")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    partial = out_png.with_name(f".{out_png.stem}.{uuid.uuid4().hex[:8]}.partial.png")
    stream = ffmpeg.input(str(video), ss=f"{at_s:.3f}").output(
        str(partial), vframes=1, vcodec="png", f="image2", update=1
    )
    try:
        ffmpeg.run(stream, cmd="ffmpeg", capture_stdout=True, capture_stderr=True, overwrite_output=True)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise RenderError(f"ffmpeg wrote no frame at {at_s} s of {video}")
        partial.replace(out_png)
    except ffmpeg.Error as error:
        tail = error.stderr.decode("utf-8", "replace").strip().splitlines()[-5:] if error.stderr else []
        raise RenderError(f"could not extract a poster from {video}:\n" + "\n".join(tail)) from error
    finally:
        partial.unlink(missing_ok=True)
    return out_png
