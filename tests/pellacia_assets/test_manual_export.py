"""`export_entry`: a folder with the video, the exact words for that platform and part, and the steps."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manual_export import INSTRUCTIONS_FILE, POST_FILE, export_entry
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.manual import ManualError, get_entry, open_entry
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.platforms import PLATFORMS
from resources.platforms.limits import post_caption
from tests.pellacia_assets.manual_stories import add_story, copy_for, produce_story

STORY = "harbour-lights"
RESOLVE = "pellacia-dist manual resolve --id {id} --post-url URL"
# Where each platform's steps send the person (its own site or app) and one choice they must make there.
LANDMARKS = {
    "youtube": ("https://studio.youtube.com", "made for kids"),
    "tiktok": ("https://www.tiktok.com/tiktokstudio/upload", "Who can watch this video"),
    "instagram": ("https://www.instagram.com", "Write a caption"),
    "facebook": ("https://business.facebook.com", "Create reel"),
    "x": ("https://x.com/compose/post", "Everyone can reply"),
    "linkedin": ("https://www.linkedin.com", "Copy link to post"),
}


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def block(text: str, marker: str) -> str:
    """The lines between `----- MARKER ... -----` and the next marker line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"----- {marker}"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("----- "))
    return "\n".join(lines[start + 1 : end])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_post_exports_its_video_exact_copy_and_steps_for_that_platform(
    platform: str, factory: sessionmaker[Session], tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    store = MediaStore(tmp_path / "media")
    videos = produce_story(factory, store, STORY, make_video, parts=2)
    with transaction(factory) as session:
        entry = open_entry(session, "reauth", "token refused", story_key=STORY, part=2, platform=platform,
                           account="main")  # fmt: skip
        folder = export_entry(session, store, entry, tmp_path / "out")
    video = folder / f"{STORY}-part-2.mp4"
    assert video.stat().st_ino == videos[1].stat().st_ino  # a hard link, not a copy
    text = (folder / POST_FILE).read_text(encoding="utf-8")
    copy = copy_for(platform, 2)
    assert block(text, "TITLE") == copy.title
    assert block(text, "CAPTION") == post_caption(platform, copy.title, copy.caption, copy.hashtags)
    assert block(text, "HASHTAGS") == " ".join(copy.hashtags)
    steps = (folder / INSTRUCTIONS_FILE).read_text(encoding="utf-8")
    site, choice = LANDMARKS[platform]
    assert site in steps and choice in steps and f"`{video.name}`" in steps
    assert RESOLVE.format(id=entry.id) in steps
    with transaction(factory) as session:
        assert get_entry(session, entry.id).export_path == str(folder)


def test_youtube_steps_name_the_declarations_the_factory_is_configured_with(
    factory: sessionmaker[Session],
    tmp_path: Path,
    make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PELLACIA_YOUTUBE_PRIVACY", "unlisted")
    monkeypatch.setenv("PELLACIA_YOUTUBE_MADE_FOR_KIDS", "false")
    monkeypatch.delenv("PELLACIA_YOUTUBE_SYNTHETIC_MEDIA", raising=False)
    store = MediaStore(tmp_path / "media")
    produce_story(factory, store, STORY, make_video)
    with transaction(factory) as session:
        entry = open_entry(session, "policy", "x", story_key=STORY, platform="youtube", account="main")
        folder = export_entry(session, store, entry, tmp_path / "out")
    steps = (folder / INSTRUCTIONS_FILE).read_text(encoding="utf-8")
    assert "**Visibility**: `unlisted` (from PELLACIA_YOUTUBE_PRIVACY)" in steps
    assert "made for kids?* with `false`" in steps
    assert "PELLACIA_YOUTUBE_SYNTHETIC_MEDIA is not set" in steps
    tags = block((folder / POST_FILE).read_text(encoding="utf-8"), "TAGS")
    assert tags == "harbour, news, youtube"


def test_a_video_on_another_filesystem_is_copied(
    factory: sessionmaker[Session],
    tmp_path: Path,
    make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MediaStore(tmp_path / "media")
    [video] = produce_story(factory, store, STORY, make_video)

    def cross_device(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    with transaction(factory) as session:
        entry = open_entry(session, "policy", "x", story_key=STORY, platform="x", account="main")
        folder = export_entry(session, store, entry, tmp_path / "out")
    copied = folder / f"{STORY}-part-1.mp4"
    assert copied.read_bytes() == video.read_bytes() and copied.stat().st_ino != video.stat().st_ino


def test_a_file_uploaded_on_its_own_exports_from_its_story_record(
    factory: sessionmaker[Session], tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    clip = make_video(tmp_path / "clip.mp4", seconds=1.0, size="108x192")
    with transaction(factory) as session:
        record = SourceRecord(key="upload-abc", source_kind="upload", source_ref=str(clip), title="Flood",
                              body="The river rose overnight.", tags=("#flood",))  # fmt: skip
        save_source(session, record)
        entry = open_entry(
            session, "media_rejected", "x", story_key="upload-abc", platform="tiktok", account="a"
        )
        folder = export_entry(session, MediaStore(tmp_path / "media"), entry, tmp_path / "out")
    text = (folder / POST_FILE).read_text(encoding="utf-8")
    assert block(text, "CAPTION") == "Flood\n\nThe river rose overnight. #flood"
    assert (folder / "upload-abc-part-1.mp4").read_bytes() == clip.read_bytes()


def test_a_story_with_nothing_produced_cannot_be_exported(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    add_story(factory, STORY)
    with transaction(factory) as session:
        entry = open_entry(session, "policy", "x", story_key=STORY, platform="youtube", account="main")
        with pytest.raises(
            ManualError, match=r"nothing to post by hand yet .*materialise the 'script' asset"
        ):
            export_entry(session, MediaStore(tmp_path / "media"), entry, tmp_path / "out")


def test_a_quarantined_file_exports_with_its_reason_and_how_to_drop_it_again(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    quarantine = tmp_path / "phase05" / "quarantine"
    quarantine.mkdir(parents=True)
    (quarantine / "storm.mp4").write_bytes(b"not quite a video")
    (quarantine / "storm.json").write_text('{"title": "Storm"', encoding="utf-8")
    (quarantine / "storm.error.txt").write_text("storm.json: malformed JSON at line 1\n", encoding="utf-8")
    (quarantine / "stormy.mp4").write_bytes(b"another file")
    with transaction(factory) as session:
        entry = open_entry(session, "quarantined", "bad sidecar", source_path=str(quarantine / "storm.mp4"))
        folder = export_entry(session, MediaStore(tmp_path / "media"), entry, tmp_path / "out")
    assert sorted(path.name for path in folder.iterdir()) == [
        INSTRUCTIONS_FILE, "storm.error.txt", "storm.json", "storm.mp4"
    ]  # fmt: skip
    steps = (folder / INSTRUCTIONS_FILE).read_text(encoding="utf-8")
    assert "Why: storm.json: malformed JSON at line 1" in steps
    assert f"`{tmp_path / 'phase05'}`" in steps
    assert f"pellacia-dist manual resolve --id {entry.id}\n" in steps
