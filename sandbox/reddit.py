"""A local Reddit for the Reddit source's tests and demos, written from Reddit's API documentation
(https://www.reddit.com/dev/api, https://github.com/reddit-archive/reddit/wiki/OAuth2 and the API rules
page), not from our client.

Two hosts, as in reality. The token host (www.reddit.com) serves `POST /api/v1/access_token`: HTTP Basic
with the app's client id and secret (a wrong pair: 401), a form with `grant_type=password` (a script app's
developer account: a wrong password answers HTTP 200 `{"error": "invalid_grant"}`, as Reddit does) or
`grant_type=refresh_token` (an unknown token: 400 `{"error": "invalid_grant"}`); a grant is
`{"access_token", "token_type": "bearer", "expires_in", "scope"}`. The API host (oauth.reddit.com) serves
the subreddit listings `/r/{sub}/hot|new|top|rising` (`.json` optional) with `limit` (default 25, at most
100), `after`/`before` (fullnames), `count` and, for top, `t`; every answer is a Listing
`{"kind": "Listing", "data": {"after", "before", "dist", "modhash", "geo_filter", "children"}}` of `t3`
things. It wants `Authorization: bearer <token>` (else 401 with `WWW-Authenticate: Bearer realm="reddit",
error="invalid_token"`) and a User-Agent (else 403). Every API answer carries `X-Ratelimit-Used`,
`X-Ratelimit-Remaining` and `X-Ratelimit-Reset` (seconds left in the window); a request past the budget
answers 429. Reddit's budget is 1000 requests per client per 600 s window aligned to the clock; here a
window opens at the first request after the last one closed, so a test's window is the length it set.

Tests steer it through `RedditSandbox`: add subreddits and posts, change a post's score, expire tokens,
set the rate budget, inspect the listing requests it answered.
"""

from __future__ import annotations

import base64
import binascii
import html
import math
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sandbox.common import Request, Response, Route, SandboxServer, TokenRegistry, bearer_token, running

CLIENT_ID = "pellacia-reddit-app"
CLIENT_SECRET = "pellacia-reddit-secret"
USERNAME = "pellacia_bot"
PASSWORD = "hunter2-sandbox"
SORTS = ("hot", "new", "top", "rising")
TIME_FILTERS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
REDDIT_EPOCH = 1134028003  # the constant of Reddit's published hot ranking
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def reddit_error(status: int, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """Reddit's error body: `{"message": <reason phrase>, "error": <status>}` (and a `reason` at times)."""
    return Response(status, {**extra, "message": HTTPStatus(status).phrase, "error": status}, headers or {})


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _BASE36[digit] + digits
        if number == 0:
            return digits


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "_".join(words)[:50].rstrip("_") or "post"


def _selftext_html(selftext: str) -> str | None:
    """What `selftext_html` holds: the Markdown rendered (here: paragraphs only), None for no text."""
    if not selftext:
        return None
    paragraphs = "".join(f"<p>{html.escape(part)}</p>\n" for part in selftext.split("\n\n") if part.strip())
    return f'<!-- SC_OFF --><div class="md">{paragraphs}</div><!-- SC_ON -->'


@dataclass
class Subreddit:
    name: str
    private: bool = False
    banned: bool = False
    over18: bool = False
    number: int = 0

    @property
    def fullname(self) -> str:
        return f"t5_{_base36(self.number)}"


@dataclass
class Post:
    """One submission: a self post (`selftext`) or a link post (`link_url`)."""

    id: str
    subreddit: Subreddit
    title: str
    selftext: str
    author: str | None
    score: int
    num_comments: int
    created_utc: float
    link_url: str | None = None
    over_18: bool = False
    spoiler: bool = False
    stickied: bool = False
    removed_by_category: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"t3_{self.id}"

    @property
    def permalink(self) -> str:
        return f"/r/{self.subreddit.name}/comments/{self.id}/{_slug(self.title)}/"

    def hot(self) -> float:
        """Reddit's published hot ranking: the score's order of magnitude plus age in 12.5 h steps."""
        order = math.log10(max(abs(self.score), 1))
        sign = (self.score > 0) - (self.score < 0)
        return round(sign * order + (self.created_utc - REDDIT_EPOCH) / 45000, 7)

    def thing(self) -> dict[str, Any]:
        """The post as a `t3` listing child carries it (the fields clients read, in Reddit's types)."""
        is_self = self.link_url is None
        removed = self.removed_by_category
        selftext = self.selftext if is_self else ""
        if removed == "deleted":
            selftext = "[deleted]"
        elif removed is not None:
            selftext = "[removed]"
        author = "[deleted]" if self.author is None or removed == "deleted" else self.author
        url = f"https://www.reddit.com{self.permalink}" if is_self else self.link_url
        over_18 = self.over_18 or self.subreddit.over18  # everything in an NSFW subreddit is NSFW
        thumbnail = "nsfw" if over_18 else "spoiler" if self.spoiler else "self" if is_self else "default"
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "selftext": selftext,
            "selftext_html": _selftext_html(selftext),
            "author": author,
            "author_fullname": None if author == "[deleted]" else f"t2_{_base36(len(author) * 7919)}",
            "subreddit": self.subreddit.name,
            "subreddit_id": self.subreddit.fullname,
            "subreddit_name_prefixed": f"r/{self.subreddit.name}",
            "subreddit_type": "private" if self.subreddit.private else "public",
            "score": self.score,
            "ups": self.score,
            "downs": 0,
            "upvote_ratio": 0.97,
            "num_comments": self.num_comments,
            "over_18": over_18,
            "spoiler": self.spoiler,
            "stickied": self.stickied,
            "pinned": False,
            "locked": False,
            "archived": False,
            "is_self": is_self,
            "is_video": False,
            "permalink": self.permalink,
            "url": url,
            "domain": f"self.{self.subreddit.name}" if is_self else urlsplit(url or "").hostname,
            "thumbnail": thumbnail,
            "created_utc": float(self.created_utc),
            "edited": False,
            "distinguished": None,
            "removed_by_category": removed,
            "link_flair_text": None,
            "gilded": 0,
            "num_crossposts": 0,
            "media": None,
            "send_replies": True,
        }
        data.update(self.extra)
        return {"kind": "t3", "data": data}


@dataclass
class RateWindow:
    """The rate budget of one client id: `limit` requests per `window_s` seconds."""

    limit: int = 1000
    window_s: float = 600.0
    used: int = 0
    opened_at: float | None = None

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request at `now` (monotonic); (allowed, the X-Ratelimit-* headers to answer with)."""
        if self.opened_at is None or now >= self.opened_at + self.window_s:
            self.opened_at, self.used = now, 0
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        reset = max(0, math.ceil(self.opened_at + self.window_s - now))
        headers = {
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-remaining": f"{float(self.limit - self.used):.1f}",
            "x-ratelimit-reset": str(reset),
        }
        return allowed, headers


class RedditServer(SandboxServer):
    """One script app (`client_id`, `client_secret`) whose developer is one account (`username`)."""

    name = "reddit"
    roots: ClassVar[Mapping[str, str]] = {"api": "oauth.reddit.com", "auth": "www.reddit.com"}
    configured_roots: ClassVar[tuple[str, ...]] = ("api", "auth")

    def __init__(
        self,
        data_dir: Path,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        username: str = USERNAME,
        password: str = PASSWORD,
        token_lifetime_s: float = 86400.0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password = username, password
        self.tokens = TokenRegistry("reddit", lifetime_s=token_lifetime_s)
        self._subreddits: dict[str, Subreddit] = {}
        self._posts: dict[str, Post] = {}
        self._post_numbers = iter(range(36**5, 36**6))  # six base-36 digits, like today's post ids
        self._rate = RateWindow()
        self._served: list[dict[str, Any]] = []
        self._state = threading.Lock()
        super().__init__(data_dir)

    # --- what tests steer ---------------------------------------------------------------------------

    def add_subreddit(
        self, name: str, *, private: bool = False, banned: bool = False, over18: bool = False
    ) -> Subreddit:
        if not _SUBREDDIT.fullmatch(name):
            raise ValueError(f"r/{name}: a subreddit name is 2-21 letters, digits or _")
        with self._state:
            subreddit = self._subreddits.get(name.lower())
            if subreddit is None:
                subreddit = Subreddit(name, number=len(self._subreddits) + 2_000_000)
                self._subreddits[name.lower()] = subreddit
            subreddit.private, subreddit.banned, subreddit.over18 = private, banned, over18
            return subreddit

    def add_post(
        self,
        subreddit: str,
        title: str,
        selftext: str = "",
        *,
        author: str | None = "throwaway_writer",
        score: int = 500,
        num_comments: int = 42,
        age_s: float = 3600.0,
        link_url: str | None = None,
        over_18: bool = False,
        spoiler: bool = False,
        stickied: bool = False,
        removed_by_category: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Submit a post `age_s` seconds before the sandbox's now; returns its `t3` data. `author=None`
        is a deleted account; `removed_by_category` ("moderator", "deleted", ...) a removed post."""
        with self._state:
            known = self._subreddits.get(subreddit.lower())
        sub = known or self.add_subreddit(subreddit)
        with self._state:
            post = Post(
                id=_base36(next(self._post_numbers)),
                subreddit=sub,
                title=title,
                selftext=selftext,
                author=author,
                score=score,
                num_comments=num_comments,
                created_utc=round(self.now().timestamp() - age_s),
                link_url=link_url,
                over_18=over_18,
                spoiler=spoiler,
                stickied=stickied,
                removed_by_category=removed_by_category,
                extra=dict(extra),
            )
            self._posts[post.name] = post
            data: dict[str, Any] = post.thing()["data"]
            return data

    def set_score(self, fullname: str, score: int) -> None:
        with self._state:
            self._posts[fullname].score = score

    def remove_post(self, fullname: str, category: str = "moderator") -> None:
        with self._state:
            self._posts[fullname].removed_by_category = category

    def clear_posts(self) -> None:
        """An empty Reddit again (one sandbox serving many tests); subreddits stay."""
        with self._state:
            self._posts.clear()
            self._served.clear()

    def set_rate_limit(self, limit: int, window_s: float) -> None:
        """A fresh window: `limit` API requests per `window_s` seconds from the next request on."""
        with self._state:
            self._rate = RateWindow(limit=limit, window_s=window_s)

    @property
    def served(self) -> list[dict[str, Any]]:
        """Every API request answered, oldest first: `at` (monotonic), `path`, `query`, `status`."""
        with self._state:
            return [dict(entry) for entry in self._served]

    # --- the protocol -------------------------------------------------------------------------------

    def routes(self) -> Mapping[str, Sequence[Route]]:
        sorts = "|".join(SORTS)
        return {
            self.roots["auth"]: [("POST", r"/api/v1/access_token/?", "access_token", self._access_token)],
            self.roots["api"]: [
                ("GET", rf"/r/(?P<sub>[^/]+)/(?P<sort>{sorts})(?:/|\.json)?", "listing", self._listing),
                ("GET", r"/r/(?P<sub>[^/.]+)/?(?:\.json)?", "listing", self._listing),
            ],
        }

    def unrouted(self, request: Request) -> Response:
        return reddit_error(404)

    def server_error(self, status: int, route: str) -> Response:
        return reddit_error(status)

    def throttled(self, wait_s: float | None, route: str) -> Response:
        reset = str(math.ceil(wait_s if wait_s is not None else 60))
        headers = {"x-ratelimit-used": "1000", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": reset}
        return reddit_error(429, headers)

    def _access_token(self, request: Request) -> Response:
        if not request.headers.get("user-agent", "").strip():
            request.drain()
            return reddit_error(403)
        if not self._client_authenticated(request):
            request.drain()
            return reddit_error(401)
        form = request.form()
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            known = secrets.compare_digest(form.get("username", ""), self.username)
            if not (known and secrets.compare_digest(form.get("password", ""), self.password)):
                return Response(200, {"error": "invalid_grant"})
            grant = self.tokens.issue()
        elif grant_type == "refresh_token":
            refreshed = self.tokens.refresh(form.get("refresh_token", ""))
            if refreshed is None:
                return Response(400, {"error": "invalid_grant"})
            grant = refreshed
        else:
            return Response(200, {"error": "unsupported_grant_type"})
        return Response(
            200,
            {
                "access_token": grant.access_token,
                "token_type": "bearer",
                "expires_in": int(self.tokens.lifetime_s),
                "scope": "*",
            },
        )

    def _client_authenticated(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(
            secret, self.client_secret
        )

    def _listing(self, request: Request) -> Response:
        if not request.headers.get("user-agent", "").strip():
            return self._served_answer(request, reddit_error(403))
        if not self.tokens.valid(bearer_token(request)):
            challenge = 'Bearer realm="reddit", error="invalid_token"'
            return self._served_answer(request, reddit_error(401, {"WWW-Authenticate": challenge}))
        with self._state:
            allowed, limits = self._rate.take(time.monotonic())
        if not allowed:
            return self._served_answer(request, reddit_error(429, limits))
        answer = self._listing_answer(request)
        answer.headers.update(limits)
        return self._served_answer(request, answer)

    def _served_answer(self, request: Request, response: Response) -> Response:
        with self._state:
            entry = {"at": time.monotonic(), "path": request.path, "query": dict(request.query)}
            self._served.append(entry | {"status": response.status})
        return response

    def _listing_answer(self, request: Request) -> Response:
        with self._state:
            subreddit = self._subreddits.get(request.params["sub"].lower())
            if subreddit is None or subreddit.banned:
                return reddit_error(404, reason="banned") if subreddit else reddit_error(404)
            if subreddit.private:
                return reddit_error(403, reason="private")
            ordered = self._ordered(subreddit, request.params.get("sort") or "hot", request.query)
            things = [post.thing() for post in ordered]
        try:
            limit = int(request.query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = DEFAULT_LIMIT
        limit = min(max(limit, 1), MAX_LIMIT)
        names = [thing["data"]["name"] for thing in things]
        after, before = request.query.get("after"), request.query.get("before")
        if after:
            start = names.index(after) + 1 if after in names else len(names)
            page = things[start : start + limit]
        elif before:
            end = names.index(before) if before in names else 0
            start = max(0, end - limit)
            page = things[start:end]
        else:
            start, page = 0, things[:limit]
        more_after = start + len(page) < len(things)
        return Response(
            200,
            {
                "kind": "Listing",
                "data": {
                    "after": page[-1]["data"]["name"] if page and more_after else None,
                    "dist": len(page),
                    "modhash": None,
                    "geo_filter": "",
                    "children": page,
                    "before": page[0]["data"]["name"] if page and start > 0 else None,
                },
            },
        )

    def _ordered(self, subreddit: Subreddit, sort: str, query: Mapping[str, str]) -> list[Post]:
        posts = [post for post in self._posts.values() if post.subreddit is subreddit]
        if sort == "new":
            return sorted(posts, key=lambda post: (-post.created_utc, post.name))
        if sort == "top":
            span = TIME_FILTERS.get(query.get("t", "day"))
            if span is not None:
                since = self.now().timestamp() - span
                posts = [post for post in posts if post.created_utc >= since]
            return sorted(posts, key=lambda post: (-post.score, -post.created_utc))
        ranked = sorted(posts, key=lambda post: (-post.hot(), post.name))
        if sort == "hot":  # a subreddit's announcements lead its hot page
            ranked = [post for post in ranked if post.stickied] + [p for p in ranked if not p.stickied]
        return ranked


class RedditSandbox:
    """What a test holds: the two roots (`api_url`, `auth_url`), the app's and account's credentials,
    the server to steer, and `env` pointing the Reddit source at it."""

    def __init__(self, server: RedditServer) -> None:
        self.server = server

    def __repr__(self) -> str:
        return f"RedditSandbox(api_url={self.api_url!r}, auth_url={self.auth_url!r})"

    @property
    def api_url(self) -> str:
        """What https://oauth.reddit.com is for the real one."""
        return self.server.url("api")

    @property
    def auth_url(self) -> str:
        """What https://www.reddit.com (the token host) is for the real one."""
        return self.server.url("auth")

    def add_post(self, subreddit: str, title: str, selftext: str = "", **fields: Any) -> dict[str, Any]:
        return self.server.add_post(subreddit, title, selftext, **fields)

    def refresh_token(self) -> str:
        """A refresh token for the account, as after it authorised the app (a permanent grant)."""
        return self.server.issue_tokens().refresh_token

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the Reddit source at this sandbox (subreddits are the caller's)."""
        server = self.server
        return {
            "PELLACIA_REDDIT_URL": self.api_url,
            "PELLACIA_REDDIT_AUTH_URL": self.auth_url,
            "PELLACIA_REDDIT_CLIENT_ID": server.client_id,
            "PELLACIA_REDDIT_CLIENT_SECRET": server.client_secret,
            "PELLACIA_REDDIT_USERNAME": server.username,
            "PELLACIA_REDDIT_PASSWORD": server.password,
            "PELLACIA_REDDIT_USER_AGENT": f"python:pellacia-sandbox:1.0 (by /u/{server.username})",
        }


@contextmanager
def reddit_sandbox(data_dir: Path | None = None, **options: Any) -> Iterator[RedditSandbox]:
    """A running Reddit sandbox on 127.0.0.1 (`.api_url`, `.auth_url`, `.env`, `.server`)."""
    with (
        tempfile.TemporaryDirectory(prefix="reddit-sandbox-") as scratch,
        running(RedditServer(data_dir or Path(scratch), **options)) as server,
    ):
        yield RedditSandbox(server)
