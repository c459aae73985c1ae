"""Each platform's metadata limits, and each platform's own way of measuring text against them.

Pure code (no Dagster): the script writer uses it to make copy that fits, the publishing clients and the
asset checks use it to refuse copy that would be rejected. Sources and certainty tags ([V] verified,
[S] secondary, [U] unverified) refer to docs/reference/platform_protocols.md. Where a platform does not
document a limit, or does not say what a "character" is, the stricter reading is taken: "characters" are
counted as UTF-16 code units, which are never fewer than code points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from resources.platforms import PLATFORMS, Platform, UnknownPlatformError

LengthUnit = Literal["characters", "bytes", "utf16", "weighted"]
_UNIT_NAMES: dict[LengthUnit, str] = {
    "characters": "characters",
    "bytes": "UTF-8 bytes",
    "utf16": "UTF-16 code units",
    "weighted": "weighted characters",
}


@dataclass(frozen=True)
class PlatformLimits:
    """What one platform accepts as post metadata. `title_max` is None where the post has no title field."""

    platform: Platform
    title_max: int | None
    title_unit: LengthUnit
    caption_max: int
    caption_unit: LengthUnit
    max_hashtags: int | None
    max_mentions: int | None
    tags_total_max: int | None
    forbidden_characters: str
    source: str


LIMITS: dict[Platform, PlatformLimits] = {
    "youtube": PlatformLimits(
        platform="youtube",
        title_max=100,
        title_unit="characters",
        caption_max=5000,
        caption_unit="bytes",
        max_hashtags=None,
        max_mentions=None,
        tags_total_max=500,
        forbidden_characters="<>",
        source="snippet.title <=100 chars, description <=5000 bytes, no < >, tags <=500 chars [S] "
        "(section 2.5)",
    ),
    "tiktok": PlatformLimits(
        platform="tiktok",
        title_max=None,
        title_unit="utf16",
        caption_max=2200,
        caption_unit="utf16",
        max_hashtags=None,
        max_mentions=None,
        tags_total_max=None,
        forbidden_characters="",
        source="post_info.title is the caption: <=2200 UTF-16 runes [V] (sections 3.2, 3.4)",
    ),
    "instagram": PlatformLimits(
        platform="instagram",
        title_max=None,
        title_unit="characters",
        caption_max=2200,
        caption_unit="characters",
        max_hashtags=30,
        max_mentions=20,
        tags_total_max=None,
        forbidden_characters="",
        source='caption: "Maximum 2200 characters, 30 hashtags, and 20 @ tags." [S] (section 4.3)',
    ),
    "facebook": PlatformLimits(
        platform="facebook",
        title_max=100,
        title_unit="characters",
        caption_max=2200,
        caption_unit="characters",
        max_hashtags=30,
        max_mentions=None,
        tags_total_max=None,
        forbidden_characters="",
        source="Reels title/description limits are undocumented [U] (section 5.4): conservative choice of "
        "YouTube's 100-character title and Instagram's 2200-character caption and 30 hashtags, since "
        "the same Reel is cross-posted there",
    ),
    "x": PlatformLimits(
        platform="x",
        title_max=None,
        title_unit="weighted",
        caption_max=280,
        caption_unit="weighted",
        max_hashtags=None,
        max_mentions=None,
        tags_total_max=None,
        forbidden_characters="",
        source="post text <=280 weighted characters, URLs count 23 (twitter-text v3 weighting) [V] "
        "(section 6.4)",
    ),
    "linkedin": PlatformLimits(
        platform="linkedin",
        title_max=100,
        title_unit="characters",
        caption_max=3000,
        caption_unit="characters",
        max_hashtags=None,
        max_mentions=None,
        tags_total_max=None,
        forbidden_characters="",
        source="commentary <=3000 chars [S], measured after little-text escaping [U]; content.media.title "
        "limit undocumented [U]: conservative 100 characters (section 7.3)",
    ),
}


def limits_for(platform: str) -> PlatformLimits:
    if platform not in LIMITS:
        raise UnknownPlatformError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    return LIMITS[platform]


# --- Measuring -----------------------------------------------------------------------------------------


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


X_URL_WEIGHT = 23
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_PICTOGRAPH = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u2190-\u21ff\u25a0-\u25ff"
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299]"
)
_MODIFIERS = "[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]*"
_X_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+)"
    r"|(?P<domain>\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?:/\S*)?)"
    r"|(?P<emoji>[\U0001f1e6-\U0001f1ff]{2}|[0-9#*]\ufe0f?\u20e3|"
    + _PICTOGRAPH
    + _MODIFIERS
    + r"(?:\u200d"
    + _PICTOGRAPH
    + _MODIFIERS
    + r")*)",
    re.IGNORECASE,
)


def _x_code_point_weight(text: str) -> int:
    return sum(1 if any(low <= ord(char) <= high for low, high in _X_LIGHT_RANGES) else 2 for char in text)


def x_weighted_length(text: str) -> int:
    """X's length: NFC code points weigh 1 in the Latin-ish ranges and 2 elsewhere; an emoji 2; a URL 23.

    A bare domain ("example.com") counts as the larger of 23 and its own weight, because X links only
    domains on its TLD list: either way the text fits.
    """
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for match in _X_TOKEN.finditer(text):
        total += _x_code_point_weight(text[position : match.start()])
        if match.group("url"):
            total += X_URL_WEIGHT
        elif match.group("domain"):
            total += max(X_URL_WEIGHT, _x_code_point_weight(match.group(0)))
        else:
            total += 2
        position = match.end()
    return total + _x_code_point_weight(text[position:])


_LITTLE_TEXT_RESERVED = re.compile(r"[|{}@\[\]()<>\\*_~]|#(?!\w)|(?<=\w)#")  # \w: "#日本語" stays a hashtag


def escape_little_text(text: str) -> str:
    """LinkedIn commentary in "little text": reserved characters escaped, but hashtags stay plain #tag."""
    return _LITTLE_TEXT_RESERVED.sub(lambda match: "\\" + match.group(0), text)


def measure(text: str, unit: LengthUnit) -> int:
    if unit == "bytes":
        return utf8_length(text)
    if unit == "weighted":
        return x_weighted_length(text)
    return utf16_length(text)


def caption_length(platform: str, caption: str) -> int:
    """The caption's length as the platform counts it (LinkedIn: after little-text escaping)."""
    limits = limits_for(platform)
    text = escape_little_text(caption) if limits.platform == "linkedin" else caption
    return measure(text, limits.caption_unit)


# --- Captions -----------------------------------------------------------------------------------------

ELLIPSIS = "…"
LONG_TOKEN = 20
_LINK = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)
TITLE_SEPARATOR = "\n\n"


def truncate_to_fit(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of `text` that `fits`, cut between words and marked with an ellipsis.

    A "word" longer than LONG_TOKEN (text without spaces, such as Japanese) is cut inside itself rather
    than dropped whole, unless it is a link (a cut link leads nowhere); an empty string comes back when
    nothing fits.
    """
    if fits(text):
        return text
    tokens = text.split()

    def shortened(count: int) -> str:
        return " ".join(tokens[:count]).rstrip(",;:.!? ") + ELLIPSIS

    count = _largest(len(tokens) - 1, lambda n: fits(shortened(n)))
    following = tokens[count] if count < len(tokens) else ""
    if count > 0 and (len(following) <= LONG_TOKEN or _LINK.match(following)):
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


def post_caption(platform: str, title: str, description: str, hashtags: Sequence[str]) -> str:
    """The caption (post text) `platform` shows: the description, then the hashtags it lacks.

    Where the post has no title field (`title_max` is None: TikTok, Instagram, X) the caption begins with
    the title, unless the description already does (copy written for the platform), and the description is
    trimmed, between words and with an ellipsis, until the whole fits the platform's own measure; the
    title and the hashtags are never cut (if they alone are too long, the checks refuse the post).
    """
    limits = limits_for(platform)
    body = description.strip()
    head = title.strip() if limits.title_max is None else ""
    if head and body.startswith(head):
        head = ""

    def compose(text: str) -> str:
        missing = " ".join(tag for tag in hashtags if tag not in text)
        words = " ".join(part for part in (text, missing) if part)
        return TITLE_SEPARATOR.join(part for part in (head, words) if part)

    def fits(text: str) -> bool:
        return caption_length(platform, compose(text)) <= limits.caption_max

    if limits.title_max is not None or fits(body):
        return compose(body)
    return compose(truncate_to_fit(body, fits))


def youtube_tags_length(tags: Sequence[str]) -> int:
    """YouTube's tag budget: commas between tags count, and a tag with a space counts as if quoted."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(len(tags) - 1, 0)


_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")

# --- Hashtags ------------------------------------------------------------------------------------------
# What makes a hashtag, on all six: "#" then letters of any script (Unicode categories L*), combining
# marks (M*: accents, Indic vowel signs), decimal digits (Nd) and "_", with at least one letter; it ends
# at the first space or punctuation. "#café" and "#日本語" are hashtags everywhere [S: twitter-text's
# hashtag rule (\p{L}\p{M}\p{Nd}_, one \p{L}\p{M} at least); the others link such tags in their apps, no
# platform documents an ASCII-only rule]. Refused: spaces and punctuation (the tag would end there),
# symbols, control and invisible format characters: bidirectional controls (U+202A-202E, U+2066-2069,
# U+200E/F) can make a tag display as another, zero-width characters (U+200B-200D, U+2060, U+FEFF) make
# two tags that look the same differ. Emoji: only Instagram links a hashtag with emoji in it [U: observed
# in the app, not in its API reference]; elsewhere the tag would end at the emoji.
HASHTAG_EMOJI_PLATFORMS: frozenset[Platform] = frozenset({"instagram"})
_EMOJI_IN_TAG = re.compile(
    r"(?:[\U0001f1e6-\U0001f1ff]{2}|"
    + _PICTOGRAPH
    + _MODIFIERS
    + r"(?:\u200d"
    + _PICTOGRAPH
    + _MODIFIERS
    + r")*)"
)
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")


def hashtag_problem(platform: str, tag: str) -> str | None:
    """Why `tag` is not one hashtag that `platform` links, in words; None when it is one."""
    if not tag.startswith("#") or tag.startswith("##"):
        return "does not start with a single #"
    body = unicodedata.normalize("NFC", tag[1:])
    if not body:
        return "is only a #"
    emoji_allowed = platform in HASHTAG_EMOJI_PLATFORMS
    letters, position = 0, 0
    while position < len(body):
        emoji = _EMOJI_IN_TAG.match(body, position) if emoji_allowed else None
        if emoji is not None and emoji.end() > position:
            letters, position = letters + 1, emoji.end()
            continue
        char = body[position]
        category = unicodedata.category(char)
        if category[0] in "LM" or category == "Nd" or char == "_":
            letters += category[0] == "L"
            position += 1
            continue
        return f"contains {_describe(char, category, platform)}"
    if letters == 0:
        return "has no letter (a tag of digits alone is not linked)"
    return None


def _describe(char: str, category: str, platform: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in _BIDI_CONTROLS:
        return f"a bidirectional control character ({code})"
    if char in _ZERO_WIDTH:
        return f"a zero-width character ({code})"
    if category == "Cf":
        return f"an invisible formatting character ({code})"
    if category[0] == "C":
        return f"a control character ({code})"
    if category[0] == "Z" or char.isspace():
        return "a space (a hashtag is one word)"
    if _EMOJI_IN_TAG.match(char) or category == "So":
        return f"the emoji or symbol {char!r}, which {platform} does not link in hashtags"
    return f"{char!r}, where the tag would end"


def count_hashtags(text: str) -> int:
    return len(_HASHTAG.findall(text))


def count_mentions(text: str) -> int:
    return len(_MENTION.findall(text))


def validate_copy(platform: str, title: str, caption: str, hashtags: Sequence[str]) -> list[str]:
    """Every way this copy breaks the platform's limits, in words; an empty list when it is valid."""
    limits = limits_for(platform)
    problems: list[str] = []
    if not title.strip():
        problems.append(f"{platform}: the title is empty")
    if limits.title_max is not None:
        length = measure(title, limits.title_unit)
        if length > limits.title_max:
            problems.append(
                f"{platform}: the title is {length} {_UNIT_NAMES[limits.title_unit]} long; "
                f"the limit is {limits.title_max}"
            )
    length = caption_length(platform, caption)
    if length > limits.caption_max:
        problems.append(
            f"{platform}: the caption is {length} {_UNIT_NAMES[limits.caption_unit]} long; "
            f"the limit is {limits.caption_max}"
        )
    for field, text in (("title", title), ("caption", caption)):
        bad = sorted({char for char in text if char in limits.forbidden_characters})
        if bad:
            problems.append(f"{platform}: the {field} contains forbidden characters {' '.join(bad)}")
    hashtag_count = max(len(hashtags), count_hashtags(caption))
    if limits.max_hashtags is not None and hashtag_count > limits.max_hashtags:
        problems.append(f"{platform}: {hashtag_count} hashtags; the limit is {limits.max_hashtags}")
    mention_count = count_mentions(caption)
    if limits.max_mentions is not None and mention_count > limits.max_mentions:
        problems.append(f"{platform}: {mention_count} @mentions; the limit is {limits.max_mentions}")
    if limits.tags_total_max is not None:
        tags_length = youtube_tags_length([tag.lstrip("#") for tag in hashtags])
        if tags_length > limits.tags_total_max:
            problems.append(
                f"{platform}: the tags take {tags_length} characters; the limit is {limits.tags_total_max}"
            )
    for tag in hashtags:
        problem = hashtag_problem(platform, tag)
        if problem is not None:
            problems.append(f"{platform}: hashtag {tag!r} is not a single #word: it {problem}")
    return problems
