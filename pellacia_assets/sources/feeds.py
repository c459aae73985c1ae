"""Articles from RSS and Atom feeds: each new entry's page is fetched and its own full text extracted.

A feed's summary is a teaser, too short to narrate, so every new entry's article page is read and its
story taken out of the page's boilerplate (navigation, cookie banners, related links, comments, footer)
by trafilatura. Feeds are read with conditional GETs (the ETag and Last-Modified of the last answer), so a
feed that has not changed costs one 304 and no page is fetched again.

The cursor keeps, per feed URL, those validators and the ids of the entries already handled. An entry
whose page failed in a way that may pass (a timeout, a 5xx) is not marked handled and its feed keeps its
old validators, so the next poll reads the feed whole and tries that page again.
"""

from __future__ import annotations

import io
import os
import re
import ssl
import time
from dataclasses import dataclass, field, replace
from functools import cache
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
import trafilatura
from lxml.html import HtmlElement

from pellacia_assets.sources.addresses import (
    InternalAddressError,
    internal_addresses_of,
    private_allowed,
    public_transport,
)
from pellacia_assets.sources.base import (
    Candidate,
    Fetch,
    Skip,
    SourceConfigError,
    canonical_url,
    content_hash,
    url_hash,
)
from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Byline

DEFAULT_MIN_WORDS = 80
DEFAULT_MAX_ITEMS = 20
MAX_PAGE_BYTES = 5 * 1024 * 1024
TIMEOUT_S = 15.0
SEEN_LIMIT = 1000  # per feed: more than any feed lists at once, so no listed entry is read twice
RETRY_NOTE = "it is tried again at the next poll"
PRIVATE_NOTE = "not read (PELLACIA_FEEDS_ALLOW_PRIVATE=1 allows internal addresses)"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_LANGUAGE_TAG = 16  # stories.language
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _user_agent() -> str:
    try:
        release = package_version("pellacia-dist")
    except PackageNotFoundError:
        release = "dev"
    return f"Mozilla/5.0 (compatible; PellaciaPress/{release}; news intake; feed reader)"


USER_AGENT = _user_agent()


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every poll: loading the CA bundle costs more than a whole unchanged poll."""
    return httpx.create_ssl_context()


class FeedsUnreachableError(RuntimeError):
    """No configured feed could be reached at all: the whole source is down (poll reports it)."""


class _TooLargeError(Exception):
    """A page that grew past the size limit while it was read (its declared size was missing or lied)."""


@dataclass(frozen=True)
class _Page:
    url: str  # after redirects
    status: int
    content_type: str
    content: bytes
    etag: str | None = None
    modified: str | None = None


@dataclass
class _Outcome:
    """What one entry gave: a candidate, a skip, or nothing (already taken this poll); `settled` is
    False when the entry is to be read again at the next poll."""

    candidate: Candidate | None = None
    skip: Skip | None = None
    settled: bool = True


@dataclass
class _ThisPoll:
    """Articles already taken in this poll, so one listed in two feeds is fetched once."""

    links: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Entry:
    ref: str  # the entry's id, else its link: what the cursor's `seen` holds
    link: str | None
    title: str
    author: str | None


@dataclass
class FeedsSource:
    """The feeds in `feeds` (RSS 2.0 or Atom URLs), read in order; at most `max_items` new entries of each
    feed per poll, articles shorter than `min_words` skipped.

    Article pages (and every redirect) may reach only public addresses and the internal ones the feeds'
    own hosts resolve to (an intranet feed's pages); `allow_private` lifts that for every address."""

    feeds: tuple[str, ...]
    min_words: int = DEFAULT_MIN_WORDS
    max_items: int = DEFAULT_MAX_ITEMS
    max_page_bytes: int = MAX_PAGE_BYTES
    timeout_s: float = TIMEOUT_S
    allow_private: bool = False
    name: str = field(default="feeds", init=False)

    def fetch(self, cursor: dict[str, Any]) -> Fetch:
        known = cursor.get("feeds")
        known = known if isinstance(known, dict) else {}
        fetched = Fetch(cursor={"feeds": {}})
        this_poll = _ThisPoll()
        unreachable: list[str] = []
        timeout = httpx.Timeout(self.timeout_s, connect=min(5.0, self.timeout_s))
        headers = {"User-Agent": USER_AGENT}
        transport = None
        if not self.allow_private:
            chosen = internal_addresses_of(urlsplit(url).hostname or "" for url in self.feeds)
            transport = public_transport(_tls_context(), chosen)
        with httpx.Client(
            headers=headers,
            timeout=timeout,
            follow_redirects=True,
            max_redirects=5,
            verify=_tls_context(),
            transport=transport,
            trust_env=False,  # direct: through a proxy, the address dialled would be the proxy's
        ) as client:
            for feed_url in self.feeds:
                state = known.get(feed_url)
                state = dict(state) if isinstance(state, dict) else {}
                try:
                    state = self._read_feed(client, feed_url, state, fetched, this_poll)
                except httpx.TransportError as error:
                    unreachable.append(f"{feed_url}: {_describe(error)}")
                    reason = f"the feed could not be reached ({_describe(error)}); {RETRY_NOTE}"
                    fetched.skipped.append(Skip(feed_url, reason))
                fetched.cursor["feeds"][feed_url] = state
        if self.feeds and len(unreachable) == len(self.feeds):
            raise FeedsUnreachableError("no feed could be reached: " + "; ".join(unreachable))
        return fetched

    # --- one feed ---------------------------------------------------------------------------------------

    def _read_feed(
        self,
        client: httpx.Client,
        feed_url: str,
        state: dict[str, Any],
        fetched: Fetch,
        this_poll: _ThisPoll,
    ) -> dict[str, Any]:
        """The feed's new entries into `fetched`; returns the feed's new cursor state."""
        conditional = {}
        if state.get("etag"):
            conditional["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            conditional["If-Modified-Since"] = str(state["modified"])
        accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
        try:
            page = self._download(client, feed_url, {"Accept": accept, **conditional})
        except _TooLargeError:
            fetched.skipped.append(Skip(feed_url, f"the feed is larger than {self._limit_text()}; not read"))
            return state
        except InternalAddressError as error:
            fetched.skipped.append(
                Skip(feed_url, f"the feed redirects to an internal address, {error.where}; {PRIVATE_NOTE}")
            )
            return state
        except httpx.TransportError:
            raise  # fetch() notes an unreachable feed
        except httpx.HTTPError as error:  # too many redirects, a malformed redirect
            fetched.skipped.append(Skip(feed_url, f"the feed could not be read ({_describe(error)})"))
            return state
        if page.status == HTTPStatus.NOT_MODIFIED:
            return state
        if page.status != HTTPStatus.OK:
            fetched.skipped.append(Skip(feed_url, f"the feed answered HTTP {_status_text(page.status)}"))
            return state
        parsed = feedparser.parse(
            io.BytesIO(page.content),  # bytes in a stream: feedparser never treats them as a URL or a path
            response_headers={"content-type": page.content_type, "content-location": page.url},
        )
        if not parsed.get("version"):
            if _is_html(page):
                reason = f"{feed_url} is an HTML page, not an RSS or Atom feed"
            else:
                reason = f"{feed_url} is not an RSS or Atom feed ({_bozo(parsed)})"
            fetched.skipped.append(Skip(feed_url, reason))
            return state
        if parsed.get("bozo") and not parsed.entries:
            reason = f"the feed could not be parsed as {parsed.version}: {_bozo(parsed)}"
            fetched.skipped.append(Skip(feed_url, reason))
            return state
        feed_title = _one_line(parsed.feed.get("title"))
        language = parsed.feed.get("language")
        entries = [_entry(raw, page.url) for raw in parsed.entries]
        listed = {entry.ref for entry in entries}
        seen = [str(ref) for ref in state.get("seen", []) if str(ref) in listed]
        handled = set(seen)
        fresh = [entry for entry in entries if entry.ref not in handled]
        unfinished = len(fresh) > self.max_items
        for entry in fresh[: self.max_items]:
            outcome = self._read_entry(client, entry, feed_url, feed_title, language, this_poll)
            if outcome.candidate is not None:
                fetched.candidates.append(outcome.candidate)
            if outcome.skip is not None:
                fetched.skipped.append(outcome.skip)
            if outcome.settled:
                seen.append(entry.ref)
            else:
                unfinished = True
        # With entries left over, the old validators stay, so the next poll reads the feed whole again.
        etag, modified = (
            (state.get("etag"), state.get("modified")) if unfinished else (page.etag, page.modified)
        )
        return {"etag": etag, "modified": modified, "seen": seen[-SEEN_LIMIT:]}

    # --- one entry ----------------------------------------------------------------------------------------

    def _read_entry(
        self,
        client: httpx.Client,
        entry: _Entry,
        feed_url: str,
        feed_title: str | None,
        feed_language: Any,
        this_poll: _ThisPoll,
    ) -> _Outcome:
        if not entry.link:
            return _Outcome(skip=Skip(entry.ref or feed_url, "the feed entry links to no article"))
        link = entry.link
        if urlsplit(link).scheme not in ("http", "https"):
            return _Outcome(skip=Skip(link, "the entry's link is not a web page (http or https)"))
        if canonical_url(link) in this_poll.links:
            return _Outcome()  # listed by a feed read earlier in this poll
        this_poll.links.add(canonical_url(link))
        try:
            page = self._download(
                client, link, {"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"}
            )
        except _TooLargeError:
            return _Outcome(
                skip=Skip(link, f"the article page is larger than {self._limit_text()}; not read")
            )
        except InternalAddressError as error:
            return _Outcome(
                skip=Skip(link, f"the article page is on an internal address, {error.where}; {PRIVATE_NOTE}")
            )
        except httpx.UnsupportedProtocol as error:  # a redirect to a mailto:, ftp: ... address
            return _Outcome(skip=Skip(link, f"the article page could not be read ({_describe(error)})"))
        except httpx.TimeoutException:
            reason = f"the article page did not answer within {self.timeout_s:g} s; {RETRY_NOTE}"
            return _Outcome(skip=Skip(link, reason), settled=False)
        except httpx.TransportError as error:
            reason = f"the article page could not be reached ({_describe(error)}); {RETRY_NOTE}"
            return _Outcome(skip=Skip(link, reason), settled=False)
        except httpx.HTTPError as error:  # too many redirects, a malformed redirect
            return _Outcome(skip=Skip(link, f"the article page could not be read ({_describe(error)})"))
        if page.status >= 400:
            passing = page.status >= 500 or page.status in (408, 429)
            reason = f"the article page answered HTTP {_status_text(page.status)}"
            return _Outcome(
                skip=Skip(link, f"{reason}; {RETRY_NOTE}" if passing else reason), settled=not passing
            )
        if page.status != HTTPStatus.OK:
            return _Outcome(skip=Skip(link, f"the article page answered HTTP {_status_text(page.status)}"))
        if not _is_html(page, sniff=False):
            kind = page.content_type.partition(";")[0].strip() or "of no stated type"
            return _Outcome(skip=Skip(link, f"the article page is {kind}, not an HTML page"))
        return self._article(page, link, entry, feed_url, feed_title, feed_language, this_poll)

    def _article(
        self,
        page: _Page,
        link: str,
        entry: _Entry,
        feed_url: str,
        feed_title: str | None,
        feed_language: Any,
        this_poll: _ThisPoll,
    ) -> _Outcome:
        """The story in an article page: its own text, title, canonical address, publication, author."""
        try:
            tree = trafilatura.load_html(page.content)
            if tree is None:
                return _Outcome(skip=Skip(link, "the article page is not readable HTML"))
            # Precision over recall: a stray menu or teaser read aloud is worse than a missed aside.
            document = trafilatura.bare_extraction(
                tree, url=page.url, include_comments=False, favor_precision=True
            )
        except Exception as error:  # one unreadable page is skipped, never raised out of the poll
            return _Outcome(skip=Skip(link, f"the article page could not be read as HTML ({error})"))
        h1 = next(tree.iter("h1"), None)
        headline = _one_line(h1.text_content()) if h1 is not None else None
        title = entry.title or _meta(tree, "og:title") or headline or _one_line(tree.findtext(".//title"))
        title = title or ""
        text = _without_headline(getattr(document, "text", None) or "", (title, headline))
        if not text:
            return _Outcome(skip=Skip(link, "no article text could be extracted from the page"))
        words = len(re.findall(r"\w+", text))
        if words < self.min_words:
            reason = f"the article has {words} words, fewer than PELLACIA_FEEDS_MIN_WORDS ({self.min_words})"
            return _Outcome(skip=Skip(link, reason))
        if not title:
            return _Outcome(skip=Skip(link, "the article has no title (neither in the feed nor on the page)"))
        address = canonical_url(_canonical_link(tree, page.url) or page.url)
        key = f"article-{url_hash(address)}"
        if key in this_poll.keys:
            return _Outcome()
        this_poll.keys.add(key)
        byline = Byline(
            kind="article",
            site=_meta(tree, "og:site_name") or feed_title,
            author=entry.author or _meta(tree, "author"),
        )
        record = SourceRecord(
            key=key,
            source_kind="article",
            source_ref=feed_url,
            title=title,
            body=text,
            url=address,
            language=_language(tree.get("lang"), feed_language),
            byline=byline,
        )
        return _Outcome(candidate=Candidate(record, canonical_url=address, content_hash=content_hash(text)))

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _download(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Page:
        """GET `url`, reading at most `max_page_bytes` (decoded) within the timeout as a whole; an error
        answer's body is not read."""
        deadline = time.monotonic() + self.timeout_s
        with client.stream("GET", url, headers=headers) as response:
            page = _Page(
                url=str(response.url),
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                content=b"",
                etag=response.headers.get("etag"),
                modified=response.headers.get("last-modified"),
            )
            if response.status_code != HTTPStatus.OK:
                return page
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_page_bytes:
                raise _TooLargeError
            body = bytearray()
            for block in response.iter_bytes():
                body += block
                if len(body) > self.max_page_bytes:
                    raise _TooLargeError
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(
                        f"{url} took longer than {self.timeout_s:g} s", request=response.request
                    )
        return replace(page, content=bytes(body))

    def _limit_text(self) -> str:
        megabytes = self.max_page_bytes / (1024 * 1024)
        return f"{megabytes:g} MB" if megabytes >= 1 else f"{self.max_page_bytes:,} bytes"


def from_env() -> FeedsSource:
    """The feeds source as configured: PELLACIA_FEEDS (comma-separated feed URLs), and optionally
    PELLACIA_FEEDS_MIN_WORDS, PELLACIA_FEEDS_MAX_ITEMS and PELLACIA_FEEDS_ALLOW_PRIVATE."""
    raw = os.environ.get("PELLACIA_FEEDS", "").strip()
    if not raw:
        raise SourceConfigError(
            "PELLACIA_FEEDS is not set: name the RSS or Atom feeds to read as comma-separated URLs"
        )
    feeds: list[str] = []
    for url in (part.strip() for part in raw.split(",")):
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceConfigError(f"PELLACIA_FEEDS: {url!r} is not an http or https URL")
        if url not in feeds:
            feeds.append(url)
    return FeedsSource(
        feeds=tuple(feeds),
        min_words=_whole_number("PELLACIA_FEEDS_MIN_WORDS", DEFAULT_MIN_WORDS, minimum=0),
        max_items=_whole_number("PELLACIA_FEEDS_MAX_ITEMS", DEFAULT_MAX_ITEMS, minimum=1),
        allow_private=private_allowed("PELLACIA_FEEDS_ALLOW_PRIVATE"),
    )


def _whole_number(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise SourceConfigError(f"{name}={raw!r}: use a whole number of at least {minimum}")
    return int(raw)


# --- reading feeds and pages ------------------------------------------------------------------------------


def _entry(raw: Any, base: str) -> _Entry:
    link = raw.get("link")
    absolute = urljoin(base, link.strip()) if isinstance(link, str) and link.strip() else None
    ref = str(raw.get("id") or absolute or raw.get("title") or "")
    detail = raw.get("author_detail")
    author = _one_line(detail.get("name") if detail else None) or _one_line(raw.get("author"))
    return _Entry(ref=ref, link=absolute, title=_one_line(raw.get("title")) or "", author=author)


def _is_html(page: _Page, sniff: bool = True) -> bool:
    """An HTML page by its Content-Type, or (`sniff`) by how its text begins."""
    if page.content_type.partition(";")[0].strip().lower() in _HTML_TYPES:
        return True
    start = page.content[:1024].lstrip().lower()
    return sniff and start.startswith((b"<!doctype html", b"<html"))


def _bozo(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    return str(error) if error else "no RSS or Atom root element"


def _canonical_link(tree: HtmlElement, base: str) -> str | None:
    """The page's <link rel=canonical> as an absolute http(s) URL, if it has one."""
    for element in tree.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            href = urljoin(base, str(element.get("href")).strip())
            if urlsplit(href).scheme in ("http", "https"):
                return href
    return None


def _meta(tree: HtmlElement, name: str) -> str | None:
    """The content of <meta property=name> or <meta name=name>."""
    for element in tree.iter("meta"):
        if name in (element.get("property"), element.get("name")):
            value = _one_line(element.get("content"))
            if value:
                return value
    return None


def _without_headline(text: str, headlines: tuple[str | None, ...]) -> str:
    """The extracted text without a first line that repeats the title or the page's <h1> (the title
    is kept apart, and a voice would read it twice)."""
    lines = text.strip().splitlines()
    if lines and any(h and _words(lines[0]) == _words(h) for h in headlines):
        lines = lines[1:]
    return "\n".join(lines).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _language(*candidates: Any) -> str | None:
    """The first well-formed language tag: the page's <html lang>, else the feed's language (a tag
    longer than the stories table keeps is cut to its primary language)."""
    for candidate in candidates:
        if isinstance(candidate, str) and _LANGUAGE.match(candidate.strip()):
            tag = candidate.strip()
            return tag if len(tag) <= MAX_LANGUAGE_TAG else tag.partition("-")[0]
    return None


def _one_line(value: Any) -> str | None:
    """`value` on one line with single spaces; None for no text."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__
