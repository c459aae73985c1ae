"""The brand's logo as a watermark on every rendered short (`PELLACIA_BRAND_LOGO`, a PNG).

The logo is scaled once with Pillow to fit a small box in the top-left corner of the platforms' safe zone
(the top 250 px belong to the apps' own tabs), made a little translucent, and composited for the whole
short as one more overlay of the render's single filter graph. It goes under the cards, so a hook card
that reaches the corner is never covered by a logo.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pellacia_assets.rendering.cards import REFERENCE_HEIGHT, REFERENCE_WIDTH, SafeZone
from pellacia_assets.rendering.compose import PNG_SIGNATURE, Overlay
from pellacia_assets.rendering.errors import MediaError

LOGO_VARIABLE = "PELLACIA_BRAND_LOGO"
# The largest the logo is drawn on a 1080x1920 frame (scaled for other sizes): a mark, not a banner.
MAX_WIDTH = 220
MAX_HEIGHT = 140
OPACITY = 0.8
WATERMARK_FILE = "watermark.png"


def brand_logo() -> Path | None:
    """The logo `PELLACIA_BRAND_LOGO` names, or None when it is unset; MediaError when it names no PNG."""
    value = os.environ.get(LOGO_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise MediaError(f"{LOGO_VARIABLE}={value!r}: no such file; name a PNG logo or unset it")
    with path.open("rb") as handle:
        if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise MediaError(f"{LOGO_VARIABLE}={value!r} is not a PNG image; the watermark must be a PNG")
    return path


def watermark(
    logo: Path, folder: Path, *, duration_s: float, width: int = 1080, height: int = 1920
) -> Overlay:
    """`logo` fitted into the watermark box and written to `folder`, as an overlay for the whole short."""
    try:
        with Image.open(logo) as opened:
            image = opened.convert("RGBA")
    except (OSError, UnidentifiedImageError) as error:
        raise MediaError(f"{LOGO_VARIABLE}: {logo} cannot be read as an image: {error}") from error
    box_w = max(1, round(MAX_WIDTH * width / REFERENCE_WIDTH))
    box_h = max(1, round(MAX_HEIGHT * height / REFERENCE_HEIGHT))
    scale = min(box_w / image.width, box_h / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    alpha = image.getchannel("A").point(lambda value: round(value * OPACITY))
    image.putalpha(alpha)
    out = folder / WATERMARK_FILE
    image.save(out, format="PNG")
    zone = SafeZone.of(width, height)
    return Overlay(out, zone.left, zone.top, 0.0, duration_s)
