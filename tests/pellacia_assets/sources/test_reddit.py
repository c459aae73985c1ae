"""The Reddit source against the Reddit sandbox, through PRAW and the intake gate (`poll`) into SQLite:
what becomes a story and what is skipped and why, dedupe across polls, configuration and credential
errors, and Reddit's rate-limit headers obeyed."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.sources.base import PollReport, SourceConfigError, poll
from pellacia_assets.sources.reddit import RedditSource, config_from_env, from_env, plain_text
from resources.database.engine import open_database, transaction
from resources.database.intake import read_cursor, write_cursor
from resources.database.models import SourceSkip, StoryRecord
from sandbox.reddit import RedditSandbox, reddit_sandbox

_WORDS = ("the", "night", "my", "grandmother", "called", "from", "a", "house", "that", "burned", "down")
_texts = itertools.count()


def story(words: int = 120) -> str:
    """A story of `words` words that no other story in the session repeats (dedupe compares texts)."""
    number = next(_texts)
    picked = [_WORDS[(number * 7 + index * (number % 5 + 1)) % len(_WORDS)] for index in range(words - 2)]
    return f"Story {number}: " + " ".join(picked)


@pytest.fixture(scope="module")
def running_reddit() -> Iterator[RedditSandbox]:
    with reddit_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def reddit(running_reddit: RedditSandbox) -> Iterator[RedditSandbox]:
    running_reddit.server.clear_posts()
    running_reddit.server.set_rate_limit(100_000, 600)  # pacing is tested on its own below
    yield running_reddit
    running_reddit.server.clear_faults()


@pytest.fixture
def env(
    reddit: RedditSandbox, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The sandbox's variables; a user agent of the test's own, so each test has its own PRAW client
    (one per configuration and process) and no rate limiter state of another test."""
    monkeypatch.delenv("PELLACIA_APPROVAL", raising=False)
    monkeypatch.delenv("PELLACIA_REDDIT_APPROVAL", raising=False)
    return reddit.env | {
        "PELLACIA_REDDIT_SUBREDDITS": "AskReddit,nosleep",
        "PELLACIA_REDDIT_USER_AGENT": f"python:pellacia-tests:1.0 ({request.node.name})",
    }


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def source(env: dict[str, str], **overrides: str) -> RedditSource:
    return RedditSource(
        config_from_env(env | {f"PELLACIA_REDDIT_{k.upper()}": v for k, v in overrides.items()})
    )


def added(report: PollReport) -> list[str]:
    assert report.error is None, report.error
    return [admission.key for admission in report.added]


def reasons(report: PollReport) -> dict[str, str]:
    return {skip.ref: skip.reason for skip in report.skipped}


def url_of(post: dict[str, Any]) -> str:
    return f"https://www.reddit.com{post['permalink']}"


def test_a_text_post_becomes_a_pending_story_with_its_byline(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    body = "**Last night** I heard [a knock](https://example.com/knock).\n\n&#x200B;\n\n> " + story()
    post = reddit.add_post(
        "nosleep", "  The knock  at 3am ", body, author="quiet_writer", score=4321, num_comments=99
    )

    report = poll(source(env), factory)

    key = f"reddit-{post['name']}"
    assert added(report) == [key]
    assert report.added[0].approval == "pending"  # a fetched story waits for an editor
    with transaction(factory) as session:
        row = session.get(StoryRecord, key)
        assert row is not None
        assert (row.source_kind, row.source_ref, row.title) == (
            "reddit",
            post["permalink"],
            "The knock at 3am",
        )
        assert row.url == f"https://www.reddit.com/r/nosleep/comments/{post['id']}/the_knock_at_3am/"
        assert row.canonical_url == f"https://reddit.com/r/nosleep/comments/{post['id']}/the_knock_at_3am"
        assert row.body.startswith("Last night I heard a knock.\n\nStory ")
        assert "**" not in row.body and "&#x200B;" not in row.body and "\u200b" not in row.body
        assert row.byline == {
            "kind": "reddit",
            "site": "nosleep",
            "author": "quiet_writer",
            "score": 4321,
            "comments": 99,
        }
        assert len(row.content_hash or "") == 64


def test_what_is_not_a_wanted_text_post_is_skipped_with_its_reason(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    good = reddit.add_post("AskReddit", "A good one", story())
    skipped = {
        "a link post, not a text post": reddit.add_post(
            "AskReddit", "Link", link_url="https://example.com/x"
        ),
        "NSFW (PELLACIA_REDDIT_ALLOW_NSFW is off)": reddit.add_post(
            "AskReddit", "Adult", story(), over_18=True
        ),
        "a spoiler (PELLACIA_REDDIT_ALLOW_SPOILERS is off)": reddit.add_post(
            "AskReddit", "Sp", story(), spoiler=True
        ),
        "a stickied announcement": reddit.add_post("AskReddit", "Rules", story(), stickied=True),
        "removed (moderator)": reddit.add_post("AskReddit", "Gone", story(), removed_by_category="moderator"),
        "removed (deleted)": reddit.add_post("AskReddit", "Mine", story(), removed_by_category="deleted"),
        "12 words, fewer than 80": reddit.add_post("AskReddit", "Short", story(12)),
        "2,500 words, more than 2,000": reddit.add_post("AskReddit", "Long", story(2500)),
        "score 99, below 100": reddit.add_post("AskReddit", "Unloved", story(), score=99),
        "no title": reddit.add_post("AskReddit", "   ", story()),
    }

    report = poll(source(env, subreddits="AskReddit"), factory)

    assert added(report) == [f"reddit-{good['name']}"]
    assert reasons(report) == {url_of(post): reason for reason, post in skipped.items()}
    with transaction(factory) as session:
        recorded = {row.item_ref: row.reason for row in session.scalars(select(SourceSkip))}
    assert recorded == reasons(report)


def test_nsfw_and_spoilers_when_allowed_and_the_word_and_score_limits_as_set(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    adult = reddit.add_post("AskReddit", "Adult", story(), over_18=True)
    spoiler = reddit.add_post("AskReddit", "Spoiler", story(), spoiler=True)
    short = reddit.add_post("AskReddit", "Short", story(30), score=20)
    chosen = source(env, allow_nsfw="true", allow_spoilers="yes", min_words="25", min_score="10")
    assert sorted(added(poll(chosen, factory))) == sorted(
        f"reddit-{p['name']}" for p in (adult, spoiler, short)
    )


def test_a_repeat_poll_adds_and_reports_nothing_and_a_new_post_is_taken_next(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    first = reddit.add_post("AskReddit", "First", story())
    reddit.add_post("AskReddit", "Link", link_url="https://example.com/y")
    climbing = reddit.add_post("AskReddit", "Climbing", story(), score=40)
    reddit.add_post("nosleep", "Scary", story())
    reddit_source = source(env)

    one = poll(reddit_source, factory)
    assert len(added(one)) == 2 and len(one.skipped) == 2

    two = poll(reddit_source, factory)
    assert added(two) == [] and two.duplicates == []
    assert reasons(two) == {url_of(climbing): "score 40, below 100"}  # its score may still rise

    later = reddit.add_post("AskReddit", "Later", story())
    reddit.server.set_score(climbing["name"], 150)
    three = poll(reddit_source, factory)
    assert sorted(added(three)) == sorted([f"reddit-{later['name']}", f"reddit-{climbing['name']}"])
    assert three.skipped == [] and three.duplicates == []

    with transaction(factory) as session:
        cursor = read_cursor(session, "reddit")
        assert first["name"] in cursor["seen"]["askreddit"]
        write_cursor(session, "reddit", {})  # a lost cursor: the gate still knows every key
    four = poll(reddit_source, factory)
    assert added(four) == []
    key = f"reddit-{first['name']}"
    assert {d.key: d.reason for d in four.duplicates}[key] == f"the same key as story {key!r}"


def test_the_same_text_posted_twice_is_one_story(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    text = story()
    original = reddit.add_post("nosleep", "Original", text, age_s=7200)
    repost = reddit.add_post("AskReddit", "Repost", "*" + text + "*", age_s=60)
    report = poll(source(env, listing="new"), factory)
    assert added(report) == [f"reddit-{repost['name']}"]  # AskReddit is read first
    assert [(d.key, d.same_as) for d in report.duplicates] == [
        (f"reddit-{original['name']}", f"reddit-{repost['name']}")
    ]


def test_a_deep_listing_is_read_page_by_page(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    posts = [reddit.add_post("nosleep", f"Tale {n}", story(), age_s=100 + n) for n in range(160)]
    report = poll(source(env, subreddits="nosleep", listing="new", limit="150"), factory)
    assert added(report) == [f"reddit-{post['name']}" for post in posts[:150]]
    pages = [entry["query"] for entry in reddit.server.served if entry["path"] == "/r/nosleep/new"]
    assert [(page["limit"], page.get("after"), page["raw_json"]) for page in pages] == [
        ("100", None, "1"),
        ("50", posts[99]["name"], "1"),
    ]


def test_top_asks_for_the_configured_time_window(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    old = reddit.add_post("AskReddit", "Last week", story(), age_s=3 * 86400)
    assert added(poll(source(env, subreddits="AskReddit"), factory)) == []  # the day's top by default
    week = source(env, subreddits="AskReddit", time="week")
    assert added(poll(week, factory)) == [f"reddit-{old['name']}"]
    assert [e["query"]["t"] for e in reddit.server.served] == ["day", "week"]


def test_a_private_or_unknown_subreddit_is_skipped_and_the_others_still_read(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    reddit.server.add_subreddit("secretclub", private=True)
    post = reddit.add_post("nosleep", "Readable", story())
    report = poll(source(env, subreddits="r/secretclub, /r/nosleep neverexisted"), factory)
    assert added(report) == [f"reddit-{post['name']}"]
    assert reasons(report) == {
        "r/secretclub": "the subreddit is private or quarantined",
        "r/neverexisted": "no such subreddit, or it is banned",
    }


def test_a_refresh_token_works_instead_of_a_password(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    post = reddit.add_post("nosleep", "Refreshed", story())
    config = {k: v for k, v in env.items() if not k.endswith(("_USERNAME", "_PASSWORD"))}
    config["PELLACIA_REDDIT_REFRESH_TOKEN"] = reddit.refresh_token()
    assert added(poll(RedditSource(config_from_env(config)), factory)) == [f"reddit-{post['name']}"]


def test_an_expired_token_is_renewed_without_losing_the_poll(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    reddit_source = source(env, subreddits="nosleep")
    poll(reddit_source, factory)
    reddit.server.expire_tokens()
    post = reddit.add_post("nosleep", "After expiry", story())
    assert added(poll(reddit_source, factory)) == [f"reddit-{post['name']}"]
    assert [entry["status"] for entry in reddit.server.served] == [200, 401, 200]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PELLACIA_REDDIT_PASSWORD", "wrong", "invalid_grant"),
        ("PELLACIA_REDDIT_CLIENT_SECRET", "wrong", "PELLACIA_REDDIT_CLIENT_SECRET"),
    ],
)
def test_bad_credentials_are_a_reported_error_that_changes_nothing(
    reddit: RedditSandbox,
    env: dict[str, str],
    factory: sessionmaker[Session],
    variable: str,
    value: str,
    says: str,
) -> None:
    reddit.add_post("nosleep", "Unread", story())
    report = poll(RedditSource(config_from_env(env | {variable: value})), factory)
    assert report.error is not None and report.error.startswith("RedditError: Reddit refused")
    assert says in report.error
    assert report.added == [] and reddit.server.served == []
    with transaction(factory) as session:
        assert read_cursor(session, "reddit") == {}
        assert session.scalars(select(StoryRecord)).first() is None


def test_a_bad_refresh_token_is_named(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    config = {k: v for k, v in env.items() if not k.endswith(("_USERNAME", "_PASSWORD"))}
    report = poll(
        RedditSource(config_from_env(config | {"PELLACIA_REDDIT_REFRESH_TOKEN": "revoked"})), factory
    )
    assert report.error is not None and "PELLACIA_REDDIT_REFRESH_TOKEN" in report.error


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PELLACIA_REDDIT_SUBREDDITS": ""}, "PELLACIA_REDDIT_SUBREDDITS is not set"),
        ({"PELLACIA_REDDIT_SUBREDDITS": "AskReddit,../admin"}, "PELLACIA_REDDIT_SUBREDDITS"),
        ({"PELLACIA_REDDIT_CLIENT_ID": ""}, "PELLACIA_REDDIT_CLIENT_ID is not set"),
        ({"PELLACIA_REDDIT_CLIENT_SECRET": ""}, "PELLACIA_REDDIT_CLIENT_SECRET is not set"),
        ({"PELLACIA_REDDIT_USER_AGENT": ""}, "PELLACIA_REDDIT_USER_AGENT is not set"),
        ({"PELLACIA_REDDIT_PASSWORD": ""}, "PELLACIA_REDDIT_PASSWORD is not set"),
        ({"PELLACIA_REDDIT_USERNAME": "", "PELLACIA_REDDIT_PASSWORD": ""}, "PELLACIA_REDDIT_REFRESH_TOKEN"),
        ({"PELLACIA_REDDIT_LISTING": "best"}, "PELLACIA_REDDIT_LISTING='best'"),
        ({"PELLACIA_REDDIT_TIME": "decade"}, "PELLACIA_REDDIT_TIME"),
        ({"PELLACIA_REDDIT_LIMIT": "0"}, "PELLACIA_REDDIT_LIMIT=0"),
        ({"PELLACIA_REDDIT_MIN_SCORE": "lots"}, "PELLACIA_REDDIT_MIN_SCORE"),
        ({"PELLACIA_REDDIT_MAX_WORDS": "50"}, "PELLACIA_REDDIT_MAX_WORDS=50 is below"),
        ({"PELLACIA_REDDIT_ALLOW_NSFW": "maybe"}, "PELLACIA_REDDIT_ALLOW_NSFW"),
        ({"PELLACIA_REDDIT_URL": "oauth.reddit.com"}, "PELLACIA_REDDIT_URL"),
    ],
)
def test_missing_or_wrong_configuration_names_the_variable(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, change: dict[str, str], named: str
) -> None:
    for name, value in (env | change).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SourceConfigError, match=named.replace(".", r"\.").replace("(", r"\(")):
        from_env()


def test_the_token_host_defaults_to_reddits_own_or_the_api_root(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if not k.endswith(("_URL", "_AUTH_URL"))}
    assert (config_from_env(bare).api_url, config_from_env(bare).auth_url) == (
        "https://oauth.reddit.com",
        "https://www.reddit.com",
    )
    mirror = config_from_env(bare | {"PELLACIA_REDDIT_URL": "http://reddit-proxy.internal:8080/"})
    assert mirror.auth_url == mirror.api_url == "http://reddit-proxy.internal:8080"


def test_the_configuration_keeps_its_secrets_out_of_its_repr(env: dict[str, str]) -> None:
    shown = repr(config_from_env(env))
    assert env["PELLACIA_REDDIT_PASSWORD"] not in shown and env["PELLACIA_REDDIT_CLIENT_SECRET"] not in shown


def test_plain_text_keeps_the_words_and_drops_the_marks() -> None:
    markdown = (
        "# Title\n\nSo **this** _happened_ ~~once~~, see [here](https://x.y/a_b) and some_snake_case.\n\n"
        "> quoted\n\n* a point\n\n---\n\n>!spoiler!< ^(small) \\*starred\\* `code` &amp; done"
    )
    assert plain_text(markdown) == (
        "Title\n\nSo this happened once, see here and some_snake_case.\n\nquoted\n\na point\n\n"
        "spoiler small *starred* code & done"
    )


# --- rate limits ---------------------------------------------------------------------------------------


def request_times(reddit: RedditSandbox) -> list[float]:
    return [entry["at"] for entry in reddit.server.served]


def test_the_rate_limit_headers_pace_the_requests(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    for name in ("one", "two", "three"):
        reddit.server.add_subreddit(name)
    subreddits = {"subreddits": "one,two,three"}
    poll(source(env, **subreddits), factory)
    unpaced = request_times(reddit)

    reddit.server.clear_posts()
    reddit.server.set_rate_limit(600, 600)  # one request a second, spread over Reddit's 600 s window
    poll(source(env, **subreddits, user_agent=env["PELLACIA_REDDIT_USER_AGENT"] + " paced"), factory)
    paced = request_times(reddit)

    assert len(unpaced) == len(paced) == 3
    assert paced[-1] - paced[0] >= 1.7  # prawcore waited about 1 s, then 2 s... (at most 10 s)
    assert unpaced[-1] - unpaced[0] < (paced[-1] - paced[0]) / 2


def test_a_spent_budget_with_a_near_reset_is_waited_out_never_overrun(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    posts = [reddit.add_post(name, f"In {name}", story()) for name in ("one", "two", "three")]
    reddit.server.set_rate_limit(2, window_s=3)
    started = time.monotonic()
    report = poll(source(env, subreddits="one,two,three"), factory)
    assert sorted(added(report)) == sorted(f"reddit-{post['name']}" for post in posts)
    assert [entry["status"] for entry in reddit.server.served] == [200, 200, 200]  # no 429
    times = request_times(reddit)
    assert times[2] - times[1] >= 2.0  # slept until the window reset
    assert time.monotonic() - started < 15


def test_a_spent_budget_with_a_far_reset_stops_the_poll_and_the_next_one_waits(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    posts = [reddit.add_post(name, f"In {name}", story()) for name in ("one", "two", "three")]
    reddit.server.set_rate_limit(2, window_s=120)
    reddit_source = source(env, subreddits="one,two,three")
    started = time.monotonic()

    first = poll(reddit_source, factory)
    assert added(first) == [f"reddit-{post['name']}" for post in posts[:2]]  # r/three waits
    second = poll(reddit_source, factory)
    assert second.error is not None and "rate limit is spent" in second.error
    assert [entry["status"] for entry in reddit.server.served] == [200, 200]  # nothing sent past the budget
    assert time.monotonic() - started < 10  # neither poll slept through the two minutes
    with transaction(factory) as session:
        assert read_cursor(session, "reddit")["seen"]["three"] == []


def test_a_429_stops_the_poll_with_a_reported_error(
    reddit: RedditSandbox, env: dict[str, str], factory: sessionmaker[Session]
) -> None:
    reddit.add_post("nosleep", "Throttled", story())
    reddit.server.rate_limit_next("listing", wait_s=300)
    report = poll(source(env, subreddits="nosleep"), factory)
    assert report.error is not None and "rate limit is spent for another" in report.error
    assert report.added == []
