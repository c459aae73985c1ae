"""Turn Markdown/Reddit text into what a TTS voice should read, and into plain text for captions.

TTS voices read symbols literally or not at all: "$1,200" becomes "dollar one comma two hundred", a URL
becomes a minute of letters, and emoji are skipped or named. The captions are built from the script's own
words, so the script must already say things exactly the way the voice will speak them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from num2words import num2words

# --- Markdown, HTML, URLs -------------------------------------------------------------------------------

_ESCAPABLE = "\\`*_{}[]()#+-.!>~|"
_PLACEHOLDER_BASE = 0xE000  # private-use code points stand in for backslash-escaped characters


def _protect_escapes(text: str) -> str:
    return re.sub(
        r"\\([" + re.escape(_ESCAPABLE) + r"])",
        lambda m: chr(_PLACEHOLDER_BASE + _ESCAPABLE.index(m.group(1))),
        text,
    )


def _restore_escapes(text: str) -> str:
    for index, char in enumerate(_ESCAPABLE):
        text = text.replace(chr(_PLACEHOLDER_BASE + index), char)
    return text


_FENCED_CODE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[^\n]*$", re.MULTILINE | re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_REFERENCE_DEFINITION = re.compile(r"^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE)

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_INLINE_CODE = re.compile(r"`+([^`]+?)`+")
_SPOILER = re.compile(r">!(.+?)!<")
_STRONG_EMPHASIS = re.compile(r"(\*\*\*|___)(?=\S)(.+?)(?<=\S)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(.+?)~~")
_SUPERSCRIPT = re.compile(r"\^\(([^)]*)\)|\^(?=\S)")

_URL_TAIL = r"(?=[.,!?;:'\")\]]*(?:\s|$))"
_URL = re.compile(r"<?(?:(?:https?|ftp)://|www\.)\S+?" + _URL_TAIL + r">?", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"\b([a-z0-9-]+(?:\.[a-z0-9-]+)*)\.(com|org|net|io|co|uk|gov|edu|ly|me|tv|app|dev|ai)"
    r"(/\S*?)?" + _URL_TAIL,
    re.IGNORECASE,
)
_SUBREDDIT = re.compile(r"(?<![\w/])/?([ru])/([A-Za-z0-9_]+)")
_EMPTY_BRACKETS = re.compile(r"\(\s*[,.;:]?\s*\)|\[\s*\]")

_TERMINAL = re.compile(r"[.!?…:;][\"')\]]*$")


def _strip_block(line: str) -> tuple[str, bool]:
    """Remove one line's block markup; the flag says the line is its own unit (heading, item, row)."""
    if _RULE.match(line) or _TABLE_SEPARATOR.match(line):
        return "", False
    heading = _HEADING.match(line)
    if heading:
        return heading.group(1), True
    line = _QUOTE.sub("", line)
    item = _LIST_ITEM.match(line)
    if item:
        return line[item.end() :], True
    if line.strip().startswith("|") and line.strip().endswith("|"):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        return ", ".join(cell for cell in cells if cell), True
    return line, False


def _strip_inline(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _SPOILER.sub(r"\1", text)
    for pattern in (_STRONG_EMPHASIS, _STRONG):
        text = pattern.sub(r"\2", text)
    for pattern in (_EMPHASIS_STAR, _EMPHASIS_UNDERSCORE, _STRIKE):
        text = pattern.sub(r"\1", text)
    return _SUPERSCRIPT.sub(lambda m: m.group(1) or "", text)


def _starts_sentence(line: str) -> bool:
    first = next((char for char in line if char.isalnum()), "")
    return first.isupper() or first.isdigit()


def _join_lines(lines: list[tuple[str, bool]]) -> str:
    """Join lines into running text; each paragraph, heading and list item but the last ends a sentence."""
    pieces: list[str] = []
    for index, (line, is_unit) in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if index + 1 == len(lines):
            pieces.append(stripped)
            break
        following, following_is_unit = lines[index + 1]
        ends_unit = is_unit or following_is_unit or not following.strip() or _starts_sentence(following)
        if ends_unit and not _TERMINAL.search(stripped) and any(char.isalnum() for char in stripped):
            stripped += "."
        pieces.append(stripped)
    return " ".join(pieces)


def _speak_domain(match: re.Match[str]) -> str:
    if match.group(3):
        return ""
    return f"{match.group(1).replace('.', ' dot ')} dot {match.group(2).lower()}"


def plain_text(text: str) -> str:
    """Markdown/HTML/Reddit text as one line of plain prose: no markup, no URLs; numbers and emoji kept."""
    text = html.unescape(html.unescape(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = _protect_escapes(text)
    text = _FENCED_CODE.sub("\n", text)
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    text = _REFERENCE_DEFINITION.sub("", text)
    lines = [_strip_block(line) for line in text.split("\n")]
    lines = [(_strip_inline(line), is_unit) for line, is_unit in lines]
    text = _join_lines(lines)
    text = _URL.sub("", text)
    text = _SUBREDDIT.sub(r"\1 slash \2", text)
    text = _EMPTY_BRACKETS.sub("", text)
    text = _restore_escapes(text)
    return _tidy(text)


# --- Emoji and pictographs -----------------------------------------------------------------------------

_PICTOGRAPHS = re.compile(
    "["
    "\U0001f000-\U0001faff"  # mahjong ... symbols & pictographs extended-A, flags, skin tones
    "\u2600-\u27bf"  # miscellaneous symbols, dingbats
    "\u2300-\u23ff"  # miscellaneous technical (watch, hourglass, alarm clock)
    "\u2b00-\u2bff"  # arrows, stars, squares
    "\u2190-\u21ff"  # arrows
    "\u25a0-\u25ff"  # geometric shapes
    "\u2122\u2139\u3030\u303d\u3297\u3299\u00a9\u00ae"
    "\u200b-\u200d\u2060\ufeff"  # zero-width space/joiners
    "\ufe00-\ufe0f"  # variation selectors
    "\u20e3"  # combining keycap
    "\U000e0020-\U000e007f"  # emoji tag sequences
    "]+"
)
_EMOTICON = re.compile(r"(?<![:\d])(?:[:;=]-?[)(DPpO/\\|]+|xD|XD|<3)(?![\w])")


def remove_pictographs(text: str) -> str:
    """Drop emoji (with their joiners, variation selectors and modifiers) and text emoticons."""
    return _EMOTICON.sub(" ", _PICTOGRAPHS.sub(" ", text))


def _alternatives(table: Iterable[str]) -> str:
    """A regex alternation of the table's keys, longest first so "BFF" wins over "BF"."""
    return "|".join(re.escape(key) for key in sorted(table, key=len, reverse=True))


# --- Abbreviations and Reddit acronyms -----------------------------------------------------------------

_ACRONYMS: dict[str, str] = {
    "TIFU": "Today I messed up",
    "TIL": "Today I learned",
    "AITA": "Am I the a-hole",
    "WIBTA": "Would I be the a-hole",
    "NTA": "Not the a-hole",
    "YTA": "You're the a-hole",
    "ESH": "Everyone sucks here",
    "IMO": "in my opinion",
    "IMHO": "in my humble opinion",
    "TBH": "to be honest",
    "TBF": "to be fair",
    "NGL": "not gonna lie",
    "IIRC": "if I remember correctly",
    "AFAIK": "as far as I know",
    "FWIW": "for what it's worth",
    "IRL": "in real life",
    "FYI": "for your information",
    "ASAP": "as soon as possible",
    "OMG": "oh my god",
    "WTF": "what the heck",
    "PSA": "public service announcement",
    "LPT": "life pro tip",
    "ELI5": "explain like I'm five",
    "BF": "boyfriend",
    "GF": "girlfriend",
    "BFF": "best friend",
    "MIL": "mother-in-law",
    "FIL": "father-in-law",
    "SIL": "sister-in-law",
    "BIL": "brother-in-law",
    "OP": "the original poster",
}
_ACRONYM = re.compile(r"(?<![\w'])(?:[Tt]he\s+)?(" + _alternatives(_ACRONYMS) + r")\b")
_TLDR = re.compile(r"\btl\s*;?\s*dr\b:?", re.IGNORECASE)

_NAME_TITLES: dict[str, str] = {
    "Dr": "Doctor",
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Prof": "Professor",
    "Mt": "Mount",
}
_NAME_TITLE = re.compile(r"\b(" + "|".join(_NAME_TITLES) + r")\.(?=\s)")
_SAINT_OR_STREET = re.compile(r"(\b\w+\s+)?\bSt\.(?=\s+(\w)?)")
_SUFFIX_ABBREVIATIONS: dict[str, str] = {
    "etc": "et cetera",
    "Jr": "Junior",
    "Sr": "Senior",
    "Ave": "Avenue",
    "approx": "approximately",
    "vs": "versus",
}
_SUFFIX_ABBREVIATION = re.compile(r"\b(" + "|".join(_SUFFIX_ABBREVIATIONS) + r")\.(\s+(?=[A-Z])|\s*$)?")
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\be\.g\.,?", re.IGNORECASE), "for example,"),
    (re.compile(r"\bi\.e\.,?", re.IGNORECASE), "that is,"),
    (re.compile(r"\ba\.k\.a\.?", re.IGNORECASE), "also known as"),
    (re.compile(r"\bvs\b(?!\.)", re.IGNORECASE), "versus"),
    (re.compile(r"\bw/o\b", re.IGNORECASE), "without"),
    (re.compile(r"\bw/(?=\s)", re.IGNORECASE), "with"),
    (re.compile(r"\bb/c\b", re.IGNORECASE), "because"),
    (re.compile(r"\bNo\.(?=\s*\d)"), "number"),
)


def _expand_acronym(match: re.Match[str]) -> str:
    """Expand an acronym, capitalised at a sentence start ("the OP" never gives "the the original poster")."""
    expansion = _ACRONYMS[match.group(1)]
    prefix = match.group(0)[: match.start(1) - match.start(0)]
    if prefix and expansion.startswith("the "):
        return prefix[0] + expansion[1:]
    before = match.string[: match.start()].rstrip()
    if not prefix and (not before or before[-1] in ".!?"):
        expansion = expansion[0].upper() + expansion[1:]
    return prefix + expansion


def _expand_saint_or_street(match: re.Match[str]) -> str:
    before = match.group(1) or ""
    next_initial = match.group(2) or ""
    follows_name = next_initial[:1].isupper()
    after_name = before.strip()[:1].isupper() or before.strip()[:1].isdigit()
    word = "Street" if after_name and not follows_name else "Saint"
    return f"{before}{word}"


def _expand_suffix_abbreviation(match: re.Match[str]) -> str:
    sentence_end = match.group(2) is not None
    expansion = _SUFFIX_ABBREVIATIONS[match.group(1)]
    return expansion + ("." + (match.group(2) or "") if sentence_end else "")


def expand_abbreviations(text: str) -> str:
    """Spell out abbreviations and Reddit acronyms the way a narrator says them."""
    text = _TLDR.sub("Too long, didn't read:", text)
    text = _ACRONYM.sub(_expand_acronym, text)
    text = _NAME_TITLE.sub(lambda m: _NAME_TITLES[m.group(1)], text)
    text = _SAINT_OR_STREET.sub(_expand_saint_or_street, text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return _SUFFIX_ABBREVIATION.sub(_expand_suffix_abbreviation, text)


# --- Numbers -------------------------------------------------------------------------------------------


def _clean_words(spoken: str) -> str:
    return spoken.replace(",", "")


def cardinal(number: int) -> str:
    """An integer in words; very long digit strings (ids, phone numbers) are read digit by digit."""
    if abs(number) >= 10**15:
        return " ".join(_clean_words(num2words(int(digit))) for digit in str(abs(number)))
    return _clean_words(num2words(number))


def _number(text: str) -> str:
    """A written number ("1,200", "3.05", "7") in words."""
    text = text.replace(",", "")
    whole, _, fraction = text.partition(".")
    spoken = cardinal(int(whole or "0"))
    if fraction:
        spoken += " point " + " ".join(cardinal(int(digit)) for digit in fraction)
    return spoken


def _year(year: int) -> str:
    return _clean_words(num2words(year, to="year"))


def _plural_number_word(spoken: str) -> str:
    return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"


@dataclass(frozen=True)
class _Currency:
    unit: str
    units: str
    subunit: str
    subunits: str


_CURRENCIES: dict[str, _Currency] = {
    "$": _Currency("dollar", "dollars", "cent", "cents"),
    "USD": _Currency("dollar", "dollars", "cent", "cents"),
    "£": _Currency("pound", "pounds", "penny", "pence"),
    "GBP": _Currency("pound", "pounds", "penny", "pence"),
    "€": _Currency("euro", "euros", "cent", "cents"),
    "EUR": _Currency("euro", "euros", "cent", "cents"),
}
_MULTIPLIERS: dict[str, str] = {
    "k": "thousand",
    "K": "thousand",
    "m": "million",
    "M": "million",
    "mn": "million",
    "b": "billion",
    "B": "billion",
    "bn": "billion",
}
_AMOUNT = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
_SCALE = r"(?:\s?(k|K|mn|m|M|bn|b|B)\b|\s+(thousand|million|billion|trillion)\b)?"
_MONEY_BEFORE = re.compile(r"([$£€])\s?" + _AMOUNT + _SCALE)
_MONEY_AFTER = re.compile(_AMOUNT + r"\s?(USD|EUR|GBP)\b")


def _money(whole: str, fraction: str | None, scale: str | None, currency: _Currency) -> str:
    amount = whole + (f".{fraction}" if fraction else "")
    if scale:
        return f"{_number(amount)} {scale} {currency.units}"
    if fraction and len(fraction) > 2:
        return f"{_number(amount)} {currency.units}"
    units = int(whole.replace(",", ""))
    subunits = int((fraction + "0")[:2]) if fraction else 0
    spoken: list[str] = []
    if units or not subunits:
        spoken.append(f"{cardinal(units)} {currency.unit if units == 1 else currency.units}")
    if subunits:
        spoken.append(f"{cardinal(subunits)} {currency.subunit if subunits == 1 else currency.subunits}")
    return " and ".join(spoken)


def _money_before(match: re.Match[str]) -> str:
    scale = _MULTIPLIERS.get(match.group(4) or "") or match.group(5)
    return _money(match.group(2), match.group(3), scale, _CURRENCIES[match.group(1)])


def _money_after(match: re.Match[str]) -> str:
    return _money(match.group(1), match.group(2), None, _CURRENCIES[match.group(3)])


_MERIDIEM = r"(?:\s?([AaPp])\.?\s?[Mm]\.?(?![\w]))"
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?::\d{2})?" + _MERIDIEM + "?")
_HOUR_MERIDIEM = re.compile(r"\b(\d{1,2})" + _MERIDIEM)


def _meridiem(letter: str | None) -> str:
    return f" {letter.lower()}.m." if letter else ""


def _clock(match: re.Match[str]) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 24 or minutes > 59:
        return match.group(0)
    if minutes == 0:
        spoken = cardinal(hours) + ("" if match.group(3) else " o'clock")
    elif minutes < 10:
        spoken = f"{cardinal(hours)} oh {cardinal(minutes)}"
    else:
        spoken = f"{cardinal(hours)} {cardinal(minutes)}"
    return spoken + _meridiem(match.group(3))


_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = re.compile(r"\b(" + _MONTHS + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(1[1-9]\d\d|20\d\d)\b)?")
_AGE_GENDER = re.compile(r"[(\[](?:(\d{1,2})\s?([MFmf])|([MFmf])\s?(\d{1,2}))[)\]]")
_PERCENT = re.compile(_AMOUNT + r"\s?(%|percent\b)")
_DECADE = re.compile(r"\b(1[1-9]\d0|20[0-9]0)'?s\b|(?<![\w])'(\d)0s\b|\b([1-9])0s\b")
_YEAR_CONTEXT = (
    r"in|since|of|from|until|till|by|during|around|circa|year|summer|winter|spring|fall|autumn|"
    r"early|late|mid|back|before|after|" + _MONTHS
)
_YEAR = re.compile(r"\b((?:" + _YEAR_CONTEXT + r")\s+)(1[1-9]\d\d|20\d\d)\b(?![.,:]\d|\s?%)", re.IGNORECASE)
_YEAR_RANGE = re.compile(r"\b(1[1-9]\d\d|20\d\d)\s?[-–]\s?(1[1-9]\d\d|20\d\d)\b")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_RANGE = re.compile(r"\b(\d+)\s?[-–]\s?(\d+)\b")
_SLASH_NUMBERS = re.compile(r"\b(\d+)/(\d+)\b")
_HEIGHT = re.compile(r"\b(\d)'\s?(\d{1,2})(?:\"|'')?(?!\w)")
_HASH_NUMBER = re.compile(r"#(\d+)\b")
_SCALED_NUMBER = re.compile(r"\b(\d+(?:\.\d+)?)(k|K|M|bn)\b")
_UNITS: dict[str, tuple[str, str]] = {
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "kg": ("kilogram", "kilograms"),
    "km": ("kilometer", "kilometers"),
    "mi": ("mile", "miles"),
    "mph": ("mile per hour", "miles per hour"),
    "kmh": ("kilometer per hour", "kilometers per hour"),
    "ft": ("foot", "feet"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "yo": ("year old", "year old"),
    "y/o": ("year old", "year old"),
}
_UNIT = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(" + _alternatives(_UNITS) + r")\b")
_DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)\b")
_INTEGER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+")


def _date(match: re.Match[str]) -> str:
    spoken = f"{match.group(1)} {_clean_words(num2words(int(match.group(2)), to='ordinal'))}"
    return spoken + (f", {_year(int(match.group(3)))}" if match.group(3) else "")


def _age_gender(match: re.Match[str]) -> str:
    age = match.group(1) or match.group(4)
    gender = (match.group(2) or match.group(3)).upper()
    return f"({cardinal(int(age))}, {'male' if gender == 'M' else 'female'})"


def _decade(match: re.Match[str]) -> str:
    if match.group(1):
        return _plural_number_word(_year(int(match.group(1))))
    tens = match.group(2) or match.group(3)
    return _plural_number_word(cardinal(int(tens) * 10))


def _slash_numbers(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    if (first, second) == ("24", "7"):
        return "twenty-four seven"
    if first == second:
        return f"{cardinal(int(first))}-{cardinal(int(second))}"
    if second in {"5", "10", "100"}:
        return f"{cardinal(int(first))} out of {cardinal(int(second))}"
    return f"{cardinal(int(first))} slash {cardinal(int(second))}"


def _unit(match: re.Match[str]) -> str:
    amount = match.group(1)
    singular, plural = _UNITS[match.group(2)]
    is_one = Decimal(amount.replace(",", "")) == 1
    return f"{_number(amount)} {singular if is_one else plural}"


def _percent(match: re.Match[str]) -> str:
    fraction = f".{match.group(2)}" if match.group(2) else ""
    return f"{_number(match.group(1) + fraction)} percent"


def expand_numbers(text: str) -> str:
    """Write out money, percentages, times, dates, years, ordinals, ranges and plain numbers in words."""
    text = _MONEY_BEFORE.sub(_money_before, text)
    text = _MONEY_AFTER.sub(_money_after, text)
    text = _PERCENT.sub(_percent, text)
    text = _CLOCK.sub(_clock, text)
    text = _HOUR_MERIDIEM.sub(
        lambda m: cardinal(int(m.group(1))) + _meridiem(m.group(2)) if int(m.group(1)) <= 12 else m.group(0),
        text,
    )
    text = _DATE.sub(_date, text)
    text = _AGE_GENDER.sub(_age_gender, text)
    text = _DECADE.sub(_decade, text)
    text = _YEAR_RANGE.sub(lambda m: f"{_year(int(m.group(1)))} to {_year(int(m.group(2)))}", text)
    text = _YEAR.sub(lambda m: m.group(1) + _year(int(m.group(2))), text)
    text = _HEIGHT.sub(lambda m: f"{cardinal(int(m.group(1)))} foot {cardinal(int(m.group(2)))}", text)
    text = _ORDINAL.sub(lambda m: _clean_words(num2words(int(m.group(1)), to="ordinal")), text)
    text = _SLASH_NUMBERS.sub(_slash_numbers, text)
    text = _RANGE.sub(lambda m: f"{cardinal(int(m.group(1)))} to {cardinal(int(m.group(2)))}", text)
    text = _HASH_NUMBER.sub(lambda m: f"number {cardinal(int(m.group(1)))}", text)
    text = _SCALED_NUMBER.sub(lambda m: f"{_number(m.group(1))} {_MULTIPLIERS[m.group(2)]}", text)
    text = _UNIT.sub(_unit, text)
    text = _DECIMAL.sub(lambda m: _number(m.group(0)), text)
    return _INTEGER.sub(lambda m: _number(m.group(0)), text)


# --- Symbols and tidying -------------------------------------------------------------------------------

_SYMBOLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"\s\+\s"), " plus "),
    (re.compile(r"\s=\s"), " equals "),
    (re.compile(r"~(?=\s?[a-z]*\s?\d)"), "about "),
    (re.compile(r"°\s?([CF])\b"), r" degrees \1"),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"(?<![\w@])@(?=\w)"), ""),
    (re.compile(r"\s@\s"), " at "),
    (re.compile(r"#(?=[A-Za-z])"), ""),
    (re.compile(r"(?<=[A-Za-z])/(?=[A-Za-z])"), " or "),
    (re.compile(r"\s*[—–]\s*|\s+-\s+|\s*--\s*"), ", "),
    (re.compile(r"[*_{}\[\]\\|#<>^~`]"), " "),
)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def _tidy(text: str) -> str:
    text = text.translate(_QUOTES)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([.,!?;:])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"([!?])[!?]+", r"\1", text)
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    text = re.sub(r"\.{4,}", "...", text)
    text = re.sub(r",+", ",", text)
    text = re.sub(r"[,;:]+\s*([.!?])", r"\1", text)
    text = re.sub(r"([.!?])\s*[,;:]+", r"\1", text)
    text = re.sub(r"^[\s,.;:!?]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def to_speech(text: str) -> str:
    """Markdown/Reddit text rewritten as the exact words a TTS voice should say, on one line."""
    text = plain_text(text)
    text = remove_pictographs(text)
    text = _BARE_DOMAIN.sub(_speak_domain, text)
    text = expand_abbreviations(text)
    text = expand_numbers(text)
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    text = _tidy(text)
    return text if not text or _TERMINAL.search(text) else text + "."


def words(text: str) -> list[str]:
    """The words a voice speaks: whitespace tokens with at least one letter or digit."""
    return [token for token in text.split() if any(char.isalnum() for char in token)]
