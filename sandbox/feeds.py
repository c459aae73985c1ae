"""A local news site for the feed intake tests and demos: RSS 2.0 and Atom feeds, and article pages
wrapped in the boilerplate real publishers put around a story.

Written from the specifications, not from our client: RSS 2.0 (https://www.rssboard.org/rss-specification,
served as application/rss+xml), Atom (RFC 4287, application/atom+xml), and HTTP conditional requests
(RFC 9110 section 13): every feed carries a strong ETag and a Last-Modified date, and a GET with a matching
If-None-Match (or, without one, an If-Modified-Since not older than the feed) is answered 304 Not Modified
with no body. If-None-Match wins over If-Modified-Since, as section 13.2.2 says.

An article page is an HTML5 document whose story sits in <article> between a cookie banner, the site's
header navigation, a "related stories" aside, a comments section and a footer, with <link rel=canonical>
(the article's plain address) and og:site_name. The feeds link each article with utm_* parameters, as
publishers' feeds do, or (a feed added with links="amp") to its AMP copy at /amp/articles/<slug>.

Tests steer it in Python: add feeds and articles, break an article (404, 500, a PDF, an empty or an
oversized page), serve an HTML page or broken XML at a feed's path, and count the requests each path got.
"""

from __future__ import annotations

import hashlib
import html
import random
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

from sandbox.common import Request, Response, Route, SandboxServer, running

SITE_NAME = "Harbour Ledger"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

# The boilerplate every page carries; tests assert none of it reaches a story.
COOKIE_BANNER = "We use cookies to personalise content and ads. Accept all cookies to continue browsing."
NAV_LINKS = ("Home", "World", "Business", "Science", "Culture", "Subscribe to our newsletter")
RELATED_HEADING = "Related stories you may have missed"
COMMENT_TEXT = "Great read, but the council should have acted years ago. Reply Report"
FOOTER_TEXT = f"© 2026 {SITE_NAME} Media Group. All rights reserved. Privacy policy · Terms of use"

# Ways an article can be broken (`break_article`): what its page answers instead.
BREAKAGES = ("404", "500", "pdf", "empty", "oversized")
OVERSIZED_BYTES = 6 * 1024 * 1024


@dataclass
class Article:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    author: str
    published: datetime
    summary: str
    broken: str | None = None
    link: str | None = None  # where the feeds point instead of the site's own page (an off-site entry)
    moved_to: str | None = None  # the page answers 301 to this address


@dataclass
class Feed:
    name: str
    title: str
    slugs: list[str] = field(default_factory=list)  # newest first
    modified: int = 0  # seconds since the epoch; HTTP dates have one-second resolution
    serves: str = "feed"  # feed | html | garbage
    links: str = "tracked"  # tracked: /articles/<slug>?utm_*; amp: /amp/articles/<slug>


class NewsSite(SandboxServer):
    """One publication: named feeds (each served as RSS at /feeds/<name>.rss and as Atom at
    /feeds/<name>.atom) over a shared pool of articles at /articles/<slug>."""

    name = "feeds"
    roots: ClassVar[Mapping[str, str]] = {"api": "news.example"}

    def __init__(self, data_dir: Path, *, site_name: str = SITE_NAME) -> None:
        self.site_name = site_name
        self._articles: dict[str, Article] = {}
        self._feeds: dict[str, Feed] = {}
        self._hits: Counter[str] = Counter()
        self._not_modified: Counter[str] = Counter()
        self._site_lock = threading.RLock()
        super().__init__(data_dir)

    def routes(self) -> Sequence[Route]:
        return [
            ("GET", r"/", "home", self._home),
            ("GET", r"/feeds/(?P<feed>[\w-]+)\.rss", "rss", self._rss),
            ("GET", r"/feeds/(?P<feed>[\w-]+)\.atom", "atom", self._atom),
            ("GET", r"/articles/(?P<slug>[\w-]+)", "article", self._article),
            ("GET", r"/amp/articles/(?P<slug>[\w-]+)", "amp", self._article),
        ]

    def start(self) -> str:
        url = super().start()
        for server in self._servers.values():
            server.handle_error = _quiet_when_reader_left(server.handle_error)  # type: ignore[method-assign, assignment]
        return url

    # --- what tests steer -------------------------------------------------------------------------------

    def add_feed(self, name: str, title: str | None = None, *, links: str = "tracked") -> None:
        """A feed whose entries link their articles with utm_* parameters (`links="tracked"`) or to the
        articles' AMP pages (`links="amp"`); either way the page's canonical link is the plain address."""
        if links not in ("tracked", "amp"):
            raise ValueError(f"a feed links tracked or amp pages, not {links!r}")
        with self._site_lock:
            self._feeds[name] = Feed(name, title or f"{self.site_name} - {name.title()}", links=links)
            self._touch(self._feeds[name])

    def add_article(
        self,
        slug: str,
        title: str,
        paragraphs: Sequence[str] | None = None,
        *,
        feeds: Sequence[str] = (),
        author: str = "Mara Ellison",
        summary: str | None = None,
        link: str | None = None,
    ) -> str:
        """Publish an article (generated paragraphs unless given) and list it first in `feeds`, linked at
        `link` when given (an entry pointing off the site) instead of its page here; returns its
        canonical URL."""
        body = tuple(paragraphs) if paragraphs is not None else generated_paragraphs(slug, title)
        with self._site_lock:
            published = self.now().replace(microsecond=0) + timedelta(seconds=len(self._articles))
            teaser = summary if summary is not None else f"{body[0][:120]}…" if body else title
            self._articles[slug] = Article(slug, title, body, author, published, teaser, link=link)
            for name in feeds:
                feed = self._feeds[name]
                if slug in feed.slugs:
                    feed.slugs.remove(slug)
                feed.slugs.insert(0, slug)
                self._touch(feed)
        return self.article_url(slug)

    def break_article(self, slug: str, how: str = "404") -> None:
        """Make the article's page answer `how`: 404, 500, a PDF, a page with no story, or one over 5 MB."""
        if how not in BREAKAGES:
            raise ValueError(f"break an article as one of {BREAKAGES}, not {how!r}")
        with self._site_lock:
            self._articles[slug].broken = how

    def mend_article(self, slug: str) -> None:
        with self._site_lock:
            self._articles[slug].broken = None
            self._articles[slug].moved_to = None

    def move_article(self, slug: str, location: str) -> None:
        """Make the article's page answer 301 Moved Permanently to `location`."""
        with self._site_lock:
            self._articles[slug].moved_to = location

    def serve_at_feed(self, name: str, what: str) -> None:
        """What the feed's paths serve: "feed" (the feed), "html" (the home page, as a mistyped feed URL
        gets) or "garbage" (truncated XML under a feed content type)."""
        if what not in ("feed", "html", "garbage"):
            raise ValueError(f"a feed path serves feed, html or garbage, not {what!r}")
        with self._site_lock:
            self._feeds[name].serves = what
            self._touch(self._feeds[name])

    def feed_url(self, name: str, kind: str = "rss") -> str:
        return self.url("api", f"/feeds/{name}.{kind}")

    def article_url(self, slug: str) -> str:
        return self.url("api", f"/articles/{slug}")

    def hits(self, path: str) -> int:
        """How many requests `path` (a URL of this site, or its path) received."""
        with self._site_lock:
            return self._hits[_path_of(path, self.base_url)]

    def not_modified(self, path: str) -> int:
        """How many of those were answered 304 Not Modified."""
        with self._site_lock:
            return self._not_modified[_path_of(path, self.base_url)]

    def reset_counts(self) -> None:
        with self._site_lock:
            self._hits.clear()
            self._not_modified.clear()

    def _touch(self, feed: Feed) -> None:
        feed.modified = int(self.now().timestamp())

    # --- the site -----------------------------------------------------------------------------------------

    def _home(self, request: Request) -> Response:
        self._count(request.path)
        return Response(200, self._home_page().encode(), content_type=HTML_TYPE)

    def _rss(self, request: Request) -> Response:
        return self._serve_feed(request, "rss")

    def _atom(self, request: Request) -> Response:
        return self._serve_feed(request, "atom")

    def _serve_feed(self, request: Request, kind: str) -> Response:
        self._count(request.path)
        with self._site_lock:
            feed = self._feeds.get(request.params["feed"])
            if feed is None:
                return _not_found()
            if feed.serves == "html":
                return Response(200, self._home_page().encode(), content_type=HTML_TYPE)
            articles = [self._articles[slug] for slug in feed.slugs]
            modified = feed.modified
            serves = feed.serves
        if serves == "garbage":
            content_type = RSS_TYPE if kind == "rss" else ATOM_TYPE
            truncated = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Br'
            return Response(200, truncated, content_type=content_type)
        if kind == "rss":
            body, content_type = self._rss_document(feed, articles, modified), RSS_TYPE
        else:
            body, content_type = self._atom_document(feed, articles, modified), ATOM_TYPE
        payload = body.encode()
        etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Last-Modified": _http_date(modified), "Cache-Control": "max-age=300"}
        if _not_modified_since(request.headers, etag, modified):
            with self._site_lock:
                self._not_modified[request.path] += 1
            return Response(304, None, headers)
        return Response(200, payload, headers, content_type=content_type)

    def _article(self, request: Request) -> Response:
        self._count(request.path)
        with self._site_lock:
            article = self._articles.get(request.params["slug"])
        if article is None or article.broken == "404":
            return _not_found()
        if article.moved_to is not None:
            return Response(301, b"", {"Location": article.moved_to}, content_type=HTML_TYPE)
        if article.broken == "500":
            page = "<!doctype html><html><body><h1>500 Internal Server Error</h1></body></html>"
            return Response(500, page.encode(), content_type=HTML_TYPE)
        if article.broken == "pdf":
            pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
            return Response(200, pdf, content_type="application/pdf")
        page = self._article_page(article, empty=article.broken == "empty")
        if article.broken == "oversized":
            padding = "<!-- " + "x" * OVERSIZED_BYTES + " -->"
            page = page.replace("</body>", padding + "</body>")
        return Response(200, page.encode(), {"Cache-Control": "max-age=60"}, content_type=HTML_TYPE)

    def _count(self, path: str) -> None:
        with self._site_lock:
            self._hits[path] += 1

    # --- documents ----------------------------------------------------------------------------------------

    def _tracked_link(self, article: Article, feed: Feed) -> str:
        if article.link is not None:
            return article.link
        slug = article.slug
        if feed.links == "amp":
            return self.url("api", f"/amp/articles/{slug}")
        return f"{self.article_url(slug)}?utm_source={feed.name}&utm_medium=rss"

    def _rss_document(self, feed: Feed, articles: list[Article], modified: int) -> str:
        items = "".join(
            "<item>"
            f"<title>{escape(a.title)}</title>"
            f"<link>{escape(self._tracked_link(a, feed))}</link>"
            f'<guid isPermaLink="false">{escape(self._entry_id(a))}</guid>'
            f"<pubDate>{_http_date(int(a.published.timestamp()))}</pubDate>"
            f"<dc:creator>{escape(a.author)}</dc:creator>"
            f"<description>{escape(a.summary)}</description>"
            "</item>"
            for a in articles
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(feed.title)}</title>"
            f"<link>{escape(self.url('api', '/'))}</link>"
            f"<description>The latest from {escape(self.site_name)}</description>"
            "<language>en-gb</language>"
            f"<lastBuildDate>{_http_date(modified)}</lastBuildDate>"
            f'<atom:link href={quoteattr(self.feed_url(feed.name))} rel="self" type="application/rss+xml"/>'
            f"{items}</channel></rss>"
        )

    def _atom_document(self, feed: Feed, articles: list[Article], modified: int) -> str:
        entries = "".join(
            "<entry>"
            f"<title>{escape(a.title)}</title>"
            f'<link rel="alternate" type="text/html" href={quoteattr(self._tracked_link(a, feed))}/>'
            f"<id>{escape(self._entry_id(a))}</id>"
            f"<published>{a.published.isoformat()}</published>"
            f"<updated>{a.published.isoformat()}</updated>"
            f"<author><name>{escape(a.author)}</name></author>"
            f"<summary>{escape(a.summary)}</summary>"
            "</entry>"
            for a in articles
        )
        updated = datetime.fromtimestamp(modified, UTC).isoformat()
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">'
            f"<title>{escape(feed.title)}</title>"
            f'<link rel="self" href={quoteattr(self.feed_url(feed.name, "atom"))}/>'
            f'<link rel="alternate" type="text/html" href={quoteattr(self.url("api", "/"))}/>'
            f"<id>tag:news.example,2026:feed:{escape(feed.name)}</id>"
            f"<updated>{updated}</updated>"
            f"{entries}</feed>"
        )

    def _entry_id(self, article: Article) -> str:
        return f"tag:news.example,2026:article:{article.slug}"

    def _chrome(self, title: str, head: str, main: str) -> str:
        """A page of the site: cookie banner, header navigation, `main`, footer."""
        nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in NAV_LINKS)
        site = html.escape(self.site_name)
        return (
            '<!doctype html>\n<html lang="en-GB"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} | {site}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta property="og:site_name" content="{site}">{head}'
            "</head><body>"
            '<div id="cookie-banner" class="cookie-consent" role="dialog">'
            f"<p>{html.escape(COOKIE_BANNER)}</p>"
            "<button>Accept all</button><button>Manage preferences</button></div>"
            f'<header class="site-header"><a class="logo" href="/">{site}</a>'
            f'<nav class="main-nav" aria-label="Sections"><ul>{nav}</ul></nav></header>'
            f"<main>{main}</main>"
            f'<footer class="site-footer"><p>{html.escape(FOOTER_TEXT)}</p>'
            '<ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li></ul></footer>'
            "</body></html>"
        )

    def _home_page(self) -> str:
        with self._site_lock:
            latest = sorted(self._articles.values(), key=lambda a: a.published, reverse=True)[:10]
        items = "".join(f'<li><a href="/articles/{a.slug}">{html.escape(a.title)}</a></li>' for a in latest)
        return self._chrome("Home", "", f'<h1>Latest news</h1><ul class="latest">{items}</ul>')

    def _article_page(self, article: Article, *, empty: bool) -> str:
        canonical = html.escape(self.article_url(article.slug))
        head = (
            f'<link rel="canonical" href="{canonical}">'
            f'<meta property="og:type" content="article"><meta property="og:url" content="{canonical}">'
            f'<meta property="og:title" content="{html.escape(article.title)}">'
            f'<meta name="author" content="{html.escape(article.author)}">'
            f'<meta property="article:published_time" content="{article.published.isoformat()}">'
        )
        story = "" if empty else "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
        with self._site_lock:
            others = [a for a in self._articles.values() if a.slug != article.slug][:4]
        related = "".join(f'<li><a href="/articles/{a.slug}">{html.escape(a.title)}</a></li>' for a in others)
        main = (
            '<article class="story">'
            f'<h1 class="headline">{html.escape(article.title)}</h1>'
            f'<p class="byline">By <a rel="author" href="/authors/{article.slug}">'
            f"{html.escape(article.author)}</a> · "
            f'<time datetime="{article.published.isoformat()}">{article.published:%d %B %Y}</time></p>'
            f'<div class="story-body">{story}</div></article>'
            f'<aside class="related"><h2>{RELATED_HEADING}</h2><ul>{related}</ul></aside>'
            '<section id="comments" class="comments"><h2>Comments (2)</h2>'
            f'<div class="comment"><p class="comment-author">harbourwatcher</p><p>{COMMENT_TEXT}</p></div>'
            '<div class="comment"><p class="comment-author">ellie_k</p><p>Shared this with my neighbours. '
            "Reply Report</p></div></section>"
        )
        return self._chrome(article.title, head, main)


def _quiet_when_reader_left(report: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """A reader that stops reading an oversized page and hangs up is normal, not a server error."""

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            report(request, client_address)

    return handle_error


def _not_found() -> Response:
    page = "<!doctype html><html><body><h1>404 Not Found</h1><p>No such page.</p></body></html>"
    return Response(404, page.encode(), content_type=HTML_TYPE)


def _http_date(timestamp: int) -> str:
    return format_datetime(datetime.fromtimestamp(timestamp, UTC), usegmt=True)


def _not_modified_since(headers: dict[str, str], etag: str, modified: int) -> bool:
    """RFC 9110 13.1.2 and 13.1.3 for a GET: If-None-Match (weak comparison) when present, else
    If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (13.1.3)
    return moment.tzinfo is not None and modified <= int(moment.timestamp())


def _path_of(url: str, base: str) -> str:
    return url.removeprefix(base).partition("?")[0] or "/"


# --- generated stories ------------------------------------------------------------------------------------

_PLACES = ("Port Avery", "Lindqvist Bay", "the Calder estuary", "Oakhollow", "the northern ferry terminal")
_GROUPS = (
    "the harbour council",
    "local fishing crews",
    "the regional water board",
    "shopkeepers on Quay Street",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_NUMBERS = ("three", "four", "seven", "twelve", "fifteen", "forty")


def generated_paragraphs(slug: str, title: str, count: int = 6) -> tuple[str, ...]:
    """A plausible story of about 300 words about `title`, the same for the same slug and different for
    another (so no two generated articles share their text)."""
    rng = random.Random(hashlib.sha256(slug.encode()).digest())
    subject = title.rstrip(".")
    paragraphs = []
    for index in range(count):
        place, group = rng.choice(_PLACES), rng.choice(_GROUPS)
        number, year = rng.choice(_NUMBERS), 2000 + rng.randrange(10, 26)
        cost = rng.randrange(2, 90)
        sentences = [
            f"Officials in {place} confirmed on {rng.choice(_DAYS)} that {subject.lower()} is now "
            f"expected to affect {number} neighbourhoods before the end of the season.",
            f"According to {group}, the change had been discussed since {year}, but the money, about "
            f"{cost} million pounds, was only approved this spring.",
            f"Residents interviewed near {place} said the plan had been explained poorly and asked for "
            f"public meetings; a spokesperson promised {number} sessions in reference {slug}-{index}.",
        ]
        rng.shuffle(sentences)
        paragraphs.append(" ".join(sentences))
    return tuple(paragraphs)


@contextmanager
def news_site(*, site_name: str = SITE_NAME, data_dir: Path | None = None) -> Iterator[NewsSite]:
    """A running news site on 127.0.0.1 (`.feed_url(name)`, `.article_url(slug)`, `.hits(path)`)."""
    with (
        tempfile.TemporaryDirectory(prefix="news-sandbox-") as scratch,
        running(NewsSite(data_dir or Path(scratch), site_name=site_name)) as server,
    ):
        yield server
