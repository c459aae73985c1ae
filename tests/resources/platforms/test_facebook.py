"""The Facebook Page client against its sandbox, through publish_once and a real ledger on SQLite."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.publishing import publish_once
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.clients import credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import SECRET_KEY_VARIABLE, TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.facebook import FacebookClient
from resources.platforms.resource import FacebookResource
from sandbox.common import Fault, TokenGrant
from sandbox.facebook import FacebookSandbox
from sandbox.graph import graph_error
from tests.media import grow_mp4

DESCRIPTION = "A lighthouse keeper hears a knock at midnight. #story"


def make_video(
    path: Path, *, size: str = "540x960", seconds: float = 3.5, extra: tuple[str, ...] = ()
) -> Path:
    """A real H.264/AAC MP4 with the index in front, as the render step produces."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-f", "lavfi",
         "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", *extra, "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("facebook-videos")


@pytest.fixture(scope="module")
def reel_video(videos: Path) -> Path:
    return make_video(videos / "reel.mp4")


@pytest.fixture(scope="module")
def wide_video(videos: Path) -> Path:
    """Landscape, so it goes through the chunked /videos flow."""
    return make_video(videos / "wide.mp4", size="640x360")


@pytest.fixture(scope="module")
def big_reel(videos: Path) -> Path:
    """~14 MB of lossless 1080x1920, so an interrupted upload resumes in the middle of the file."""
    return make_video(videos / "big.mp4", size="1080x1920", seconds=3.2, extra=("-crf", "0"))


class MemoryStore:
    """A CredentialStore that keeps what a refresh saves, for inspection."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], TokenSet] = {}

    def load(self, platform: str, account: str) -> TokenSet | None:
        return self.saved.get((platform, account))

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        self.saved[(platform, account)] = tokens


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[FacebookSandbox]:
    server = FacebookSandbox(tmp_path / "facebook", transfer_chunk_bytes=64 * 1024)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def grant(sandbox: FacebookSandbox) -> TokenGrant:
    return sandbox.issue_tokens()


@pytest.fixture
def settings(sandbox: FacebookSandbox, grant: TokenGrant) -> PlatformSettings:
    return PlatformSettings(
        platform="facebook",
        urls={root: sandbox.url(root) for root in ("api", "oauth", "video")},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        account_id=sandbox.page_id,
    )


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(settings: PlatformSettings, store: MemoryStore, waits: list[float]) -> Iterator[FacebookClient]:
    facebook = FacebookClient(settings, store, sleep=waits.append, poll_interval_s=2.0)
    yield facebook
    facebook.close()


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key="keeper", source_kind="t", source_ref="t", title="T", body="B"))
    return sessions


def journal_for(factory: sessionmaker[Session], video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget("keeper", 1, "facebook", "default", sha256_of(video)))


def post_of(video: Path, title: str = "The keeper", hashtags: tuple[str, ...] = ("#shorts",)) -> VideoPost:
    return VideoPost(video, title, DESCRIPTION, hashtags)


def test_publishes_a_reel_with_its_bytes_and_words_and_records_every_id(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    progress: list[tuple[int, int]] = []
    journal = journal_for(factory, reel_video)
    outcome = publish_once(
        client, post_of(reel_video), journal, lambda sent, total: progress.append((sent, total))
    )
    [published] = sandbox.posts
    assert published["kind"] == "reel"
    assert published["sha256"] == sha256_of(reel_video) and published["size"] == reel_video.stat().st_size
    assert (published["title"], published["description"]) == ("The keeper", f"{DESCRIPTION} #shorts")
    assert outcome.post.post_id == published["id"]
    assert outcome.post.url == f"https://www.facebook.com/reel/{published['id']}"
    entry = journal.snapshot()
    assert (entry.state, entry.post_id, entry.url) == ("published", published["id"], outcome.post.url)
    assert entry.platform_ids["video_id"] == published["id"]
    assert entry.platform_ids["upload_url"] == sandbox.url("upload", f"/video-upload/v25.0/{published['id']}")
    assert entry.platform_ids["post_id"] == f"{sandbox.page_id}_{published['id']}"
    assert progress[-1] == (reel_video.stat().st_size, reel_video.stat().st_size)


def test_a_landscape_video_goes_through_the_chunked_flow_range_by_range(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], wide_video: Path
) -> None:
    journal = journal_for(factory, wide_video)
    outcome = publish_once(client, post_of(wide_video), journal)
    [published] = sandbox.posts
    chunks = -(-wide_video.stat().st_size // sandbox.transfer_chunk_bytes)
    assert chunks > 3
    assert sandbox.requests.count(("videos", "POST")) == chunks + 2  # start, transfers, finish
    assert (published["kind"], published["sha256"]) == ("video", sha256_of(wide_video))
    assert published["description"] == f"{DESCRIPTION} #shorts"
    assert outcome.post.url == f"https://www.facebook.com/{sandbox.page_name}/videos/{published['id']}/"
    ids = journal.snapshot().platform_ids
    size = wide_video.stat().st_size
    assert ids["video_id"] == published["id"] and ids["transfer_offsets"] == f"{size}-{size}"
    assert ids["upload_session_id"]


def test_throttling_waits_as_long_as_the_usage_header_says(
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
    waits: list[float],
    grant: TokenGrant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox.throttle("reels", code=4, regain_minutes=1.5)
    sandbox.throttle("node", code=613, regain_minutes=0.5)
    with caplog.at_level(logging.DEBUG):
        publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    assert waits[:2] == [90.0, 30.0]
    assert len(sandbox.posts) == 1
    assert grant.access_token not in caplog.text and grant.refresh_token not in caplog.text


@pytest.mark.e2e
def test_an_interrupted_reel_upload_resumes_at_the_offset_facebook_reports(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], big_reel: Path
) -> None:
    size = big_reel.stat().st_size
    assert size > 8 * 1024 * 1024
    sandbox.interrupt_next_upload(size // 2)
    journal = journal_for(factory, big_reel)
    publish_once(client, post_of(big_reel), journal)
    assert sandbox.upload_offsets == [0, size // 2]
    [published] = sandbox.posts
    assert published["sha256"] == sha256_of(big_reel)
    assert journal.snapshot().state == "published"


def test_a_dropped_reel_upload_resumes_too(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    sandbox.interrupt_next_upload(100_000, drop=True)
    publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    assert sandbox.upload_offsets[0] == 0 and sandbox.upload_offsets[-1] == 100_000
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(reel_video)]


@pytest.mark.parametrize(("kind", "times"), [("status", 2), ("drop_after_commit", 1)])
def test_a_failed_chunk_is_sent_again_from_the_range_facebook_names(
    kind: str,
    times: int,
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    wide_video: Path,
) -> None:
    """A 503 before the chunk is taken: the same range again. A chunk taken but its answer lost: the
    re-sent range is answered with error 1363037 naming the next range, and the upload goes on from there."""
    error = graph_error(2, "Service temporarily unavailable", status=503, transient=True)
    sandbox.fail_phase(Fault("video_transfer", kind=kind, status=503, body=error.body, times=times))
    publish_once(client, post_of(wide_video), journal_for(factory, wide_video))
    chunks = -(-wide_video.stat().st_size // sandbox.transfer_chunk_bytes)
    assert sandbox.requests.count(("videos", "POST")) == 1 + chunks + times + 1
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(wide_video)]


@pytest.mark.parametrize(
    ("phase", "video_fixture"), [("reels_finish", "reel_video"), ("video_finish", "wide_video")]
)
def test_a_connection_dropped_after_finish_committed_is_reconciled_to_one_post(
    phase: str,
    video_fixture: str,
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    request: pytest.FixtureRequest,
) -> None:
    video: Path = request.getfixturevalue(video_fixture)
    sandbox.fail_phase(Fault(phase, kind="drop_after_commit"))
    journal = journal_for(factory, video)
    outcome = publish_once(client, post_of(video), journal)
    [published] = sandbox.posts
    assert outcome.post.post_id == published["id"]
    assert journal.snapshot().state == "published"
    again = publish_once(client, post_of(video), journal_for(factory, video))
    assert again.already_published and len(sandbox.posts) == 1


def test_a_dropped_finish_that_did_not_commit_is_finished_once_more(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    sandbox.fail_phase(Fault("reels_finish", kind="drop"))
    journal = journal_for(factory, reel_video)
    publish_once(client, post_of(reel_video), journal)
    assert sandbox.requests.count(("reels", "POST")) == 3  # start, the dropped finish, the finish
    assert len(sandbox.posts) == 1 and journal.snapshot().state == "published"


def test_an_expired_page_token_is_renewed_through_the_exchange_and_stored(
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
    store: MemoryStore,
    grant: TokenGrant,
) -> None:
    sandbox.expire_tokens()
    publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    assert ("token", "GET") in sandbox.requests
    saved = store.saved[("facebook", "default")]
    assert saved.access_token != grant.access_token and sandbox.pages.valid(saved.access_token)
    assert saved.refresh_token is not None and sandbox.users.valid(saved.refresh_token)
    assert len(sandbox.posts) == 1


def test_without_the_secret_key_the_exchanged_token_serves_the_process_with_one_warning(
    sandbox: FacebookSandbox,
    settings: PlatformSettings,
    factory: sessionmaker[Session],
    reel_video: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Meta's exchange rotates nothing (the long-lived token stays valid), so it is safe without a key."""
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    store = credential_store(f"sqlite:///{tmp_path / 'app.db'}")
    client = FacebookClient(settings, store, sleep=lambda _s: None, poll_interval_s=2.0)
    sandbox.expire_tokens()
    with caplog.at_level(logging.WARNING, logger="pellacia.platforms.credentials"):
        publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    client.close()

    assert len(sandbox.posts) == 1 and sandbox.requests.count(("token", "GET")) >= 1
    assert sum("this process only" in record.getMessage() for record in caplog.records) == 1


class ExpiringJournal(LedgerJournal):
    """A real ledger entry that expires the sandbox's Page tokens once the upload URL is journalled."""

    def __init__(self, journal: LedgerJournal, sandbox: FacebookSandbox) -> None:
        super().__init__(journal.factory, journal.entry_id)
        self.sandbox = sandbox

    def put(self, name: str, value: str) -> None:
        super().put(name, value)
        if name == "upload_url":
            self.sandbox.expire_tokens()


def test_a_token_refused_by_rupload_is_renewed_and_the_upload_sent_again(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    journal = ExpiringJournal(journal_for(factory, reel_video), sandbox)
    publish_once(client, post_of(reel_video), journal)
    assert sandbox.requests.count(("upload", "POST")) == 2  # 401 from rupload, then the upload
    assert sandbox.requests.count(("token", "GET")) == 1
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(reel_video)]


def test_without_client_credentials_an_expired_token_fails_clearly(
    sandbox: FacebookSandbox,
    settings: PlatformSettings,
    factory: sessionmaker[Session],
    reel_video: Path,
    grant: TokenGrant,
) -> None:
    bare = PlatformSettings(
        platform="facebook",
        urls=settings.urls,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        account_id=sandbox.page_id,
    )
    client = FacebookClient(bare, MemoryStore(), sleep=lambda _s: None)
    sandbox.expire_tokens()
    with pytest.raises(PlatformError) as raised:
        publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    client.close()
    assert raised.value.kind is ErrorKind.AUTH
    assert "PELLACIA_FACEBOOK_CLIENT_ID" in str(raised.value)
    assert grant.access_token not in str(raised.value)
    assert sandbox.posts == []


def test_slow_processing_is_polled_at_the_poll_interval(
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
    waits: list[float],
) -> None:
    sandbox.processing_polls = 4
    journal = journal_for(factory, reel_video)
    publish_once(client, post_of(reel_video), journal)
    assert waits == [2.0, 2.0, 2.0]
    assert journal.snapshot().state == "published"


def test_processing_that_never_ends_leaves_the_ledger_waiting_to_ask_again(
    settings: PlatformSettings, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    sandbox.processing_polls = 50
    client = FacebookClient(settings, MemoryStore(), sleep=lambda _s: None, max_polls=3)
    journal = journal_for(factory, reel_video)
    with pytest.raises(PlatformError, match="still processing after 3 polls") as raised:
        publish_once(client, post_of(reel_video), journal)
    assert raised.value.kind is ErrorKind.RETRYABLE
    assert journal.snapshot().state == "processing"
    sandbox.processing_polls = 0
    sandbox.video(journal.snapshot().platform_ids["video_id"]).polls_left = 0
    outcome = publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    client.close()
    assert outcome.reconciled and len(sandbox.posts) == 1


@pytest.mark.parametrize(
    ("phase", "kind", "words"),
    [
        ("processing", ErrorKind.INVALID_MEDIA, "could not process"),
        ("publishing", ErrorKind.POLICY, "refused"),
    ],
)
def test_a_rejection_in_processing_fails_clearly_and_marks_the_ledger_failed(
    phase: str,
    kind: ErrorKind,
    words: str,
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
) -> None:
    sandbox.reject_next_processing("Video contains copyrighted audio", phase=phase)
    journal = journal_for(factory, reel_video)
    with pytest.raises(PlatformError) as raised:
        publish_once(client, post_of(reel_video), journal)
    assert raised.value.kind is kind
    assert words in str(raised.value) and "copyrighted audio" in str(raised.value)
    assert journal.snapshot().state == "failed"


def test_the_reels_cap_stops_without_waiting_a_day(
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
    waits: list[float],
) -> None:
    sandbox.use_reels_quota(30)
    with pytest.raises(PlatformError, match="try later") as raised:
        publish_once(client, post_of(reel_video), journal_for(factory, reel_video))
    assert raised.value.kind is ErrorKind.RATE_LIMIT
    assert raised.value.retry_after_s is not None and raised.value.retry_after_s > 23 * 3600
    assert waits == [] and sandbox.posts == []


@pytest.fixture(scope="module")
def bad_videos(videos: Path) -> dict[str, Path]:
    not_video = videos / "notes.mp4"
    not_video.write_text("these are words, not frames")
    too_big = make_video(videos / "huge.mp4")
    grow_mp4(too_big, 1_100_000_000)  # sparse: a Reel over 1000 MB without writing it
    long_video = videos / "long.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=1/60", "-t", "14500",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(long_video)],
        check=True,
    )  # fmt: skip
    return {
        "missing": videos / "nothing-here.mp4",
        "not a video": not_video,
        "too short for a Reel": make_video(videos / "short.mp4", seconds=2.0),
        "too slow for a Reel": make_video(videos / "slow.mp4", extra=("-r", "15")),
        "too big for a Reel": too_big,
        "too long for a Page video": long_video,
    }


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing", "does not exist"),
        ("not a video", "not readable media"),
        ("too short for a Reel", "2.0 s is outside 3-90 s"),
        ("too slow for a Reel", "15 fps is outside 24-60"),
        ("too big for a Reel", "over the 1000 MB limit"),
        ("too long for a Page video", "outside 1-14400 s"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    case: str,
    words: str,
    bad_videos: dict[str, Path],
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
) -> None:
    with pytest.raises(PlatformError, match=words) as raised:
        publish_once(client, post_of(bad_videos[case]), journal_for(factory, reel_video))
    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("title", "hashtags", "words"),
    [
        ("T" * 101, ("#shorts",), "the title is 101 characters long; the limit is 100"),
        ("The keeper", tuple(f"#tag{n}" for n in range(31)), "32 hashtags; the limit is 30"),
        ("   ", (), "the title is empty"),
    ],
)
def test_metadata_over_the_limits_is_refused_before_any_request(
    title: str,
    hashtags: tuple[str, ...],
    words: str,
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
) -> None:
    journal = journal_for(factory, reel_video)
    with pytest.raises(PlatformError, match=words):
        publish_once(client, post_of(reel_video, title, hashtags), journal)
    assert sandbox.requests == [] and journal.snapshot().state == "failed"


def test_lifetime_metrics_read_the_video_insights_of_reels_and_page_videos(
    client: FacebookClient,
    sandbox: FacebookSandbox,
    factory: sessionmaker[Session],
    reel_video: Path,
    wide_video: Path,
) -> None:
    reel = publish_once(client, post_of(reel_video), journal_for(factory, reel_video)).post
    journal = open_entry(factory, LedgerTarget("keeper", 2, "facebook", "default", sha256_of(wide_video)))
    page_video = publish_once(client, post_of(wide_video), journal).post
    reel_values, video_values = sandbox.metrics(reel.post_id), sandbox.metrics(page_video.post_id)
    readings = client.lifetime_metrics([reel.post_id, page_video.post_id])
    reel_reading, video_reading = readings[reel.post_id], readings[page_video.post_id]
    reactions = reel_values["post_video_likes_by_reaction_type"]
    actions = reel_values["post_video_social_actions"]
    assert {name: reel_reading.values[name] for name in ("views", "likes", "comments", "shares")} == {
        "views": reel_values["blue_reels_play_count"],
        "likes": reactions["REACTION_LIKE"] + reactions["REACTION_LOVE"],
        "comments": actions["COMMENT"],
        "shares": actions["SHARE"],
    }
    assert reel_reading.raw["fb_reels_total_plays"] == reel_values["fb_reels_total_plays"]
    stories = video_values["total_video_stories_by_action_type"]
    assert {name: video_reading.values[name] for name in ("views", "comments", "shares")} == {
        "views": video_values["total_video_views"],
        "comments": stories["comment"],
        "shares": stories["share"],
    }
    assert video_reading.values["likes"] == sum(video_values["total_video_reactions_by_type_total"].values())


def test_reconcile_without_a_video_id_asks_nothing(
    client: FacebookClient, sandbox: FacebookSandbox, factory: sessionmaker[Session], reel_video: Path
) -> None:
    assert client.reconcile(post_of(reel_video), journal_for(factory, reel_video)) is None
    assert sandbox.requests == []


def test_the_client_needs_a_page_and_the_graph_video_root(settings: PlatformSettings) -> None:
    no_page = PlatformSettings("facebook", urls=settings.urls, access_token="t", account_id=None)
    no_video_root = PlatformSettings(
        "facebook", urls={"api": "http://a", "oauth": "http://a"}, access_token="t", account_id="1"
    )
    with pytest.raises(PlatformError, match="PELLACIA_FACEBOOK_PAGE_ID"):
        FacebookClient(no_page)
    with pytest.raises(PlatformError, match="PELLACIA_FACEBOOK_VIDEO_URL"):
        FacebookClient(no_video_root)


def test_the_graph_video_root_defaults_to_the_real_host_and_is_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PELLACIA_FACEBOOK_VIDEO_URL", raising=False)
    assert PlatformSettings.from_env("facebook").urls["video"] == "https://graph-video.facebook.com"
    monkeypatch.setenv("PELLACIA_FACEBOOK_VIDEO_URL", "http://127.0.0.1:9")
    assert (
        PlatformSettings.from_env("facebook").url("video", "/v25.0/1/videos")
        == "http://127.0.0.1:9/v25.0/1/videos"
    )


def test_the_resource_builds_a_working_client(
    sandbox: FacebookSandbox, settings: PlatformSettings, tmp_path: Path
) -> None:
    resource = FacebookResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path / 'resource.db'}"),
        urls=settings.urls,
        account_id=sandbox.page_id,
        access_token=settings.access_token,
    )
    client = resource.get_client()
    assert isinstance(client, FacebookClient) and client.page_id == sandbox.page_id
    client.close()
