"""The intake gate every source goes through: URL and text identity, approval modes, one poll."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pellacia_assets.sources.base import (
    Candidate,
    Fetch,
    Skip,
    SourceConfigError,
    approval_mode,
    canonical_url,
    content_hash,
    poll,
)
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import read_cursor
from resources.database.models import SourceSkip, StoryRecord


def test_canonical_urls_ignore_what_does_not_name_the_page() -> None:
    assert canonical_url("HTTPS://www.Example.org:443/news/a/?utm_source=x&b=2&a=1#top") == (
        "https://example.org/news/a?a=1&b=2"
    )
    assert canonical_url("http://example.org:8080/") == "http://example.org:8080/"
    assert canonical_url("https://example.org/a?fbclid=1") == canonical_url("https://example.org/a")
    assert canonical_url("https://example.org/a?id=1") != canonical_url("https://example.org/a?id=2")


def test_the_text_hash_ignores_case_spacing_and_punctuation() -> None:
    assert content_hash("The river rose, at night.") == content_hash("the  river rose at night")
    assert content_hash("The river rose.") != content_hash("The river fell.")


def test_approval_modes_per_source_then_global_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PELLACIA_APPROVAL", "PELLACIA_REDDIT_APPROVAL", "PELLACIA_LINKS_APPROVAL"):
        monkeypatch.delenv(name, raising=False)
    assert (approval_mode("reddit"), approval_mode("feeds"), approval_mode("links")) == (
        "required",
        "required",
        "auto",
    )
    monkeypatch.setenv("PELLACIA_APPROVAL", "auto")
    monkeypatch.setenv("PELLACIA_REDDIT_APPROVAL", "Required")
    assert (approval_mode("reddit"), approval_mode("feeds")) == ("required", "auto")
    monkeypatch.setenv("PELLACIA_LINKS_APPROVAL", "sometimes")
    with pytest.raises(SourceConfigError, match="PELLACIA_LINKS_APPROVAL='sometimes': use required or auto"):
        approval_mode("links")


class ListSource:
    """A source whose items are given, standing in for a remote service (the real sources have their
    own tests against their sandboxes)."""

    name = "feeds"

    def __init__(self, candidates: list[Candidate], skipped: list[Skip], fail: bool = False) -> None:
        self.candidates, self.skipped, self.fail = candidates, skipped, fail
        self.cursors: list[dict[str, Any]] = []

    def fetch(self, cursor: dict[str, Any]) -> Fetch:
        self.cursors.append(cursor)
        if self.fail:
            raise ConnectionError("feed host unreachable")
        return Fetch(list(self.candidates), list(self.skipped), {"polls": cursor.get("polls", 0) + 1})


def _candidate(key: str, url: str, body: str) -> Candidate:
    record = SourceRecord(key=key, source_kind="article", source_ref="feed", title=key, body=body, url=url)
    return Candidate(record, canonical_url(url), content_hash(body))


def test_a_poll_admits_each_story_once_records_skips_and_keeps_the_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PELLACIA_APPROVAL", raising=False)
    monkeypatch.delenv("PELLACIA_FEEDS_APPROVAL", raising=False)
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    source = ListSource(
        [
            _candidate("article-a", "https://x.org/a", "First story text."),
            _candidate("article-b", "https://x.org/a?utm_source=rss", "Other words."),
            _candidate("article-c", "https://x.org/c", "first story  TEXT"),
            _candidate("article-d", "https://x.org/d", "A new one."),
        ],
        [Skip("https://x.org/broken", "HTTP 500 from the article page")],
    )
    first = poll(source, factory)
    assert [(a.key, a.approval) for a in first.added] == [("article-a", "pending"), ("article-d", "pending")]
    assert [(d.key, d.same_as) for d in first.duplicates] == [
        ("article-b", "article-a"),
        ("article-c", "article-a"),
    ]
    assert first.skipped == [Skip("https://x.org/broken", "HTTP 500 from the article page")]
    second = poll(source, factory)
    assert second.added == [] and len(second.duplicates) == 4
    assert source.cursors == [{}, {"polls": 1}]
    with transaction(factory) as session:
        assert read_cursor(session, "feeds") == {"polls": 2}
        assert session.scalars(select(SourceSkip.occurrences)).all() == [2]
        assert session.scalars(select(StoryRecord.key).order_by(StoryRecord.key)).all() == [
            "article-a",
            "article-d",
        ]
    assert first.as_json()["added"] == [
        {"key": "article-a", "approval": "pending"},
        {"key": "article-d", "approval": "pending"},
    ]


def test_a_failing_source_is_reported_and_changes_nothing(tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    report = poll(ListSource([_candidate("article-a", "https://x.org/a", "Text.")], [], fail=True), factory)
    assert report.error == "ConnectionError: feed host unreachable"
    with transaction(factory) as session:
        assert session.scalars(select(StoryRecord)).all() == []
        assert read_cursor(session, "feeds") == {}
