"""The Pillow cards: text always inside its panel with padding (a pixel check), panels inside the platforms'
safe zone, Reddit numbers as Reddit writes them, and what tesseract reads off the real PNGs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pellacia_assets.rendering.cards import (
    ELLIPSIS,
    Box,
    Card,
    end_card,
    fit_text,
    hook_card,
    part_badge,
    reddit_count,
    youtube_thumbnail,
)
from pellacia_assets.stories.model import Byline

REDDIT = Byline("reddit", "pettyrevenge", "throwaway_4821", score=12_345, comments=2_310)
ARTICLE = Byline("article", "The Daily Planet", "Lois Lane")
TITLE = "My neighbour kept parking in my spot, so I bought the lot behind his house"
LONG_TITLE = " ".join(["My neighbour kept parking across my driveway every single morning"] * 12)
UNBREAKABLE = "https://example.com/" + "a-very-long-path-segment" * 12
SAFE = Box(0, 250, 1080 - 120, 1920 - 250 - 480)

Pixels = npt.NDArray[np.uint8]
Indices = npt.NDArray[np.intp]


def _rgba(card: Card) -> Pixels:
    with Image.open(card.png) as image:
        assert image.mode == "RGBA" and image.size == (card.width, card.height)
        return np.asarray(image, dtype=np.uint8)


def _ink(card: Card) -> tuple[Indices, Indices]:
    """(ys, xs) of every pixel that is neither transparent nor the panel's own colour: text and icons."""
    pixels = _rgba(card)
    panel_rgb = pixels[card.panel.y + 3, card.panel.x + card.panel.width // 2, :3].astype(int)
    differs = np.abs(pixels[..., :3].astype(int) - panel_rgb).sum(axis=2) > 60
    ys, xs = np.nonzero(differs & (pixels[..., 3] > 0))
    return ys, xs


def assert_text_inside_panel(card: Card) -> None:
    pixels = _rgba(card)
    ys, xs = _ink(card)
    assert len(xs) > 200, "the card shows no text"
    panel, pad = card.panel, card.padding
    assert pad > 0
    assert xs.min() >= panel.x + pad and xs.max() < panel.right - pad, (xs.min(), xs.max(), panel)
    assert ys.min() >= panel.y + pad and ys.max() < panel.bottom - pad, (ys.min(), ys.max(), panel)
    outside = pixels[..., 3].copy()
    outside[panel.y : panel.bottom, panel.x : panel.right] = 0
    assert not outside.any(), "something is drawn outside the panel"
    for box in card.text_boxes:
        assert panel.contains(box, pad), (box, panel, pad)


def assert_in_safe_zone(card: Card) -> None:
    assert SAFE.contains(card.panel), (card.panel, SAFE)


def ocr(image: Image.Image, path: Path) -> str:
    """tesseract's reading of `image` (flattened onto mid-grey), as one line of text."""
    flat = Image.new("RGB", image.size, (128, 128, 128))
    flat.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    flat.save(path)
    found = subprocess.run(
        ["tesseract", str(path), "-", "--psm", "6"], capture_output=True, text=True, check=True
    )
    return " ".join(found.stdout.split())


def panel_of(card: Card) -> Image.Image:
    with Image.open(card.png) as image:
        return image.crop((card.panel.x, card.panel.y, card.panel.right, card.panel.bottom)).copy()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1_000, "1k"),
        (1_234, "1.2k"),
        (1_999, "1.9k"),
        (12_345, "12.3k"),
        (99_999, "99.9k"),
        (123_456, "123k"),
        (1_234_567, "1.2m"),
        (-1_500, "-1.5k"),
    ],
)
def test_counts_are_abbreviated_like_reddit(value: int, shown: str) -> None:
    assert reddit_count(value) == shown


@pytest.mark.parametrize(
    "byline", [REDDIT, ARTICLE, Byline("other"), None], ids=["reddit", "article", "other", "none"]
)
@pytest.mark.parametrize("title", [TITLE, LONG_TITLE, UNBREAKABLE], ids=["short", "long", "unbreakable"])
def test_hook_card_text_stays_inside_its_panel_in_the_safe_zone(
    tmp_path: Path, byline: Byline | None, title: str
) -> None:
    card = hook_card(title, byline, tmp_path / "hook.png")
    assert (card.width, card.height) == (1080, 1920)
    assert_text_inside_panel(card)
    assert_in_safe_zone(card)
    drawn = " ".join(text.replace("\n", " ") for text in card.texts)
    if title is LONG_TITLE:
        assert ELLIPSIS in drawn  # cut as the last resort, never spilled
    if title is TITLE:
        assert ELLIPSIS not in drawn


def test_short_title_is_drawn_whole_and_large(tmp_path: Path) -> None:
    card = hook_card(TITLE, REDDIT, tmp_path / "hook.png")
    assert " ".join(card.texts[2].split()) == TITLE
    assert card.text_boxes[2].height > 3 * 50  # several lines of a big bold face, not a shrunk one


def test_reddit_card_shows_subreddit_author_and_real_numbers(tmp_path: Path) -> None:
    card = hook_card(TITLE, REDDIT, tmp_path / "reddit.png")
    assert card.texts[:2] == ("r/pettyrevenge", "u/throwaway_4821")
    assert "12.3k" in card.texts and "2.3k" in card.texts
    read = ocr(panel_of(card), tmp_path / "ocr.png")
    assert "r/pettyrevenge" in read, read
    assert "12.3k" in read, read
    assert "u/throwaway_4821" in read, read


def test_reddit_card_without_numbers_or_author_leaves_them_out(tmp_path: Path) -> None:
    card = hook_card(TITLE, Byline("reddit", "r/tifu"), tmp_path / "reddit.png")
    assert card.texts[0] == "r/tifu"  # a site given with its prefix is not doubled
    assert len(card.texts) == 2  # subreddit and title only
    assert_text_inside_panel(card)


def test_article_card_shows_the_source_name(tmp_path: Path) -> None:
    card = hook_card(TITLE, ARTICLE, tmp_path / "article.png")
    read = ocr(panel_of(card), tmp_path / "ocr.png")
    assert "THE DAILY PLANET" in read, read
    assert card.texts[1] == "THE DAILY PLANET" and card.texts[-1] == "By Lois Lane"


def test_other_story_gets_its_title(tmp_path: Path) -> None:
    card = hook_card("The night the lighthouse went dark", Byline("other"), tmp_path / "title.png")
    read = ocr(panel_of(card), tmp_path / "ocr.png")
    assert "lighthouse went" in read, read


def test_fit_text_shrinks_then_wraps_then_ellipsises() -> None:
    roomy = fit_text("Short title", 800, 400, max_size=60, min_size=30)
    assert roomy.size == 60 and roomy.lines == ("Short title",)
    shrunk = fit_text("A somewhat longer title that needs some room", 500, 90, max_size=60, min_size=20)
    assert shrunk.size < 60 and shrunk.height <= 90 and shrunk.width() <= 500
    cut = fit_text("word " * 200, 400, 120, max_size=40, min_size=30)
    assert cut.size == 30 and cut.height <= 120 and cut.lines[-1].endswith(ELLIPSIS)
    assert all(cut.font.getlength(line) <= 400 for line in cut.lines)
    assert fit_text("Wait 😂 what 👨‍👩‍👧", 800, 400, max_size=40, min_size=30).lines == ("Wait what",)


def test_smaller_frames_scale_the_card_and_its_safe_zone(tmp_path: Path) -> None:
    card = hook_card(TITLE, REDDIT, tmp_path / "small.png", width=540, height=960)
    assert (card.width, card.height) == (540, 960)
    assert_text_inside_panel(card)
    assert Box(0, 125, 540 - 60, 960 - 125 - 240).contains(card.panel)


def test_part_badge_is_a_pill_at_the_top_of_the_safe_zone(tmp_path: Path) -> None:
    card = part_badge(2, 3, tmp_path / "part.png")
    assert card.texts == ("Part 2/3",)
    assert_text_inside_panel(card)
    assert_in_safe_zone(card)
    assert card.panel.y < 400 and card.panel.height < 120 and card.panel.width < 400
    assert "Part 2/3" in ocr(
        panel_of(card).resize((card.panel.width * 2, card.panel.height * 2)), tmp_path / "o.png"
    )
    with pytest.raises(ValueError):
        part_badge(4, 3, tmp_path / "bad.png")


def test_end_card_holds_the_call_to_action(tmp_path: Path) -> None:
    cta = "Follow for part three, it gets so much worse."
    card = end_card(cta, tmp_path / "end.png")
    assert " ".join(card.texts[0].split()) == cta
    assert_text_inside_panel(card)
    assert_in_safe_zone(card)
    long = end_card(LONG_TITLE, tmp_path / "end-long.png")
    assert_text_inside_panel(long)
    assert_in_safe_zone(long)


def _noisy_frame(path: Path) -> Path:
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (1920, 1080, 3), dtype=np.uint8)).save(path)
    return path


def test_youtube_thumbnail_is_a_1280x720_jpeg_under_2_mb(tmp_path: Path) -> None:
    card = hook_card(TITLE, REDDIT, tmp_path / "hook.png")
    frame = _noisy_frame(tmp_path / "frame.png")
    out = youtube_thumbnail(card, frame, tmp_path / "thumbs" / "yt.jpg")
    assert out == tmp_path / "thumbs" / "yt.jpg" and out.stat().st_size <= 2 * 1024 * 1024
    assert sorted(p.name for p in out.parent.iterdir()) == ["yt.jpg"]
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (1280, 720))
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    assert pixels[340:380, 600:680].mean() > 200  # the white card in the middle
    assert pixels[:40, :40].mean() < 100  # the blurred, dimmed frame around it
    with Image.open(out) as image:
        read = ocr(image, tmp_path / "ocr.png")
    assert "bought the lot behind his house" in read and "12.3k" in read, read


def test_youtube_thumbnail_from_a_whole_frame(tmp_path: Path) -> None:
    frame = tmp_path / "frame.png"
    Image.new("RGB", (1080, 1920), (250, 250, 250)).save(frame)
    out = youtube_thumbnail(frame, _noisy_frame(tmp_path / "back.png"), tmp_path / "yt.jpg")
    with Image.open(out) as image:
        assert image.size == (1280, 720)
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    assert pixels[:, 640].mean() > 230  # the frame, pillarboxed, full height in the middle
    assert pixels[:, :100].mean() < 100
