"""The script a story becomes: spoken parts plus the copy each platform gets for every part."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pellacia_assets.scripting.errors import ScriptError
from pellacia_assets.scripting.speech_text import words


@dataclass(frozen=True)
class PlatformCopy:
    """Title, caption (as posted, hashtags included) and hashtags for one platform, within its limits."""

    title: str
    caption: str
    hashtags: tuple[str, ...]


@dataclass(frozen=True)
class ScriptPart:
    """One short: what the voice says, how long that should take, and its per-platform copy."""

    number: int
    title: str
    hook: str
    narration: str
    call_to_action: str
    estimated_seconds: float
    copy: dict[str, PlatformCopy]

    def spoken_segments(self) -> list[str]:
        return [self.hook, self.narration, self.call_to_action]

    @property
    def spoken_text(self) -> str:
        return " ".join(segment for segment in self.spoken_segments() if segment)

    @property
    def word_count(self) -> int:
        return len(words(self.spoken_text))


@dataclass(frozen=True)
class Script:
    """A story's script, split into parts short enough for every platform's shorts format."""

    story_key: str
    title: str
    writer: str
    words_per_minute: float
    max_part_seconds: float
    parts: tuple[ScriptPart, ...]

    def to_json(self) -> str:
        return json.dumps(_script_to_dict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Script:
        try:
            return _script_from_dict(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ScriptError(f"stored script is not valid script JSON: {error}") from error

    def to_markdown(self) -> str:
        """A readable preview for the Dagster UI: what is said and what each platform gets, per part."""
        lines = [
            f"# {self.title}",
            "",
            f"Story `{self.story_key}` · writer `{self.writer}` · {len(self.parts)} part(s) · "
            f"{self.words_per_minute:g} wpm · max {self.max_part_seconds:g} s per part",
        ]
        for part in self.parts:
            lines += [
                "",
                f"## {part.title} (~{part.estimated_seconds:.1f} s, {part.word_count} words)",
                "",
                f"**Hook:** {part.hook}",
                "",
                part.narration,
                "",
                f"**Call to action:** {part.call_to_action}",
                "",
                "| Platform | Title | Caption | Hashtags |",
                "|---|---|---|---|",
            ]
            lines += [_row(platform, copy) for platform, copy in part.copy.items()]
        return "\n".join(lines) + "\n"


def _row(platform: str, copy: PlatformCopy) -> str:
    cells = [platform, copy.title, copy.caption, " ".join(copy.hashtags)]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _script_to_dict(script: Script) -> dict[str, Any]:
    return {
        "story_key": script.story_key,
        "title": script.title,
        "writer": script.writer,
        "words_per_minute": script.words_per_minute,
        "max_part_seconds": script.max_part_seconds,
        "parts": [
            {
                "number": part.number,
                "title": part.title,
                "hook": part.hook,
                "narration": part.narration,
                "call_to_action": part.call_to_action,
                "estimated_seconds": part.estimated_seconds,
                "copy": {
                    platform: {"title": copy.title, "caption": copy.caption, "hashtags": list(copy.hashtags)}
                    for platform, copy in part.copy.items()
                },
            }
            for part in script.parts
        ],
    }


def _script_from_dict(data: dict[str, Any]) -> Script:
    parts = tuple(
        ScriptPart(
            number=int(part["number"]),
            title=str(part["title"]),
            hook=str(part["hook"]),
            narration=str(part["narration"]),
            call_to_action=str(part["call_to_action"]),
            estimated_seconds=float(part["estimated_seconds"]),
            copy={
                str(platform): PlatformCopy(
                    title=str(copy["title"]),
                    caption=str(copy["caption"]),
                    hashtags=tuple(str(tag) for tag in copy["hashtags"]),
                )
                for platform, copy in part["copy"].items()
            },
        )
        for part in data["parts"]
    )
    return Script(
        story_key=str(data["story_key"]),
        title=str(data["title"]),
        writer=str(data["writer"]),
        words_per_minute=float(data["words_per_minute"]),
        max_part_seconds=float(data["max_part_seconds"]),
        parts=parts,
    )
