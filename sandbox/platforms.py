"""All six platform sandboxes at once, and the environment that points the real clients at them.

Used by `pellacia-dist demo`, `pellacia-dist sandbox` and the end-to-end tests: the clients are the ones a
user runs against the real platforms, configured only through PELLACIA_<PLATFORM>_* variables. Each
sandbox listens on one port per host of its platform; the variables name the roots a client is configured
with (each sandbox's `configured_roots`), the other hosts are reached only through the URLs the sandboxes
hand out (uploads) or open in a browser (consent pages).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sandbox.common import SandboxServer, running
from sandbox.facebook import FacebookSandbox
from sandbox.feeds import NewsSite, generated_paragraphs, news_site
from sandbox.instagram import InstagramSandbox
from sandbox.linkedin import LinkedInSandbox
from sandbox.reddit import RedditSandbox, reddit_sandbox
from sandbox.tiktok import TikTokSandbox
from sandbox.web.facebook import FacebookWebSandbox
from sandbox.web.instagram import InstagramWebSandbox
from sandbox.web.linkedin import LinkedInWebSandbox
from sandbox.web.pages import WebSandbox
from sandbox.web.tiktok import TikTokWebSandbox
from sandbox.web.x import XWebSandbox
from sandbox.web.youtube import YouTubeWebSandbox
from sandbox.x import XSandbox
from sandbox.youtube import YouTubeSandbox

# What `pellacia-dist sandbox` seeds its Reddit and news site with.
SAMPLE_SUBREDDIT = "nosleep"
SAMPLE_HEADLINES = (
    "The night ferry that never reached the harbour",
    "A library that keeps one room locked after dark",
    "The lighthouse keeper's last logbook",
)

PLATFORMS = ("youtube", "tiktok", "instagram", "facebook", "x", "linkedin")
CLIENT_ID = "pellacia-sandbox-client"
CLIENT_SECRET = "pellacia-sandbox-secret"
ACCOUNT_IDS = {
    "instagram": ("PELLACIA_INSTAGRAM_USER_ID", "17841400000000001"),
    "facebook": ("PELLACIA_FACEBOOK_PAGE_ID", "104000000000001"),
    "linkedin": ("PELLACIA_LINKEDIN_AUTHOR", "urn:li:organization:90000001"),
}
# The declarations YouTube and TikTok require to be explicit: a sandbox run states them too.
DECLARATIONS = {
    "PELLACIA_YOUTUBE_PRIVACY": "public",
    "PELLACIA_YOUTUBE_MADE_FOR_KIDS": "false",
    "PELLACIA_YOUTUBE_SYNTHETIC_MEDIA": "true",
    "PELLACIA_TIKTOK_PRIVACY_LEVEL": "PUBLIC_TO_EVERYONE",
    "PELLACIA_TIKTOK_IS_AIGC": "true",
}


@dataclass
class SandboxSuite:
    servers: dict[str, SandboxServer]
    env: dict[str, str]

    def set_now(self, moment: datetime | None) -> None:
        """Stop every sandbox's clock at `moment` (None: the real time again); see SandboxServer.set_now."""
        for server in self.servers.values():
            server.set_now(moment)

    def advance_clock(self, seconds: float) -> None:
        """Move every sandbox's clock `seconds` on (a day of metrics: 86400)."""
        for server in self.servers.values():
            server.advance_clock(seconds)


def build_servers(data_dir: Path, processing_polls: int = 1) -> dict[str, SandboxServer]:
    polls = processing_polls
    return {
        "youtube": YouTubeSandbox(
            data_dir / "youtube", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, processing_polls=polls
        ),
        "tiktok": TikTokSandbox(
            data_dir / "tiktok", client_key=CLIENT_ID, client_secret=CLIENT_SECRET, processing_polls=polls
        ),
        "instagram": InstagramSandbox(
            data_dir / "instagram",
            user_id=ACCOUNT_IDS["instagram"][1],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            processing_polls=polls,
        ),
        "facebook": FacebookSandbox(
            data_dir / "facebook",
            page_id=ACCOUNT_IDS["facebook"][1],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            processing_polls=polls,
        ),
        "x": XSandbox(
            data_dir / "x", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, processing_polls=polls
        ),
        "linkedin": LinkedInSandbox(
            data_dir / "linkedin",
            author=ACCOUNT_IDS["linkedin"][1],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            processing_polls=polls,
        ),
    }


def platform_environment(platform: str, server: SandboxServer) -> dict[str, str]:
    """PELLACIA_<PLATFORM>_* for one running sandbox: its configured roots (each on its own host), fresh
    tokens, the app's credentials, the account id and the declarations the platform requires."""
    prefix = f"PELLACIA_{platform.upper()}_"
    env = {name: value for name, value in DECLARATIONS.items() if name.startswith(prefix)}
    for root in server.configured_roots:
        env[f"{prefix}{root.upper()}_URL"] = server.url(root)
    grant = server.issue_tokens()
    env[f"{prefix}ACCESS_TOKEN"] = grant.access_token
    env[f"{prefix}REFRESH_TOKEN"] = grant.refresh_token
    env[f"{prefix}CLIENT_ID"] = CLIENT_ID
    env[f"{prefix}CLIENT_SECRET"] = CLIENT_SECRET
    if platform in ACCOUNT_IDS:
        variable, value = ACCOUNT_IDS[platform]
        env[variable] = value
    return env


def environment(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """PELLACIA_* variables for every platform: URL roots, fresh tokens, app credentials, account ids."""
    env: dict[str, str] = {}
    for platform in PLATFORMS:
        env |= platform_environment(platform, servers[platform])
    return env


def consent_pages(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """Each sandbox's consent page, for `pellacia-dist auth <platform> --authorize-url URL`."""
    return {
        platform: server.url("consent", server.consent_path)
        for platform, server in servers.items()
        if server.consent_path is not None
    }


@contextmanager
def platform_sandboxes(data_dir: Path, processing_polls: int = 1) -> Iterator[SandboxSuite]:
    """Start all six sandboxes on 127.0.0.1; stop them when the block ends."""
    servers = build_servers(data_dir, processing_polls)
    with ExitStack() as stack:
        for server in servers.values():
            stack.enter_context(running(server))
        yield SandboxSuite(servers, environment(servers))


WEB_SANDBOXES: dict[str, Callable[[Path], WebSandbox]] = {
    "youtube": YouTubeWebSandbox,
    "tiktok": TikTokWebSandbox,
    "instagram": InstagramWebSandbox,
    "facebook": FacebookWebSandbox,
    "x": XWebSandbox,
    "linkedin": LinkedInWebSandbox,
}


@contextmanager
def web_sandboxes(data_dir: Path) -> Iterator[dict[str, WebSandbox]]:
    """The six platforms' web pages (login, upload, profile) for the browser path, until the block ends."""
    with ExitStack() as stack:
        yield {
            platform: stack.enter_context(running(build(data_dir / f"{platform}-web")))
            for platform, build in WEB_SANDBOXES.items()
        }


def serve_forever(data_dir: Path) -> None:
    """`pellacia-dist sandbox`: print the variables to export, then serve until interrupted (the six API
    sandboxes, the six platforms' web pages for the browser path, and a Reddit and a news site with a
    few stories for the story sources)."""
    with (
        platform_sandboxes(data_dir) as suite,
        web_sandboxes(data_dir) as webs,
        reddit_sandbox(data_dir / "reddit") as reddit,
        news_site(data_dir=data_dir / "news") as news,
    ):
        print("# Local platform SANDBOXES (nothing leaves this machine). Export these to use them:")
        web_env = {
            name: value
            for platform, web in webs.items()
            for name, value in web_environment(platform, web).items()
        }
        intake_env = {**reddit.env, **seed_stories(reddit, news)}
        for name, value in sorted({**suite.env, **web_env, **intake_env}.items()):
            print(f"export {name}={shlex.quote(value)}")
        print("# Consent pages, for `pellacia-dist auth <platform> --authorize-url <page>`:")
        for platform, page in consent_pages(suite.servers).items():
            print(f"#   {platform}: {page}")
        print("# The web pages, for `pellacia-dist browser login <platform>` (user, password):")
        for platform, web in webs.items():
            print(f"#   {platform}: {getattr(web, 'username', '')} {getattr(web, 'password', '')}")
        print("# Ctrl-C stops the sandboxes.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return


def seed_stories(reddit: RedditSandbox, news: NewsSite) -> dict[str, str]:
    """A few Reddit posts and news articles for `pellacia-dist sources poll` to find; the variables that
    name them (the subreddit and the feed)."""
    for index, title in enumerate(SAMPLE_HEADLINES):
        body = "\n\n".join(generated_paragraphs(f"post-{index}", title))
        reddit.add_post(SAMPLE_SUBREDDIT, title, body, score=500 + 100 * index, num_comments=40 + index)
    news.add_feed("world", "The Sandbox Herald - World")
    for index, title in enumerate(SAMPLE_HEADLINES):
        news.add_article(f"story-{index}", title, feeds=["world"])
    return {"PELLACIA_REDDIT_SUBREDDITS": SAMPLE_SUBREDDIT, "PELLACIA_FEEDS": news.feed_url("world")}


def web_environment(platform: str, web: WebSandbox) -> dict[str, str]:
    """PELLACIA_<PLATFORM>_WEB_URL and _WEB_USERNAME (the name the site's addresses use) for a web sandbox."""
    handle = str(getattr(web, "handle", getattr(web, "username", "")))
    prefix = f"PELLACIA_{platform.upper()}_WEB_"
    return {f"{prefix}URL": web.base_url, f"{prefix}USERNAME": handle}
