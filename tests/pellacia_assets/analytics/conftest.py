"""The real platform clients against their sandboxes, an app database with the live posts in its ledger,
and the rate budget in the same database: what collecting is tested with.

X and YouTube clamp their history requests to the real date, so their sandboxes' clocks stop at the real
time; TikTok asks for no dates, so its sandbox stops at a fixed moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, StoryRecord
from resources.database.stories import save_source
from resources.platforms.config import PlatformSettings
from resources.platforms.tiktok import TikTokClient
from resources.platforms.x import XClient
from resources.platforms.youtube import YouTubeClient
from sandbox.common import running
from sandbox.tiktok import TikTokSandbox
from sandbox.x import XSandbox
from sandbox.youtube import YouTubeSandbox
from tests.sandbox.test_tiktok_analytics import clip, published
from tests.sandbox.test_x import tweet, uploaded, video_bytes
from tests.sandbox.test_youtube import CONTENT, upload

__all__ = ["clip"]  # the module-scoped fixture of a small real video, for TikTok's publishing

ACCOUNT = "main"
TIKTOK_NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
YOUTUBE_DECLARATIONS = {"privacy": "private", "made_for_kids": "false", "synthetic_media": "true"}


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    """The app database: ledger, metric snapshots and the clients' rate budget."""
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def waits() -> list[float]:
    return []


def live(
    factory: sessionmaker[Session],
    platform: str,
    post_id: str,
    *,
    story: str = "story-1",
    part: int = 1,
    published_at: dt.datetime | None = None,
    account: str = ACCOUNT,
) -> None:
    """A published ledger row for `post_id` (its story made when missing)."""
    with transaction(factory) as session:
        if session.get(StoryRecord, story) is None:
            save_source(
                session, SourceRecord(key=story, source_kind="t", source_ref="t", title="T", body="B")
            )
            session.flush()
        session.add(
            LedgerEntry(
                story_key=story,
                part=part,
                platform=platform,
                account=account,
                video_sha256=f"{platform}{post_id}".ljust(64, "0")[:64],
                state="published",
                post_id=post_id,
                url=f"https://{platform}.test/{post_id}",
                published_at=published_at or dt.datetime.now(dt.UTC),
            )
        )


# --- X: daily history for 30 days --------------------------------------------------------------------


@pytest.fixture
def x_sandbox(tmp_path: Path, now: dt.datetime) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "x", max_segment_bytes=64 * 1024)
    server.set_now(now)
    with running(server):
        yield server


@pytest.fixture
def x_client(x_sandbox: XSandbox, factory: sessionmaker[Session], waits: list[float]) -> Iterator[XClient]:
    grant = x_sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="x",
        urls={"api": x_sandbox.base_url, "oauth": x_sandbox.base_url},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=x_sandbox.client_id,
        client_secret=x_sandbox.client_secret,
    )
    client = XClient(settings, sleep=waits.append, budget=factory)
    yield client
    client.close()


def x_post(sandbox: XSandbox, seed: int, age_days: float = 0) -> str:
    """A video post on the X sandbox, created `age_days` ago."""
    token = sandbox.issue_tokens().access_token
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        post_id = str(tweet(api, f"post {seed}", uploaded(api, video_bytes(300, seed))).json()["data"]["id"])
    if age_days:
        sandbox.backdate(post_id, age_days)
    return post_id


# --- YouTube: daily history after a two-day delay -------------------------------------------------------


@pytest.fixture
def youtube_sandbox(tmp_path: Path, now: dt.datetime) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "youtube")
    server.set_now(now)
    with running(server):
        yield server


@pytest.fixture
def youtube_client(
    youtube_sandbox: YouTubeSandbox, factory: sessionmaker[Session], waits: list[float]
) -> Iterator[YouTubeClient]:
    grant = youtube_sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="youtube",
        urls={root: youtube_sandbox.url(root) for root in ("api", "upload", "oauth", "analytics")},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=youtube_sandbox.client_id,
        client_secret=youtube_sandbox.client_secret,
        options=YOUTUBE_DECLARATIONS,
    )
    client = YouTubeClient(settings, sleep=waits.append, budget=factory)
    yield client
    client.close()


def youtube_video(sandbox: YouTubeSandbox, seed: int, age_days: float = 0) -> str:
    grant = sandbox.issue_tokens()
    with httpx.Client(base_url=sandbox.url("upload"), timeout=10) as http:
        video_id = str(upload(http, grant, CONTENT + bytes([seed]))["id"])
    if age_days:
        sandbox.backdate(video_id, age_days)
    return video_id


# --- TikTok: lifetime counters only ---------------------------------------------------------------------


@pytest.fixture
def tiktok_sandbox(tmp_path: Path) -> Iterator[TikTokSandbox]:
    server = TikTokSandbox(tmp_path / "tiktok", processing_polls=0)
    server.set_now(TIKTOK_NOW)
    with running(server):
        yield server


@pytest.fixture
def tiktok_client(
    tiktok_sandbox: TikTokSandbox, factory: sessionmaker[Session], waits: list[float]
) -> Iterator[TikTokClient]:
    grant = tiktok_sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="tiktok",
        urls={"api": tiktok_sandbox.base_url, "oauth": tiktok_sandbox.base_url},
        account=ACCOUNT,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=tiktok_sandbox.client_key,
        client_secret=tiktok_sandbox.client_secret,
    )
    client = TikTokClient(settings, sleep=waits.append, budget=factory)
    yield client
    client.close()


def tiktok_video(sandbox: TikTokSandbox, clip: Path, age_days: float = 0) -> str:
    video_id = published(sandbox, sandbox.issue_tokens().access_token, clip)
    if age_days:
        sandbox.backdate(video_id, age_days)
    return video_id
