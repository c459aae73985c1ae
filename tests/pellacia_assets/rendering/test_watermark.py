"""The brand watermark: `PELLACIA_BRAND_LOGO` checked to be a PNG, fitted into its corner box, translucent,
and drawn for the whole short over a clip background."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pellacia_assets.rendering.background import ClipBackground
from pellacia_assets.rendering.cards import SafeZone
from pellacia_assets.rendering.compose import RenderSpec, render
from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.fonts import find_fonts_dir
from pellacia_assets.rendering.watermark import MAX_HEIGHT, MAX_WIDTH, OPACITY, brand_logo, watermark

FrameReader = Callable[[Path, float], npt.NDArray[np.uint8]]


def logo_png(path: Path, size: tuple[int, int] = (1000, 500)) -> Path:
    Image.new("RGBA", size, (255, 0, 255, 255)).save(path)
    return path


def test_no_logo_configured_is_no_watermark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PELLACIA_BRAND_LOGO", raising=False)
    assert brand_logo() is None


def test_the_configured_logo_must_be_an_existing_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_BRAND_LOGO", str(tmp_path / "missing.png"))
    with pytest.raises(MediaError, match=r"PELLACIA_BRAND_LOGO=.*no such file"):
        brand_logo()
    jpeg = tmp_path / "logo.jpg"
    Image.new("RGB", (10, 10)).save(jpeg, format="JPEG")
    monkeypatch.setenv("PELLACIA_BRAND_LOGO", str(jpeg))
    with pytest.raises(MediaError, match="is not a PNG image"):
        brand_logo()
    monkeypatch.setenv("PELLACIA_BRAND_LOGO", str(logo_png(tmp_path / "logo.png")))
    assert brand_logo() == tmp_path / "logo.png"


@pytest.mark.parametrize(("size", "fitted"), [((1000, 500), (220, 110)), ((100, 400), (35, 140))])
def test_the_logo_is_fitted_into_the_safe_zones_corner_and_made_translucent(
    tmp_path: Path, size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    overlay = watermark(logo_png(tmp_path / "logo.png", size), tmp_path, duration_s=12.5)
    zone = SafeZone.of(1080, 1920)
    assert (overlay.x, overlay.y, overlay.start_s, overlay.end_s) == (zone.left, zone.top, 0.0, 12.5)
    with Image.open(overlay.image) as image:
        assert image.size == fitted and image.width <= MAX_WIDTH and image.height <= MAX_HEIGHT
        assert image.getpixel((fitted[0] // 2, fitted[1] // 2)) == (255, 0, 255, round(255 * OPACITY))


@pytest.mark.e2e
def test_a_clip_background_with_the_watermark_renders_dimmed_footage_and_the_logo(
    tmp_path: Path,
    speech_wav: Path,
    captions_ass: Path,
    ffmpeg_cli: Callable[..., bytes],
    frame_at: FrameReader,
) -> None:
    """A landscape green clip cropped to a 540x960 frame and dimmed; the magenta logo in its corner."""
    clip = tmp_path / "green.mp4"
    ffmpeg_cli(
        "-f", "lavfi", "-i", "color=c=0x00ff00:s=640x360:r=25", "-t", "2", "-pix_fmt", "yuv420p", str(clip)
    )
    width, height = 540, 960
    overlay = watermark(logo_png(tmp_path / "logo.png"), tmp_path, duration_s=2.0, width=width, height=height)
    spec = RenderSpec(
        voiceover=speech_wav,
        subtitles=captions_ass,
        duration_s=2.0,
        output=tmp_path / "short.mp4",
        background=ClipBackground(clip),
        title_card_end_s=0.0,
        fonts_dir=find_fonts_dir(),
        width=width,
        height=height,
        overlays=(overlay,),
    )
    frame = frame_at(render(spec).path, 1.0).astype(np.int16)
    red, green, blue = frame[height - 20, width - 20]
    assert green > 120 and red < 50 and blue < 50, "the clip, dimmed, fills the frame to its corner"
    assert green < 230, "the clip is dimmed so captions read over it"
    logo = frame[overlay.y + 10 : overlay.y + 40, overlay.x + 10 : overlay.x + 80]
    assert (logo[..., 0] > 150).all() and (logo[..., 2] > 150).all() and (logo[..., 1] < 110).all()
