"""A part's cards as overlays of its one filter graph: the hook card while the hook is spoken, the
"Part N/M" badge on multi-part stories, and the call to action for the last seconds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pellacia_assets.manifests import part_card_name
from pellacia_assets.rendering.cards import BylineLike, Card, end_card, hook_card, part_badge
from pellacia_assets.rendering.compose import Overlay

END_CARD_S = 2.0
HOOK_FADE_S = 0.35


@dataclass(frozen=True)
class PartCards:
    """The overlays to composite, and the hook card (the poster and the thumbnail show it)."""

    overlays: tuple[Overlay, ...]
    hook: Card | None
    cards: tuple[Card, ...]


def part_cards(
    folder: Path,
    *,
    part: int,
    parts: int,
    title: str,
    byline: BylineLike | None,
    call_to_action: str,
    duration_s: float,
    hook_end_s: float,
    width: int = 1080,
    height: int = 1920,
) -> PartCards:
    """Draw the part's cards into `folder` and time them: the hook card from 0 to `hook_end_s`, fading
    out; the badge throughout when there is more than one part; the end card over the last `END_CARD_S`
    seconds, once the hook card is gone."""
    overlays: list[Overlay] = []
    cards: list[Card] = []
    hook = None
    size = {"width": width, "height": height}
    if hook_end_s > 0 and title.strip():
        hook = hook_card(title, byline, folder / part_card_name(part, "hook"), **size)
        overlays.append(_overlay(hook, folder, 0.0, hook_end_s, min(HOOK_FADE_S, hook_end_s / 3)))
        cards.append(hook)
    if parts > 1:
        badge = part_badge(part, parts, folder / part_card_name(part, "badge"), **size)
        overlays.append(_overlay(badge, folder, 0.0, duration_s))
        cards.append(badge)
    end_start = max(hook_end_s, duration_s - END_CARD_S)
    if call_to_action.strip() and duration_s - end_start >= END_CARD_S / 2:
        end = end_card(call_to_action, folder / part_card_name(part, "end"), **size)
        overlays.append(_overlay(end, folder, end_start, duration_s))
        cards.append(end)
    return PartCards(tuple(overlays), hook, tuple(cards))


def _overlay(card: Card, folder: Path, start_s: float, end_s: float, fade_out_s: float = 0.0) -> Overlay:
    """The card cut to what it draws (a full-frame PNG would make ffmpeg blend every pixel of every frame
    it is on), placed where it was drawn; the full-frame PNG stays for the poster and the thumbnail."""
    with Image.open(card.png) as image:
        box = image.getchannel("A").getbbox() or (0, 0, 1, 1)
        cut = folder / card.png.name.replace(".png", "-cut.png")
        image.crop(box).save(cut)
    return Overlay(cut, box[0], box[1], start_s, end_s, fade_out_s)


def poster_time(duration_s: float, hook_end_s: float) -> float:
    """When the poster frame is taken: while the hook card shows (the genre's thumbnail), else at 1 s."""
    if hook_end_s > 0:
        return min(hook_end_s / 2, duration_s / 2)
    return min(1.0, duration_s / 2)
