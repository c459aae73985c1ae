"""Stories through the API: filters and pages, one story with its script and videos, approve, reject,
breaking news, and a video link added (against the local video site)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.settings import Settings
from resources.database.engine import transaction
from resources.database.models import StoryRecord
from resources.database.post_queue import enqueue
from resources.media_store.store import MediaStore
from sandbox.videos import VideoSite, video_site
from tests.conftest import render_test_video
from tests.pellacia_assets.api.conftest import add_story, auth
from tests.pellacia_assets.manual_stories import produce_story


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoSite]:
    clips = tmp_path_factory.mktemp("clips")
    with video_site() as running:
        running.add_video(
            "harbour", render_test_video(clips / "harbour.mp4", 2.0, "320x568"), "Harbour at dawn"
        )
        running.add_page("essay", "An essay", "Only words here.")
        yield running


def test_list_filters_and_pages(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    for number in range(7):
        add_story(factory, f"reddit-t3_{number}", title=f"Lighthouse tale {number}", approval="pending")
    add_story(factory, "article-abc", title="Harbour news", source_kind="article", approval="approved")
    viewer = auth("viewer")
    first = api_client.get("/stories", params={"limit": 3}, headers=viewer).json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (8, 3, 0, 3)
    second = api_client.get("/stories", params={"limit": 3, "offset": 3}, headers=viewer).json()
    last = api_client.get("/stories", params={"limit": 3, "offset": 6}, headers=viewer).json()
    keys = [item["key"] for page in (first, second, last) for item in page["items"]]
    assert sorted(keys) == sorted([f"reddit-t3_{n}" for n in range(7)] + ["article-abc"])
    beyond = api_client.get("/stories", params={"offset": 100}, headers=viewer).json()
    assert (beyond["items"], beyond["total"]) == ([], 8)

    pending = api_client.get("/stories", params={"approval": "pending"}, headers=viewer).json()
    assert pending["total"] == 7
    article = api_client.get("/stories", params={"source": "article"}, headers=viewer).json()
    assert [item["key"] for item in article["items"]] == ["article-abc"]
    assert article["items"][0]["approval"] == "approved"
    searched = api_client.get("/stories", params={"q": "TALE 3"}, headers=viewer).json()
    assert [item["key"] for item in searched["items"]] == ["reddit-t3_3"]
    produced = api_client.get("/stories", params={"status": "produced"}, headers=viewer).json()
    assert produced["total"] == 0


def test_one_story_with_its_script_and_videos(
    api_client: TestClient, factory: sessionmaker[Session], make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    produce_story(factory, MediaStore(settings.media_dir), "harbour-lights", make_video, parts=2)
    story = api_client.get("/stories/harbour-lights", headers=auth("viewer")).json()
    assert story["key"] == "harbour-lights"
    assert story["title"] == "Harbour lights return"
    assert story["script"]["story_key"] == "harbour-lights"
    assert [part["number"] for part in story["script"]["parts"]] == [1, 2]
    assert story["videos"] == ["harbour-lights/video/part-1.mp4", "harbour-lights/video/part-2.mp4"]
    add_story(factory, "reddit-t3_new")
    fresh = api_client.get("/stories/reddit-t3_new", headers=auth("viewer")).json()
    assert (fresh["script"], fresh["videos"], fresh["approval"]) == (None, [], "pending")
    missing = api_client.get("/stories/reddit-t3_none", headers=auth("viewer"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_approve_once_and_only_once(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "reddit-t3_a")
    first = api_client.post("/stories/reddit-t3_a/approve", headers=auth("editor"))
    assert first.status_code == 200
    assert (first.json()["approval"], first.json()["approval_by"]) == ("approved", "editor")
    again = api_client.post("/stories/reddit-t3_a/approve", headers=auth("editor"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert "already approved" in again.json()["error"]["message"]
    rejected = api_client.post("/stories/reddit-t3_a/reject", json={"reason": "late"}, headers=auth("editor"))
    assert rejected.status_code == 409
    assert api_client.post("/stories/reddit-t3_zzz/approve", headers=auth("editor")).status_code == 404


def test_reject_needs_a_reason(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "reddit-t3_b")
    empty = api_client.post("/stories/reddit-t3_b/reject", json={"reason": ""}, headers=auth("editor"))
    assert empty.status_code == 422
    blank = api_client.post("/stories/reddit-t3_b/reject", json={"reason": "   "}, headers=auth("editor"))
    assert blank.status_code == 422
    assert blank.json()["error"]["code"] == "invalid"
    missing = api_client.post("/stories/reddit-t3_b/reject", json={}, headers=auth("editor"))
    assert missing.json()["error"]["details"][0]["loc"] == ["body", "reason"]
    done = api_client.post(
        "/stories/reddit-t3_b/reject", json={"reason": "a duplicate of\nyesterday's"}, headers=auth("editor")
    )
    assert done.status_code == 200
    assert (done.json()["approval"], done.json()["approval_note"]) == (
        "rejected",
        "a duplicate of\nyesterday's",
    )


def test_breaking_news_moves_the_waiting_posts(
    api_client: TestClient, factory: sessionmaker[Session]
) -> None:
    add_story(factory, "reddit-t3_c", approval="approved")
    with transaction(factory) as session:
        rows = enqueue(session, "reddit-t3_c", 1, [("x", "main"), ("youtube", "main")])
        ids = sorted(row.id for row in rows)
    flagged = api_client.post("/stories/reddit-t3_c/breaking", headers=auth("editor"))
    assert flagged.status_code == 200
    assert flagged.json()["story"]["priority"] == "breaking"
    assert sorted(flagged.json()["moved"]) == ids
    lanes = api_client.get("/schedule", params={"story": "reddit-t3_c"}, headers=auth("viewer")).json()
    assert {item["lane"] for item in lanes["items"]} == {"breaking"}
    assert api_client.post("/stories/nothing-here/breaking", headers=auth("editor")).status_code == 404


def test_add_a_video_link(
    api_client: TestClient, factory: sessionmaker[Session], site: VideoSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_LINKS_APPROVAL", "required")
    monkeypatch.delenv("PELLACIA_LINKS_ALLOW_PRIVATE", raising=False)
    internal = api_client.post(
        "/stories/links", json={"url": site.watch_url("harbour")}, headers=auth("editor")
    )
    assert internal.status_code == 422  # an address inside the network is refused unless allowed
    assert "internal address" in internal.json()["error"]["message"]
    monkeypatch.setenv("PELLACIA_LINKS_ALLOW_PRIVATE", "1")  # the video site runs on 127.0.0.1
    added = api_client.post("/stories/links", json={"url": site.watch_url("harbour")}, headers=auth("editor"))
    assert added.status_code == 201, added.text
    assert added.json() == {"key": "link-generic-harbour", "outcome": "added", "approval": "pending"}
    with transaction(factory) as session:
        record = session.get(StoryRecord, "link-generic-harbour")
        assert record is not None and record.title == "Harbour at dawn"
    twice = api_client.post("/stories/links", json={"url": site.watch_url("harbour")}, headers=auth("editor"))
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "duplicate"
    assert "link-generic-harbour" in twice.json()["error"]["message"]
    for url in (site.page_url("essay"), site.missing_url(), "ftp://example.test/a.mp4", "http://[::1"):
        refused = api_client.post("/stories/links", json={"url": url}, headers=auth("editor"))
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["error"]["code"] == "invalid_link"
    assert api_client.get("/stories", headers=auth("viewer")).json()["total"] == 1
