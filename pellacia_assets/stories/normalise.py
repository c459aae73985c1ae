"""From a source record to the story the script writer gets: plain text, a known, speakable language."""

from __future__ import annotations

import re
from collections.abc import Collection

from langdetect import DetectorFactory, LangDetectException, detect_langs

from pellacia_assets.stories.loading import SourceRecord, StoryError, decode_text
from pellacia_assets.stories.model import Priority, Story

DetectorFactory.seed = 0  # langdetect is random unless seeded; the same story must always get the same answer

_LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "ja": "Japanese", "zh-cn": "Chinese",
    "zh-tw": "Chinese", "ko": "Korean", "ar": "Arabic", "tr": "Turkish", "sv": "Swedish", "fi": "Finnish",
}  # fmt: skip
_MIN_WORDS_TO_DETECT = 12
_MIN_CONFIDENCE = 0.9
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")


def language_name(code: str) -> str:
    return _LANGUAGE_NAMES.get(code, code)


def detect_language(text: str) -> str | None:
    """The text's language when langdetect is sure of it; short or mixed texts give None."""
    if len(text.split()) < _MIN_WORDS_TO_DETECT:
        return None
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None
    return str(best.lang) if best.prob >= _MIN_CONFIDENCE else None


def normalise(record: SourceRecord, *, max_words: int, speakable: Collection[str], voice_name: str) -> Story:
    """The cleaned story, or a StoryError saying why it cannot become a short."""
    origin = f"story {record.key!r}"
    if not _KEY.match(record.key):
        raise StoryError(f"{origin}: keys use letters, digits, '-', '_' and '.' only (at most 200)")
    body = _tidy(decode_text(record.body.encode("utf-8"), origin))
    title = _tidy(record.title) if record.title.strip() else body.split(".")[0][:100]
    words = len(body.split())
    if words > max_words:
        raise StoryError(
            f"{origin}: {words:,} words is too long for shorts (limit {max_words:,}, about "
            f"{max_words // 150} one-minute parts); shorten it or raise PELLACIA_MAX_STORY_WORDS"
        )
    language = (record.language or detect_language(body) or "en").lower()
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
    )


def _tidy(text: str) -> str:
    """Unify line endings, squeeze spaces and blank-line runs; keep lines so Markdown stays parseable."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
