"""A feed of N articles read end to end against the news-site sandbox: the feed fetched, every article
page fetched and its text extracted, every story admitted into a fresh SQLite app database (`poll`).

Setup (not timed): the sandbox starts in this process with one RSS feed of N generated articles (about
300 words each inside the site's boilerplate), and the SQLite database is created and migrated.

Timed:
  - the first poll: wall time, time per article, and where it goes: the source's fetch (of it: the
    sandbox's handlers, server side, and trafilatura's extraction, bare_extraction timed in place; the
    rest is the HTTP client, HTML parsing and feedparser), and admitting the stories with their webhook
    outbox rows and the cursor in one SQLite transaction;
  - a second poll of the unchanged feed: one conditional GET answered 304, nothing fetched or admitted.

    python benchmarks/bench_feeds.py [--articles 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura
from sqlalchemy import func, select

from pellacia_assets.sources.base import Fetch, poll
from pellacia_assets.sources.feeds import FeedsSource
from resources.database.engine import open_database, transaction
from resources.database.models import StoryRecord
from sandbox.common import Request
from sandbox.feeds import news_site


class TimedSource:
    """The feeds source, its fetch timed (poll admits what it returns)."""

    name = "feeds"

    def __init__(self, inner: FeedsSource) -> None:
        self.inner = inner
        self.seconds: list[float] = []

    def fetch(self, cursor: dict[str, Any]) -> Fetch:
        started = time.perf_counter()
        try:
            return self.inner.fetch(cursor)
        finally:
            self.seconds.append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50)
    count = parser.parse_args().articles

    extraction: list[float] = []
    original: Callable[..., Any] = trafilatura.bare_extraction

    def timed_extraction(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            extraction.append(time.perf_counter() - started)

    trafilatura.bare_extraction = timed_extraction

    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as scratch, news_site() as site:
        site.add_feed("world")
        for number in range(count):
            site.add_article(f"story-{number:03d}", f"Harbour council report {number}", feeds=["world"])
        factory = open_database(f"sqlite:///{Path(scratch) / 'app.db'}")
        served: Counter[str] = Counter()
        handler_s: list[float] = []

        def observe(request: Request, seconds: float) -> None:
            served[request.path.split("/")[1]] += 1
            handler_s.append(seconds)

        site.observe(observe)
        source = TimedSource(FeedsSource(feeds=(site.feed_url("world"),), max_items=count))

        started = time.perf_counter()
        first = poll(source, factory)
        wall = time.perf_counter() - started
        requests, served_s, extract_s = dict(served), sum(handler_s), sum(extraction)
        started = time.perf_counter()
        second = poll(source, factory)
        again = time.perf_counter() - started
        with transaction(factory) as session:
            stored = session.scalar(select(func.count()).select_from(StoryRecord))

    if first.error or len(first.added) != count or stored != count:
        raise SystemExit(f"expected {count} stories admitted; got {first.as_json()} and {stored} rows")
    fetch_s = source.seconds[0]
    print(f"feed of {count} articles, one poll (fetch + extract + admit into SQLite):")
    print(f"  wall time             {wall:8.3f} s")
    print(f"  per article           {wall / count * 1000:8.1f} ms")
    print(f"  fetch                 {fetch_s:8.3f} s  ({requests} requests)")
    print(f"    sandbox handlers    {served_s:8.3f} s")
    print(f"    trafilatura         {extract_s:8.3f} s  ({extract_s / count * 1000:.1f} ms per article)")
    rest = fetch_s - served_s - extract_s
    print(f"    the rest            {rest:8.3f} s  (HTTP client, HTML parsing, feedparser)")
    print(f"  admit (one commit)    {wall - fetch_s:8.3f} s  (cursor read, stories, outbox rows, cursor)")
    print(f"  skipped               {len(first.skipped)}")
    print(f"second poll, feed unchanged: {again * 1000:.1f} ms, {len(second.added)} added (one 304)")


if __name__ == "__main__":
    main()
