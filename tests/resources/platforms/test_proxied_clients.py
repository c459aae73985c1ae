"""Every platform client publishes through a VPN/proxy exit: real microsocks (SOCKS5 with credentials) and
tinyproxy (HTTP with BasicAuth) in front of the six sandboxes. Each proxy connects out from an address of
its own, and the sandbox records who reached it, so "through the exit" means every request the platform
saw came from the exit. An upload cut off by its exit dying resumes through the next healthy exit from
the ledger's offsets, in the same session, and the video is posted once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.publishing import publish_once
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.stories import save_source
from resources.platforms import PLATFORMS
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.clients import client_from_env, credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.exits import pool_from_env
from resources.platforms.youtube import CHUNK_ALIGNMENT, YouTubeClient
from sandbox.platforms import SandboxSuite
from sandbox.youtube import YouTubeSandbox
from tests.conftest import render_test_video
from tests.proxies import Peers, Proxy, microsocks, running

STORY = "proxied-story"
DIRECT = "127.0.0.1"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_test_video(tmp_path_factory.mktemp("media") / "short.mp4", seconds=4.0)


@pytest.fixture
def ledger(sandboxes: SandboxSuite) -> sessionmaker[Session]:
    factory = open_database(Settings.from_env().database_url)
    with transaction(factory) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="test", source_ref="t", title="T", body="B"))
    return factory


def journal_for(factory: sessionmaker[Session], platform: str, video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, 1, platform, "default", sha256_of(video)))


def post_of(video: Path) -> VideoPost:
    return VideoPost(video, "The lighthouse keeper", "A short story.", ("#storytime",))


def publish(platform: str, video: Path, factory: sessionmaker[Session], proxy: str | None) -> None:
    client = client_from_env(platform, Settings.from_env().database_url, proxy=proxy)
    try:
        publish_once(client, post_of(video), journal_for(factory, platform, video))
    finally:
        client.close()


@pytest.mark.parametrize("kind", ["socks", "http"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_client_publishes_through_an_exit(
    platform: str,
    kind: str,
    sandboxes: SandboxSuite,
    ledger: sessionmaker[Session],
    video: Path,
    request: pytest.FixtureRequest,
) -> None:
    proxy: Proxy = request.getfixturevalue(f"{kind}_exit")
    server = sandboxes.servers[platform]
    peers = Peers(server)
    publish(platform, video, ledger, proxy.url)
    assert [post["sha256"] for post in server.posts] == [sha256_of(video)]
    assert peers.addresses and set(peers.addresses) == {proxy.bind}, peers.addresses


def test_without_an_exit_the_sandbox_sees_the_client_itself(
    sandboxes: SandboxSuite, ledger: sessionmaker[Session], video: Path
) -> None:
    peers = Peers(sandboxes.servers["tiktok"])
    publish("tiktok", video, ledger, None)
    assert len(sandboxes.servers["tiktok"].posts) == 1
    assert peers.addresses and set(peers.addresses) == {DIRECT}


class Waits(list[float]):
    """The injected `sleep`: records the backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def youtube_through(proxy: str, waits: Waits) -> YouTubeClient:
    store = credential_store(Settings.from_env().database_url)
    settings = PlatformSettings.from_env("youtube")
    return YouTubeClient(
        settings, store, chunk_size=CHUNK_ALIGNMENT, sleep=waits, poll_interval_s=0, proxy=proxy
    )


def kill_after(proxy: Proxy, sent_bytes: int) -> Callable[[int, int], None]:
    """A progress callback that kills `proxy` once `sent_bytes` are committed: the exit drops mid-upload."""

    def progress(sent: int, _total: int) -> None:
        if sent >= sent_bytes:
            proxy.kill()

    return progress


def test_an_upload_cut_by_its_exit_dying_resumes_through_the_next_exit(
    sandboxes: SandboxSuite,
    ledger: sessionmaker[Session],
    video: Path,
    http_exit: Proxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert video.stat().st_size > 4 * CHUNK_ALIGNMENT
    server = sandboxes.servers["youtube"]
    assert isinstance(server, YouTubeSandbox)
    peers = Peers(server)
    with running(microsocks(bind="127.0.0.4")) as dying:
        monkeypatch.setenv("PELLACIA_YOUTUBE_PROXIES", f"{dying.url},{http_exit.url}")
        pool = pool_from_env(Settings.from_env().home, timeout_s=2.0)
        first = pool.choose("youtube")
        assert first is not None and first.url == dying.url
        waits = Waits()
        with pytest.raises(PlatformError) as raised:
            publish_once(
                youtube_through(first.url, waits),
                post_of(video),
                journal_for(ledger, "youtube", video),
                kill_after(dying, 2 * CHUNK_ALIGNMENT),
            )
    failure = raised.value
    assert failure.kind is ErrorKind.RETRYABLE, failure
    assert "connection failed: ProxyConnectionError Error connecting to SOCKS5 proxy" in str(failure)
    assert server.posts == [] and set(peers.addresses) == {"127.0.0.4"}
    pool.failed(first, str(failure))

    peers.clear()
    puts_before = len(server.session_puts)
    second = pool.choose("youtube")
    assert second is not None and second.url == http_exit.url
    outcome = publish_once(
        youtube_through(second.url, Waits()), post_of(video), journal_for(ledger, "youtube", video)
    )
    pool.succeeded(second)

    assert [post["sha256"] for post in server.posts] == [sha256_of(video)]
    assert [post["id"] for post in server.posts] == [outcome.post.post_id]
    assert server.requests.count(("upload_start", "POST")) == 1
    assert len({put.upload_id for put in server.session_puts}) == 1  # the same session, resumed
    resumed = [put for put in server.session_puts[puts_before:] if put.first is not None]
    assert resumed[0].first == 2 * CHUNK_ALIGNMENT  # from the offset the session had committed
    assert set(peers.addresses) == {http_exit.bind}
    assert pool.records()[first.name].failures == 1 and pool.records()[second.name].failures == 0
