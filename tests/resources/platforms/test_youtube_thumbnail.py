"""thumbnails.set after a YouTube upload, against the sandbox through publish_once and a real LedgerJournal:
the thumbnail is sent once the video exists, an unverified channel's 403 is logged while the post counts,
and a resumed publish never sends it twice."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.publishing import publish_once
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.stories import save_source
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.config import PlatformSettings
from resources.platforms.youtube import THUMBNAIL_REFUSED, THUMBNAIL_SET, YouTubeClient
from sandbox.youtube import MAX_THUMBNAIL_BYTES, ThumbnailSet, YouTubeSandbox

STORY = "story-thumb"
DECLARATIONS = {"privacy": "private", "made_for_kids": "false", "synthetic_media": "true"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("youtube-thumbnail-media")
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=540x960:r=30",
            "-f", "lavfi", "-i", "sine", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "32",
            "-c:a", "aac", "-movflags", "+faststart", str(folder / "short.mp4"),
        ],
        check=True,
    )  # fmt: skip
    Image.new("RGB", (1280, 720), (200, 40, 30)).save(folder / "thumb.jpg", quality=90)
    Image.new("RGB", (1280, 720), (30, 40, 200)).save(folder / "thumb.png")
    return folder


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "sandbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="test", source_ref="t", title="T", body="B"))
    return sessions


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(sandbox: YouTubeSandbox) -> YouTubeClient:
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="youtube",
        urls={root: sandbox.url(root) for root in ("api", "upload", "oauth", "analytics")},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        options=DECLARATIONS,
    )
    return YouTubeClient(settings, sleep=Waits(), poll_interval_s=0.05)


def journal_for(factory: sessionmaker[Session], video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, 1, "youtube", "default", sha256_of(video)))


def post_of(media: Path, thumbnail: Path | None) -> VideoPost:
    return VideoPost(media / "short.mp4", "The lighthouse keeper", "A short story.", ("#story",), thumbnail)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("name", "kind"), [("thumb.jpg", "image/jpeg"), ("thumb.png", "image/png")])
def test_thumbnail_is_set_after_the_upload(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], media: Path, name: str, kind: str
) -> None:
    journal = journal_for(factory, media / "short.mp4")
    outcome = publish_once(client_for(sandbox), post_of(media, media / name), journal)
    [posted] = sandbox.posts
    assert outcome.post.post_id == posted["id"]
    thumbnail = media / name
    assert sandbox.thumbnail_sets == [
        ThumbnailSet(posted["id"], kind, thumbnail.stat().st_size, sha(thumbnail))
    ]
    assert journal.get("thumbnail") == THUMBNAIL_SET
    assert journal.snapshot().state == "published"


def test_no_thumbnail_no_call(sandbox: YouTubeSandbox, factory: sessionmaker[Session], media: Path) -> None:
    journal = journal_for(factory, media / "short.mp4")
    publish_once(client_for(sandbox), post_of(media, None), journal)
    assert len(sandbox.posts) == 1 and sandbox.thumbnail_sets == []
    assert journal.get("thumbnail") is None


def test_unverified_channel_403_is_logged_and_the_post_counts(
    tmp_path: Path, factory: sessionmaker[Session], media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = YouTubeSandbox(tmp_path / "unverified", custom_thumbnails=False)
    server.start()
    try:
        journal = journal_for(factory, media / "short.mp4")
        with caplog.at_level(logging.WARNING, logger="pellacia.platforms.youtube"):
            outcome = publish_once(client_for(server), post_of(media, media / "thumb.jpg"), journal)
        [posted] = server.posts
        assert outcome.post.post_id == posted["id"] and journal.snapshot().state == "published"
        assert server.thumbnail_sets == [] and server.thumbnail_refusals == 1  # a 403 is not retried
        assert journal.get("thumbnail") == THUMBNAIL_REFUSED
        assert any("without its custom thumbnail" in r.getMessage() for r in caplog.records)
        # resumed: the refusal is journaled, so the channel is not asked again
        journal.mark_failed("crashed before the ledger said published", state="unknown")
        publish_once(client_for(server), post_of(media, media / "thumb.jpg"), journal)
        assert server.thumbnail_refusals == 1 and len(server.posts) == 1
    finally:
        server.stop()


def test_resumed_publish_does_not_send_it_twice(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], media: Path
) -> None:
    journal = journal_for(factory, media / "short.mp4")
    post = post_of(media, media / "thumb.jpg")
    publish_once(client_for(sandbox), post, journal)
    assert len(sandbox.thumbnail_sets) == 1
    # the process died after thumbnails.set but before the ledger said published
    journal.mark_failed("crashed", state="unknown")
    again = publish_once(client_for(sandbox), post, journal)
    assert again.reconciled and len(sandbox.posts) == 1
    assert len(sandbox.thumbnail_sets) == 1


def test_video_of_an_earlier_attempt_gets_its_thumbnail_once_on_resume(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], media: Path
) -> None:
    journal = journal_for(factory, media / "short.mp4")
    publish_once(client_for(sandbox), post_of(media, None), journal)  # uploaded; died before the thumbnail
    journal.mark_failed("crashed", state="unknown")
    publish_once(client_for(sandbox), post_of(media, media / "thumb.jpg"), journal)
    publish_once(client_for(sandbox), post_of(media, media / "thumb.jpg"), journal)  # already published
    [posted] = sandbox.posts
    assert [s.video_id for s in sandbox.thumbnail_sets] == [posted["id"]]


def test_server_error_is_retried_then_set(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], media: Path
) -> None:
    sandbox.fail_next("thumbnails_set", 503)
    journal = journal_for(factory, media / "short.mp4")
    publish_once(client_for(sandbox), post_of(media, media / "thumb.jpg"), journal)
    assert len(sandbox.thumbnail_sets) == 1 and journal.get("thumbnail") == THUMBNAIL_SET


@pytest.mark.parametrize("name", ["big.png", "thumb.gif", "missing.jpg"])
def test_oversized_foreign_or_missing_thumbnail_is_not_sent(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    media: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(MAX_THUMBNAIL_BYTES))
    (tmp_path / "thumb.gif").write_bytes(b"GIF89a")
    journal = journal_for(factory, media / "short.mp4")
    with caplog.at_level(logging.WARNING, logger="pellacia.platforms.youtube"):
        publish_once(client_for(sandbox), post_of(media, tmp_path / name), journal)
    assert journal.snapshot().state == "published" and journal.get("thumbnail") is None
    assert sandbox.thumbnail_sets == [] and len(sandbox.posts) == 1
    assert any("keeps YouTube's own thumbnail" in r.getMessage() for r in caplog.records)


def test_sandbox_validates_thumbnails_as_documented(sandbox: YouTubeSandbox, media: Path) -> None:
    posted = client_for(sandbox).publish(post_of(media, None), _MemoryJournal())
    token = sandbox.issue_tokens().access_token
    url = sandbox.url("upload", "/upload/youtube/v3/thumbnails/set")
    jpeg = (media / "thumb.jpg").read_bytes()

    def send(video_id: str, body: bytes, content_type: str) -> httpx.Response:
        return httpx.post(
            url,
            params={"videoId": video_id, "uploadType": "media"},
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )

    assert send(posted.post_id, jpeg, "image/jpeg").status_code == 200
    assert send(posted.post_id, jpeg, "application/octet-stream").status_code == 200
    refused = send(posted.post_id, b"GIF89a....", "image/gif")
    assert refused.status_code == 400 and refused.json()["error"]["errors"][0]["reason"] == "invalidImage"
    assert send(posted.post_id, b"not an image", "image/png").json()["error"]["errors"][0]["reason"] == (
        "invalidImage"
    )
    assert send(posted.post_id, jpeg, "image/png").status_code == 400  # says PNG, is a JPEG
    assert send(posted.post_id, b"\xff\xd8\xff" + bytes(MAX_THUMBNAIL_BYTES), "image/jpeg").status_code == 413
    assert send("nosuchvideo", jpeg, "image/jpeg").status_code == 404
    assert (
        send(posted.post_id, b"", "image/jpeg").json()["error"]["errors"][0]["reason"] == "mediaBodyRequired"
    )
    unauthorised = httpx.post(url, params={"videoId": posted.post_id}, content=jpeg)
    assert unauthorised.status_code == 401
    assert len(sandbox.thumbnail_sets) == 2


class _MemoryJournal(dict[str, str]):
    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name, default)

    def put(self, name: str, value: str) -> None:
        self[name] = value

    def set_state(self, state: str) -> None:
        self["state"] = state
