"""The normalised story every source is turned into, whatever it came from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Priority = Literal["breaking", "normal", "backlog"]
PRIORITIES: tuple[Priority, ...] = ("breaking", "normal", "backlog")
BYLINE_KINDS = ("reddit", "article", "other")


@dataclass(frozen=True)
class Byline:
    """Where a story was first posted, as its hook card shows it: a Reddit post (`site` the subreddit
    without "r/", `score` its upvotes), an article (`site` the publication), or anything else."""

    kind: str
    site: str | None = None
    author: str | None = None
    score: int | None = None
    comments: int | None = None


@dataclass(frozen=True)
class Story:
    """One story, ready for the script writer: plain title and body, a known language."""

    key: str
    source_kind: str
    title: str
    body: str
    language: str = "en"
    url: str | None = None
    priority: Priority = "normal"
    approved: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)
    byline: Byline | None = None

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Story:
        data: dict[str, Any] = json.loads(text)
        data["tags"] = tuple(data.get("tags", ()))
        data["byline"] = Byline(**data["byline"]) if data.get("byline") else None
        return cls(**data)
