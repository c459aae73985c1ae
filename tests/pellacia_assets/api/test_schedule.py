"""The posting queue through the API: schedule a produced story (queue rows at the asked time), schedule
one not produced yet (kept on the story, queued when it is), list, cancel, and each account's status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.producers import queue_story
from pellacia_assets.settings import Settings
from resources.database.engine import transaction
from resources.database.models import StoryRecord, as_utc
from resources.database.stories import set_status
from resources.media_store.store import MediaStore
from tests.pellacia_assets.api.conftest import add_story, auth
from tests.pellacia_assets.manual_stories import produce_story

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def produced(factory: sessionmaker[Session], make_video: Callable[..., Path]) -> str:
    produce_story(factory, MediaStore(Settings.from_env().media_dir), "harbour-lights", make_video, parts=2)
    with transaction(factory) as session:
        set_status(session, "harbour-lights", "produced")
    return "harbour-lights"


def tomorrow_at_nine() -> tuple[str, datetime]:
    local = (datetime.now(PARIS) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return local.strftime("%Y-%m-%d %H:%M"), local.astimezone(UTC)


def test_schedule_a_produced_story(api_client: TestClient, produced: str) -> None:
    text, moment = tomorrow_at_nine()
    body = {"story": produced, "platforms": ["x", "youtube"], "at": text, "timezone": "Europe/Paris"}
    response = api_client.post("/schedule", json=body, headers=auth("editor"))
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["story"], result["lane"], result["deferred"]) == (produced, "normal", False)
    assert datetime.fromisoformat(result["not_before"]) == moment
    rows = result["queued"]
    assert sorted((row["platform"], row["part"]) for row in rows) == [
        ("x", 1),
        ("x", 2),
        ("youtube", 1),
        ("youtube", 2),
    ]
    assert {row["state"] for row in rows} == {"queued"}
    assert all(datetime.fromisoformat(row["not_before"]) >= moment for row in rows)

    again = api_client.post("/schedule", json=body, headers=auth("editor")).json()
    assert sorted(row["id"] for row in again["queued"]) == sorted(row["id"] for row in rows)

    listed = api_client.get("/schedule", headers=auth("viewer")).json()
    assert listed["total"] == 4
    assert [item["not_before"] for item in listed["items"]] == sorted(
        item["not_before"] for item in listed["items"]
    )
    page = api_client.get("/schedule", params={"limit": 1, "offset": 1}, headers=auth("viewer")).json()
    assert (len(page["items"]), page["total"]) == (1, 4)

    first = rows[0]["id"]
    cancelled = api_client.delete(f"/schedule/{first}", headers=auth("editor"))
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    twice = api_client.delete(f"/schedule/{first}", headers=auth("editor"))
    assert twice.status_code == 409
    assert "only queued or due posts can be cancelled" in twice.json()["error"]["message"]
    assert api_client.delete("/schedule/31337", headers=auth("editor")).status_code == 404
    assert api_client.get("/schedule", headers=auth("viewer")).json()["total"] == 3
    gone = api_client.get("/schedule", params={"state": "cancelled"}, headers=auth("viewer")).json()
    assert [item["id"] for item in gone["items"]] == [first]

    requeued = api_client.post("/schedule", json=body, headers=auth("editor")).json()
    assert {row["state"] for row in requeued["queued"]} == {"queued"}  # scheduling again queues it again

    status = api_client.get("/queue", headers=auth("viewer")).json()
    assert status["timezone"] == "UTC"
    accounts = {(a["platform"], a["account"]): a for a in status["accounts"]}
    assert accounts[("x", "default")]["queued"] == {"breaking": 0, "normal": 2, "backlog": 0}
    assert accounts[("youtube", "default")]["published_today"] == 0
    assert len(accounts) == 6  # every configured account, even with nothing queued


def test_schedule_a_story_not_produced_yet(
    api_client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_story(factory, "reddit-t3_p", approval="pending")
    text, moment = tomorrow_at_nine()
    body = {
        "story": "reddit-t3_p",
        "platforms": ["tiktok"],
        "at": text,
        "timezone": "Europe/Paris",
        "priority": "backlog",
    }
    response = api_client.post("/schedule", json=body, headers=auth("editor"))
    assert response.status_code == 202
    assert response.json()["deferred"] is True and response.json()["queued"] == []
    with transaction(factory) as session:
        record = session.get(StoryRecord, "reddit-t3_p")
        assert record is not None
        assert (record.platforms, as_utc(record.publish_after), record.priority) == (
            ["tiktok"],
            moment,
            "backlog",
        )
        [row] = queue_story(session, "reddit-t3_p", 1, PostingPolicy.from_env())  # once its video is made
        assert (row.platform, as_utc(row.not_before), row.lane) == ("tiktok", moment, "backlog")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"story": "s-1", "at": "2020-01-01 10:00"}, 422, "in the past"),
        ({"story": "s-1", "at": "2099-01-01 10:00"}, 422, "more than a year ahead"),
        ({"story": "s-1", "at": "9999-12-31T23:59:59-12:00"}, 422, "out of range"),
        ({"story": "s-1", "at": "2030-01-01"}, 422, "a date and a time"),
        ({"story": "s-1", "at": "next tuesday"}, 422, "not a date and time"),
        (
            {"story": "s-1", "at": "2030-01-01 10:00", "timezone": "Mars/Olympus"},
            422,
            "not a known time zone",
        ),
        ({"story": "s-1", "timezone": "../../etc/passwd"}, 422, "not a known time zone"),
        ({"story": "s-1", "platforms": ["myspace"]}, 422, "body.platforms.0"),
        ({"story": "s-1", "platforms": []}, 422, "body.platforms"),
        ({"story": "s-1", "priority": "urgent"}, 422, "body.priority"),
        ({"story": "../s-1"}, 422, "body.story"),
        ({"story": "s-9"}, 404, "no story 's-9'"),
        ({"story": "s-2"}, 409, "rejected"),
    ],
)
def test_schedule_refusals(
    api_client: TestClient, factory: sessionmaker[Session], body: dict[str, object], status: int, words: str
) -> None:
    add_story(factory, "s-1")
    add_story(factory, "s-2")
    assert (
        api_client.post("/stories/s-2/reject", json={"reason": "no"}, headers=auth("editor")).status_code
        == 200
    )
    response = api_client.post("/schedule", json=body, headers=auth("editor"))
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
    with transaction(factory) as session:
        record = session.get(StoryRecord, "s-1")
        assert record is not None and record.platforms is None and record.publish_after is None
