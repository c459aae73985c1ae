"""The news-site sandbox serves feeds as RSS 2.0 and Atom say, answers conditional GETs as RFC 9110 says
(304 on a matching If-None-Match, or on If-Modified-Since when no If-None-Match is sent), and wraps its
articles in the boilerplate a real publisher's page has."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from sandbox.feeds import COOKIE_BANNER, FOOTER_TEXT, OVERSIZED_BYTES, NewsSite, news_site

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with news_site() as server:
        server.add_feed("world")
        server.add_feed("science")
        server.add_article("harbour-wall", "Harbour wall repairs begin", feeds=["world"])
        server.add_article("tide-gauge", "A new tide gauge for the bay", feeds=["world", "science"])
        yield server


def test_rss_is_served_as_rss_with_validators(site: NewsSite) -> None:
    response = httpx.get(site.feed_url("world"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    parsedate_to_datetime(response.headers["last-modified"])  # an HTTP date
    channel = ElementTree.fromstring(response.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == [
        "A new tide gauge for the bay",
        "Harbour wall repairs begin",
    ]
    link = items[0].findtext("link") or ""
    assert link.startswith(site.article_url("tide-gauge") + "?utm_source=world")
    assert items[0].findtext("guid") == "tag:news.example,2026:article:tide-gauge"


def test_atom_is_served_as_atom(site: NewsSite) -> None:
    response = httpx.get(site.feed_url("science", "atom"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    link = entries[0].find(f"{ATOM}link")
    assert link is not None and link.get("rel") == "alternate"
    assert (link.get("href") or "").startswith(site.article_url("tide-gauge"))
    assert entries[0].findtext(f"{ATOM}author/{ATOM}name") == "Mara Ellison"


def test_a_matching_etag_is_answered_304_without_a_body(site: NewsSite) -> None:
    first = httpx.get(site.feed_url("world"))
    site.reset_counts()
    again = httpx.get(site.feed_url("world"), headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert "content-type" not in again.headers
    weak = httpx.get(site.feed_url("world"), headers={"If-None-Match": f'"other", W/{first.headers["etag"]}'})
    assert weak.status_code == 304  # If-None-Match compares weakly, and takes a list
    stale = httpx.get(site.feed_url("world"), headers={"If-None-Match": '"not-the-current-one"'})
    assert stale.status_code == 200 and stale.content == first.content
    assert site.hits(site.feed_url("world")) == 3
    assert site.not_modified(site.feed_url("world")) == 2


def test_if_modified_since_applies_only_without_if_none_match(site: NewsSite) -> None:
    first = httpx.get(site.feed_url("world", "atom"))
    modified = first.headers["last-modified"]
    assert (
        httpx.get(site.feed_url("world", "atom"), headers={"If-Modified-Since": modified}).status_code == 304
    )
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    assert (
        httpx.get(site.feed_url("world", "atom"), headers={"If-Modified-Since": earlier}).status_code == 200
    )
    both = {"If-Modified-Since": modified, "If-None-Match": '"stale"'}
    assert httpx.get(site.feed_url("world", "atom"), headers=both).status_code == 200
    assert (
        httpx.get(site.feed_url("world", "atom"), headers={"If-Modified-Since": "yesterday"}).status_code
        == 200
    )


def test_a_new_article_changes_the_feed_and_its_etag(site: NewsSite) -> None:
    before = httpx.get(site.feed_url("science"))
    site.add_article("plankton-bloom", "Plankton bloom seen from orbit", feeds=["science"])
    after = httpx.get(site.feed_url("science"), headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert b"Plankton bloom seen from orbit" in after.content


def test_an_article_page_has_its_story_among_boilerplate(site: NewsSite) -> None:
    response = httpx.get(site.article_url("harbour-wall") + "?utm_source=world&utm_medium=rss")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert f'<link rel="canonical" href="{site.article_url("harbour-wall")}">' in page
    assert '<meta property="og:site_name" content="Harbour Ledger">' in page
    for boilerplate in (COOKIE_BANNER, FOOTER_TEXT, "Subscribe to our newsletter", "Comments (2)"):
        assert boilerplate.replace("·", "&middot;") in page or boilerplate in page
    assert page.index("<article") < page.index('<section id="comments"') < page.index("<footer")


def test_an_amp_feed_links_the_amp_copy_whose_canonical_is_the_article(site: NewsSite) -> None:
    site.add_feed("amp", links="amp")
    site.add_article("harbour-wall", "Harbour wall repairs begin", feeds=["amp"])
    channel = ElementTree.fromstring(httpx.get(site.feed_url("amp")).content).find("channel")
    assert channel is not None
    amp = site.url("api", "/amp/articles/harbour-wall")
    assert channel.findtext("item/link") == amp
    page = httpx.get(amp).text
    assert f'<link rel="canonical" href="{site.article_url("harbour-wall")}">' in page


@pytest.mark.parametrize(
    ("how", "status", "content_type"),
    [
        ("404", 404, "text/html; charset=utf-8"),
        ("500", 500, "text/html; charset=utf-8"),
        ("pdf", 200, "application/pdf"),
        ("empty", 200, "text/html; charset=utf-8"),
    ],
)
def test_a_broken_article_answers_as_broken(site: NewsSite, how: str, status: int, content_type: str) -> None:
    site.add_article("fragile", "A fragile story", feeds=[])
    site.break_article("fragile", how)
    try:
        response = httpx.get(site.article_url("fragile"))
    finally:
        site.mend_article("fragile")
    assert (response.status_code, response.headers["content-type"]) == (status, content_type)
    if how == "empty":
        assert "<article" in response.text and "Officials in" not in response.text
    assert httpx.get(site.article_url("fragile")).status_code == 200


def test_an_oversized_page_is_bigger_than_five_megabytes(site: NewsSite) -> None:
    site.add_article("bloated", "A bloated page", feeds=[])
    site.break_article("bloated", "oversized")
    with httpx.stream("GET", site.article_url("bloated")) as response:
        assert int(response.headers["content-length"]) > OVERSIZED_BYTES > 5 * 1024 * 1024


def test_a_feed_path_can_serve_html_or_broken_xml(site: NewsSite) -> None:
    site.add_feed("misconfigured")
    site.serve_at_feed("misconfigured", "html")
    page = httpx.get(site.feed_url("misconfigured"))
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<!doctype html>")
    site.serve_at_feed("misconfigured", "garbage")
    garbage = httpx.get(site.feed_url("misconfigured"))
    assert garbage.headers["content-type"] == "application/rss+xml; charset=utf-8"
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(garbage.content)


def test_unknown_feeds_and_articles_are_404(site: NewsSite) -> None:
    assert httpx.get(site.feed_url("nowhere")).status_code == 404
    assert httpx.get(site.article_url("nothing-here")).status_code == 404
