"""A local video site for the link tests and demos: real MP4 files served the way a plain web server and a
video page serve them, so yt-dlp's generic extractor reads and downloads them over local HTTP.

What it follows: HTTP semantics (RFC 9110) for GET and HEAD of a file: `Content-Type: video/mp4`,
`Content-Length`, `Accept-Ranges: bytes`, `Last-Modified`; one `Range: bytes=first-last` (or `first-`,
or `-suffix`) answered 206 with `Content-Range`; an unsatisfiable range 416 with `Content-Range: bytes
*/size`; several ranges answered whole (a server may ignore Range). Pages are HTML5 with the Open Graph
video tags (https://ogp.me/: og:title, og:video, og:video:type, og:video:width, og:video:height), or an
HTML5 `<video>` element with a `<source>` (https://html.spec.whatwg.org/#the-video-element).

    /media/<id>.mp4     the file itself
    /watch/<id>         the video's page as sites with a script-driven player publish it: Open Graph only
    /player/<id>        a page with a plain HTML5 `<video>` element
    /pages/<name>       a page without any video (an article)
    anything else       404

`speech_video` makes the files: a few seconds of espeak-ng speech over a colour (a real H.264/AAC MP4,
made with ffmpeg), so what Whisper hears in a download is known.
"""

from __future__ import annotations

import email.utils
import html
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

BLOCK = 64 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Video:
    """One video the site serves: its file, and what its page says about it."""

    video_id: str
    path: Path
    title: str
    description: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Served:
    """One request as the site answered it (tests check how a client fetched)."""

    method: str
    path: str
    range: str | None
    status: int


class VideoSite:
    """Videos at /media/<id>.mp4 with their pages at /watch/<id>, and pages without video at /pages/<name>."""

    def __init__(self) -> None:
        self._videos: dict[str, Video] = {}
        self._pages: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.served: list[Served] = []
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def add_video(
        self, video_id: str, path: Path, title: str, *, description: str = "", width: int = 0, height: int = 0
    ) -> Video:
        if not _ID.fullmatch(video_id):
            raise ValueError(f"video id {video_id!r}: 1-64 letters, digits, '_' or '-'")
        if not path.is_file():
            raise FileNotFoundError(path)
        video = Video(video_id, path, title, description, width, height)
        with self._lock:
            self._videos[video_id] = video
        return video

    def add_page(self, name: str, title: str, text: str) -> str:
        """A page with a title and paragraphs of text, and no video at all; its URL comes back."""
        if not _ID.fullmatch(name):
            raise ValueError(f"page name {name!r}: 1-64 letters, digits, '_' or '-'")
        with self._lock:
            self._pages[name] = (title, text)
        return self.page_url(name)

    def media_url(self, video_id: str) -> str:
        return f"{self.base_url}/media/{quote(video_id)}.mp4"

    def watch_url(self, video_id: str) -> str:
        return f"{self.base_url}/watch/{quote(video_id)}"

    def page_url(self, name: str) -> str:
        return f"{self.base_url}/pages/{quote(name)}"

    def player_url(self, video_id: str) -> str:
        return f"{self.base_url}/player/{quote(video_id)}"

    def missing_url(self) -> str:
        return f"{self.base_url}/media/no-such-video.mp4"

    def start(self) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def video(self, video_id: str) -> Video | None:
        with self._lock:
            return self._videos.get(video_id)

    def page(self, name: str) -> tuple[str, str] | None:
        with self._lock:
            return self._pages.get(name)

    def record(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)


def watch_page(site: VideoSite, video: Video) -> str:
    """The video's page: Open Graph tags in the head; the body holds only a placeholder that a script
    would turn into the player."""
    title, media = html.escape(video.title), html.escape(site.media_url(video.video_id))
    size = ""
    if video.width and video.height:
        size = (
            f'<meta property="og:video:width" content="{video.width}">\n'
            f'<meta property="og:video:height" content="{video.height}">\n'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        f'<meta property="og:title" content="{title}">\n'
        '<meta property="og:type" content="video.other">\n'
        f'<meta property="og:url" content="{html.escape(site.watch_url(video.video_id))}">\n'
        f'<meta property="og:description" content="{html.escape(video.description)}">\n'
        f'<meta property="og:video" content="{media}">\n'
        '<meta property="og:video:type" content="video/mp4">\n'
        f"{size}</head><body>\n<h1>{title}</h1>\n"
        '<div id="player" data-state="loading"></div>\n'
        f"<p>{html.escape(video.description)}</p>\n</body></html>\n"
    )


def player_page(site: VideoSite, video: Video) -> str:
    """A page whose video is a plain `<video>` element, with no Open Graph tags."""
    title, media = html.escape(video.title), html.escape(site.media_url(video.video_id))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>\n'
        f'<video controls playsinline><source src="{media}" type="video/mp4"></video>\n</body></html>\n'
    )


def text_page(title: str, text: str) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body>\n<article><h1>{html.escape(title)}</h1>\n{paragraphs}\n</article>\n</body></html>\n"
    )


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The (first, last) bytes one `Range` header asks for; None to answer the whole file (no header, a
    unit other than bytes, several ranges); "unsatisfiable" when it lies outside the file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or (last_text and int(last_text) < first):
        return "unsatisfiable"
    return first, last


def _handler_for(site: VideoSite) -> type[BaseHTTPRequestHandler]:
    class VideoHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "VideoSandbox/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):  # a client that read what it needed and left
                self.close_connection = True

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            status = self._route(path, send_body)
            site.record(Served(self.command, path, self.headers.get("Range"), status))

        def _route(self, path: str, send_body: bool) -> int:
            media = re.fullmatch(r"/media/([^/]+)\.mp4", path)
            if media and (video := site.video(media.group(1))) is not None:
                return self._file(video.path, send_body)
            watch = re.fullmatch(r"/watch/([^/]+)/?", path)
            if watch and (video := site.video(watch.group(1))) is not None:
                return self._text(200, watch_page(site, video), "text/html; charset=utf-8", send_body)
            player = re.fullmatch(r"/player/([^/]+)/?", path)
            if player and (video := site.video(player.group(1))) is not None:
                return self._text(200, player_page(site, video), "text/html; charset=utf-8", send_body)
            named = re.fullmatch(r"/pages/([^/]+)/?", path)
            if named and (page := site.page(named.group(1))) is not None:
                return self._text(200, text_page(*page), "text/html; charset=utf-8", send_body)
            body = text_page("Not Found", f"Nothing lives at {path}.")
            return self._text(404, body, "text/html; charset=utf-8", send_body)

        def _text(self, status: int, text: str, content_type: str, send_body: bool) -> int:
            payload = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if send_body:
                self.wfile.write(payload)
            return status

        def _file(self, path: Path, send_body: bool) -> int:
            size = path.stat().st_size
            wanted = byte_range(self.headers.get("Range"), size)
            if wanted == "unsatisfiable":
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return 416
            first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
            status = 206 if isinstance(wanted, tuple) else 200
            self.send_response(status)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
            self.send_header("Content-Length", str(last - first + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            if send_body:
                self._copy(path, first, last - first + 1)
            return status

        def _copy(self, path: Path, offset: int, length: int) -> None:
            with path.open("rb") as handle:
                handle.seek(offset)
                while length > 0:
                    block = handle.read(min(BLOCK, length))
                    if not block:
                        break
                    try:
                        self.wfile.write(block)
                    except (BrokenPipeError, ConnectionResetError):  # the client read what it needed
                        self.close_connection = True
                        return
                    length -= len(block)

    return VideoHandler


def speech_video(
    path: Path,
    text: str,
    *,
    colour: str = "0x00c000",
    size: str = "640x360",
    voice: str = "en-us",
    words_per_minute: int = 150,
) -> Path:
    """An H.264/AAC MP4 (faststart) of `text` spoken by espeak-ng over a solid `colour` frame, as long as
    the speech: a source video whose words and picture a test knows."""
    espeak, ffmpeg = shutil.which("espeak-ng"), shutil.which("ffmpeg")
    if espeak is None or ffmpeg is None:
        raise RuntimeError("speech_video needs espeak-ng and ffmpeg (Debian packages espeak-ng, ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="speech-video-") as scratch:
        wav = Path(scratch) / "speech.wav"
        subprocess.run(
            [espeak, "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s={size}:r=25", "-i",
             str(wav), "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-ar", "44100", "-movflags", "+faststart", str(path)],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return path


@contextmanager
def video_site() -> Iterator[VideoSite]:
    """A running video site on 127.0.0.1 (`.base_url`, `.add_video`, `.add_page`, `.served`)."""
    site = VideoSite()
    site.start()
    try:
        yield site
    finally:
        site.stop()
