"""Per-platform title, caption and hashtags for one part, always within the platform's limits.

A post rejected for a 101-character title or a 281-weighted-character caption fails only at publish time,
long after rendering; building copy that fits by construction (and checking it) moves that failure here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import partial

from pellacia_assets.scripting.errors import PlatformCopyError
from pellacia_assets.scripting.model import PlatformCopy
from pellacia_assets.scripting.speech_text import plain_text
from pellacia_assets.stories.model import Story
from resources.platforms import Platform
from resources.platforms.limits import (
    TITLE_SEPARATOR,
    caption_length,
    hashtag_problem,
    limits_for,
    measure,
    truncate_to_fit,
    validate_copy,
    youtube_tags_length,
)

__all__ = [
    "copy_for",
    "credit_line",
    "delivered_copy",
    "hashtags_for",
    "normalise_hashtag",
    "truncate_to_fit",
]

RECORD_TITLE_MAX = 100  # platforms whose post has no title field: the caption's first line, up to this
MAX_HASHTAG_LENGTH = 40
# Stories retold from someone else's video: every caption names its maker, where it was posted and its URL.
CREDITED_SOURCES = ("link",)

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


def normalise_hashtag(tag: str) -> str | None:
    """ "true crime" -> "#TrueCrime", "café" -> "#Café", "日本語" -> "#日本語": the words' letters, marks and
    digits in any script (what every platform links, `limits.hashtag_problem`), each word capitalised
    and joined; emoji, punctuation and invisible characters dropped. None when no letter is left."""
    text = unicodedata.normalize("NFKC", tag)
    pieces, current = [], []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LM" or category == "Nd":
            current.append(char)
        elif current:
            pieces.append("".join(current))
            current = []
    if current:
        pieces.append("".join(current))
    body = "".join(_capitalised(piece) for piece in pieces)
    if not any(char.isalpha() for char in body) or len(body) > MAX_HASHTAG_LENGTH:
        return None
    return "#" + body


def _capitalised(word: str) -> str:
    """The first letter upper-cased where that keeps it one letter ("ß" stays, scripts without case too)."""
    first = word[:1].upper()
    return (first if len(first) == 1 else word[:1]) + word[1:]


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


def _compose(head: str, lead: str, teaser: str, hashtags: Sequence[str], credit: str = "") -> str:
    """Title (only where the post has no title field), then part lead and teaser, the credit (a retold
    video's source), then the hashtags."""
    blocks = (head, f"{lead}{teaser}".strip(), credit, " ".join(hashtags))
    return TITLE_SEPARATOR.join(block for block in blocks if block)


def _caption_fits(
    platform: Platform,
    head: str,
    lead: str,
    hashtags: Sequence[str],
    teaser_max: int | None,
    credit: str,
    teaser: str,
) -> bool:
    if teaser_max is not None and len(teaser) > teaser_max:
        return False
    caption = _compose(head, lead, teaser, hashtags, credit)
    return caption_length(platform, caption) <= limits_for(platform).caption_max


def _fitted_caption(
    platform: Platform,
    head: str,
    lead: str,
    teaser_source: str,
    hashtags: tuple[str, ...],
    teaser_max: int | None,
    credit: str = "",
) -> tuple[str, tuple[str, ...]]:
    """Shorten the teaser first; drop hashtags from the end only when not one word of teaser fits. The
    credit is never shortened: `_fitting_credit` chose one that fits."""
    while True:
        fits = partial(_caption_fits, platform, head, lead, hashtags, teaser_max, credit)
        teaser = truncate_to_fit(teaser_source, fits)
        if teaser or (not teaser_source and fits("")) or not hashtags:
            return _compose(head, lead, teaser, hashtags, credit), hashtags
        hashtags = hashtags[:-1]


def credit_line(story: Story) -> str:
    """ "Source: <author> on <site>", then the URL on its own line, for a story retold from someone
    else's video (its maker named, never @-mentioned: the handle is theirs on another platform); "" for
    any other story."""
    if story.source_kind not in CREDITED_SOURCES or not story.url:
        return ""
    byline = story.byline
    site = " ".join((byline.site or "").split()) if byline is not None else ""
    author = " ".join((byline.author or "").split()) if byline is not None else ""
    who = f"{author} on {site}" if author and site else author or site
    url = "".join(story.url.split())
    return f"Source: {who}\n{url}" if who else f"Source: {url}"


def _fitting_credit(platform: Platform, head: str, lead: str, credit: str) -> str:
    """`credit` where it fits beside the title and the part lead; its first line alone (no URL) where only
    that fits (an address longer than the whole caption); else nothing."""
    forbidden = limits_for(platform).forbidden_characters
    credit = "".join(char for char in credit if char not in forbidden)
    for candidate in (credit, credit.partition("\n")[0] if "\n" in credit else ""):
        if candidate and _caption_fits(platform, head, lead, (), None, candidate, ""):
            return candidate
    return ""


def _fitted_title(platform: Platform, title: str, suffix: str) -> str:
    """`title` cut between words until it fits with `suffix` (" (Part 2)") on the platform's title field,
    or in the first line of the caption where the post has none."""
    limits = limits_for(platform)
    title_max = limits.title_max if limits.title_max is not None else RECORD_TITLE_MAX
    return (
        truncate_to_fit(title, lambda text: measure(text + suffix, limits.title_unit) <= title_max) + suffix
    )


def copy_for(
    platform: Platform,
    story_title: str,
    part_number: int,
    part_count: int,
    hook: str,
    narration: str,
    story_tags: Sequence[str],
    credit: str = "",
) -> PlatformCopy:
    """Title, caption and hashtags for part `part_number` of `part_count`, fitted to the platform; a
    retold video's `credit` (`credit_line`) is kept whole above the hashtags."""
    limits = limits_for(platform)
    forbidden = limits.forbidden_characters
    suffix = f" (Part {part_number})" if part_count > 1 else ""
    base_title = _one_line(story_title, forbidden) or _one_line(hook, forbidden)
    title = _fitted_title(platform, base_title, suffix)

    # Where the post has no title field, the title would reach no one unless the caption begins with it;
    # `pellacia-dist upload` composes the same way (limits.post_caption), so both paths agree.
    head = title if limits.title_max is None else ""
    lead = f"Part {part_number} of {part_count}. " if part_count > 1 else ""
    teaser_source = _one_line(f"{hook} {narration}", forbidden)
    caption, hashtags = _fitted_caption(
        platform,
        head,
        lead,
        teaser_source,
        hashtags_for(platform, story_tags),
        TEASER_CHARACTERS[platform],
        _fitting_credit(platform, head, lead, credit),
    )
    return _checked(platform, PlatformCopy(title=title, caption=caption, hashtags=hashtags))


def delivered_copy(platform: Platform, title: str, description: str, hashtags: Sequence[str]) -> PlatformCopy:
    """Copy for a finished video delivered with its own words (a phase-05 sidecar, `schedule`): the title
    fitted as a script's is, the description whole where it fits (its paragraphs kept; cut between words
    where it does not), then the hashtags as written, less those the platform does not link or allow."""
    limits = limits_for(platform)
    forbidden = limits.forbidden_characters
    fitted_title = _fitted_title(
        platform, _one_line(title, forbidden) or _one_line(description, forbidden), ""
    )
    body = "".join(char for char in description if char not in forbidden).strip()
    linked = [tag for tag in dict.fromkeys(hashtags) if hashtag_problem(platform, tag) is None]
    tags = tuple(linked[: limits.max_hashtags])
    while (
        limits.tags_total_max is not None
        and youtube_tags_length([t.lstrip("#") for t in tags]) > limits.tags_total_max
    ):
        tags = tags[:-1]
    head = fitted_title if limits.title_max is None else ""
    appended = tuple(tag for tag in tags if tag not in body)
    caption, _ = _fitted_caption(platform, head, "", body, appended, None)
    kept = tuple(tag for tag in tags if tag in caption)
    return _checked(platform, PlatformCopy(title=fitted_title, caption=caption, hashtags=kept))


def _checked(platform: Platform, copy: PlatformCopy) -> PlatformCopy:
    problems = validate_copy(platform, copy.title, copy.caption, copy.hashtags)
    if problems:
        raise PlatformCopyError("; ".join(problems))
    return copy
