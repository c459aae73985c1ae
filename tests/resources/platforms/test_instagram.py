"""The Instagram client against its sandbox, through publish_once and a real ledger on SQLite."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.publishing import publish_once
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.http import RetryPolicy
from resources.platforms.instagram import Container, InstagramClient
from resources.platforms.resource import InstagramResource
from sandbox.common import Fault, TokenGrant
from sandbox.instagram import InstagramSandbox
from tests.media import grow_mp4

CAPTION = "A lighthouse keeper hears a knock at midnight. #story"


def make_video(
    path: Path, *, size: str = "360x640", seconds: float = 3.5, extra: tuple[str, ...] = ()
) -> Path:
    """A real H.264/AAC MP4 with the index in front, as the render step produces."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-f", "lavfi",
         "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", *extra, str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instagram-videos")


@pytest.fixture(scope="module")
def video(videos: Path) -> Path:
    return make_video(videos / "reel.mp4", extra=("-movflags", "+faststart"))


@pytest.fixture(scope="module")
def big_video(videos: Path) -> Path:
    """~14 MB: lossless 1080x1920, so the upload is interrupted and resumed mid-file."""
    return make_video(
        videos / "big.mp4", size="1080x1920", seconds=3.2, extra=("-crf", "0", "-movflags", "+faststart")
    )


class MemoryStore:
    """A CredentialStore that keeps what a refresh saves, for inspection."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], TokenSet] = {}

    def load(self, platform: str, account: str) -> TokenSet | None:
        return self.saved.get((platform, account))

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        self.saved[(platform, account)] = tokens


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[InstagramSandbox]:
    server = InstagramSandbox(tmp_path / "instagram")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: InstagramSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def settings(sandbox: InstagramSandbox, grant: TokenGrant) -> PlatformSettings:
    return PlatformSettings(
        platform="instagram",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.user_id,
    )


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(settings: PlatformSettings, store: MemoryStore, waits: list[float]) -> Iterator[InstagramClient]:
    instagram = InstagramClient(settings, store, sleep=waits.append)
    yield instagram
    instagram.close()


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key="keeper", source_kind="t", source_ref="t", title="T", body="B"))
    return sessions


def journal_for(factory: sessionmaker[Session], video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget("keeper", 1, "instagram", "default", sha256_of(video)))


def reel(video: Path, description: str = CAPTION, hashtags: tuple[str, ...] = ("#shorts",)) -> VideoPost:
    return VideoPost(video, "The keeper", description, hashtags)


def test_publishes_a_reel_with_its_bytes_and_caption_and_records_every_id(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    progress: list[tuple[int, int]] = []
    post = reel(video)
    outcome = publish_once(
        client, post, journal_for(factory, video), lambda sent, total: progress.append((sent, total))
    )

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(video)
    assert stored["size"] == video.stat().st_size
    assert stored["caption"] == f"The keeper\n\n{CAPTION} #shorts"  # a Reel has no title field
    assert (outcome.post.post_id, outcome.post.url) == (stored["id"], stored["permalink"])
    assert outcome.post.url.startswith("https://www.instagram.com/reel/")
    entry = journal_for(factory, video).snapshot()
    assert entry.state == "published"
    assert entry.post_id == stored["id"]
    assert entry.platform_ids["container_id"] == stored["container_id"]
    assert entry.platform_ids["media_id"] == stored["id"]
    assert entry.platform_ids["upload_uri"].endswith(f"/ig-api-upload/v25.0/{stored['container_id']}")
    routes = [route for route, _ in sandbox.requests]
    assert routes.index("publishing_limit") < routes.index("create_container") < routes.index("upload")
    assert progress[-1] == (video.stat().st_size, video.stat().st_size)


def test_quota_used_up_stops_before_anything_is_created(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.use_quota(50)
    with pytest.raises(PlatformError, match="50 of the 50 posts") as raised:
        publish_once(client, reel(video), journal_for(factory, video))
    assert raised.value.kind is ErrorKind.RATE_LIMIT
    assert [route for route, _ in sandbox.requests] == ["publishing_limit"]


@pytest.mark.parametrize(
    ("drop", "resumed_at"),
    [(False, 5_000_000), (True, 0)],
    ids=["500-mid-upload", "connection-dropped-mid-upload"],
)
def test_a_broken_upload_is_posted_again_as_documented_never_asked_with_a_get(
    client: InstagramClient,
    sandbox: InstagramSandbox,
    factory: sessionmaker[Session],
    big_video: Path,
    drop: bool,
    resumed_at: int,
) -> None:
    """The container's status says it still takes the upload; the POST goes again with an `offset` header:
    the one the failed answer named, or 0 after a connection lost without an answer."""
    sandbox.interrupt_next_upload(after_bytes=5_000_000, drop=drop)
    publish_once(client, reel(big_video), journal_for(factory, big_video))

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(big_video)
    assert sandbox.container(stored["container_id"]).upload.offsets == [0, resumed_at]
    routes = [route for route, _ in sandbox.requests]
    assert routes[routes.index("upload") :][:3] == ["upload", "node", "upload"]  # status, then POST again
    assert all(method == "POST" for route, method in sandbox.requests if route.startswith("upload"))


def test_a_lost_answer_to_a_complete_upload_is_sent_again_and_posted_once(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("upload", kind="drop_after_commit"))
    publish_once(client, reel(video), journal_for(factory, video))

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(video)
    assert sandbox.container(stored["container_id"]).upload.offsets == [0, 0]
    assert ("upload_get", "GET") not in sandbox.requests


def test_an_upload_resumed_by_a_later_run_asks_the_container_and_posts_from_zero(
    settings: PlatformSettings,
    sandbox: InstagramSandbox,
    factory: sessionmaker[Session],
    big_video: Path,
    waits: list[float],
) -> None:
    sandbox.interrupt_next_upload(after_bytes=5_000_000)
    first = InstagramClient(settings, None, sleep=waits.append, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(PlatformError):
        publish_once(first, reel(big_video), journal_for(factory, big_video))
    first.close()
    assert sandbox.posts == []

    second = InstagramClient(settings, None, sleep=waits.append)
    publish_once(second, reel(big_video), journal_for(factory, big_video))
    second.close()

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(big_video)
    assert sandbox.container(stored["container_id"]).upload.offsets == [0, 0]
    assert [route for route, _ in sandbox.requests].count("create_container") == 1
    assert ("upload_get", "GET") not in sandbox.requests


def test_a_5xx_before_any_byte_arrived_restarts_at_offset_zero_and_posts_once(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(
        Fault("upload", status=503, body={"debug_info": {"retriable": True, "type": "Unavailable"}})
    )
    publish_once(client, reel(video), journal_for(factory, video))

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(video)
    assert sandbox.container(stored["container_id"]).upload.offsets == [0]


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_meta_throttling_waits_the_minutes_in_the_usage_header(
    client: InstagramClient,
    sandbox: InstagramSandbox,
    factory: sessionmaker[Session],
    video: Path,
    waits: list[float],
    code: int,
) -> None:
    sandbox.throttle("create_container", code=code, regain_minutes=1.5)
    publish_once(client, reel(video), journal_for(factory, video))

    assert waits[0] == 90.0
    assert len(sandbox.posts) == 1
    assert [route for route, _ in sandbox.requests].count("create_container") == 2


def test_connection_dropped_after_publish_committed_reconciles_to_the_one_post(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("publish", kind="drop_after_commit"))
    outcome = publish_once(client, reel(video), journal_for(factory, video))

    [stored] = sandbox.posts
    assert outcome.post.post_id == stored["id"]
    assert outcome.post.url == stored["permalink"]
    assert [route for route, _ in sandbox.requests].count("publish") == 1
    assert ("list_media", "GET") in sandbox.requests
    entry = journal_for(factory, video).snapshot()
    assert (entry.state, entry.post_id, entry.platform_ids["media_id"]) == (
        "published",
        stored["id"],
        stored["id"],
    )


def test_a_second_run_after_an_unknown_outcome_finds_the_post_instead_of_posting_again(
    settings: PlatformSettings, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("publish", kind="drop_after_commit"))
    sandbox.inject(Fault("list_media", status=500, body={"error": {"code": 2, "message": "down"}}, times=99))
    failing = InstagramClient(settings, sleep=lambda _: None)
    with pytest.raises(PlatformError):
        publish_once(failing, reel(video), journal_for(factory, video))
    assert journal_for(factory, video).state == "unknown"

    sandbox.clear_faults()
    outcome = publish_once(
        InstagramClient(settings, sleep=lambda _: None), reel(video), journal_for(factory, video)
    )
    assert [post["id"] for post in sandbox.posts] == [outcome.post.post_id]


def test_an_expired_token_is_exchanged_at_the_token_endpoint_and_stored(
    client: InstagramClient,
    sandbox: InstagramSandbox,
    store: MemoryStore,
    grant: TokenGrant,
    factory: sessionmaker[Session],
    video: Path,
) -> None:
    sandbox.tokens.expire_all()
    publish_once(client, reel(video), journal_for(factory, video))

    assert len(sandbox.posts) == 1
    assert sandbox.tokens.refreshes == 1
    saved = store.saved[("instagram", "default")]
    assert saved.access_token != grant.access_token
    assert sandbox.tokens.valid(saved.access_token)
    assert saved.refresh_token == grant.refresh_token


def test_a_refused_token_exchange_fails_clearly_without_leaking_secrets(
    settings: PlatformSettings,
    sandbox: InstagramSandbox,
    grant: TokenGrant,
    factory: sessionmaker[Session],
    video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox.tokens.expire_all()
    wrong = PlatformSettings(**{**settings.__dict__, "client_secret": "not-the-secret"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PlatformError, match="token exchange was refused") as raised:
        publish_once(InstagramClient(wrong, sleep=lambda _: None), reel(video), journal_for(factory, video))
    assert raised.value.kind is ErrorKind.AUTH
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("pellacia"))
    assert "refreshing it" in ours
    shown = str(raised.value) + ours + (journal_for(factory, video).snapshot().last_error or "")
    for secret in (grant.access_token, grant.refresh_token, "not-the-secret"):
        assert secret not in shown


def test_slow_processing_is_polled_at_the_configured_interval(
    settings: PlatformSettings, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 4
    waits: list[float] = []
    publish_once(
        InstagramClient(settings, sleep=waits.append, poll_interval_s=7.0),
        reel(video),
        journal_for(factory, video),
    )

    assert waits == [7.0] * 4
    assert len(sandbox.posts) == 1


def test_processing_that_outlasts_the_polls_resumes_the_same_container_next_time(
    settings: PlatformSettings, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 3
    impatient = InstagramClient(settings, sleep=lambda _: None, max_polls=2)
    with pytest.raises(PlatformError, match="still processing") as raised:
        publish_once(impatient, reel(video), journal_for(factory, video))
    assert raised.value.kind is ErrorKind.RETRYABLE

    publish_once(InstagramClient(settings, sleep=lambda _: None), reel(video), journal_for(factory, video))
    routes = [route for route, _ in sandbox.requests]
    assert (routes.count("create_container"), routes.count("upload"), len(sandbox.posts)) == (1, 1, 1)


def test_an_expired_container_is_replaced_by_a_new_one(
    settings: PlatformSettings, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 3
    with pytest.raises(PlatformError, match="still processing"):
        publish_once(
            InstagramClient(settings, sleep=lambda _: None, max_polls=1),
            reel(video),
            journal_for(factory, video),
        )
    first = journal_for(factory, video).get("container_id")
    sandbox.expire_containers()

    publish_once(InstagramClient(settings, sleep=lambda _: None), reel(video), journal_for(factory, video))
    [stored] = sandbox.posts
    assert stored["container_id"] != first
    assert stored["sha256"] == sha256_of(video)


def test_rejection_in_processing_fails_with_the_reason_and_the_ledger_says_failed(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.reject_next_processing("The video codec is not supported (2207026).")
    with pytest.raises(PlatformError, match=r"rejected the video.*codec is not supported") as raised:
        publish_once(client, reel(video), journal_for(factory, video))

    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert sandbox.posts == []
    entry = journal_for(factory, video).snapshot()
    assert entry.state == "failed"
    assert "codec is not supported" in (entry.last_error or "")


def _missing(folder: Path) -> Path:
    return folder / "nowhere.mp4"


def _text(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("not a video at all")
    return path


def _too_short(folder: Path) -> Path:
    return make_video(folder / "short.mp4", seconds=1.0, extra=("-movflags", "+faststart"))


def _too_wide(folder: Path) -> Path:
    return make_video(folder / "wide.mp4", size="1936x320", seconds=3.2, extra=("-movflags", "+faststart"))


def _index_at_the_end(folder: Path) -> Path:
    return make_video(folder / "slow-start.mp4")


def _too_big(folder: Path) -> Path:
    path = make_video(folder / "huge.mp4", extra=("-movflags", "+faststart"))
    grow_mp4(path, 301_000_000)  # sparse: over the 300 MB Reels limit without writing it
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_missing, "does not exist"),
        (_text, "not a readable video"),
        (_too_short, r"1\.0 s is outside 3-900 s"),
        (_too_wide, "larger than 1920"),
        (_index_at_the_end, "moov atom"),
        (_too_big, "over the 300 MB limit"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    client: InstagramClient,
    sandbox: InstagramSandbox,
    factory: sessionmaker[Session],
    tmp_path: Path,
    make: Callable[[Path], Path],
    reason: str,
) -> None:
    path = make(tmp_path)
    with pytest.raises(PlatformError, match=reason) as raised:
        publish_once(
            client,
            reel(path),
            open_entry(factory, LedgerTarget("keeper", 1, "instagram", "default", "0" * 64)),
        )
    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("title", "description", "reason"),
    [
        ("x" * 2201, "", "2201 characters long; the limit is 2200"),
        ("The keeper", " ".join(f"#tag{n}" for n in range(31)), "31 hashtags; the limit is 30"),
        ("The keeper", " ".join(f"@friend{n}" for n in range(21)), "21 @mentions; the limit is 20"),
    ],
)
def test_captions_over_instagrams_limits_are_refused_before_any_request(
    client: InstagramClient, sandbox: InstagramSandbox, video: Path, title: str, description: str, reason: str
) -> None:
    """Only what cannot be trimmed: a title alone over 2200 (the description would be cut first)."""
    with pytest.raises(PlatformError, match=reason):
        client.check(VideoPost(video, title, description))
    assert sandbox.requests == []


def test_a_long_description_is_trimmed_so_title_and_hashtags_reach_the_reel(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    post = VideoPost(video, "The keeper", "A long night at the lighthouse. " * 100, ("#story", "#sea"))
    publish_once(client, post, journal_for(factory, video))

    [stored] = sandbox.posts
    caption = stored["caption"]
    assert caption.startswith("The keeper\n\nA long night at the lighthouse. A long night")
    assert caption.endswith("… #story #sea")
    assert 2100 < len(caption) <= 2200  # Instagram counts characters; the room is used


def test_reconcile_without_a_container_needs_no_request(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    assert client.reconcile(reel(video), journal_for(factory, video)) is None
    assert sandbox.requests == []


def test_lifetime_metrics_are_the_insights_of_the_reel(
    client: InstagramClient, sandbox: InstagramSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    post_id = publish_once(client, reel(video), journal_for(factory, video)).post.post_id
    expected = sandbox.metrics_for(post_id)

    reading = client.lifetime_metrics([post_id])[post_id]
    assert reading.kind == "lifetime"
    assert {name: reading.values[name] for name in ("views", "likes", "comments", "shares")} == {
        name: expected[name] for name in ("views", "likes", "comments", "shares")
    }
    assert reading.raw["total_interactions"] == expected["total_interactions"]
    assert "impressions" in reading.unavailable


def test_a_client_without_an_account_id_says_which_variable_to_set(settings: PlatformSettings) -> None:
    with pytest.raises(PlatformError, match="PELLACIA_INSTAGRAM_USER_ID"):
        InstagramClient(PlatformSettings(**{**settings.__dict__, "account_id": None}))


def test_the_resource_builds_a_client_from_its_settings(settings: PlatformSettings, tmp_path: Path) -> None:
    resource = InstagramResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path / 'app.db'}"),
        urls=settings.urls,
        account_id=settings.account_id,
        access_token=settings.access_token,
    )
    client = resource.get_client()
    assert isinstance(client, InstagramClient)
    assert client.user_id == settings.account_id


class MemoryJournal:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.states: list[str] = []

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def put(self, name: str, value: str) -> None:
        self.ids[name] = value

    def set_state(self, state: str) -> None:
        self.states.append(state)


def test_a_container_published_by_another_process_while_we_wait_is_our_post(
    sandbox: InstagramSandbox, settings: PlatformSettings, video: Path
) -> None:
    """Issue 12: a container another process published while we polled is our post; nothing is re-sent."""
    sandbox.processing_polls = 2
    journal = MemoryJournal()
    other = InstagramClient(settings, sleep=lambda _s: None)
    by_other: list[Any] = []

    def meanwhile(_seconds: float) -> None:
        """Between our polls the other process sees the container FINISHED and publishes it."""
        if by_other:
            return
        container = Container(str(journal.get("container_id")), str(journal.get("upload_uri")))
        for _poll in range(10):
            if (other._status(container.id) or {}).get("status_code") == "FINISHED":
                break
        by_other.append(other._publish_container(container, MemoryJournal()))

    client = InstagramClient(settings, sleep=meanwhile, max_polls=5)
    post = VideoPost(video, "The keeper", "A knock at midnight.", ("#story",))
    found = client.publish(post, journal)

    [published] = by_other
    assert found.post_id == published.post_id
    assert journal.get("media_id") == published.post_id
    assert len(sandbox.posts) == 1
    assert sandbox.requests.count(("publish", "POST")) == 1
    client.close()
    other.close()
