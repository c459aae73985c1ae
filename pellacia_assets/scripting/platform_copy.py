"""Per-platform title, caption and hashtags for one part, always within the platform's limits.

A post rejected for a 101-character title or a 281-weighted-character caption fails only at publish time,
long after rendering; building copy that fits by construction (and checking it) moves that failure here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial

from pellacia_assets.scripting.errors import PlatformCopyError
from pellacia_assets.scripting.model import PlatformCopy
from pellacia_assets.scripting.speech_text import plain_text
from resources.platforms import Platform
from resources.platforms.limits import caption_length, limits_for, measure, validate_copy

ELLIPSIS = "…"
RECORD_TITLE_MAX = 100  # for platforms whose post has no title field: the title is only our own label
MAX_HASHTAG_LENGTH = 40
LONG_TOKEN = 20

DEFAULT_HASHTAGS: dict[Platform, tuple[str, ...]] = {
    "youtube": ("shorts", "storytime"),
    "tiktok": ("storytime", "fyp"),
    "instagram": ("reels", "storytime"),
    "facebook": ("reels", "storytime"),
    "x": ("storytime",),
    "linkedin": ("storytelling",),
}
HASHTAG_COUNT: dict[Platform, int] = {
    "youtube": 5,
    "tiktok": 5,
    "instagram": 8,
    "facebook": 5,
    "x": 2,
    "linkedin": 3,
}
TEASER_CHARACTERS: dict[Platform, int] = {
    "youtube": 700,
    "tiktok": 300,
    "instagram": 600,
    "facebook": 600,
    "x": 200,
    "linkedin": 900,
}


def truncate_to_fit(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of `text` that `fits`, cut between words and marked with an ellipsis.

    A "word" longer than LONG_TOKEN (text without spaces, such as Japanese) is cut inside itself rather
    than dropped whole; an empty string comes back when nothing fits.
    """
    if fits(text):
        return text
    tokens = text.split()

    def shortened(count: int) -> str:
        return " ".join(tokens[:count]).rstrip(",;:.!? ") + ELLIPSIS

    count = _largest(len(tokens) - 1, lambda n: fits(shortened(n)))
    following = tokens[count] if count < len(tokens) else ""
    if count > 0 and len(following) <= LONG_TOKEN:
        return shortened(count)
    kept = " ".join(tokens[:count])
    joiner = " " if kept else ""
    length = _largest(len(following) - 1, lambda n: fits(kept + joiner + following[:n] + ELLIPSIS))
    if length > 0:
        return kept + joiner + following[:length] + ELLIPSIS
    return shortened(count) if count > 0 else ""


def _largest(upper: int, ok: Callable[[int], bool]) -> int:
    """The largest n in 1..upper with ok(n), assuming ok is monotone; 0 when there is none."""
    low, high = 0, upper
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def normalise_hashtag(tag: str) -> str | None:
    """ "true crime" -> "#TrueCrime": ASCII letters and digits only; None when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", tag).encode("ascii", "ignore").decode("ascii")
    pieces = re.findall(r"[A-Za-z0-9]+", ascii_text)
    body = "".join(piece[0].upper() + piece[1:] for piece in pieces)
    if not body or body.isdigit() or len(body) > MAX_HASHTAG_LENGTH:
        return None
    return "#" + body


def hashtags_for(platform: Platform, story_tags: Sequence[str]) -> tuple[str, ...]:
    """The platform's lead tag (#Shorts on YouTube), the story's tags, then the other defaults; deduped."""
    defaults = DEFAULT_HASHTAGS[platform]
    chosen: list[str] = []
    seen: set[str] = set()
    for candidate in (*defaults[:1], *story_tags, *defaults[1:]):
        tag = normalise_hashtag(candidate)
        if tag is not None and tag.lower() not in seen:
            seen.add(tag.lower())
            chosen.append(tag)
    return tuple(chosen[: HASHTAG_COUNT[platform]])


def _one_line(text: str, forbidden: str) -> str:
    cleaned = "".join(char for char in plain_text(text) if char not in forbidden)
    return " ".join(cleaned.split())


def _compose(lead: str, teaser: str, hashtags: Sequence[str]) -> str:
    return "\n\n".join(block for block in (f"{lead}{teaser}".strip(), " ".join(hashtags)) if block)


def _caption_fits(platform: Platform, lead: str, hashtags: Sequence[str], teaser: str) -> bool:
    caption = _compose(lead, teaser, hashtags)
    return (
        len(teaser) <= TEASER_CHARACTERS[platform]
        and caption_length(platform, caption) <= limits_for(platform).caption_max
    )


def _fitted_caption(
    platform: Platform, lead: str, teaser_source: str, hashtags: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """Shorten the teaser first; drop hashtags from the end only when not one word of teaser fits."""
    while True:
        teaser = truncate_to_fit(teaser_source, partial(_caption_fits, platform, lead, hashtags))
        if teaser or not hashtags:
            return _compose(lead, teaser, hashtags), hashtags
        hashtags = hashtags[:-1]


def copy_for(
    platform: Platform,
    story_title: str,
    part_number: int,
    part_count: int,
    hook: str,
    narration: str,
    story_tags: Sequence[str],
) -> PlatformCopy:
    """Title, caption and hashtags for part `part_number` of `part_count`, fitted to the platform."""
    limits = limits_for(platform)
    forbidden = limits.forbidden_characters
    suffix = f" (Part {part_number})" if part_count > 1 else ""
    title_max = limits.title_max if limits.title_max is not None else RECORD_TITLE_MAX
    base_title = _one_line(story_title, forbidden) or _one_line(hook, forbidden)
    title = truncate_to_fit(base_title, lambda text: measure(text + suffix, limits.title_unit) <= title_max)
    title += suffix

    lead = f"Part {part_number} of {part_count}. " if part_count > 1 else ""
    teaser_source = _one_line(f"{hook} {narration}", forbidden)
    caption, hashtags = _fitted_caption(platform, lead, teaser_source, hashtags_for(platform, story_tags))
    copy = PlatformCopy(title=title, caption=caption, hashtags=hashtags)
    problems = validate_copy(platform, copy.title, copy.caption, copy.hashtags)
    if problems:
        raise PlatformCopyError("; ".join(problems))
    return copy
