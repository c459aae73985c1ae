"""The feeds source against the news-site sandbox: RSS and Atom entries become stories holding the
article's own text (no boilerplate), unchanged feeds cost one 304, each article is admitted once across
feeds and polls, and every bad item or feed is skipped with its reason while the rest go on."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.sources.base import (
    PollReport,
    SourceConfigError,
    canonical_url,
    content_hash,
    poll,
    url_hash,
)
from pellacia_assets.sources.feeds import SEEN_LIMIT, FeedsSource, FeedsUnreachableError, from_env
from pellacia_assets.stories.model import Byline
from resources.database.engine import open_database, transaction
from resources.database.models import SourceCursor, SourceSkip, StoryRecord
from sandbox.common import Request
from sandbox.feeds import (
    COMMENT_TEXT,
    COOKIE_BANNER,
    FOOTER_TEXT,
    NAV_LINKS,
    RELATED_HEADING,
    NewsSite,
    news_site,
)

OWN_SENTENCES = (
    "The ferry operator announced on Tuesday that crossings to Lindqvist Bay will run every forty minutes "
    "from the first of March, doubling the winter timetable that islanders have criticised for years.",
    "Captain Idris Holloway, who has worked the route since 2009, said the two refitted vessels burn a "
    "third less fuel and can carry twelve more cars each, which made the extra sailings affordable.",
    "Island businesses welcomed the change but warned that the car park at the northern terminal, which "
    "already fills by eight in the morning, would need another hundred spaces before the summer season.",
)
FEED = "https://a.example/rss"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with news_site() as server:
        yield server


@pytest.fixture
def feed(site: NewsSite) -> str:
    """A fresh feed of its own for each test (the site is shared by the module)."""
    name = f"feed-{next(_names)}"
    site.add_feed(name)
    return name


@pytest.fixture
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    for name in ("PELLACIA_FEEDS_APPROVAL", "PELLACIA_APPROVAL"):
        monkeypatch.delenv(name, raising=False)
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def article(site: NewsSite, feeds: list[str], **kwargs: Any) -> str:
    """A generated article listed in `feeds`; returns its slug."""
    slug = f"story-{next(_names)}"
    site.add_article(slug, kwargs.pop("title", f"Council report number {slug}"), feeds=feeds, **kwargs)
    return slug


def key_of(site: NewsSite, slug: str) -> str:
    """The story key of the article `slug`: from its canonical address, without the feeds' utm_*."""
    return f"article-{url_hash(site.article_url(slug))}"


def source(site: NewsSite, *feeds: str, kind: str = "rss", **kwargs: Any) -> FeedsSource:
    return FeedsSource(feeds=tuple(site.feed_url(name, kind) for name in feeds), **kwargs)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_entries_become_stories_with_the_articles_own_text(site: NewsSite, feed: str, kind: str) -> None:
    slug = f"ferry-{kind}"
    site.add_article(slug, "Ferries to Lindqvist Bay every forty minutes", OWN_SENTENCES, feeds=[feed])
    site.add_article(f"{slug}-2", "Quay Street reopens", feeds=[feed], author="Tom Ruiz")

    fetched = source(site, feed, kind=kind).fetch({})

    assert fetched.skipped == []
    assert len(fetched.candidates) == 2
    candidate = next(c for c in fetched.candidates if c.record.title.startswith("Ferries"))
    record = candidate.record
    address = canonical_url(site.article_url(slug))  # the feed's utm_* link, as the page's canonical says
    assert record.key == f"article-{url_hash(address)}"
    assert (record.source_kind, record.source_ref) == ("article", site.feed_url(feed, kind))
    assert record.url == candidate.canonical_url == address
    assert "utm_" not in address
    assert record.byline == Byline(kind="article", site="Harbour Ledger", author="Mara Ellison")
    assert record.language == "en-GB"
    for sentence in OWN_SENTENCES:
        assert sentence in record.body
    for boilerplate in (COOKIE_BANNER, FOOTER_TEXT, RELATED_HEADING, COMMENT_TEXT, "Accept all", *NAV_LINKS):
        assert boilerplate not in record.body
    assert not record.body.startswith(record.title)  # the headline is the title, not the first line
    assert candidate.content_hash == content_hash(record.body)
    other = next(c for c in fetched.candidates if c is not candidate).record
    assert other.byline is not None and other.byline.author == "Tom Ruiz"


def test_an_unchanged_feed_costs_one_304_and_no_page(site: NewsSite, feed: str) -> None:
    slugs = [article(site, [feed]) for _ in range(3)]
    headers: list[dict[str, str]] = []

    def watch(request: Request, _seconds: float) -> None:
        if request.path.endswith(f"/{feed}.rss"):
            headers.append(request.headers)

    site.observe(watch)
    reader = source(site, feed)
    first = reader.fetch({})
    assert len(first.candidates) == 3
    state = first.cursor["feeds"][site.feed_url(feed)]
    assert state["etag"] and state["modified"] and len(state["seen"]) == 3

    second = reader.fetch(first.cursor)

    assert second.candidates == [] and second.skipped == []
    assert site.hits(site.feed_url(feed)) == 2
    assert site.not_modified(site.feed_url(feed)) == 1
    assert [site.hits(site.article_url(slug)) for slug in slugs] == [1, 1, 1]
    assert second.cursor == first.cursor
    assert headers[1]["if-none-match"] == state["etag"]
    assert headers[1]["if-modified-since"] == state["modified"]
    assert "PellaciaPress/" in headers[0]["user-agent"]


def test_polls_admit_each_article_once_and_a_changed_feed_only_fetches_the_new_entry(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    old = [article(site, [feed]) for _ in range(2)]
    reader = source(site, feed)

    first = poll(reader, factory)
    assert first.error is None
    assert [a.approval for a in first.added] == ["pending", "pending"]  # fetched stories wait for an editor

    new = article(site, [feed])
    second = poll(reader, factory)
    third = poll(reader, factory)

    assert [a.key for a in second.added] == [key_of(site, new)]
    assert second.duplicates == [] and third.added == [] and third.duplicates == []
    assert [site.hits(site.article_url(slug)) for slug in [*old, new]] == [1, 1, 1]
    assert site.not_modified(site.feed_url(feed)) == 1
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(StoryRecord)) == 3
        cursor = session.get(SourceCursor, "feeds")
        assert cursor is not None and len(cursor.cursor["feeds"][site.feed_url(feed)]["seen"]) == 3


def test_a_story_already_admitted_is_a_duplicate_when_another_feed_lists_it_later(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    shared = article(site, [feed])
    poll(source(site, feed), factory)
    site.add_feed(f"{feed}-late")
    site.add_article(shared, f"Council report number {shared}", feeds=[f"{feed}-late"])

    report = poll(source(site, feed, f"{feed}-late"), factory)

    assert report.added == []
    [duplicate] = report.duplicates
    assert duplicate.same_as == key_of(site, shared)
    assert duplicate.reason is not None and "the same key" in duplicate.reason


def test_the_same_article_in_two_feeds_is_fetched_and_admitted_once(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    site.add_feed(f"{feed}-b")
    shared = article(site, [feed, f"{feed}-b"])
    only_b = article(site, [f"{feed}-b"])

    report = poll(source(site, feed, f"{feed}-b", kind="atom"), factory)

    assert sorted(a.key for a in report.added) == sorted(key_of(site, slug) for slug in (shared, only_b))
    assert site.hits(site.article_url(shared)) == 1
    with transaction(factory) as session:
        row = session.get(StoryRecord, key_of(site, shared))
        assert row is not None and row.canonical_url == canonical_url(site.article_url(shared))


def test_an_amp_link_is_stored_under_the_pages_canonical_address(site: NewsSite, feed: str) -> None:
    site.add_feed(f"{feed}-amp", links="amp")
    shared = article(site, [f"{feed}-amp", feed])

    fetched = source(site, f"{feed}-amp", feed).fetch({})

    [candidate] = fetched.candidates  # two addresses, one article: the second is not a second story
    assert candidate.record.url == candidate.canonical_url == canonical_url(site.article_url(shared))
    assert candidate.record.key == key_of(site, shared)
    assert site.hits(site.url("api", f"/amp/articles/{shared}")) == 1
    assert site.hits(site.article_url(shared)) == 1


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("404", "the article page answered HTTP 404 Not Found"),
        (
            "500",
            "the article page answered HTTP 500 Internal Server Error; it is tried again at the next poll",
        ),
        ("pdf", "the article page is application/pdf, not an HTML page"),
        ("empty", "no article text could be extracted from the page"),
        ("oversized", "the article page is larger than 5 MB; not read"),
    ],
)
def test_a_broken_article_is_skipped_while_the_others_are_admitted(
    site: NewsSite, feed: str, factory: sessionmaker[Session], how: str, reason: str
) -> None:
    good = [article(site, [feed]) for _ in range(2)]
    broken = article(site, [feed])
    site.break_article(broken, how)

    report = poll(source(site, feed), factory)

    assert sorted(a.key for a in report.added) == sorted(key_of(site, slug) for slug in good)
    [skip] = report.skipped
    assert skip.ref.startswith(site.article_url(broken)) and skip.reason == reason
    with transaction(factory) as session:
        recorded = session.scalars(select(SourceSkip).where(SourceSkip.source == "feeds")).one()
        assert recorded.reason == reason


def test_an_article_that_failed_for_now_is_tried_again_and_a_missing_one_is_not(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    flaky, gone = article(site, [feed]), article(site, [feed])
    site.break_article(flaky, "500")
    site.break_article(gone, "404")
    reader = source(site, feed)
    first = poll(reader, factory)
    assert first.added == [] and len(first.skipped) == 2
    site.mend_article(flaky)
    site.mend_article(gone)

    second = poll(reader, factory)

    assert [a.key for a in second.added] == [key_of(site, flaky)]
    assert site.not_modified(site.feed_url(feed)) == 0  # the feed was read whole again, not 304
    assert site.hits(site.article_url(gone)) == 1
    assert poll(reader, factory).added == []
    assert site.not_modified(site.feed_url(feed)) == 1  # nothing left to retry: validators kept


METADATA_SERVICE = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
INTERNAL_NOTE = "not read (PELLACIA_FEEDS_ALLOW_PRIVATE=1 allows internal addresses)"


def test_an_entry_pointing_into_the_factorys_network_is_skipped_and_never_fetched(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    """A hijacked feed names the cloud metadata service as an article: refused where the socket would
    be opened (nothing is dialled there), recorded once, and not retried."""
    good = article(site, [feed])
    article(site, [feed], link=METADATA_SERVICE)
    reader = source(site, feed)

    report = poll(reader, factory)

    assert [a.key for a in report.added] == [key_of(site, good)]
    [skip] = report.skipped
    assert skip.ref == METADATA_SERVICE
    assert skip.reason == f"the article page is on an internal address, 169.254.169.254; {INTERNAL_NOTE}"
    site.add_article("later", "A later report", feeds=[feed])
    assert poll(reader, factory).skipped == []  # settled: not tried again


def test_an_article_redirecting_into_the_factorys_network_is_skipped(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    """The page itself is on the feed's site, but answers 301 to an internal address that is not the
    feed's: the redirect is refused at the hop, the other articles are admitted."""
    good, moved = article(site, [feed]), article(site, [feed])
    site.move_article(moved, "http://10.20.30.40:8080/admin/export")

    report = poll(source(site, feed), factory)

    assert [a.key for a in report.added] == [key_of(site, good)]
    [skip] = report.skipped
    assert skip.ref.startswith(site.article_url(moved))
    assert skip.reason == f"the article page is on an internal address, 10.20.30.40; {INTERNAL_NOTE}"


def test_another_loopback_address_than_the_feeds_own_is_refused_unless_private_is_allowed(
    site: NewsSite, feed: str
) -> None:
    """The feed's own host (here 127.0.0.1, an operator's choice) may serve its articles; 127.0.0.2 is
    another internal address, read only with `allow_private`."""
    elsewhere = site.article_url("x").replace("127.0.0.1", "127.0.0.2")
    article(site, [feed], link=elsewhere)

    guarded = source(site, feed).fetch({})
    [skip] = guarded.skipped
    assert skip.reason == f"the article page is on an internal address, 127.0.0.2; {INTERNAL_NOTE}"

    open_reader = source(site, feed, allow_private=True).fetch({})
    [dialled] = open_reader.skipped  # the sandbox listens on 127.0.0.1 only: dialled, and refused there
    assert dialled.reason.startswith("the article page could not be reached")


def test_a_short_article_is_skipped_with_the_word_count(site: NewsSite, feed: str) -> None:
    short = article(site, [feed], paragraphs=["The bakery on Quay Street has a new owner."])
    fetched = source(site, feed).fetch({})
    assert fetched.candidates == []
    assert fetched.skipped[0].ref.startswith(site.article_url(short))
    assert fetched.skipped[0].reason == "the article has 9 words, fewer than PELLACIA_FEEDS_MIN_WORDS (80)"
    assert len(source(site, feed, min_words=5).fetch({}).candidates) == 1


def test_an_html_page_at_a_feed_url_is_skipped_and_the_other_feeds_are_read(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    site.add_feed(f"{feed}-html")
    site.serve_at_feed(f"{feed}-html", "html")
    good = article(site, [feed])

    report = poll(source(site, f"{feed}-html", feed), factory)

    assert [a.key for a in report.added] == [key_of(site, good)]
    html_feed = site.feed_url(f"{feed}-html")
    assert [(s.ref, s.reason) for s in report.skipped] == [
        (html_feed, f"{html_feed} is an HTML page, not an RSS or Atom feed")
    ]


def test_a_feed_that_does_not_parse_is_skipped(site: NewsSite, feed: str) -> None:
    site.serve_at_feed(feed, "garbage")
    fetched = source(site, feed).fetch({})
    assert fetched.candidates == []
    [skip] = fetched.skipped
    assert skip.ref == site.feed_url(feed)
    assert skip.reason.startswith("the feed could not be parsed as rss20: ")
    assert fetched.cursor["feeds"][site.feed_url(feed)] == {}  # nothing read, nothing remembered


def test_a_missing_feed_is_skipped_with_its_status(site: NewsSite, feed: str) -> None:
    good = article(site, [feed])
    fetched = source(site, "no-such-feed", feed).fetch({})
    assert [c.record.url for c in fetched.candidates] == [canonical_url(site.article_url(good))]
    assert [(s.ref, s.reason) for s in fetched.skipped] == [
        (site.feed_url("no-such-feed"), "the feed answered HTTP 404 Not Found")
    ]


def test_at_most_max_items_a_poll_and_the_rest_at_the_next(site: NewsSite, feed: str) -> None:
    for _ in range(5):
        article(site, [feed])
    reader = source(site, feed, max_items=2)
    polls = []
    cursor: dict[str, Any] = {}
    for _ in range(4):
        fetched = reader.fetch(cursor)
        polls.append(len(fetched.candidates))
        cursor = fetched.cursor
    assert polls == [2, 2, 1, 0]
    assert site.not_modified(site.feed_url(feed)) == 1
    assert len(cursor["feeds"][site.feed_url(feed)]["seen"]) == 5 <= SEEN_LIMIT


def test_an_unreachable_feed_is_skipped_and_all_unreachable_is_an_outage(
    site: NewsSite, feed: str, factory: sessionmaker[Session]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/feed.xml"
    article(site, [feed])
    fetched = FeedsSource(feeds=(closed, site.feed_url(feed)), timeout_s=2).fetch({})
    assert len(fetched.candidates) == 1
    assert fetched.skipped[0].ref == closed and "could not be reached" in fetched.skipped[0].reason

    with pytest.raises(FeedsUnreachableError, match="no feed could be reached"):
        FeedsSource(feeds=(closed,), timeout_s=2).fetch({})
    report: PollReport = poll(FeedsSource(feeds=(closed,), timeout_s=2), factory)
    assert report.error is not None and report.error.startswith("FeedsUnreachableError")


def test_from_env_reads_the_feeds_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PELLACIA_FEEDS", " https://a.example/rss , https://b.example/atom.xml,,https://a.example/rss"
    )
    monkeypatch.delenv("PELLACIA_FEEDS_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv("PELLACIA_FEEDS_MIN_WORDS", "120")
    monkeypatch.setenv("PELLACIA_FEEDS_MAX_ITEMS", "5")
    configured = from_env()
    assert configured.name == "feeds"
    assert configured.feeds == ("https://a.example/rss", "https://b.example/atom.xml")
    assert (configured.min_words, configured.max_items) == (120, 5)
    assert configured.allow_private is False
    monkeypatch.delenv("PELLACIA_FEEDS_MIN_WORDS")
    monkeypatch.delenv("PELLACIA_FEEDS_MAX_ITEMS")
    assert (from_env().min_words, from_env().max_items) == (80, 20)
    monkeypatch.setenv("PELLACIA_FEEDS_ALLOW_PRIVATE", "1")
    assert from_env().allow_private is True


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "PELLACIA_FEEDS is not set"),
        ({"PELLACIA_FEEDS": "  "}, "PELLACIA_FEEDS is not set"),
        ({"PELLACIA_FEEDS": "feeds.example/rss"}, "PELLACIA_FEEDS: 'feeds.example/rss' is not an http"),
        (
            {"PELLACIA_FEEDS": "https://a.example/rss", "PELLACIA_FEEDS_MAX_ITEMS": "0"},
            "PELLACIA_FEEDS_MAX_ITEMS",
        ),
        (
            {"PELLACIA_FEEDS": "https://a.example/rss", "PELLACIA_FEEDS_MIN_WORDS": "lots"},
            "PELLACIA_FEEDS_MIN_WORDS",
        ),
    ],
)
def test_missing_or_wrong_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name in ("PELLACIA_FEEDS", "PELLACIA_FEEDS_MIN_WORDS", "PELLACIA_FEEDS_MAX_ITEMS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SourceConfigError, match=named):
        from_env()
