"""Sending to and resolving from the manual queue: the entry, the queue row and ONE alert move together.

Alerts go through the real Telegram channel to the local Bot API sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manual_queue import resolve_manual, send_to_manual
from resources.alerts.channels import Alerter
from resources.alerts.config import alerter_from_env
from resources.database.engine import open_database, transaction
from resources.database.models import AlertIncident, LedgerEntry, QueuedPost
from resources.database.post_queue import enqueue
from resources.media_store.store import MediaStore
from resources.platforms.base import sha256_of
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from tests.pellacia_assets.manual_stories import add_story, produce_story

STORY = "harbour-lights"


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        for name, value in sandbox.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PELLACIA_UI_URL", "http://factory.example:3000")
        yield sandbox


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def publishing_rows(factory: sessionmaker[Session], parts: int = 1) -> list[int]:
    with transaction(factory) as session:
        rows = enqueue(session, STORY, parts, [("youtube", "main")])
        for row in rows:
            row.state = "publishing"
        session.flush()
        return [row.id for row in rows]


def texts(telegram: TelegramSandbox) -> list[str]:
    return [str(message["text"]) for message in telegram.messages]


def test_a_post_a_person_must_finish_opens_one_entry_and_one_alert(
    telegram: TelegramSandbox,
    factory: sessionmaker[Session],
    tmp_path: Path,
    make_video: Callable[..., Path],
) -> None:
    produce_story(factory, MediaStore(tmp_path / "media"), STORY, make_video)
    [queue_id] = publishing_rows(factory)
    alerter = alerter_from_env()
    detail = "youtube: the token endpoint refused the refresh (invalid_grant)"
    first = send_to_manual(factory, alerter, "reauth", detail, queue_id=queue_id, run_id="run-1")
    again = send_to_manual(factory, alerter, "reauth", detail, queue_id=queue_id, run_id="run-2")
    assert again.id == first.id
    [text] = texts(telegram)
    assert "manual reauth (harbour-lights on youtube)" in text and "re-authorisation needed" in text
    assert detail in text and f"manual export --id {first.id}" in text
    assert "http://factory.example:3000/runs/run-1" in text
    with transaction(factory) as session:
        row = session.get_one(QueuedPost, queue_id)
        assert (row.state, row.last_error) == ("manual", detail)
        incident = session.scalars(select(AlertIncident)).one()
        assert (incident.cause, incident.status, incident.occurrences) == ("manual_reauth", "open", 2)


def test_every_quarantined_file_alerts_once(
    telegram: TelegramSandbox, factory: sessionmaker[Session]
) -> None:
    alerter = alerter_from_env()
    for name in ("first.mp4", "second.mp4", "first.mp4"):
        send_to_manual(
            factory, alerter, "quarantined", "the sidecar is missing", source_path=f"/drop/quarantine/{name}"
        )
    assert [text.splitlines()[0] for text in texts(telegram)] == [
        "Pellacia: manual quarantined (first.mp4)",
        "Pellacia: manual quarantined (second.mp4)",
    ]


def test_resolving_records_the_post_and_closes_the_alert_with_the_last_entry(
    telegram: TelegramSandbox,
    factory: sessionmaker[Session],
    tmp_path: Path,
    make_video: Callable[..., Path],
) -> None:
    store = MediaStore(tmp_path / "media")
    videos = produce_story(factory, store, STORY, make_video, parts=2)
    alerter = alerter_from_env()
    entries = [
        send_to_manual(
            factory, alerter, "policy", "PELLACIA_YOUTUBE_MADE_FOR_KIDS is not set", queue_id=queue_id
        )
        for queue_id in publishing_rows(factory, parts=2)
    ]
    assert len(telegram.messages) == 1  # one incident: the story on youtube, for the same reason
    resolve_manual(factory, alerter, entries[0].id, "https://youtube.com/shorts/part1id", store=store)
    assert len(telegram.messages) == 1  # part 2 still needs a person: the alert stays open
    resolve_manual(factory, alerter, entries[1].id, "https://youtube.com/shorts/part2id", store=store)
    resolved = texts(telegram)[-1]
    assert resolved.startswith("Pellacia: resolved manual policy (harbour-lights on youtube)")
    assert "https://youtube.com/shorts/part2id" in resolved
    with transaction(factory) as session:
        ledger = {row.part: row for row in session.scalars(select(LedgerEntry))}
        assert {part: (row.state, row.post_id) for part, row in ledger.items()} == {
            1: ("published", "part1id"),
            2: ("published", "part2id"),
        }
        assert [ledger[1].video_sha256, ledger[2].video_sha256] == [sha256_of(video) for video in videos]
        assert {row.state for row in session.scalars(select(QueuedPost))} == {"published"}
        assert session.scalars(select(AlertIncident)).one().status == "resolved"


def test_without_alert_channels_the_entry_and_its_incident_are_still_kept(
    factory: sessionmaker[Session],
) -> None:
    add_story(factory, STORY)
    entry = send_to_manual(
        factory, Alerter([]), "captcha", "the login asks for a captcha", story_key=STORY, platform="tiktok"
    )
    with transaction(factory) as session:
        incident = session.scalars(select(AlertIncident)).one()
        assert (incident.cause, incident.delivered, entry.status) == ("manual_captcha", {}, "open")
