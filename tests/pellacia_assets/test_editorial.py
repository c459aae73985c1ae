"""The editor's actions shared by the CLI, the API and the page: listing, breaking news, links, outputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.editorial import add_link, flag_breaking, get_story, list_stories, story_outputs
from pellacia_assets.sources.links import LinkError
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import ApprovalError, admit
from resources.database.post_queue import enqueue
from resources.media_store.store import MediaStore
from sandbox.videos import VideoSite, speech_video, video_site


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoSite]:
    with video_site() as running:
        clip = speech_video(tmp_path_factory.mktemp("clips") / "clip.mp4", "A short clip about the sea.")
        running.add_video("sea", clip, "The sea at night")
        yield running


def _seed(factory: sessionmaker[Session], count: int) -> None:
    with transaction(factory) as session:
        for index in range(count):
            record = SourceRecord(
                key=f"reddit-t3_{index:03}",
                source_kind="reddit",
                source_ref="r",
                title=f"Story {index}",
                body="B",
            )
            admit(session, record, approval="pending" if index % 2 else "approved")


def test_stories_are_listed_a_page_at_a_time_with_filters(factory: sessionmaker[Session]) -> None:
    _seed(factory, 7)
    page, total = list_stories(factory, limit=3, offset=0)
    assert total == 7 and len(page) == 3
    everything = [s.key for offset in (0, 3, 6) for s in list_stories(factory, limit=3, offset=offset)[0]]
    assert sorted(everything) == [f"reddit-t3_{i:03}" for i in range(7)]
    pending, pending_total = list_stories(factory, approval="pending")
    assert pending_total == 3 and {s.approval for s in pending} == {"pending"}
    found, found_total = list_stories(factory, search="story 4")
    assert found_total == 1 and found[0].key == "reddit-t3_004"
    assert list_stories(factory, source="article") == ([], 0)


def test_breaking_news_raises_the_story_and_its_waiting_posts(factory: sessionmaker[Session]) -> None:
    _seed(factory, 1)
    with transaction(factory) as session:
        queued = enqueue(session, "reddit-t3_000", 1, [("youtube", "main"), ("tiktok", "main")])
        ids = sorted(row.id for row in queued)
    story, moved = flag_breaking(factory, "reddit-t3_000", by="editor")
    assert story.priority == "breaking" and sorted(moved) == ids
    assert get_story(factory, "reddit-t3_000").priority == "breaking"
    with pytest.raises(ApprovalError) as unknown:
        flag_breaking(factory, "nope", by="editor")
    assert unknown.value.code == "not_found"


def test_a_link_added_by_an_editor_becomes_a_story_once(
    factory: sessionmaker[Session], site: VideoSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{site.base_url}/watch/sea"
    monkeypatch.delenv("PELLACIA_LINKS_APPROVAL", raising=False)
    monkeypatch.delenv("PELLACIA_APPROVAL", raising=False)
    with pytest.raises(LinkError, match=r"is an internal address .*PELLACIA_LINKS_ALLOW_PRIVATE=1"):
        add_link(factory, url, by="editor")
    monkeypatch.setenv("PELLACIA_LINKS_ALLOW_PRIVATE", "1")
    first = add_link(factory, url, by="editor")
    assert first.outcome == "added" and first.key.startswith("link-") and first.approval == "approved"
    story = get_story(factory, first.key)
    assert (story.title, story.approval_by, story.source_kind) == ("The sea at night", "editor", "link")
    again = add_link(factory, url + "?utm_source=share", by="editor")
    assert again.outcome == "duplicate" and again.same_as == first.key
    with pytest.raises(LinkError):
        add_link(factory, f"{site.base_url}/pages/none", by="editor")


def test_a_story_outputs_are_its_script_and_videos(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    assert story_outputs(store, "k") == {"script": None, "videos": []}
    (store.asset_dir("k", "script")).mkdir(parents=True)
    (store.asset_dir("k", "script") / "script.json").write_text('{"hook": "Listen."}')
    (store.asset_dir("k", "video")).mkdir(parents=True)
    for name in ("part-2.mp4", "part-1.mp4", "part-1.png"):
        (store.asset_dir("k", "video") / name).write_bytes(b"x")
    assert story_outputs(store, "k") == {
        "script": {"hook": "Listen."},
        "videos": ["k/video/part-1.mp4", "k/video/part-2.mp4"],
    }
