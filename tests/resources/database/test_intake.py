"""The intake gate's tables on SQLite and PostgreSQL: dedupe, approval, skips, cursors, the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import (
    ApprovalError,
    admit,
    approve,
    approved_unproduced,
    read_cursor,
    record_skip,
    record_text,
    reject,
    write_cursor,
)
from resources.database.models import SourceSkip, StoryRecord, Webhook, WebhookDelivery


def _record(key: str, body: str = "A body long enough.", kind: str = "reddit") -> SourceRecord:
    return SourceRecord(key=key, source_kind=kind, source_ref=key, title=f"Title {key}", body=body)


def test_the_same_story_is_admitted_once_by_key_url_or_text(database_url: str) -> None:
    factory = open_database(database_url)
    with transaction(factory) as session:
        first = admit(
            session,
            _record("reddit-t3_a"),
            approval="pending",
            canonical_url="https://x.org/a",
            content_hash="h1",
        )
        assert (first.outcome, first.approval) == ("added", "pending")
    with transaction(factory) as session:
        by_key = admit(session, _record("reddit-t3_a"), approval="approved")
        by_url = admit(session, _record("article-1"), approval="approved", canonical_url="https://x.org/a")
        by_text = admit(session, _record("article-2"), approval="approved", content_hash="h1")
        fresh = admit(
            session,
            _record("article-3"),
            approval="approved",
            canonical_url="https://x.org/b",
            content_hash="h2",
        )
    assert [a.outcome for a in (by_key, by_url, by_text, fresh)] == ["duplicate"] * 3 + ["added"]
    assert {by_key.same_as, by_url.same_as, by_text.same_as} == {"reddit-t3_a"}
    assert by_url.reason == "the same URL as story 'reddit-t3_a'"
    assert by_text.reason == "the same text as story 'reddit-t3_a'"
    with transaction(factory) as session:
        assert session.scalars(select(StoryRecord.key).order_by(StoryRecord.key)).all() == [
            "article-3",
            "reddit-t3_a",
        ]
        assert session.get(StoryRecord, "reddit-t3_a").approval == "pending"  # type: ignore[union-attr]


def test_approval_decides_once_and_only_approved_stories_wait_for_production(database_url: str) -> None:
    factory = open_database(database_url)
    with transaction(factory) as session:
        for key in ("reddit-t3_a", "reddit-t3_b", "reddit-t3_c"):
            admit(session, _record(key), approval="pending")
        admit(session, _record("article-auto", kind="article"), approval="approved")
    with transaction(factory) as session:
        approve(session, "reddit-t3_a", by="editor")
        reject(session, "reddit-t3_b", "off topic", by="editor")
    with transaction(factory) as session:
        with pytest.raises(ApprovalError) as twice:
            approve(session, "reddit-t3_a", by="editor")
        assert twice.value.code == "conflict" and "already approved" in str(twice.value)
        with pytest.raises(ApprovalError) as rejected:
            approve(session, "reddit-t3_b", by="editor")
        assert rejected.value.code == "conflict" and "already rejected" in str(rejected.value)
        with pytest.raises(ApprovalError) as unknown:
            reject(session, "reddit-t3_zz", "no", by="editor")
        assert unknown.value.code == "not_found"
        with pytest.raises(ApprovalError) as blank:
            reject(session, "reddit-t3_c", "  ", by="editor")
        assert blank.value.code == "invalid"
        assert [row.key for row in approved_unproduced(session)] == ["article-auto", "reddit-t3_a"]
        row_b = session.get(StoryRecord, "reddit-t3_b")
        assert row_b is not None and (row_b.approval, row_b.approval_note, row_b.approval_by) == (
            "rejected",
            "off topic",
            "editor",
        )
        session.get(StoryRecord, "reddit-t3_a").status = "story"  # type: ignore[union-attr]
    with transaction(factory) as session:
        assert [row.key for row in approved_unproduced(session)] == ["article-auto"]


def test_a_pending_story_is_announced_to_subscribed_webhooks_in_the_same_transaction(
    database_url: str,
) -> None:
    factory = open_database(database_url)
    with transaction(factory) as session:
        session.add(Webhook(url="http://127.0.0.1:9/a", secret="s", events=["story.pending"]))
        session.add(Webhook(url="http://127.0.0.1:9/b", secret="s", events=["post.published"]))
        session.add(Webhook(url="http://127.0.0.1:9/c", secret="s", events=["story.pending"], active=False))
    with transaction(factory) as session:
        admit(session, _record("reddit-t3_p"), approval="pending")
        admit(session, _record("reddit-t3_q"), approval="approved")
    with transaction(factory) as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert delivery.event == "story.pending" and delivery.state == "pending"
        assert delivery.payload["key"] == "reddit-t3_p" and delivery.payload["approval"] == "pending"


def test_skips_count_repeats_and_cursors_round_trip(database_url: str) -> None:
    factory = open_database(database_url)
    with transaction(factory) as session:
        assert read_cursor(session, "feeds") == {}
        write_cursor(session, "feeds", {"https://x.org/feed": {"etag": '"abc"'}})
        record_skip(session, "feeds", "https://x.org/gone", "HTTP 404")
    with transaction(factory) as session:
        write_cursor(session, "feeds", {"https://x.org/feed": {"etag": '"def"'}})
        record_skip(session, "feeds", "https://x.org/gone", "HTTP 410")
    with transaction(factory) as session:
        assert read_cursor(session, "feeds") == {"https://x.org/feed": {"etag": '"def"'}}
        [skip] = session.scalars(select(SourceSkip)).all()
        assert (skip.occurrences, skip.reason) == (2, "HTTP 410")


def test_a_text_learnt_later_is_kept_unless_another_story_has_it(database_url: str) -> None:
    """A link's words are known only once it is transcribed: the first story with them keeps them."""
    factory = open_database(database_url)
    with transaction(factory) as session:
        admit(session, _record("link-a", body="Description A.", kind="link"), approval="approved")
        admit(session, _record("link-b", body="Description B.", kind="link"), approval="approved")
    with transaction(factory) as session:
        assert record_text(session, "link-a", "What the video says.", "h-video") is None
    with transaction(factory) as session:
        assert record_text(session, "link-b", "What the video says.", "h-video") == "link-a"
        assert record_text(session, "link-a", "What the video says.", "h-video") is None  # again: its own
    with transaction(factory) as session:
        a, b = session.get(StoryRecord, "link-a"), session.get(StoryRecord, "link-b")
        assert a is not None and (a.body, a.content_hash) == ("What the video says.", "h-video")
        assert b is not None and (b.body, b.content_hash) == ("Description B.", None)
