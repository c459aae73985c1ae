"""A part's cards as timed overlays: the hook card while the hook is spoken, the badge on multi-part
stories, the call to action for the last two seconds."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pellacia_assets.rendering.finishing import END_CARD_S, part_cards, poster_time
from pellacia_assets.stories.model import Byline


def test_a_middle_part_has_its_hook_card_badge_and_end_card(tmp_path: Path) -> None:
    cards = part_cards(
        tmp_path,
        part=2,
        parts=3,
        title="My neighbour ruined my wedding",
        byline=Byline("reddit", "pettyrevenge", "ines", 12345, 678),
        call_to_action="Follow for Part 3",
        duration_s=30.0,
        hook_end_s=2.4,
    )
    hook, badge, end = cards.overlays
    assert (hook.start_s, hook.end_s, hook.image.name) == (0.0, 2.4, "part-2-hook-cut.png")
    assert 0 < hook.fade_out_s <= 0.8
    assert (badge.start_s, badge.end_s, badge.image.name) == (0.0, 30.0, "part-2-badge-cut.png")
    assert (end.start_s, end.end_s) == (30.0 - END_CARD_S, 30.0)
    assert cards.hook is not None and "r/pettyrevenge" in cards.hook.texts
    panel = cards.hook.panel
    assert (hook.x, hook.y) == (panel.x, panel.y)  # cut to the panel it draws, placed where it was drawn
    with Image.open(hook.image) as cut:
        assert cut.size == (panel.width, panel.height)


def test_a_single_part_without_a_hook_has_no_badge_and_a_short_part_no_end_card(tmp_path: Path) -> None:
    cards = part_cards(
        tmp_path,
        part=1,
        parts=1,
        title="Title",
        byline=None,
        call_to_action="Follow",
        duration_s=2.5,
        hook_end_s=0.0,
    )
    [end] = cards.overlays
    assert cards.hook is None and end.start_s == 0.5
    short = part_cards(
        tmp_path,
        part=1,
        parts=1,
        title="T",
        byline=None,
        call_to_action="Follow",
        duration_s=3.0,
        hook_end_s=2.5,
    )
    assert [overlay.image.name for overlay in short.overlays] == ["part-1-hook-cut.png"]


def test_the_poster_is_taken_while_the_hook_card_shows() -> None:
    assert poster_time(30.0, 2.4) == 1.2
    assert poster_time(30.0, 0.0) == 1.0
    assert poster_time(1.0, 0.0) == 0.5
