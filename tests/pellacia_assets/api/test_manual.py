"""The manual queue through the API: list, download an entry's export as a zip, resolve it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manual_queue import send_to_manual
from pellacia_assets.settings import Settings
from resources.alerts.config import alerter_from_env
from resources.database.engine import transaction
from resources.database.models import LedgerEntry, QueuedPost
from resources.database.post_queue import enqueue
from resources.media_store.store import MediaStore
from tests.pellacia_assets.api.conftest import auth
from tests.pellacia_assets.manual_stories import produce_story

STORY = "harbour-lights"


@pytest.fixture
def entries(
    factory: sessionmaker[Session], make_video: Callable[..., Path], tmp_path: Path
) -> tuple[int, int, Path]:
    """A post waiting for re-authorisation and a quarantined file: their ids, and the story's video."""
    [video] = produce_story(factory, MediaStore(Settings.from_env().media_dir), STORY, make_video)
    with transaction(factory) as session:
        [row] = enqueue(session, STORY, 1, [("youtube", "main")])
        queue_id = row.id
    quarantine = tmp_path / "drop" / "quarantine"
    quarantine.mkdir(parents=True)
    (quarantine / "storm.mp4").write_bytes(b"not really a video")
    (quarantine / "storm.error.txt").write_text("storm.mp4: no video stream")
    alerter = alerter_from_env()
    post = send_to_manual(factory, alerter, "reauth", "youtube: invalid_grant", queue_id=queue_id)
    dropped = send_to_manual(
        factory, alerter, "quarantined", "storm.json: malformed", source_path=str(quarantine / "storm.mp4")
    )
    return post.id, dropped.id, video


def test_list_download_and_resolve(
    api_client: TestClient, factory: sessionmaker[Session], entries: tuple[int, int, Path]
) -> None:
    post_id, file_id, video = entries
    listed = api_client.get("/manual", headers=auth("viewer")).json()
    assert [(item["id"], item["reason"], item["status"]) for item in listed["items"]] == [
        (post_id, "reauth", "open"),
        (file_id, "quarantined", "open"),
    ]
    assert listed["items"][0]["queue_id"] is not None
    page = api_client.get("/manual", params={"limit": 1, "offset": 1}, headers=auth("viewer")).json()
    assert ([item["id"] for item in page["items"]], page["total"]) == ([file_id], 2)

    download = api_client.get(f"/manual/{post_id}/export.zip", headers=auth("viewer"))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert f'filename="manual-{post_id}.zip"' in download.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        assert sorted(names) == ["INSTRUCTIONS.md", f"{STORY}-part-1.mp4", "post.txt"]
        assert archive.read(f"{STORY}-part-1.mp4") == video.read_bytes()
        assert "pellacia-dist manual resolve" in archive.read("INSTRUCTIONS.md").decode()
        assert archive.getinfo(f"{STORY}-part-1.mp4").compress_type == zipfile.ZIP_STORED
    assert all(not PurePosixPath(n).is_absolute() and ".." not in PurePosixPath(n).parts for n in names)
    exported = api_client.get("/manual", headers=auth("viewer")).json()["items"][0]["export_path"]
    assert exported == str(Settings.from_env().home / "manual" / str(post_id))

    dropped = api_client.get(f"/manual/{file_id}/export.zip", headers=auth("viewer"))
    with zipfile.ZipFile(io.BytesIO(dropped.content)) as archive:
        assert sorted(archive.namelist()) == ["INSTRUCTIONS.md", "storm.error.txt", "storm.mp4"]
    assert api_client.get("/manual/777/export.zip", headers=auth("viewer")).status_code == 404

    no_url = api_client.post(f"/manual/{post_id}/resolve", json={}, headers=auth("editor"))
    assert no_url.status_code == 422
    assert "give the `url`" in no_url.json()["error"]["message"]
    for bad in ("not a url", "ftp://youtube.com/shorts/abc", "http://[::1"):
        refused = api_client.post(f"/manual/{post_id}/resolve", json={"url": bad}, headers=auth("editor"))
        assert refused.status_code == 422, bad
    url = "https://youtube.com/shorts/AbC123xyz"
    resolved = api_client.post(f"/manual/{post_id}/resolve", json={"url": url}, headers=auth("editor"))
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["resolved_url"]) == ("resolved", url)
    with transaction(factory) as session:
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.story_key == STORY)).one()
        assert (entry.state, entry.post_id, entry.url) == ("published", "AbC123xyz", url)
        assert session.scalars(select(QueuedPost)).one().state == "published"
    twice = api_client.post(f"/manual/{post_id}/resolve", json={"url": url}, headers=auth("editor"))
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "conflict"

    handled = api_client.post(f"/manual/{file_id}/resolve", json={}, headers=auth("editor"))
    assert (handled.status_code, handled.json()["resolved_url"]) == (200, None)
    assert api_client.get("/manual", headers=auth("viewer")).json()["total"] == 0
    everything = api_client.get("/manual", params={"status": "all"}, headers=auth("viewer")).json()
    assert {item["status"] for item in everything["items"]} == {"resolved"}
    assert api_client.post("/manual/778/resolve", json={}, headers=auth("editor")).status_code == 404
