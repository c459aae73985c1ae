"""Video links against the local video site: metadata read with yt-dlp into a link story, downloads with a
size cap, clear refusals, and the links file read once per line through the intake gate."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.sources.base import SourceConfigError, canonical_url, poll
from pellacia_assets.sources.links import (
    MAX_PER_FETCH,
    LinkError,
    LinksSource,
    download,
    from_env,
    link_candidate,
    platform_of,
)
from resources.database.engine import open_database, transaction
from resources.database.models import SourceSkip, StoryRecord
from sandbox.videos import VideoSite, speech_video, video_site

KEEPER = "The keeper of the lighthouse found a letter in a bottle, written fifty years ago."
BAKER = "Every morning the baker left one loaf on the windowsill for a neighbour she had never met."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoSite]:
    clips = tmp_path_factory.mktemp("clips")
    with video_site() as running:
        running.add_video(
            "keeper",
            speech_video(clips / "keeper.mp4", KEEPER),
            "The letter in the bottle",
            description="Found.",
        )
        running.add_video("baker", speech_video(clips / "baker.mp4", BAKER), "The loaf on the windowsill")
        running.add_page("essay", "An essay", "Only words here.")
        yield running


@pytest.fixture
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    for name in ("PELLACIA_APPROVAL", "PELLACIA_LINKS_APPROVAL"):
        monkeypatch.delenv(name, raising=False)
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def settled(path: Path) -> Path:
    """The file as an editor leaves it: last written a while ago."""
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def test_a_direct_video_link_becomes_a_link_story(site: VideoSite) -> None:
    candidate = link_candidate(site.media_url("keeper"))
    record = candidate.record
    assert record.key == "link-generic-keeper"
    assert (record.source_kind, record.source_ref, record.url) == (
        "link",
        site.media_url("keeper"),
        record.url,
    )
    assert record.title == "keeper"  # a bare file has no title but its name
    assert record.byline is not None and record.byline.kind == "other"
    assert record.byline.site == site.base_url.removeprefix("http://")
    assert candidate.canonical_url == canonical_url(site.media_url("keeper"))
    assert candidate.content_hash is None  # the words are unknown until the video is transcribed


def test_a_video_page_gives_its_title_and_description(site: VideoSite) -> None:
    record = link_candidate(site.watch_url("keeper")).record
    assert record.key == "link-generic-keeper"
    assert record.title == "The letter in the bottle"
    assert record.body == "Found."
    assert record.url == site.watch_url("keeper")
    assert record.byline is not None and record.byline.author is None  # a page's host is nobody's name


def test_a_page_with_a_video_element_is_the_same_video_without_yt_dlps_numbering(site: VideoSite) -> None:
    record = link_candidate(site.player_url("baker")).record
    assert record.key == "link-generic-baker"
    assert record.title == "The loaf on the windowsill"


def test_a_missing_video_is_refused_with_the_http_status(site: VideoSite) -> None:
    with pytest.raises(LinkError) as refused:
        link_candidate(site.missing_url())
    reason = "yt-dlp cannot read it: Unable to download webpage: HTTP Error 404: Not Found"
    assert str(refused.value) == f"{site.missing_url()}: {reason}"


def test_a_page_without_a_video_is_refused_as_such(site: VideoSite) -> None:
    with pytest.raises(LinkError, match="no video there") as refused:
        link_candidate(site.page_url("essay"))
    assert str(refused.value).startswith(site.page_url("essay"))


@pytest.mark.parametrize(
    "url", ["ftp://example.com/video.mp4", "not a url", "file:///etc/passwd", "https://"]
)
def test_anything_but_an_http_address_is_refused_before_yt_dlp(url: str) -> None:
    with pytest.raises(LinkError, match=r"use an http:// or https:// address"):
        link_candidate(url)


@pytest.mark.parametrize(
    ("extractor", "platform"),
    [("TikTok", "tiktok"), ("Youtube", "youtube"), ("Generic", "generic"), ("HTML5MediaEmbed", "generic")],
)
def test_the_platform_is_yt_dlps_extractor_lowercased(extractor: str, platform: str) -> None:
    assert platform_of({"extractor_key": extractor}) == platform


def test_download_fetches_the_file_into_the_folder(site: VideoSite, tmp_path: Path) -> None:
    path = download(site.watch_url("keeper"), tmp_path / "source")
    assert path == tmp_path / "source" / "source.mp4"
    assert path.read_bytes() == site.video("keeper").path.read_bytes()  # type: ignore[union-attr]


def test_download_refuses_a_video_over_the_size_cap(site: VideoSite, tmp_path: Path) -> None:
    with pytest.raises(LinkError, match="larger than the 1,000 bytes download limit"):
        download(site.media_url("keeper"), tmp_path, max_bytes=1_000)
    assert not list(tmp_path.glob("source.*"))


def test_download_of_a_missing_video_is_a_link_error(site: VideoSite, tmp_path: Path) -> None:
    with pytest.raises(LinkError, match="HTTP Error 404"):
        download(site.missing_url(), tmp_path)


def test_a_missing_links_file_is_nothing_new(tmp_path: Path) -> None:
    fetched = LinksSource(tmp_path / "links.txt").fetch({"offset": 7, "inode": 1, "sha256": "x"})
    assert (fetched.candidates, fetched.skipped) == ([], [])
    assert fetched.cursor == {"offset": 7, "inode": 1, "sha256": "x"}


def test_the_links_file_is_admitted_once_bad_lines_skipped_and_the_same_video_deduped(
    site: VideoSite, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    links = tmp_path / "links.txt"
    links.write_text(
        "# videos to retell\n\n"
        f"{site.watch_url('keeper')}\n"
        "not a link\n"
        f"{site.missing_url()}\n"
        f"{site.media_url('keeper')}?utm_source=newsletter\n",
        encoding="utf-8",
    )
    source = LinksSource(settled(links))

    first = poll(source, factory)
    assert first.error is None
    assert [(a.key, a.approval) for a in first.added] == [("link-generic-keeper", "approved")]
    assert [d.same_as for d in first.duplicates] == ["link-generic-keeper"]
    assert [s.ref for s in first.skipped] == ["not a link", site.missing_url()]
    assert "HTTP Error 404" in first.skipped[1].reason

    assert poll(source, factory).as_json() == {
        "source": "links", "added": [], "duplicates": [], "skipped": [], "error": None
    }  # fmt: skip

    with links.open("a", encoding="utf-8") as handle:
        handle.write(f"{site.player_url('baker')}\n")
    third = poll(source, factory)
    assert [a.key for a in third.added] == ["link-generic-baker"]
    assert third.skipped == [] and third.duplicates == []

    with transaction(factory) as session:
        rows = {row.key: row for row in session.scalars(select(StoryRecord))}
        skips = {skip.item_ref: skip.reason for skip in session.scalars(select(SourceSkip))}
        keeper = rows["link-generic-keeper"]
        assert (keeper.source_kind, keeper.title, keeper.url) == (
            "link",
            "The letter in the bottle",
            site.watch_url("keeper"),
        )
        assert keeper.canonical_url == canonical_url(site.watch_url("keeper"))
    assert set(rows) == {"link-generic-keeper", "link-generic-baker"}
    assert set(skips) == {"not a link", site.missing_url()}


def test_a_rewritten_links_file_is_read_again_and_dedupe_drops_what_was_admitted(
    site: VideoSite, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    links = tmp_path / "links.txt"
    links.write_text(f"{site.watch_url('keeper')}\n", encoding="utf-8")
    source = LinksSource(settled(links))
    assert [a.key for a in poll(source, factory).added] == ["link-generic-keeper"]

    replacement = tmp_path / "links.new"
    replacement.write_text(f"{site.media_url('keeper')}\n{site.watch_url('baker')}\n", encoding="utf-8")
    replacement.replace(links)  # an editor's save: a new file under the old name
    again = poll(source, factory)
    assert [a.key for a in again.added] == ["link-generic-baker"]
    assert [d.key for d in again.duplicates] == ["link-generic-keeper"]


def test_a_last_line_without_newline_waits_until_the_file_is_still(site: VideoSite, tmp_path: Path) -> None:
    links = tmp_path / "links.txt"
    links.write_text(site.watch_url("baker"), encoding="utf-8")  # being written: no newline yet
    source = LinksSource(links)
    fresh = source.fetch({})
    assert fresh.candidates == [] and fresh.cursor["offset"] == 0
    settled(links)
    read = source.fetch(fresh.cursor)
    assert [c.record.key for c in read.candidates] == ["link-generic-baker"]
    assert source.fetch(read.cursor).candidates == []


def test_a_long_paste_is_read_a_batch_per_poll(tmp_path: Path) -> None:
    links = tmp_path / "links.txt"
    links.write_text(
        "".join(f"# comment {n}\nnot-a-link-{n}\n" for n in range(MAX_PER_FETCH + 3)), encoding="utf-8"
    )
    source = LinksSource(settled(links))
    first = source.fetch({})
    assert [s.ref for s in first.skipped] == [f"not-a-link-{n}" for n in range(MAX_PER_FETCH)]
    second = source.fetch(first.cursor)
    assert [s.ref for s in second.skipped] == [
        f"not-a-link-{n}" for n in range(MAX_PER_FETCH, MAX_PER_FETCH + 3)
    ]
    assert source.fetch(second.cursor).skipped == []


def test_from_env_reads_the_links_file_variable_or_the_home_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PELLACIA_LINKS_FILE", raising=False)
    monkeypatch.setenv("PELLACIA_HOME", str(tmp_path / "home"))
    assert from_env().path == (tmp_path / "home" / "links.txt").resolve()
    monkeypatch.setenv("PELLACIA_LINKS_FILE", str(tmp_path / "mine.txt"))
    assert from_env().path == (tmp_path / "mine.txt").resolve()
    monkeypatch.setenv("PELLACIA_LINKS_FILE", str(tmp_path))
    with pytest.raises(SourceConfigError, match="PELLACIA_LINKS_FILE"):
        from_env()
