"""Video links as stories (the TikTok-to-Shorts plan): a URL someone chose, read and downloaded with yt-dlp.

A link becomes a story in two steps. Admission (`link_candidate`) reads only the video's metadata, so an
editor sees its title, author and address before anything heavy happens; the story's words are unknown
until the `story` asset downloads the video (`download`) and transcribes it (pellacia_assets.stories.linked).

The links file (`PELLACIA_LINKS_FILE`, default `$PELLACIA_HOME/links.txt`) holds one URL a line, `#` starting
a comment line. Its cursor is the byte offset read so far, with the file's inode and the hash of the bytes
read, so an appended line is read once and a file rewritten or replaced is read again from the start
(dedupe drops what was admitted before).

yt-dlp is imported inside the functions that use it: it is a large package, and the registry, the CLI
and the API import this module for `LinkError` and `SOURCE_KIND` alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pellacia_assets.sources.addresses import is_internal, private_allowed, resolve
from pellacia_assets.sources.base import Candidate, Fetch, Skip, SourceConfigError, canonical_url, url_hash
from pellacia_assets.stories.loading import SourceRecord, strip_controls
from pellacia_assets.stories.model import Byline

SOURCE_KIND = "link"
# A short retells a clip; twenty minutes of speech is already more than the longest story
# (PELLACIA_MAX_STORY_WORDS, 2,500 words by default), so a longer video is refused before it is downloaded.
MAX_SECONDS = 20 * 60
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
SOCKET_TIMEOUT_S = 20.0
# The best single file holding both picture and sound (no merging of separate streams), MP4 first.
FORMAT = "best[ext=mp4]/best"
# URLs read from the links file per poll, so a long paste cannot stall one sensor tick; the rest come next.
MAX_PER_FETCH = 20
# A last line without a newline is read once the file has been still this long (an editor saves the
# whole file at once; `echo URL >> links.txt` writes the newline with the URL).
SETTLED_S = 2.0
MAX_FILE_BYTES = 1_000_000
MAX_DESCRIPTION_CHARS = 5_000
MAX_KEY_LENGTH = 200
# yt-dlp extractors whose videos are a plain web page's, whatever page they come from.
_GENERIC_EXTRACTORS = {"generic", "html5mediaembed"}
_PLATFORM_NAMES = {
    "tiktok": "TikTok", "youtube": "YouTube", "instagram": "Instagram", "facebook": "Facebook",
    "twitter": "X", "vimeo": "Vimeo", "reddit": "Reddit", "twitch": "Twitch", "dailymotion": "Dailymotion",
}  # fmt: skip
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_CAUSED_BY = re.compile(r"\s*\(caused by .*\)\s*$", re.DOTALL)
_PREFIX = re.compile(r"^(?:ERROR:\s*)?(?:\[[^\]]+\]\s*(?:[^:\s]+:\s+)?)?")


class LinkError(ValueError):
    """A URL that cannot be a link story (not http(s), no video there, yt-dlp cannot read or fetch it);
    the message names the URL and what is wrong, for the operator."""


class _Collector:
    """yt-dlp's logger: keeps its warnings and errors (for the error we raise) and its last screen lines
    (where it says a file was too big) instead of printing them."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.screen: deque[str] = deque(maxlen=50)

    def debug(self, message: str) -> None:
        self.screen.append(message)

    def info(self, message: str) -> None:
        return

    def warning(self, message: str) -> None:
        self.messages.append(message)

    def error(self, message: str) -> None:
        self.messages.append(message)


def _options(logger: _Collector, **extra: Any) -> dict[str, Any]:
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": logger,
        "noplaylist": True,
        "extract_flat": "in_playlist",  # a page of many videos is named as such, never resolved
        "socket_timeout": SOCKET_TIMEOUT_S,
        "cachedir": False,
        "format": FORMAT,
        "retries": 2,
        "extractor_retries": 1,
        "color": {"stdout": "never", "stderr": "never"},
        **extra,
    }


def check_url(url: str) -> str:
    """`url` stripped, or a LinkError when it is not an absolute http(s) address."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise LinkError(f"{url[:200]!r} is not a link to a video: use an http:// or https:// address")
    return url


def require_public_host(url: str) -> None:
    """Refuse a link whose host resolves to a loopback, private, link-local or otherwise internal
    address: a link added through the API must not make the factory fetch from inside its own network.
    `PELLACIA_LINKS_ALLOW_PRIVATE=1` allows them (a local test site, an intranet video server)."""
    if private_allowed("PELLACIA_LINKS_ALLOW_PRIVATE"):
        return
    host = urlsplit(check_url(url)).hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as error:
        raise LinkError(f"{url[:200]!r}: cannot resolve {host!r} ({error})") from None
    for address in sorted(addresses):
        if is_internal(address):
            raise LinkError(
                f"{url[:200]!r}: {host} is an internal address ({address}); "
                "set PELLACIA_LINKS_ALLOW_PRIVATE=1 to allow such links"
            )


def _reason(url: str, error: Exception, logger: _Collector) -> str:
    """yt-dlp's error without its prefixes and exception chain, as one line for the operator."""
    text = str(error).strip() or (logger.messages[-1] if logger.messages else type(error).__name__)
    text = _CAUSED_BY.sub("", _PREFIX.sub("", text.splitlines()[0])).strip()
    if text.startswith("Unsupported URL"):
        return f"{url}: no video there (neither a site yt-dlp knows nor a page with a video in it)"
    return f"{url}: yt-dlp cannot read it: {text}"


def read_info(url: str) -> dict[str, Any]:
    """The video's metadata as yt-dlp extracts it (nothing downloaded); LinkError when there is none."""
    import yt_dlp

    url = check_url(url)
    logger = _Collector()
    try:
        with yt_dlp.YoutubeDL(_options(logger, skip_download=True)) as ydl:
            info = ydl.extract_info(url, download=False)
    except Exception as error:  # yt-dlp raises DownloadError and, from extractors, anything
        raise LinkError(_reason(url, error, logger)) from error
    if not isinstance(info, dict):
        raise LinkError(f"{url}: yt-dlp found no video there")
    if info.get("_type") == "playlist":
        count = len(list(info.get("entries") or ()))
        raise LinkError(
            f"{url}: is a list of {count} videos, not one video; add the link of the video itself"
        )
    return info


def platform_of(info: dict[str, Any]) -> str:
    """The key's platform: yt-dlp's extractor lowercased (`tiktok`, `youtube`); any page's video `generic`."""
    extractor = str(info.get("extractor_key") or info.get("extractor") or "generic").lower()
    extractor = re.sub(r"[^a-z0-9]+", "", extractor.split(":")[0]) or "generic"
    return "generic" if extractor in _GENERIC_EXTRACTORS else extractor


def _video_id(info: dict[str, Any], platform: str, page_url: str) -> str:
    """yt-dlp's id made key-safe; the only video of a page drops the "-1" yt-dlp numbers page videos with."""
    raw = str(info.get("id") or "")
    if str(info.get("extractor_key", "")).lower() == "html5mediaembed":
        raw = raw.removesuffix("-1")
    safe = _UNSAFE_ID.sub("-", raw).strip("-.")
    limit = MAX_KEY_LENGTH - len(f"link-{platform}-")
    if not safe:
        return url_hash(page_url)
    if len(safe) > limit:
        return f"{safe[: limit - 17]}-{hashlib.sha256(raw.encode()).hexdigest()[:16]}"
    return safe


def _title(info: dict[str, Any]) -> str:
    title = " ".join(strip_controls(str(info.get("title") or "")).split())
    if str(info.get("extractor_key", "")).lower() == "html5mediaembed":
        title = title.removesuffix(" (1)")  # yt-dlp numbers the videos of a page, even a page of one
    return title


def site_name(platform: str, page_url: str) -> str:
    """Where the video was posted, as a credit names it: the platform's name, or the page's host."""
    if platform in _PLATFORM_NAMES:
        return _PLATFORM_NAMES[platform]
    host = urlsplit(page_url).netloc.lower()
    return host.removeprefix("www.") or platform


def link_candidate(url: str) -> Candidate:
    """The story a video link makes, from its metadata: key `link-<platform>-<id>`, the video's title, the
    uploader and platform for credit, the page's canonical URL for dedupe; its text (and so its content
    hash) is unknown until the video is transcribed."""
    info = read_info(url)
    duration = info.get("duration")
    if isinstance(duration, int | float) and duration > MAX_SECONDS:
        raise LinkError(
            f"{url}: the video is {duration / 60:.0f} minutes long; a link story retells at most "
            f"{MAX_SECONDS // 60} minutes"
        )
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        raise LinkError(f"{url}: is a live stream; add the link once it is a recorded video")
    page_url = str(info.get("webpage_url") or url.strip())
    platform = platform_of(info)
    author = next(
        (str(info[name]) for name in ("uploader", "channel", "creator", "uploader_id") if info.get(name)),
        None,
    )
    if author is not None and author.lower() == urlsplit(page_url).netloc.lower():
        author = None  # yt-dlp names a plain page's host as its uploader; the host is no one's name
    description = strip_controls(str(info.get("description") or "")).strip()[:MAX_DESCRIPTION_CHARS]
    language = info.get("language")
    record = SourceRecord(
        key=f"link-{platform}-{_video_id(info, platform, page_url)}",
        source_kind=SOURCE_KIND,
        source_ref=url.strip(),
        title=_title(info),
        body=description,  # shown to the editor until the transcript replaces it in the `story` asset
        url=page_url,
        language=str(language) if isinstance(language, str) and language else None,
        byline=Byline(kind="other", site=site_name(platform, page_url), author=author),
    )
    return Candidate(record, canonical_url=canonical_url(page_url), content_hash=None)


def download(url: str, folder: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> Path:
    """Download the video at `url` into `folder` as `source.<ext>`: one file with picture and sound, MP4
    preferred, at most `max_bytes`; LinkError when it cannot be had."""
    import yt_dlp

    url = check_url(url)
    folder.mkdir(parents=True, exist_ok=True)
    logger = _Collector()
    options = _options(
        logger,
        paths={"home": str(folder), "temp": str(folder)},
        outtmpl={"default": "source.%(ext)s"},
        max_filesize=max_bytes,
        overwrites=True,
        restrictfilenames=True,
    )
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
    except Exception as error:
        raise LinkError(_reason(url, error, logger)) from error
    files = [
        Path(str(item["filepath"]))
        for item in (info or {}).get("requested_downloads") or ()
        if item.get("filepath") and Path(str(item["filepath"])).is_file()
    ]
    if not files:
        if any("larger than max-filesize" in line for line in logger.screen):
            limit = f"{max_bytes // 2**20} MB" if max_bytes >= 2**20 else f"{max_bytes:,} bytes"
            raise LinkError(f"{url}: the video is larger than the {limit} download limit")
        detail = f": {logger.messages[-1]}" if logger.messages else ""
        raise LinkError(f"{url}: yt-dlp downloaded no file{detail}")
    return files[0]


@dataclass
class LinksSource:
    """The links file as a source: each line added since the last poll becomes a link story, or a skip."""

    path: Path
    name: str = "links"

    def fetch(self, cursor: dict[str, Any]) -> Fetch:
        """The URLs added since `cursor` (at most MAX_PER_FETCH), each a candidate or a Skip with the
        reason; a missing file is nothing new."""
        try:
            stat = self.path.stat()
            data = self.path.read_bytes()[:MAX_FILE_BYTES] if stat.st_size else b""
        except FileNotFoundError:
            return Fetch(cursor=dict(cursor))
        offset = int(cursor.get("offset", 0))
        rewritten = (
            cursor.get("inode") != stat.st_ino
            or offset > len(data)
            or cursor.get("sha256") != hashlib.sha256(data[:offset]).hexdigest()
        )
        if rewritten:
            offset = 0
        settled = time.time() - stat.st_mtime >= SETTLED_S
        fetched = Fetch()
        for line, end in _lines(data, offset, settled):
            if len(fetched.candidates) + len(fetched.skipped) >= MAX_PER_FETCH:
                break
            offset = end
            url = line.strip()
            if not url or url.startswith("#"):
                continue
            try:
                fetched.candidates.append(link_candidate(url))
            except LinkError as error:
                fetched.skipped.append(Skip(url[:500], str(error)))
        fetched.cursor = {
            "offset": offset,
            "inode": stat.st_ino,
            "sha256": hashlib.sha256(data[:offset]).hexdigest(),
        }
        return fetched


def _lines(data: bytes, offset: int, settled: bool) -> list[tuple[str, int]]:
    """(line, offset after it) for each whole line from `offset`; the last line without a newline only
    when the file has `settled`."""
    lines: list[tuple[str, int]] = []
    position = offset
    while position < len(data):
        newline = data.find(b"\n", position)
        if newline < 0:
            if not settled:
                break
            end = len(data)
        else:
            end = newline + 1
        lines.append((data[position:end].decode("utf-8", errors="replace"), end))
        position = end
    return lines


def from_env() -> LinksSource:
    """The links file named by PELLACIA_LINKS_FILE (default `$PELLACIA_HOME/links.txt`)."""
    configured = os.environ.get("PELLACIA_LINKS_FILE", "").strip()
    if configured:
        path = Path(configured).expanduser()
    else:
        path = Path(os.environ.get("PELLACIA_HOME", "").strip() or ".pellacia").expanduser() / "links.txt"
    if path.is_dir():
        raise SourceConfigError(f"PELLACIA_LINKS_FILE={str(path)!r} is a folder; name a text file of URLs")
    return LinksSource(path.resolve())
