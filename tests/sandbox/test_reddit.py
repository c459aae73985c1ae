"""The Reddit sandbox speaks Reddit's OAuth and listing protocol over raw HTTP: the token endpoint on its
own host, bearer-authorised listings in Listing/t3 JSON, pagination, 401 with WWW-Authenticate, the
X-Ratelimit headers on every answer and 429 once the budget is spent."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.reddit import RedditSandbox, reddit_sandbox

UA = "python:pellacia-tests:1.0 (by /u/pellacia_bot)"


@pytest.fixture(scope="module")
def running_reddit() -> Iterator[RedditSandbox]:
    with reddit_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def reddit(running_reddit: RedditSandbox) -> Iterator[RedditSandbox]:
    running_reddit.server.clear_posts()
    running_reddit.server.set_rate_limit(1000, 600)
    yield running_reddit
    running_reddit.server.clear_faults()


def password_grant(reddit: RedditSandbox, **form: str) -> httpx.Response:
    server = reddit.server
    data = {"grant_type": "password", "username": server.username, "password": server.password} | form
    return httpx.post(
        f"{reddit.auth_url}/api/v1/access_token",
        data=data,
        auth=(server.client_id, server.client_secret),
        headers={"User-Agent": UA},
    )


def token(reddit: RedditSandbox) -> str:
    answer = password_grant(reddit)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["access_token"]
    return value


def listing(reddit: RedditSandbox, path: str, access_token: str, **params: str | int) -> httpx.Response:
    return httpx.get(
        f"{reddit.api_url}{path}",
        params=params,
        headers={"Authorization": f"bearer {access_token}", "User-Agent": UA},
    )


def test_a_password_grant_answers_a_bearer_token(reddit: RedditSandbox) -> None:
    answer = password_grant(reddit)
    assert answer.status_code == 200
    grant = answer.json()
    assert grant["token_type"] == "bearer"
    assert grant["scope"] == "*"
    assert grant["expires_in"] == 86400
    assert "refresh_token" not in grant  # a script app's password grant has none


def test_a_wrong_password_is_an_invalid_grant_in_a_200(reddit: RedditSandbox) -> None:
    answer = password_grant(reddit, password="wrong")
    assert answer.status_code == 200
    assert answer.json() == {"error": "invalid_grant"}


def test_a_wrong_client_secret_is_401(reddit: RedditSandbox) -> None:
    answer = httpx.post(
        f"{reddit.auth_url}/api/v1/access_token",
        data={"grant_type": "password", "username": "pellacia_bot", "password": "x"},
        auth=(reddit.server.client_id, "not-the-secret"),
        headers={"User-Agent": UA},
    )
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized", "error": 401}


def test_a_refresh_token_grant_and_an_unknown_refresh_token(reddit: RedditSandbox) -> None:
    server = reddit.server
    url = f"{reddit.auth_url}/api/v1/access_token"
    auth = (server.client_id, server.client_secret)
    good = httpx.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": reddit.refresh_token()},
        auth=auth,
        headers={"User-Agent": UA},
    )
    assert good.status_code == 200 and good.json()["access_token"]
    bad = httpx.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
        auth=auth,
        headers={"User-Agent": UA},
    )
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant"}


def test_the_token_endpoint_lives_on_the_token_host_only(reddit: RedditSandbox) -> None:
    server = reddit.server
    answer = httpx.post(
        f"{reddit.api_url}/api/v1/access_token",
        data={"grant_type": "password", "username": server.username, "password": server.password},
        auth=(server.client_id, server.client_secret),
        headers={"User-Agent": UA},
    )
    assert answer.status_code == 404


def test_a_listing_has_reddits_shape(reddit: RedditSandbox) -> None:
    posted = reddit.add_post(
        "nosleep", "The house at the end", "It was **dark**.", score=1234, num_comments=7
    )
    answer = listing(reddit, "/r/nosleep/top.json", token(reddit), t="day", raw_json=1)
    assert answer.status_code == 200
    body = answer.json()
    assert body["kind"] == "Listing"
    assert set(body["data"]) >= {"after", "before", "dist", "children"}
    assert body["data"]["dist"] == 1 and body["data"]["after"] is None and body["data"]["before"] is None
    child = body["data"]["children"][0]
    assert child["kind"] == "t3"
    post = child["data"]
    assert post == posted
    assert post["name"] == f"t3_{post['id']}"
    assert post["subreddit"] == "nosleep" and post["subreddit_name_prefixed"] == "r/nosleep"
    assert post["permalink"] == f"/r/nosleep/comments/{post['id']}/the_house_at_the_end/"
    assert post["url"] == f"https://www.reddit.com{post['permalink']}"
    assert post["is_self"] is True and post["domain"] == "self.nosleep"
    assert post["selftext"] == "It was **dark**." and "<p>" in post["selftext_html"]
    assert (post["score"], post["num_comments"], post["over_18"], post["spoiler"]) == (1234, 7, False, False)
    assert isinstance(post["created_utc"], float)
    assert post["removed_by_category"] is None


def test_link_removed_and_deleted_posts_look_as_on_reddit(reddit: RedditSandbox) -> None:
    link = reddit.add_post("pics", "A photo", link_url="https://i.example.com/a.jpg")
    removed = reddit.add_post("pics", "Gone", "text", removed_by_category="moderator")
    deleted = reddit.add_post("pics", "Mine", "text", removed_by_category="deleted")
    assert (link["is_self"], link["url"], link["domain"], link["selftext"]) == (
        False,
        "https://i.example.com/a.jpg",
        "i.example.com",
        "",
    )
    assert (removed["selftext"], removed["removed_by_category"]) == ("[removed]", "moderator")
    assert (deleted["selftext"], deleted["author"]) == ("[deleted]", "[deleted]")
    reddit.server.add_subreddit("afterdark", over18=True)
    assert reddit.add_post("afterdark", "Any post", "text")["over_18"] is True


def test_sorts_top_window_and_sticky(reddit: RedditSandbox) -> None:
    old = reddit.add_post("AskReddit", "Old but loved", "x", score=9000, age_s=3 * 86400)
    low = reddit.add_post("AskReddit", "Fresh and low", "x", score=10, age_s=60)
    high = reddit.add_post("AskReddit", "Recent and high", "x", score=800, age_s=7200)
    rules = reddit.add_post("AskReddit", "Rules", "x", score=1, age_s=30 * 86400, stickied=True)
    access = token(reddit)

    def names(sort: str, **params: str | int) -> list[str]:
        answer = listing(reddit, f"/r/askreddit/{sort}", access, **params)
        return [child["data"]["name"] for child in answer.json()["data"]["children"]]

    assert names("top", t="day") == [high["name"], low["name"]]
    assert names("top", t="week") == [old["name"], high["name"], low["name"]]
    assert names("top", t="all")[0] == old["name"]
    assert names("new") == [low["name"], high["name"], old["name"], rules["name"]]
    assert names("hot")[0] == rules["name"]
    assert (
        listing(reddit, "/r/askreddit/", access).json()["data"]["children"][0]["data"]["name"]
        == rules["name"]
    )


def test_pagination_with_after_before_and_limits(reddit: RedditSandbox) -> None:
    posted = [reddit.add_post("stories", f"Story {n}", "x", age_s=100 + n) for n in range(130)]
    order = [post["name"] for post in posted]  # newest first: the smallest age first
    access = token(reddit)
    first = listing(reddit, "/r/stories/new", access).json()["data"]
    assert first["dist"] == 25  # Reddit's default page
    assert [c["data"]["name"] for c in first["children"]] == order[:25]
    big = listing(reddit, "/r/stories/new", access, limit=500).json()["data"]
    assert big["dist"] == 100 and big["after"] == order[99]  # at most 100 a page
    rest = listing(reddit, "/r/stories/new", access, limit=100, after=big["after"], count=100).json()["data"]
    assert [c["data"]["name"] for c in rest["children"]] == order[100:]
    assert rest["after"] is None and rest["before"] == order[100]
    back = listing(reddit, "/r/stories/new", access, limit=10, before=order[100]).json()["data"]
    assert [c["data"]["name"] for c in back["children"]] == order[90:100]


def test_unknown_private_and_banned_subreddits(reddit: RedditSandbox) -> None:
    reddit.server.add_subreddit("secretclub", private=True)
    reddit.server.add_subreddit("gonesub", banned=True)
    access = token(reddit)
    assert listing(reddit, "/r/doesnotexist_x/hot", access).status_code == 404
    private = listing(reddit, "/r/secretclub/hot", access)
    assert private.status_code == 403 and private.json()["reason"] == "private"
    banned = listing(reddit, "/r/gonesub/hot", access)
    assert banned.status_code == 404 and banned.json()["reason"] == "banned"


def test_a_bad_or_expired_token_is_401_with_a_challenge(reddit: RedditSandbox) -> None:
    reddit.server.add_subreddit("AskReddit")
    bad = listing(reddit, "/r/AskReddit/hot", "not-a-token")
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="reddit", error="invalid_token"'
    assert bad.json() == {"message": "Unauthorized", "error": 401}
    access = token(reddit)
    assert listing(reddit, "/r/AskReddit/hot", access).status_code == 200
    reddit.server.expire_tokens()
    assert listing(reddit, "/r/AskReddit/hot", access).status_code == 401


def test_a_request_without_a_user_agent_is_refused(reddit: RedditSandbox) -> None:
    reddit.server.add_subreddit("AskReddit")
    answer = httpx.get(
        f"{reddit.api_url}/r/AskReddit/hot",
        headers={"Authorization": f"bearer {token(reddit)}", "User-Agent": ""},
    )
    assert answer.status_code == 403


def test_rate_limit_headers_count_down_then_429_until_the_reset(reddit: RedditSandbox) -> None:
    reddit.server.add_subreddit("AskReddit")
    access = token(reddit)
    reddit.server.set_rate_limit(3, window_s=2.0)
    answers = [listing(reddit, "/r/AskReddit/hot", access) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-used"] for a in answers] == ["1", "2", "3", "3"]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2.0", "1.0", "0.0", "0.0"]
    assert all(0 <= int(a.headers["x-ratelimit-reset"]) <= 2 for a in answers)
    assert answers[3].json() == {"message": "Too Many Requests", "error": 429}
    time.sleep(2.1)
    again = listing(reddit, "/r/AskReddit/hot", access)
    assert again.status_code == 200 and again.headers["x-ratelimit-used"] == "1"
