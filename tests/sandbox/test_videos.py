"""The video site sandbox serves files as HTTP says (HEAD, ranges, 416, 404), pages with Open Graph video
tags or a `<video>` element, and pages without video; and yt-dlp's generic extractor reads all of them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yt_dlp

from sandbox.videos import VideoSite, byte_range, speech_video, video_site

SPEECH = "The keeper of the lighthouse found a letter in a bottle, written fifty years ago."


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech_video(tmp_path_factory.mktemp("clips") / "keeper.mp4", SPEECH, colour="0x2050d0")


@pytest.fixture(scope="module")
def site(clip: Path) -> Iterator[VideoSite]:
    with video_site() as running:
        running.add_video("keeper", clip, "The letter & the bottle", description="A found letter.")
        running.add_page("essay", "An essay", "First paragraph.\n\nSecond paragraph.")
        yield running


def streams(path: Path) -> dict[str, str]:
    output = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {stream["codec_type"]: stream["codec_name"] for stream in json.loads(output)["streams"]}


def test_speech_video_is_a_real_h264_aac_mp4_as_long_as_its_speech(clip: Path) -> None:
    assert streams(clip) == {"video": "h264", "audio": "aac"}
    seconds = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(clip)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert 3.0 < seconds < 10.0


def test_the_file_is_served_whole_with_its_type_length_and_range_support(site: VideoSite, clip: Path) -> None:
    response = httpx.get(site.media_url("keeper"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == clip.stat().st_size
    assert "last-modified" in response.headers
    assert response.content == clip.read_bytes()


def test_head_answers_the_headers_without_the_body(site: VideoSite, clip: Path) -> None:
    response = httpx.head(site.media_url("keeper"))
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == clip.stat().st_size
    assert response.content == b""


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-64", -64, None), ("bytes=10-10", 10, 10)],
)
def test_a_byte_range_is_answered_206_with_its_content_range(
    site: VideoSite, clip: Path, header: str, first: int, last: int | None
) -> None:
    data = clip.read_bytes()
    size = len(data)
    response = httpx.get(site.media_url("keeper"), headers={"Range": header})
    start = first if first >= 0 else size + first
    end = last if last is not None else size - 1
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert int(response.headers["content-length"]) == end - start + 1
    assert response.content == data[start : end + 1]


def test_a_range_past_the_end_is_416_with_the_size(site: VideoSite, clip: Path) -> None:
    size = clip.stat().st_size
    response = httpx.get(site.media_url("keeper"), headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-1,5-6", None),  # several ranges: answered whole
        ("items=0-1", None),
        ("bytes=5-2", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=0-5000", (0, 999)),
    ],
)
def test_byte_range_reads_range_headers_as_rfc_9110_says(
    header: str | None, expected: tuple[int, int] | str | None
) -> None:
    assert byte_range(header, 1000) == expected


def test_the_watch_page_carries_open_graph_video_tags(site: VideoSite) -> None:
    page = httpx.get(site.watch_url("keeper"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'<meta property="og:video" content="{site.media_url("keeper")}">' in page.text
    assert '<meta property="og:video:type" content="video/mp4">' in page.text
    assert '<meta property="og:title" content="The letter &amp; the bottle">' in page.text
    assert "<video" not in page.text


def test_the_player_page_has_a_video_element(site: VideoSite) -> None:
    page = httpx.get(site.player_url("keeper")).text
    assert f'<source src="{site.media_url("keeper")}" type="video/mp4">' in page
    assert "og:video" not in page


def test_an_article_page_has_no_video_and_unknown_paths_are_404(site: VideoSite) -> None:
    article = httpx.get(site.page_url("essay"))
    assert article.status_code == 200 and "<video" not in article.text and "og:video" not in article.text
    assert "<p>Second paragraph.</p>" in article.text
    for url in (site.missing_url(), f"{site.base_url}/watch/nobody", f"{site.base_url}/elsewhere"):
        assert httpx.get(url).status_code == 404
    assert site.served[-1].status == 404


@pytest.mark.parametrize("page", ["media", "watch", "player"])
def test_yt_dlp_generic_extractor_downloads_the_video_from_each_kind_of_url(
    site: VideoSite, clip: Path, tmp_path: Path, page: str
) -> None:
    url = {"media": site.media_url, "watch": site.watch_url, "player": site.player_url}[page]("keeper")
    options = {"quiet": True, "no_warnings": True, "cachedir": False, "paths": {"home": str(tmp_path)}}
    with yt_dlp.YoutubeDL({**options, "outtmpl": {"default": "got.%(ext)s"}}) as ydl:
        info = ydl.extract_info(url, download=True)
    assert info["extractor_key"] in ("Generic", "HTML5MediaEmbed")
    assert (tmp_path / "got.mp4").read_bytes() == clip.read_bytes()
    if page != "media":
        assert info["title"].startswith("The letter & the bottle")


def test_yt_dlp_finds_nothing_on_an_article_and_fails_on_a_404(site: VideoSite) -> None:
    options = {"quiet": True, "no_warnings": True, "cachedir": False, "logger": _Silent()}
    with yt_dlp.YoutubeDL(options) as ydl:
        with pytest.raises(yt_dlp.utils.DownloadError, match="Unsupported URL"):
            ydl.extract_info(site.page_url("essay"), download=False)
        with pytest.raises(yt_dlp.utils.DownloadError, match="404"):
            ydl.extract_info(site.missing_url(), download=False)


class _Silent:
    def debug(self, message: str) -> None:
        return

    warning = error = info = debug
