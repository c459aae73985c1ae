"""Text posts from chosen subreddits, through Reddit's OAuth API with PRAW (a script app).

Configuration (environment):
  PELLACIA_REDDIT_CLIENT_ID, PELLACIA_REDDIT_CLIENT_SECRET   the script app (reddit.com/prefs/apps)
  PELLACIA_REDDIT_USER_AGENT    Reddit's rules want `<platform>:<app id>:<version> (by /u/<name>)`
  PELLACIA_REDDIT_USERNAME and PELLACIA_REDDIT_PASSWORD (the app's developer account), or
  PELLACIA_REDDIT_REFRESH_TOKEN (a permanent grant); username and password win when both are set
  PELLACIA_REDDIT_SUBREDDITS    required: AskReddit,nosleep
  PELLACIA_REDDIT_LISTING       top | hot | new (default top); PELLACIA_REDDIT_TIME, for top: hour | day
                                | week | month | year | all (default day)
  PELLACIA_REDDIT_LIMIT         posts read per subreddit and poll (default 25, at most 1000)
  PELLACIA_REDDIT_MIN_SCORE (100), PELLACIA_REDDIT_MIN_WORDS (80), PELLACIA_REDDIT_MAX_WORDS (2000)
  PELLACIA_REDDIT_ALLOW_NSFW, PELLACIA_REDDIT_ALLOW_SPOILERS   false by default
  PELLACIA_REDDIT_URL           the API root (default https://oauth.reddit.com)
  PELLACIA_REDDIT_AUTH_URL      the token host. Default: https://www.reddit.com when the API root is
                                Reddit's own; otherwise the API root itself, since a stand-in on one
                                address (a proxy, a mirror) serves both. The sandbox runs them apart
                                and sets both.

Only self posts become stories; everything else read is a Skip with a short reason. The cursor keeps,
per subreddit, the fullnames already decided (the last 1000, Reddit's deepest listing), so a repeat poll
yields nothing new and skips are not re-reported. A post skipped for its score is not remembered: it may
still climb past the minimum.

Rate limits: prawcore reads X-Ratelimit-Remaining/Used/Reset on every answer and, before the next
request, sleeps to spread what is left over the window (at most 10 s), or until the reset once nothing
is left; it needs one client to live across requests, so one PRAW client per configuration is kept for
the process (`window_size` pinned to Reddit's 600 s, so no praw.ini can change the pacing). The one
wait it would make that a sensor tick cannot afford, until a far reset, is not made: the poll stops
there, keeps what it read, and the next poll goes on (or reports the limit when it read nothing).
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import praw
import prawcore
from praw.models import Submission
from prawcore.const import WINDOW_SIZE
from requests import Response

from pellacia_assets.sources.base import (
    Candidate,
    Fetch,
    Skip,
    SourceConfigError,
    canonical_url,
    content_hash,
)
from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Byline

log = logging.getLogger(__name__)

REDDIT_API = "https://oauth.reddit.com"
REDDIT_WWW = "https://www.reddit.com"
LISTINGS = ("top", "hot", "new")
TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
PAGE_SIZE = 100  # Reddit's largest listing page
SEEN_PER_SUBREDDIT = 1000  # Reddit lists no deeper than 1000 items
MAX_RATE_WAIT_S = 20.0  # a sensor tick's evaluation times out after 60 s
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class RedditError(RuntimeError):
    """Reddit refused the source as a whole (credentials, the rate limit); the message says what to do."""


@dataclass(frozen=True)
class RedditConfig:
    client_id: str
    client_secret: str = field(repr=False)
    user_agent: str
    subreddits: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    api_url: str = REDDIT_API
    auth_url: str = REDDIT_WWW
    listing: str = "top"
    time_filter: str = "day"
    limit: int = 25
    min_score: int = 100
    min_words: int = 80
    max_words: int = 2000
    allow_nsfw: bool = False
    allow_spoilers: bool = False


def config_from_env(env: Mapping[str, str] | None = None) -> RedditConfig:
    """The Reddit configuration in `env` (default: the process environment), or a SourceConfigError
    naming the variable that is missing or wrong."""
    env = os.environ if env is None else env

    def text(name: str) -> str:
        return env.get(f"PELLACIA_REDDIT_{name}", "").strip()

    def required(name: str) -> str:
        value = text(name)
        if not value:
            raise SourceConfigError(f"PELLACIA_REDDIT_{name} is not set")
        return value

    def number(name: str, default: int, low: int, high: int | None = None) -> int:
        raw = text(name) or str(default)
        try:
            value = int(raw)
        except ValueError:
            raise SourceConfigError(f"PELLACIA_REDDIT_{name}={raw!r}: a whole number") from None
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"from {low} to {high}"
            raise SourceConfigError(f"PELLACIA_REDDIT_{name}={value}: use a number {bounds}")
        return value

    def flag(name: str) -> bool:
        raw = text(name).lower()
        if raw in _TRUE or raw in _FALSE or not raw:
            return raw in _TRUE
        raise SourceConfigError(f"PELLACIA_REDDIT_{name}={raw!r}: use true or false")

    def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = text(name).lower() or default
        if value not in allowed:
            raise SourceConfigError(f"PELLACIA_REDDIT_{name}={value!r}: use one of {', '.join(allowed)}")
        return value

    subreddits = _subreddits(required("SUBREDDITS"))
    user_agent = required("USER_AGENT")
    if len(user_agent) < 7:
        raise SourceConfigError(
            f"PELLACIA_REDDIT_USER_AGENT={user_agent!r}: describe the app, as Reddit asks"
        )
    username, password, refresh_token = text("USERNAME"), text("PASSWORD"), text("REFRESH_TOKEN")
    if bool(username) != bool(password):
        raise SourceConfigError(f"PELLACIA_REDDIT_{'PASSWORD' if username else 'USERNAME'} is not set")
    if not username and not refresh_token:
        raise SourceConfigError(
            "PELLACIA_REDDIT_USERNAME and PELLACIA_REDDIT_PASSWORD, or PELLACIA_REDDIT_REFRESH_TOKEN, "
            "are not set"
        )
    api_url = _root(text("URL") or REDDIT_API, "URL")
    default_auth = REDDIT_WWW if urlsplit(api_url).hostname == "oauth.reddit.com" else api_url
    min_words = number("MIN_WORDS", 80, 0)
    max_words = number("MAX_WORDS", 2000, 1)
    if max_words < min_words:
        raise SourceConfigError(
            f"PELLACIA_REDDIT_MAX_WORDS={max_words} is below PELLACIA_REDDIT_MIN_WORDS={min_words}"
        )
    return RedditConfig(
        client_id=required("CLIENT_ID"),
        client_secret=required("CLIENT_SECRET"),
        user_agent=user_agent,
        subreddits=subreddits,
        username=username or None,
        password=password or None,
        refresh_token=None if username else refresh_token,
        api_url=api_url,
        auth_url=_root(text("AUTH_URL") or default_auth, "AUTH_URL"),
        listing=choice("LISTING", "top", LISTINGS),
        time_filter=choice("TIME", "day", TIME_FILTERS),
        limit=number("LIMIT", 25, 1, SEEN_PER_SUBREDDIT),
        min_score=number("MIN_SCORE", 100, -(10**9)),
        min_words=min_words,
        max_words=max_words,
        allow_nsfw=flag("ALLOW_NSFW"),
        allow_spoilers=flag("ALLOW_SPOILERS"),
    )


def _subreddits(raw: str) -> tuple[str, ...]:
    names: dict[str, str] = {}
    for part in re.split(r"[,+\s]+", raw):
        name = re.sub(r"^/?r/", "", part.strip(), flags=re.IGNORECASE).strip("/")
        if not name:
            continue
        if not _SUBREDDIT.fullmatch(name):
            raise SourceConfigError(f"PELLACIA_REDDIT_SUBREDDITS: {part!r} is not a subreddit name")
        names.setdefault(name.lower(), name)
    if not names:
        raise SourceConfigError("PELLACIA_REDDIT_SUBREDDITS names no subreddit")
    return tuple(names.values())


def _root(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(f"PELLACIA_REDDIT_{name}={url!r}: an http(s) URL")
    return url.rstrip("/")


def from_env() -> RedditSource:
    return RedditSource(config_from_env())


@dataclass
class _RateWatch:
    """Until when (time.monotonic()) Reddit last said the budget is spent: the sleep prawcore would
    make then is the one a poll declines."""

    spent_until: float = 0.0


class _Requestor(prawcore.Requestor):
    """prawcore's requestor, noting in its watch what each answer's X-Ratelimit headers said."""

    def __init__(self, *, watch: _RateWatch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = watch

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Response:
        response = super().request(*args, timeout=timeout, **kwargs)
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and reset is not None:
            try:
                spent = float(remaining) <= 0
                self.watch.spent_until = time.monotonic() + max(1, int(reset)) if spent else 0.0
            except ValueError:
                pass  # prawcore's own limiter refuses such headers
        return response


@dataclass
class _Client:
    reddit: praw.Reddit
    watch: _RateWatch


_clients: dict[RedditConfig, _Client] = {}
_clients_lock = threading.Lock()


def _client(config: RedditConfig) -> _Client:
    """One PRAW client per configuration for the process: its rate limiter's state must outlive a poll.
    The section "DEFAULT" and explicit roots keep `praw_site` and praw.ini files out of it."""
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            watch = _RateWatch()
            reddit = praw.Reddit(
                "DEFAULT",
                requestor_class=_Requestor,
                requestor_kwargs={"watch": watch},
                client_id=config.client_id,
                client_secret=config.client_secret,
                user_agent=config.user_agent,
                username=config.username,
                password=config.password,
                refresh_token=config.refresh_token,
                oauth_url=config.api_url,
                reddit_url=config.auth_url,
                window_size=WINDOW_SIZE,
                check_for_updates=False,  # no call to PyPI from a sensor
                check_for_async=False,
            )
            client = _clients[config] = _Client(reddit, watch)
        return client


class _RateLimitedError(Exception):
    """Reddit's budget is spent for longer than a poll may wait; the message says for how long."""


class RedditSource:
    """The configured subreddits' listing, each post a Candidate or a Skip."""

    name = "reddit"

    def __init__(self, config: RedditConfig) -> None:
        self.config = config

    def fetch(self, cursor: dict[str, Any]) -> Fetch:
        client = _client(self.config)
        previous = cursor.get("seen")
        previous = previous if isinstance(previous, dict) else {}
        seen: dict[str, list[str]] = {}
        for sub in self.config.subreddits:
            names = previous.get(sub.lower())
            seen[sub.lower()] = (
                [name for name in names if isinstance(name, str)] if isinstance(names, list) else []
            )
        fetched = Fetch(cursor={"seen": seen})
        for done, subreddit in enumerate(self.config.subreddits):
            try:
                self._read_subreddit(client, subreddit, seen[subreddit.lower()], fetched)
            except _RateLimitedError as limited:
                if done == 0:
                    raise RedditError(
                        f"Reddit's rate limit is spent {limited}; the next poll goes on"
                    ) from None
                log.warning(
                    "Reddit's rate limit is spent %s: r/%s on wait for the next poll", limited, subreddit
                )
                break
            except (prawcore.NotFound, prawcore.Redirect):
                fetched.skipped.append(Skip(f"r/{subreddit}", "no such subreddit, or it is banned"))
            except prawcore.Forbidden:
                fetched.skipped.append(Skip(f"r/{subreddit}", "the subreddit is private or quarantined"))
            except prawcore.OAuthException as error:
                raise RedditError(
                    f"Reddit refused the grant ({error.error}): {self._check_account()}"
                ) from None
            except prawcore.ResponseException as error:
                if urlsplit(error.response.url).path.rstrip("/").endswith("/api/v1/access_token"):
                    raise self._token_refusal(error.response) from None
                raise
        return fetched

    def _check_account(self) -> str:
        if self.config.username:
            return "check PELLACIA_REDDIT_USERNAME and PELLACIA_REDDIT_PASSWORD"
        return "check PELLACIA_REDDIT_REFRESH_TOKEN"

    def _token_refusal(self, response: Response) -> RedditError:
        if response.status_code == 401:
            return RedditError(
                "Reddit refused the app (HTTP 401 from the token endpoint): check PELLACIA_REDDIT_CLIENT_ID "
                "and PELLACIA_REDDIT_CLIENT_SECRET"
            )
        return RedditError(
            f"Reddit refused the grant (HTTP {response.status_code} from the token endpoint, "
            f"{response.text[:200]!r}): {self._check_account()}"
        )

    def _read_subreddit(self, client: _Client, subreddit: str, seen: list[str], fetched: Fetch) -> None:
        """Read up to `limit` posts of one subreddit, page by page, noting each decided post in `seen`
        (newest first)."""
        config = self.config
        params: dict[str, str | int] = {"t": config.time_filter} if config.listing == "top" else {}
        read = 0
        known = set(seen)
        while read < config.limit:
            wait = client.watch.spent_until - time.monotonic()
            if wait > MAX_RATE_WAIT_S:
                raise _RateLimitedError(f"for another {wait:.0f} s")
            params |= {"limit": min(PAGE_SIZE, config.limit - read), "count": read}
            try:
                listing = client.reddit.get(f"r/{subreddit}/{config.listing}", params=params)
            except prawcore.TooManyRequests:
                wait = client.watch.spent_until - time.monotonic()
                said = f"for another {wait:.0f} s" if wait > 0 else "(HTTP 429, no reset given)"
                raise _RateLimitedError(said) from None
            posts = [post for post in listing if isinstance(post, Submission)]
            for post in posts:
                if post.name in known:
                    continue
                outcome, settled = judge(vars(post), config)
                if isinstance(outcome, Candidate):
                    fetched.candidates.append(outcome)
                else:
                    fetched.skipped.append(outcome)
                if settled:
                    known.add(post.name)
                    seen.insert(0, post.name)
            read += len(posts)
            if not posts or not listing.after:
                break
            params["after"] = listing.after
        del seen[SEEN_PER_SUBREDDIT:]


def judge(post: Mapping[str, Any], config: RedditConfig) -> tuple[Candidate | Skip, bool]:
    """One post of a listing (PRAW's attributes or the JSON's `data`): a Candidate or a Skip saying why,
    and whether that is settled. A score below the minimum is not: the post may still climb past it."""
    permalink = str(post.get("permalink") or "")
    url = f"{REDDIT_WWW}{permalink}"
    if post.get("stickied"):
        return Skip(url, "a stickied announcement"), True
    removed = post.get("removed_by_category")
    selftext = str(post.get("selftext") or "")
    if removed or selftext in ("[removed]", "[deleted]"):
        return Skip(url, f"removed ({removed or selftext.strip('[]')})"), True
    if not post.get("is_self"):
        return Skip(url, "a link post, not a text post"), True
    if post.get("over_18") and not config.allow_nsfw:
        return Skip(url, "NSFW (PELLACIA_REDDIT_ALLOW_NSFW is off)"), True
    if post.get("spoiler") and not config.allow_spoilers:
        return Skip(url, "a spoiler (PELLACIA_REDDIT_ALLOW_SPOILERS is off)"), True
    title = " ".join(str(post.get("title") or "").split())
    if not title:
        return Skip(url, "no title"), True
    body = plain_text(selftext)
    words = len(body.split())
    if words < config.min_words:
        return Skip(url, f"{words} words, fewer than {config.min_words}"), True
    if words > config.max_words:
        return Skip(url, f"{words:,} words, more than {config.max_words:,}"), True
    score = int(post.get("score") or 0)
    if score < config.min_score:
        return Skip(url, f"score {score}, below {config.min_score}"), False
    author = post.get("author")
    record = SourceRecord(
        key=f"reddit-{post.get('name')}",
        source_kind="reddit",
        source_ref=permalink,
        title=title,
        body=body,
        url=url,
        byline=Byline(
            kind="reddit",
            site=str(post.get("subreddit") or "") or None,
            author=None if author is None or str(author) == "[deleted]" else str(author),
            score=score,
            comments=int(post.get("num_comments") or 0),
        ),
    )
    return Candidate(record, canonical_url=canonical_url(url), content_hash=content_hash(body)), True


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~^])")
# (pattern, replacement, what must occur in the text for the pattern to apply: most posts are plain
# prose, and a pattern anchored at every line start costs a scan of the whole text)
_MARKDOWN_STEPS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.MULTILINE), replacement, needles)
    for pattern, replacement, needles in (
        (r"^ {0,3}(```|~~~).*$", "", ("```", "~~~")),  # code fences (their content stays)
        (r"^ {0,3}([-*_])( *\1){2,} *$", "", ("--", "**", "__", "- -", "* *", "_ _")),  # rules
        (r"^ {0,3}\|?( *:?-+:? *\|)+ *:?-*:? *\n?", "", ("|",)),  # table separator rows
        (r">!(.+?)!<", r"\1", (">!",)),  # spoiler tags
        (r"^ {0,3}#{1,6}\s*", "", ("#",)),  # headings
        (r"^ {0,3}(> ?)+", "", (">",)),  # block quotes
        (r"^( *)[-*+] +", r"\1", ("- ", "* ", "+ ")),  # bullets
        (r"!?\[([^\]]*)\]\([^)]*\)", r"\1", ("](",)),  # links and images: their text
        (r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1", r"\2", ("*", "~~")),  # emphasis, strikethrough
        (r"(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)", r"\2", ("_",)),  # emphasis (never inside a_word)
        (r"`+([^`]*)`+", r"\1", ("`",)),  # inline code
        (r"\^\(([^)]*)\)", r"\1", ("^(",)),  # superscript ^(several words)
        (r"\^(?=\S)", "", ("^",)),  # superscript ^word
        (r"^ {0,3}\| *| *\|$", "", ("|",)),  # table rows' outer pipes
        (r"(?<=\S) *\| *(?=\S)", "  ", ("|",)),  # table cells
        (r"[ \t]+$", "", (" \n", "\t\n")),
        (r"\n{3,}", "\n\n", ("\n\n\n",)),
    )
)
_HELD = 0xE000  # escaped characters wait in the Private Use Area while the marks around them go
_DROPPED = dict.fromkeys([*map(ord, "\u200b\u200c\u200d\u2060\ufeff"), *range(_HELD, _HELD + 0x100)])
_RESTORED = {_HELD + code: code for code in range(0x80)}


def plain_text(markdown: str) -> str:
    """A post's Markdown as the text a voice reads: links, emphasis, quotes, headings, tables and code
    marks gone, the words and escaped characters kept; entities decoded and zero-width characters
    (Reddit's `&#x200B;` spacers) dropped."""
    text = html.unescape(markdown.replace("\r\n", "\n").replace("\r", "\n")).translate(_DROPPED)
    held = "\\" in text
    if held:
        text = _ESCAPED.sub(lambda match: chr(_HELD + ord(match.group(1))), text)
    for pattern, replacement, needles in _MARKDOWN_STEPS:
        if any(needle in text for needle in needles):
            text = pattern.sub(replacement, text)
    return (text.translate(_RESTORED) if held else text).strip()
