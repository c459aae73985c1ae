"""Events enter the outbox in the transaction that makes them true: a ledger row becoming published or
failed, a new manual-queue entry, a post resolved by hand; and subscriptions pick who hears of them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import transaction
from resources.database.ledger import (
    ClaimLostError,
    LedgerClaim,
    LedgerJournal,
    LedgerTarget,
    claim_entry,
    open_entry,
)
from resources.database.manual import open_entry as open_manual_entry
from resources.database.manual import resolve_entry
from resources.database.models import WebhookDelivery
from resources.database.stories import save_source
from resources.database.webhooks import (
    EVENTS,
    WebhookError,
    deactivate,
    deliveries,
    get_hook,
    list_hooks,
    queue_ping,
    register,
)

STORY = "harbour-lights"


@pytest.fixture
def stories(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(factory) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="t", source_ref="t", title="T", body="B"))
    return factory


def subscribe(factory: sessionmaker[Session], *events: str) -> int:
    with transaction(factory) as session:
        return register(session, "https://hooks.example/pellacia", list(events or EVENTS)).id


def outbox(factory: sessionmaker[Session]) -> list[tuple[str, dict[str, Any]]]:
    with transaction(factory) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [(row.event, dict(row.payload)) for row in rows]


def journal(factory: sessionmaker[Session], platform: str = "youtube") -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, 1, platform, "main", "a" * 64))


def test_a_published_row_emits_post_published_once(stories: sessionmaker[Session]) -> None:
    subscribe(stories)
    row = journal(stories)
    row.set_state("uploading")
    assert outbox(stories) == []
    row.mark_published("vid-1", "https://youtube.test/watch?v=vid-1")
    [(event, payload)] = outbox(stories)
    assert event == "post.published"
    assert payload["published_at"] is not None
    assert {key: value for key, value in payload.items() if key != "published_at"} == {
        "story_key": STORY,
        "part": 1,
        "platform": "youtube",
        "account": "main",
        "state": "published",
        "post_id": "vid-1",
        "url": "https://youtube.test/watch?v=vid-1",
        "error": None,
    }
    row.mark_published("vid-1", "https://youtube.test/watch?v=vid-1")  # a repeat is no new event
    assert len(outbox(stories)) == 1


def test_a_failed_row_emits_post_failed_per_failure(stories: sessionmaker[Session]) -> None:
    subscribe(stories)
    row = journal(stories, "tiktok")
    row.mark_failed("video too long")
    row.mark_failed("video too long")  # the same failure written again: still one event
    row.mark_failed("still uploading", state="uploading")  # a retryable error keeps its state: no event
    row.mark_failed("rejected again")  # uploading -> failed: a new failure
    events = outbox(stories)
    assert [event for event, _ in events] == ["post.failed", "post.failed"]
    assert [payload["error"] for _, payload in events] == ["video too long", "rejected again"]
    assert events[0][1]["platform"] == "tiktok" and events[0][1]["state"] == "failed"


def test_a_claimed_row_emits_and_a_lost_claim_emits_nothing(stories: sessionmaker[Session]) -> None:
    subscribe(stories)
    claim = claim_entry(stories, LedgerTarget(STORY, 1, "x", "main", "b" * 64))
    assert isinstance(claim, LedgerClaim)
    stranger = LedgerJournal(stories, claim.journal.entry_id, owner="someone/else/1/2/3")
    with pytest.raises(ClaimLostError):
        stranger.mark_published("1", "https://x.test/status/1")
    assert outbox(stories) == []  # the event exists only with the change
    with claim as own:
        own.mark_published("1", "https://x.test/status/1")
    assert [event for event, _ in outbox(stories)] == ["post.published"]


def test_only_subscribers_of_an_event_hear_it(stories: sessionmaker[Session]) -> None:
    failures = subscribe(stories, "post.failed")
    everything = subscribe(stories)
    journal(stories).mark_published("vid-1", "https://youtube.test/watch?v=vid-1")
    journal(stories, "tiktok").mark_failed("refused")
    with transaction(stories) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        heard = [(row.webhook_id, row.event) for row in rows]
    assert heard == [(everything, "post.published"), (failures, "post.failed"), (everything, "post.failed")]


def test_a_new_manual_entry_emits_manual_created_once(stories: sessionmaker[Session]) -> None:
    subscribe(stories)
    with transaction(stories) as session:
        entry = open_manual_entry(
            session, "reauth", "token revoked", story_key=STORY, platform="youtube", account="main"
        )
        entry_id = entry.id
    with transaction(stories) as session:  # the same failure again refreshes the entry
        open_manual_entry(
            session, "reauth", "token revoked again", story_key=STORY, platform="youtube", account="main"
        )
    [(event, payload)] = outbox(stories)
    assert event == "manual.created"
    assert payload == {
        "id": entry_id,
        "story_key": STORY,
        "part": 1,
        "platform": "youtube",
        "account": "main",
        "reason": "reauth",
        "detail": "token revoked",
        "source_path": None,
        "queue_id": None,
    }


def test_a_post_resolved_by_hand_emits_post_published(stories: sessionmaker[Session]) -> None:
    with transaction(stories) as session:
        entry_id = open_manual_entry(
            session, "captcha", "challenge", story_key=STORY, platform="x", account="main"
        ).id
    subscribe(stories)
    with transaction(stories) as session:
        resolve_entry(session, entry_id, "https://x.com/pellacia/status/1234567890")
    [(event, payload)] = outbox(stories)
    assert event == "post.published"
    assert (payload["platform"], payload["post_id"]) == ("x", "1234567890")


def test_registering_checks_the_url_and_events(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for url in (
            "ftp://hooks.example/",
            "https:///nohost",
            "hooks.example/x",
            "https://user:pw@hooks.example/",
        ):
            with pytest.raises(WebhookError) as refused:
                register(session, url, ["post.failed"])
            assert refused.value.code == "invalid"
        with pytest.raises(WebhookError, match="unknown event"):
            register(session, "https://hooks.example/", ["post.deleted"])
        with pytest.raises(WebhookError, match="at least one"):
            register(session, "https://hooks.example/", [])
        first = register(session, " https://hooks.example/a ", ["post.failed", "post.failed"])
        second = register(session, "http://127.0.0.1:8080/b", ["manual.created"])
        assert (first.url, first.events) == ("https://hooks.example/a", ["post.failed"])
        assert first.secret.startswith("whsec_") and first.secret != second.secret
        assert len(first.secret) > 40


def test_listing_deleting_and_the_delivery_log(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        first = register(session, "https://hooks.example/a", list(EVENTS)).id
        second = register(session, "https://hooks.example/b", list(EVENTS)).id
        queue_ping(session, first)
        queue_ping(session, first)
    with transaction(factory) as session:
        deactivate(session, second)
        hooks, total = list_hooks(session, limit=10)
        assert ([hook.id for hook in hooks], total) == ([first], 1)
        hooks, total = list_hooks(session, include_inactive=True, limit=1, offset=1)
        assert ([hook.id for hook in hooks], total) == ([second], 2)
        log, total = deliveries(session, first, limit=1)
        assert total == 2 and log[0].event == "webhook.ping" and log[0].payload == {"webhook_id": first}
        assert deliveries(session, first, state="delivered") == ([], 0)
        with pytest.raises(WebhookError) as missing:
            get_hook(session, 999)
        assert missing.value.code == "not_found"
        with pytest.raises(WebhookError, match="deleted"):
            queue_ping(session, second)
