"""The marker that lets a browser upload find its own post again, and caption matching for the rest.

A browser that dies after clicking Post leaves no post id behind; the profile page is the only place to
look. So a short random marker is journaled before the click and written into the caption: invisibly
(zero-width characters, the default) or visibly (" (ref 1a2b3c4d)"). Reconciling looks for the marker
first; a post without any marker (posted through the API, or by a platform that strips zero-width
characters) is matched by its caption text instead, which errs on the side of "already posted".
"""

from __future__ import annotations

import re
import secrets

ZERO, ONE, EDGE = "\u200b", "\u200c", "\u2060"  # zero-width space, non-joiner; word joiner around them
_INVISIBLE = re.compile(f"{EDGE}([{ZERO}{ONE}]{{32}}){EDGE}")
_VISIBLE = re.compile(r"\(ref ([0-9a-f]{8})\)")
_IGNORED = dict.fromkeys(map(ord, f"{ZERO}{ONE}{EDGE}\u200d\ufeff"), None)


def new_marker() -> str:
    """Eight hex digits: 32 random bits, so two posts of one account never share one."""
    return secrets.token_hex(4)


def with_marker(caption: str, marker: str, style: str = "invisible") -> str:
    """`caption` carrying `marker` at its end."""
    if style == "visible":
        return f"{caption} (ref {marker})"
    bits = format(int(marker, 16), "032b")
    return caption + EDGE + "".join(ONE if bit == "1" else ZERO for bit in bits) + EDGE


def markers_in(text: str) -> set[str]:
    """Every marker (either style) that `text` carries."""
    found = {
        format(int(bits.translate({ord(ZERO): "0", ord(ONE): "1"}), 2), "08x")
        for bits in _INVISIBLE.findall(text)
    }
    return found | set(_VISIBLE.findall(text))


def plain(text: str) -> str:
    """`text` without markers or zero-width characters, its white space collapsed, case folded."""
    text = _VISIBLE.sub(" ", text).translate(_IGNORED)
    return " ".join(text.replace("\xa0", " ").split()).casefold()


def same_caption(shown: str, caption: str) -> bool:
    """Whether a page showing `shown` (a tile's alt text holds more than the caption) shows `caption`."""
    wanted = plain(caption)
    return bool(wanted) and wanted in plain(shown)


def collapsed(text: str) -> str:
    """White space collapsed (a contenteditable turns spaces into no-break spaces), nothing removed."""
    return " ".join(text.replace("\xa0", " ").split())
