"""What a Reddit poll costs end to end (issue 10): PRAW against the local Reddit sandbox, then the intake
gate (`poll`: dedupe, admission, skips, cursor) into a fresh SQLite database.

The same 100 posts (self posts of 300-600 words, all admitted), in two shapes:
  - one subreddit, `PELLACIA_REDDIT_LIMIT=100`: one listing page, with an unlimited rate budget, so the
    numbers are the work itself. One PRAW client for all runs, as in a long-lived sensor process (the
    first run also fetches the OAuth token); the fetch alone is timed in a second pass and the
    admission is the difference;
  - four subreddits of 25 under Reddit's own budget (1000 requests per 600 s, in the sandbox's
    X-Ratelimit headers): four listing requests that prawcore paces, about 0.6 s apart. Each run is a
    first poll: a fresh window and a fresh client (its token request included).
Each run starts from an empty database and cursor; medians of `--runs`.

    python benchmarks/bench_reddit.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pellacia_assets.sources.base import poll
from pellacia_assets.sources.reddit import RedditSource, config_from_env
from resources.database.engine import open_database
from sandbox.reddit import RedditSandbox, reddit_sandbox

WORDS = ("rain", "door", "stairs", "whisper", "lamp", "neighbour", "letter", "clock", "garden", "winter")
POSTS = 100


def story_text(number: int) -> str:
    words = [WORDS[(number * 3 + index * (number % 7 + 1)) % len(WORDS)] for index in range(300 + number * 3)]
    return f"Post {number}. " + " ".join(words).capitalize() + "."


def add_posts(sandbox: RedditSandbox, subreddits: list[str]) -> None:
    for number in range(POSTS):
        sub = subreddits[number % len(subreddits)]
        sandbox.add_post(
            sub, f"Story number {number}", story_text(number), score=200 + number, age_s=600 + number
        )


def environment(sandbox: RedditSandbox, subreddits: list[str], agent: str) -> dict[str, str]:
    return sandbox.env | {
        "PELLACIA_REDDIT_SUBREDDITS": ",".join(subreddits),
        "PELLACIA_REDDIT_LIMIT": str(POSTS // len(subreddits)),
        "PELLACIA_REDDIT_USER_AGENT": f"python:pellacia-bench:1.0 ({agent})",
    }


def timed_poll(sandbox: RedditSandbox, source: RedditSource, database: Path) -> tuple[float, int]:
    """(seconds, listing requests) of one poll into a fresh database."""
    factory = open_database(f"sqlite:///{database}")
    served = len(sandbox.server.served)
    started = time.perf_counter()
    report = poll(source, factory)
    seconds = time.perf_counter() - started
    if report.error or len(report.added) != POSTS:
        raise SystemExit(f"{database.name}: {len(report.added)} added, error {report.error}")
    return seconds, len(sandbox.server.served) - served


def one_page(sandbox: RedditSandbox, runs: int, work: Path) -> None:
    sandbox.server.clear_posts()
    sandbox.server.set_rate_limit(10**9, 600)
    add_posts(sandbox, ["nosleep"])
    source = RedditSource(config_from_env(environment(sandbox, ["nosleep"], "one page")))
    polls, fetches = [], []
    for run in range(runs):
        seconds, requests = timed_poll(sandbox, source, work / f"page-{run}.db")
        polls.append(seconds)
        started = time.perf_counter()
        assert len(source.fetch({}).candidates) == POSTS
        fetches.append(time.perf_counter() - started)
    poll_s, fetch_s = statistics.median(polls), statistics.median(fetches)
    print(
        f"{POSTS} posts, 1 subreddit, {requests} listing request a poll, median of {runs}:\n"
        f"  poll end to end {poll_s:.3f} s (runs: {', '.join(f'{t:.3f}' for t in polls)}; the first "
        "fetched the token)\n"
        f"  fetch alone     {fetch_s:.3f} s\n"
        f"  admission       {poll_s - fetch_s:.3f} s ({(poll_s - fetch_s) / POSTS * 1000:.2f} ms a story)"
    )


def paced(sandbox: RedditSandbox, runs: int, work: Path) -> None:
    subreddits = ["one", "two", "three", "four"]
    sandbox.server.clear_posts()
    add_posts(sandbox, subreddits)
    polls = []
    for run in range(runs):
        sandbox.server.set_rate_limit(1000, 600)
        source = RedditSource(config_from_env(environment(sandbox, subreddits, f"paced run {run}")))
        seconds, requests = timed_poll(sandbox, source, work / f"paced-{run}.db")
        polls.append(seconds)
    print(
        f"{POSTS} posts, {len(subreddits)} subreddits, {requests} listing requests a poll under Reddit's "
        f"budget, median of {runs}:\n"
        f"  poll end to end {statistics.median(polls):.3f} s (runs: {', '.join(f'{t:.3f}' for t in polls)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reddit-") as scratch, reddit_sandbox() as sandbox:
        one_page(sandbox, args.runs, Path(scratch))
        paced(sandbox, args.runs, Path(scratch))


if __name__ == "__main__":
    main()
