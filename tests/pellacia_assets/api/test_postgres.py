"""The API on PostgreSQL (production's database): the same answers as on SQLite, and hostile input that
PostgreSQL would refuse with an error (NUL characters, ids past its 32-bit integers) is a 422 first."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pellacia_assets.api.app import create_app
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.post_queue import enqueue
from tests.pellacia_assets.api.conftest import add_post, add_story, auth

pytestmark = pytest.mark.postgres


def test_the_api_on_postgresql(api_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_DATABASE_URL", postgres_url)
    factory = open_database(Settings.from_env().database_url)
    for number in range(5):
        add_story(factory, f"reddit-t3_{number}", title=f"100% true tale_{number}")
    add_post(factory, "reddit-t3_0", "youtube", post_id="yt0")
    with transaction(factory) as session:
        enqueue(session, "reddit-t3_0", 1, [("x", "main")])
    viewer, editor = auth("viewer"), auth("editor")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        page = client.get("/stories", params={"limit": 2, "offset": 2}, headers=viewer).json()
        assert (page["total"], len(page["items"])) == (5, 2)
        found = client.get("/stories", params={"q": "tale_3"}, headers=viewer).json()
        assert [item["key"] for item in found["items"]] == ["reddit-t3_3"]
        assert client.post("/stories/reddit-t3_1/approve", headers=editor).status_code == 200
        assert client.post("/stories/reddit-t3_1/approve", headers=editor).status_code == 409
        assert client.get("/posts", params={"platform": "youtube"}, headers=viewer).json()["total"] == 1
        assert client.get("/schedule", headers=viewer).json()["total"] == 1
        assert client.post("/schedule", json={"story": "reddit-t3_2"}, headers=editor).status_code == 202
        assert len(client.get("/queue", headers=viewer).json()["accounts"]) >= 6
        assert client.get("/manual", headers=viewer).json()["total"] == 0
        assert client.get("/health").json()["checks"]["database"]["ok"] is True

        hostile = [
            client.get("/stories", params={"q": "a\x00b"}, headers=viewer),
            client.get("/stories", params={"source": "\x00"}, headers=viewer),
            client.get("/posts/2147483648", headers=viewer),
            client.get("/stories", params={"offset": 2**40}, headers=viewer),
            client.post("/stories/reddit-t3_4/reject", json={"reason": "\x00"}, headers=editor),
            client.post("/schedule", json={"story": "reddit-t3_4", "timezone": "UTC\x00"}, headers=editor),
            client.post("/manual/1/resolve", json={"url": "https://x.com/a/status/1\x00"}, headers=editor),
        ]
        assert [response.status_code for response in hostile] == [422] * len(hostile)
        assert client.get("/stories/reddit-t3_4", headers=viewer).json()["approval"] == "pending"
