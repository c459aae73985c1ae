"""From a source record to the story the script writer gets: plain text, a known, speakable language."""

from __future__ import annotations

import re
from collections.abc import Collection

from langdetect import DetectorFactory, LangDetectException, detect_langs

from pellacia_assets.stories.loading import SourceRecord, StoryError, decode_text, strip_controls
from pellacia_assets.stories.model import Priority, Story

DetectorFactory.seed = 0  # langdetect is random unless seeded; the same story must always get the same answer

_LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "ja": "Japanese", "zh-cn": "Chinese",
    "zh-tw": "Chinese", "ko": "Korean", "ar": "Arabic", "tr": "Turkish", "sv": "Swedish", "fi": "Finnish",
}  # fmt: skip
_MIN_WORDS_TO_DETECT = 12
_MIN_LETTERS_TO_DETECT = 60  # Japanese or Chinese has no spaces: a long story may be one "word"
_MIN_CONFIDENCE = 0.9
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")

# Writing systems by Unicode block (the first letter of a name in unicodedata is not enough: "CJK
# UNIFIED IDEOGRAPH" has no script word). Each maps to the language it writes when it writes one language
# only; otherwise to "und-<ISO 15924 code>" (language undetermined, script known).
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latn"), (0x1E00, 0x1EFF, "Latn"), (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"), (0x0530, 0x058F, "Armn"), (0x0590, 0x05FF, "Hebr"), (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"), (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"), (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"), (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Geor"), (0x1100, 0x11FF, "Hang"), (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"),
    (0x31F0, 0x31FF, "Kana"), (0x3130, 0x318F, "Hang"), (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"),
    (0xF900, 0xFAFF, "Hani"), (0xAC00, 0xD7AF, "Hang"), (0xFF66, 0xFF9F, "Kana"), (0x20000, 0x2FA1F, "Hani"),
)  # fmt: skip
_SCRIPT_LANGUAGE = {
    "Grek": "el", "Armn": "hy", "Hebr": "he", "Thai": "th", "Geor": "ka", "Hang": "ko", "Hira": "ja",
    "Kana": "ja", "Hani": "zh-cn", "Gujr": "gu", "Guru": "pa", "Taml": "ta", "Telu": "te",
}  # fmt: skip
# Languages a voice may speak in a script that writes several: a short text in such a script is taken to
# be in the one of them the voice speaks, if it speaks exactly one.
_SCRIPT_LANGUAGES = {
    "Cyrl": frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk"}),
    "Arab": frozenset({"ar", "fa", "ur"}),
    "Deva": frozenset({"hi", "mr", "ne"}),
    "Beng": frozenset({"bn", "as"}),
}
_SCRIPT_NAMES = {
    "Cyrl": "Cyrillic", "Arab": "Arabic", "Deva": "Devanagari", "Beng": "Bengali", "Latn": "Latin",
}  # fmt: skip


def language_name(code: str) -> str:
    if code.startswith("und-"):
        script = code.removeprefix("und-")
        return f"a language in {_SCRIPT_NAMES.get(script, script)} script"
    return _LANGUAGE_NAMES.get(code, code)


def script_of(char: str) -> str | None:
    """The ISO 15924 code of a letter's writing system, as far as `_SCRIPT_RANGES` knows it."""
    point = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= point <= high:
            return script
    return None


def dominant_script(text: str) -> str | None:
    """The script of most of the text's letters (Japanese: kana anywhere wins over the kanji beside it);
    None when the text has no letters at all."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            script = script_of(char) or "Zyyy"
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    if counts.get("Hira", 0) + counts.get("Kana", 0) > 0 and counts.get("Latn", 0) < sum(counts.values()) / 2:
        return "Hira"
    return max(counts, key=lambda script: counts[script])


def detect_language(text: str) -> str | None:
    """The text's language: langdetect's when the text is long enough and it is sure, otherwise what the
    writing system says (a short Japanese text is "ja", a short Cyrillic one "und-Cyrl"); None for a
    Latin-script text too short to tell, or one without letters."""
    letters = sum(1 for char in text if char.isalpha())
    if len(text.split()) >= _MIN_WORDS_TO_DETECT or letters >= _MIN_LETTERS_TO_DETECT:
        try:
            best = detect_langs(text)[0]
        except LangDetectException:
            best = None
        if best is not None and best.prob >= _MIN_CONFIDENCE:
            return str(best.lang)
    script = dominant_script(text)
    if script is None or script in ("Latn", "Zyyy"):
        return None
    return _SCRIPT_LANGUAGE.get(script, f"und-{script}")


def _canonical(language: str) -> str:
    """Language tags in lower case, a script subtag in title case ("und-Cyrl")."""
    primary, _, rest = language.strip().partition("-")
    if primary.lower() == "und" and rest:
        return f"und-{rest.title()}"
    return language.strip().lower()


def _resolve_script(language: str, speakable: Collection[str]) -> str:
    """ "und-Cyrl" becomes the one Cyrillic-script language the voice speaks, if there is exactly one."""
    if not language.startswith("und-"):
        return language
    spoken = _SCRIPT_LANGUAGES.get(language.removeprefix("und-"), frozenset()) & set(speakable)
    return next(iter(spoken)) if len(spoken) == 1 else language


def normalise(record: SourceRecord, *, max_words: int, speakable: Collection[str], voice_name: str) -> Story:
    """The cleaned story, or a StoryError saying why it cannot become a short."""
    origin = f"story {record.key!r}"
    if not _KEY.match(record.key):
        raise StoryError(f"{origin}: keys use letters, digits, '-', '_' and '.' only (at most 200)")
    body = _tidy(decode_text(record.body.encode("utf-8"), origin))
    if not any(char.isalpha() for char in body):
        raise StoryError(
            f"{origin} has no words a voice can read aloud (only emoji, symbols or digits); write the "
            "story in words"
        )
    clean_title = " ".join(strip_controls(record.title).split())
    title = clean_title if clean_title else body.split(".")[0][:100]
    words = len(body.split())
    if words > max_words:
        raise StoryError(
            f"{origin}: {words:,} words is too long for shorts (limit {max_words:,}, about "
            f"{max_words // 150} one-minute parts); shorten it or raise PELLACIA_MAX_STORY_WORDS"
        )
    language = _resolve_script(_canonical(record.language or detect_language(body) or "en"), speakable)
    base_language = language.split("-")[0] if not language.startswith("zh") else language
    if base_language not in speakable:
        raise StoryError(
            f"{origin} is written in {language_name(language)} ({language}); the voice {voice_name} "
            f"speaks only {', '.join(language_name(code) for code in sorted(speakable))}"
        )
    priority: Priority = record.priority if record.priority in ("breaking", "backlog") else "normal"  # type: ignore[assignment]
    return Story(
        key=record.key,
        source_kind=record.source_kind,
        title=title,
        body=body,
        language=base_language,
        url=record.url,
        priority=priority,
        tags=record.tags,
        byline=record.byline,
    )


def normalise_delivered(record: SourceRecord) -> Story:
    """The story of a delivered video (`delivery.DELIVERED_KINDS`): nothing in it is spoken, so it needs a
    title but neither a body (the description may be empty) nor a language the voice speaks."""
    origin = f"story {record.key!r}"
    if not _KEY.match(record.key):
        raise StoryError(f"{origin}: keys use letters, digits, '-', '_' and '.' only (at most 200)")
    title = " ".join(strip_controls(record.title).split())
    if not title:
        raise StoryError(f"{origin}: a delivered video needs a title")
    body = _tidy(strip_controls(record.body))
    language = _canonical(record.language or detect_language(f"{title}\n{body}") or "en")
    priority: Priority = record.priority if record.priority in ("breaking", "backlog") else "normal"  # type: ignore[assignment]
    return Story(
        key=record.key,
        source_kind=record.source_kind,
        title=title,
        body=body,
        language=language.split("-")[0] if not language.startswith(("zh", "und")) else language,
        url=record.url,
        priority=priority,
        tags=record.tags,
        byline=record.byline,
    )


def _tidy(text: str) -> str:
    """Unify line endings, squeeze spaces and blank-line runs; keep lines so Markdown stays parseable."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
