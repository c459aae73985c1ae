"""The TikTok client against the TikTok sandbox over real HTTP, through publish_once and a SQLite ledger."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from pellacia_assets.publishing import PublishOutcome, publish_once
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source
from resources.platforms.base import VideoPost, sha256_of
from resources.platforms.clients import credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import SECRET_KEY_VARIABLE, EnvironmentOnlyStore, TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.resource import TikTokResource
from resources.platforms.tiktok import DAILY_CAP_WAIT_S, MIN_CHUNK_BYTES, ChunkPlan, TikTokClient, classify
from sandbox.common import Fault, running
from sandbox.tiktok import TikTokSandbox, rate_limit_fault
from tests.media import grow_mp4

POLL_S = 5.0
PRIVATE_ACCOUNT_OPTIONS = ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real videos made once: a small one (one chunk), a ~17 MB one (three 5 MiB chunks), bad files."""
    folder = tmp_path_factory.mktemp("tiktok-videos")
    small, big, long = folder / "small.mp4", folder / "big.mp4", folder / "long.mp4"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=360x640:r=30",
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        str(small),
    )
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=360x640:r=30",
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        "1.5",
        "-vf",
        "noise=alls=40:allf=t",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "0",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        str(big),
    )
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=s=64x64:r=1",
        "-t",
        "601",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-movflags",
        "+faststart",
        str(long),
    )
    not_video = folder / "notes.mp4"
    not_video.write_text("these are notes, not a video\n")
    huge = folder / "huge.mp4"
    huge.write_bytes(small.read_bytes())
    grow_mp4(huge, 4_100_000_000)  # sparse: over TikTok's 4 GB without writing 4 GB
    wrong_type = folder / "small.avi"
    wrong_type.write_bytes(small.read_bytes())
    assert big.stat().st_size > 3 * MIN_CHUNK_BYTES
    return {"small": small, "big": big, "long": long, "not_video": not_video, "huge": huge, "avi": wrong_type}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[TikTokSandbox]:
    with running(TikTokSandbox(tmp_path / "sandbox")) as server:
        assert isinstance(server, TikTokSandbox)
        yield server


class MemoryStore:
    """A CredentialStore in memory, to see what the client persisted."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], TokenSet] = {}

    def load(self, platform: str, account: str) -> TokenSet | None:
        return self.saved.get((platform, account))

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        self.saved[(platform, account)] = tokens


@dataclass
class Setup:
    sandbox: TikTokSandbox
    client: TikTokClient
    store: MemoryStore
    waits: list[float] = field(default_factory=list)


def settings_for(sandbox: TikTokSandbox, privacy: str | None = "PUBLIC_TO_EVERYONE") -> PlatformSettings:
    return PlatformSettings(
        platform="tiktok",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        client_id=sandbox.client_key,
        client_secret=sandbox.client_secret,
        options={"privacy_level": privacy} if privacy else {},
    )


def connect(sandbox: TikTokSandbox, privacy: str | None = "PUBLIC_TO_EVERYONE", **options: Any) -> Setup:
    grant = sandbox.issue_tokens()
    store = MemoryStore()
    store.save("tiktok", "default", TokenSet(grant.access_token, grant.refresh_token, grant.expires_at))
    waits: list[float] = []
    client = TikTokClient(
        settings_for(sandbox, privacy), store, sleep=waits.append, poll_interval_s=POLL_S, **options
    )
    return Setup(sandbox, client, store, waits)


@pytest.fixture
def setup(sandbox: TikTokSandbox) -> Iterator[Setup]:
    made = connect(sandbox)
    yield made
    made.client.close()


def ledger_for(tmp_path: Path, video: Path) -> LedgerJournal:
    factory = open_database(f"sqlite:///{tmp_path}/app.db")
    with transaction(factory) as session:
        save_source(session, SourceRecord("story-1", "manual", "test", "A story", "Once upon a time."))
    return open_entry(factory, LedgerTarget("story-1", 1, "tiktok", "default", sha256_of(video)))


def post_of(video: Path, description: str = "A short story, told in one minute.") -> VideoPost:
    return VideoPost(video, "A story", description, ("#storytime", "#fyp"))


def publish(setup: Setup, post: VideoPost, journal: LedgerJournal, **kwargs: Any) -> PublishOutcome:
    return publish_once(setup.client, post, journal, **kwargs)


def routes(sandbox: TikTokSandbox, name: str) -> int:
    return sum(route == name for route, _method in sandbox.requests)


def assert_one_post_of(sandbox: TikTokSandbox, post: VideoPost, outcome: PublishOutcome) -> dict[str, Any]:
    assert len(sandbox.posts) == 1
    stored = sandbox.posts[0]
    assert stored["sha256"] == sha256_of(post.video)
    assert stored["size"] == post.size
    assert stored["caption"] == f"{post.title}\n\n{post.caption()}"  # no title field: the caption leads
    assert outcome.post.post_id == stored["id"]
    assert outcome.post.url == f"https://www.tiktok.com/@{sandbox.username}/video/{stored['id']}"
    return stored


# --- happy paths ---------------------------------------------------------------------------------------


def test_publishes_a_small_video_whole_with_its_metadata(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    post = post_of(videos["small"])
    journal = ledger_for(tmp_path, post.video)
    seen: list[tuple[int, int]] = []

    outcome = publish(setup, post, journal, progress=lambda sent, total: seen.append((sent, total)))

    stored = assert_one_post_of(setup.sandbox, post, outcome)
    assert stored["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert stored["post_info"]["is_aigc"] is True
    assert stored["post_info"]["brand_content_toggle"] is False
    assert stored["post_info"]["disable_stitch"] is True  # the creator disabled stitches
    assert [route for route, _ in setup.sandbox.requests][:3] == ["creator_info", "init", "upload"]
    assert routes(setup.sandbox, "upload") == 1
    assert seen == [(post.size, post.size)]
    assert setup.waits == [POLL_S]  # processing took one poll
    entry = journal.snapshot()
    assert entry.state == "published"
    assert entry.post_id == stored["id"]
    assert entry.platform_ids["publish_id"] == stored["publish_id"]
    assert entry.platform_ids["upload_url"].startswith(setup.sandbox.url("upload", "/video/?upload_id="))
    assert entry.platform_ids["privacy_level"] == "PUBLIC_TO_EVERYONE"


def test_a_big_video_goes_in_sequential_chunks(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])
    seen: list[int] = []

    outcome = publish(
        setup, post, ledger_for(tmp_path, post.video), progress=lambda sent, _: seen.append(sent)
    )

    assert_one_post_of(sandbox, post, outcome)
    plan = ChunkPlan.for_size(post.size, MIN_CHUNK_BYTES)
    assert plan.total_chunk_count == 3
    assert routes(sandbox, "upload") == 3
    assert seen == [MIN_CHUNK_BYTES, 2 * MIN_CHUNK_BYTES, post.size]


def test_a_second_run_does_nothing_once_published(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    post = post_of(videos["small"])
    first = publish(setup, post, ledger_for(tmp_path, post.video))
    again = publish(setup, post, ledger_for(tmp_path, post.video))
    assert again.already_published and again.post == first.post
    assert len(setup.sandbox.posts) == 1
    assert routes(setup.sandbox, "init") == 1


def test_lifetime_metrics_come_from_the_display_api(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    post = post_of(videos["small"])
    outcome = publish(setup, post, ledger_for(tmp_path, post.video))
    post_id = outcome.post.post_id

    readings = setup.client.lifetime_metrics([post_id, "7380000000000009999"])

    expected = setup.sandbox.video_object(post_id)
    assert list(readings) == [post_id]  # a video TikTok does not show is left out
    reading = readings[post_id]
    assert reading.kind == "lifetime"
    assert reading.values == {
        "views": expected["view_count"],
        "likes": expected["like_count"],
        "comments": expected["comment_count"],
        "shares": expected["share_count"],
    }
    assert reading.raw["duration"] == 3
    assert "TikTok" in reading.unavailable["saves"]


def test_a_private_post_is_known_by_its_publish_id(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox, privacy="SELF_ONLY")
    post = post_of(videos["small"])
    outcome = publish(setup, post, ledger_for(tmp_path, post.video))
    assert len(sandbox.posts) == 1
    assert outcome.post.post_id == sandbox.posts[0]["publish_id"]  # TikTok gives non-public posts no id
    assert outcome.post.url == f"https://www.tiktok.com/@{sandbox.username}"


def test_public_posts_wait_for_moderation(tmp_path: Path, videos: dict[str, Path]) -> None:
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=1, moderation_polls=2)) as server:
        assert isinstance(server, TikTokSandbox)
        setup = connect(server)
        post = post_of(videos["small"])
        outcome = publish(setup, post, ledger_for(tmp_path, post.video))
        assert_one_post_of(server, post, outcome)
        assert setup.waits == [POLL_S] * 3


# --- faults --------------------------------------------------------------------------------------------


def test_rate_limit_is_waited_out_with_backoff(setup: Setup, videos: dict[str, Path], tmp_path: Path) -> None:
    setup.sandbox.inject(rate_limit_fault("init", times=2))
    post = post_of(videos["small"])
    outcome = publish(setup, post, ledger_for(tmp_path, post.video))
    assert_one_post_of(setup.sandbox, post, outcome)
    backoffs = setup.waits[:2]  # no documented rate-limit headers: exponential backoff
    assert len(backoffs) == 2 and 0 < backoffs[0] <= backoffs[1]
    assert routes(setup.sandbox, "init") == 3


def test_a_retry_after_header_is_honoured(setup: Setup, videos: dict[str, Path], tmp_path: Path) -> None:
    throttled = rate_limit_fault("creator_info")
    throttled.headers = {"Retry-After": "7"}
    setup.sandbox.inject(throttled)
    post = post_of(videos["small"])
    publish(setup, post, ledger_for(tmp_path, post.video))
    assert setup.waits[0] == 7.0


def test_a_5xx_on_a_chunk_is_retried(sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path) -> None:
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])

    def fail_next_chunk(sent: int, _total: int) -> None:
        if sent == MIN_CHUNK_BYTES:
            sandbox.inject(Fault("upload", status=503, times=2))

    outcome = publish(setup, post, ledger_for(tmp_path, post.video), progress=fail_next_chunk)

    assert_one_post_of(sandbox, post, outcome)
    assert routes(sandbox, "upload") == 5
    assert len(setup.waits) == 3  # two backoffs and one processing poll


def test_a_chunk_committed_before_the_connection_dropped_is_not_sent_twice(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    """The retry gets 416 with the server's Content-Range and continues from the offset it reports."""
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])
    seen: list[int] = []

    def drop_next_chunk(sent: int, _total: int) -> None:
        seen.append(sent)
        if sent == MIN_CHUNK_BYTES:
            sandbox.inject(Fault("upload", kind="drop_after_commit"))

    outcome = publish(setup, post, ledger_for(tmp_path, post.video), progress=drop_next_chunk)

    assert_one_post_of(sandbox, post, outcome)
    assert routes(sandbox, "upload") == 4  # chunk 1, chunk 2 (dropped), chunk 2 again (416), chunk 3
    assert seen == [MIN_CHUNK_BYTES, post.size]


@pytest.mark.parametrize("after_commit", [False, True], ids=["503-before-taking-it", "503-after-taking-it"])
@pytest.mark.parametrize("chunked", [False, True], ids=["only-chunk", "last-of-three"])
def test_a_503_on_the_last_chunk_is_an_answer_the_chunk_is_sent_again_and_posted_once(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path, after_commit: bool, chunked: bool
) -> None:
    """A 5xx answer is not an unknown outcome: the chunk goes again (spec 3.2 "5xx: retry the chunk"),
    and a last chunk TikTok already took is answered 416 with the whole range: one upload_url, one post."""
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big" if chunked else "small"])
    failures = 1 if after_commit else 2  # a taken chunk sent again is answered 416, not failed again
    sandbox.fail_final_chunk(503, after_commit=after_commit, times=failures)
    journal = ledger_for(tmp_path, post.video)

    outcome = publish(setup, post, journal)

    assert_one_post_of(sandbox, post, outcome)
    assert not outcome.reconciled
    chunks = 3 if chunked else 1
    assert routes(sandbox, "upload") == chunks + failures  # the last chunk sent again after each 503
    assert routes(sandbox, "init") == 1
    assert sandbox.uploads_completed == 1
    assert len(setup.waits) == failures + 1  # the backoffs and one processing poll
    assert journal.snapshot().state == "published"


def test_503s_on_the_last_chunk_beyond_the_retries_fail_retryably_and_the_next_run_finishes(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox)
    post = post_of(videos["small"])
    sandbox.fail_final_chunk(503, times=5)
    with pytest.raises(PlatformError, match="last chunk answered HTTP 503") as failed:
        publish(setup, post, ledger_for(tmp_path, post.video))
    assert failed.value.kind is ErrorKind.RETRYABLE
    assert "unknown" not in str(failed.value)
    assert sandbox.posts == []

    outcome = publish(setup, post, ledger_for(tmp_path, post.video))

    assert_one_post_of(sandbox, post, outcome)
    assert routes(sandbox, "init") == 1  # resumed with the same publish_id


def test_a_connection_lost_after_the_last_chunk_is_reconciled_to_one_post(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    """Only a lost connection (or a timeout) after the last chunk is ambiguous: status/fetch is asked."""
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])

    def drop_the_last_chunk(sent: int, _total: int) -> None:
        if sent == 2 * MIN_CHUNK_BYTES:
            sandbox.inject(Fault("upload", kind="drop_after_commit"))

    journal = ledger_for(tmp_path, post.video)
    outcome = publish(setup, post, journal, progress=drop_the_last_chunk)

    assert_one_post_of(sandbox, post, outcome)
    assert outcome.reconciled
    assert routes(sandbox, "upload") == 3  # never re-sent: status/fetch said it arrived
    assert sandbox.uploads_completed == 1
    assert journal.snapshot().state == "published"


def test_connection_dropped_after_the_post_was_committed(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup.sandbox.inject(Fault("upload", kind="drop_after_commit"))
    post = post_of(videos["small"])
    journal = ledger_for(tmp_path, post.video)

    outcome = publish(setup, post, journal)

    assert_one_post_of(setup.sandbox, post, outcome)
    assert routes(setup.sandbox, "upload") == 1  # reconciled through status/fetch, never re-sent
    assert routes(setup.sandbox, "init") == 1
    assert routes(setup.sandbox, "creator_info") == 1  # reconcile found the post: publish was not re-entered
    assert journal.snapshot().state == "published"


def test_an_expired_upload_url_starts_over_only_after_checking(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])

    def expire_after_first_chunk(sent: int, _total: int) -> None:
        if sent == MIN_CHUNK_BYTES and routes(sandbox, "init") == 1:
            sandbox.expire_upload_urls()

    journal = ledger_for(tmp_path, post.video)
    outcome = publish(setup, post, journal, progress=expire_after_first_chunk)

    assert_one_post_of(sandbox, post, outcome)
    assert routes(sandbox, "init") == 2
    assert sandbox.uploads_completed == 1
    names = [route for route, _ in sandbox.requests]
    second_init = [index for index, name in enumerate(names) if name == "init"][1]
    assert names[second_init - 2 : second_init] == [
        "upload",
        "status",
    ]  # 403, then asked before starting over
    assert journal.snapshot().platform_ids["publish_id"] == sandbox.posts[0]["publish_id"]


def test_an_interrupted_upload_resumes_from_the_ledger(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox, chunk_size=MIN_CHUNK_BYTES)
    post = post_of(videos["big"])

    def break_the_rest(sent: int, _total: int) -> None:
        if sent == MIN_CHUNK_BYTES:
            sandbox.inject(Fault("upload", status=502, times=5))

    with pytest.raises(PlatformError) as failed:
        publish(setup, post, ledger_for(tmp_path, post.video), progress=break_the_rest)
    assert failed.value.kind is ErrorKind.RETRYABLE
    assert sandbox.posts == []

    outcome = publish(setup, post, ledger_for(tmp_path, post.video))

    assert_one_post_of(sandbox, post, outcome)
    assert routes(sandbox, "init") == 1
    assert routes(sandbox, "upload") == 1 + 5 + 2  # chunk 1, five refusals, then chunks 2 and 3 only


def test_expired_access_token_refreshes_and_persists_the_rotated_refresh_token(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    old = setup.store.saved[("tiktok", "default")]
    setup.sandbox.expire_tokens()
    post = post_of(videos["small"])

    outcome = publish(setup, post, ledger_for(tmp_path, post.video))

    assert_one_post_of(setup.sandbox, post, outcome)
    new = setup.store.saved[("tiktok", "default")]
    assert new.access_token != old.access_token
    assert new.refresh_token and new.refresh_token != old.refresh_token
    assert new.extra["open_id"] == setup.sandbox.open_id
    assert setup.sandbox.tokens.refreshes == 1
    reused = httpx.post(
        f"{setup.sandbox.base_url}/v2/oauth/token/",
        data={
            "client_key": setup.sandbox.client_key,
            "client_secret": setup.sandbox.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": old.refresh_token,
        },
        timeout=10,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_a_refused_refresh_token_is_a_clear_auth_error_without_secrets(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    store = MemoryStore()
    store.save("tiktok", "default", TokenSet("act.revoked-access", "act-refresh.revoked", None))
    client = TikTokClient(settings_for(sandbox), store, sleep=lambda _s: None)
    post = post_of(videos["small"])
    with pytest.raises(PlatformError) as refused:
        publish_once(client, post, ledger_for(tmp_path, post.video))
    assert refused.value.kind is ErrorKind.AUTH
    assert "invalid_grant" in str(refused.value) and "pellacia-dist auth tiktok" in str(refused.value)
    for secret in ("act.revoked-access", "act-refresh.revoked", sandbox.client_secret):
        assert secret not in str(refused.value)


@pytest.mark.parametrize(
    "with_access_token", [True, False], ids=["expired-access-token", "refresh-token-only"]
)
def test_without_the_secret_key_a_refresh_is_refused_before_the_token_endpoint_so_nothing_is_burned(
    sandbox: TikTokSandbox,
    videos: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_access_token: bool,
) -> None:
    """TikTok rotates refresh tokens: a refresh whose new refresh token cannot be stored would lock the
    account out for good, so without PELLACIA_SECRET_KEY the token endpoint is never called."""
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    grant = sandbox.issue_tokens()
    settings = replace(
        settings_for(sandbox),
        access_token=grant.access_token if with_access_token else None,
        refresh_token=grant.refresh_token,
    )
    store = credential_store(f"sqlite:///{tmp_path}/app.db")
    assert isinstance(store, EnvironmentOnlyStore)
    client = TikTokClient(settings, store, sleep=lambda _s: None)
    sandbox.expire_tokens()
    post = post_of(videos["small"])
    journal = ledger_for(tmp_path, post.video)

    with pytest.raises(PlatformError, match=f"but {SECRET_KEY_VARIABLE} is not set") as refused:
        publish_once(client, post, journal)

    assert refused.value.kind is ErrorKind.AUTH and "\n" not in str(refused.value)
    assert "pellacia-dist auth tiktok" in str(refused.value)
    assert routes(sandbox, "token") == 0 and sandbox.tokens.refreshes == 0
    assert routes(sandbox, "init") == 0 and sandbox.posts == []
    assert journal.snapshot().state == "failed"
    assert sandbox.tokens.refresh(grant.refresh_token) is not None  # still alive for `auth`


def test_an_unexpired_token_publishes_without_the_secret_key(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    grant = sandbox.issue_tokens()
    settings = replace(
        settings_for(sandbox), access_token=grant.access_token, refresh_token=grant.refresh_token
    )
    client = TikTokClient(settings, credential_store(f"sqlite:///{tmp_path}/app.db"), sleep=lambda _s: None)
    post = post_of(videos["small"])
    assert_one_post_of(sandbox, post, publish_once(client, post, ledger_for(tmp_path, post.video)))
    assert sandbox.tokens.refreshes == 0


def test_only_a_refresh_token_in_the_environment_is_enough(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    grant = sandbox.issue_tokens()
    store = MemoryStore()
    settings = replace(settings_for(sandbox), refresh_token=grant.refresh_token)
    client = TikTokClient(settings, store, sleep=lambda _s: None)
    post = post_of(videos["small"])
    publish_once(client, post, ledger_for(tmp_path, post.video))
    assert len(sandbox.posts) == 1
    assert store.saved[("tiktok", "default")].refresh_token != grant.refresh_token


def test_slow_processing_is_polled_and_a_later_run_picks_it_up(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    with running(TikTokSandbox(tmp_path / "sandbox", processing_polls=6)) as server:
        assert isinstance(server, TikTokSandbox)
        impatient = connect(server, max_polls=3)
        post = post_of(videos["small"])
        with pytest.raises(PlatformError, match="still waiting for TikTok's processing") as waiting:
            publish(impatient, post, ledger_for(tmp_path, post.video))
        assert waiting.value.kind is ErrorKind.RETRYABLE
        journal = ledger_for(tmp_path, post.video)
        assert journal.snapshot().state == "processing"
        assert impatient.waits == [POLL_S] * 2  # three polls, the interval between them

        outcome = publish(connect(server), post, journal)

        assert_one_post_of(server, post, outcome)
        assert outcome.reconciled  # found by reconciling the ledger's publish_id
        assert routes(server, "init") == 1 and routes(server, "upload") == 1


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("picture_size_check_failed", ErrorKind.INVALID_MEDIA),
        ("duration_check_failed", ErrorKind.INVALID_MEDIA),
        ("spam_risk_text", ErrorKind.POLICY),
    ],
)
def test_rejection_in_processing_fails_clearly(
    setup: Setup, videos: dict[str, Path], tmp_path: Path, reason: str, kind: ErrorKind
) -> None:
    setup.sandbox.reject_next_processing(reason)
    post = post_of(videos["small"])
    journal = ledger_for(tmp_path, post.video)
    with pytest.raises(
        PlatformError, match=f"rejected the video while processing it \\({reason}\\)"
    ) as rejected:
        publish(setup, post, journal)
    assert rejected.value.kind is kind
    assert setup.sandbox.posts == []
    assert journal.snapshot().state == "failed"


def test_an_internal_processing_failure_is_started_again(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup.sandbox.reject_next_processing("internal")
    post = post_of(videos["small"])
    with pytest.raises(PlatformError) as failed:
        publish(setup, post, ledger_for(tmp_path, post.video))
    assert failed.value.kind is ErrorKind.RETRYABLE

    outcome = publish(setup, post, ledger_for(tmp_path, post.video))

    assert_one_post_of(setup.sandbox, post, outcome)
    assert routes(setup.sandbox, "init") == 2


# --- refused before any request ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", "does not exist"),
        ("not_video", "not readable media"),
        ("avi", "only MP4, MOV and WebM"),
        ("long", "601.0 s is outside 1-600 s"),
        ("huge", "4100.0 MB is over the 4000 MB limit"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    setup: Setup, videos: dict[str, Path], tmp_path: Path, name: str, message: str
) -> None:
    video = videos.get(name, tmp_path / "missing.mp4")
    journal = ledger_for(tmp_path, videos["small"])
    with pytest.raises(PlatformError, match=message) as refused:
        publish(setup, post_of(video), journal)
    assert refused.value.kind is ErrorKind.INVALID_MEDIA
    assert setup.sandbox.requests == []
    assert journal.snapshot().state == "failed"


def test_a_title_and_hashtags_over_2200_utf16_units_are_refused_before_any_request(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    post = replace(post_of(videos["small"]), title="🎬" * 1095)  # 2190 UTF-16 units + the hashtags
    with pytest.raises(PlatformError, match="UTF-16 code units long; the limit is 2200"):
        publish(setup, post, ledger_for(tmp_path, post.video))
    assert setup.sandbox.requests == []


def test_a_long_description_is_trimmed_in_utf16_units_and_title_and_hashtags_survive(
    setup: Setup, videos: dict[str, Path], tmp_path: Path
) -> None:
    post = post_of(videos["small"], description="A night 🎬 at the lighthouse. " * 200)
    publish(setup, post, ledger_for(tmp_path, post.video))

    [stored] = setup.sandbox.posts
    caption = stored["post_info"]["title"]  # TikTok's caption field is post_info.title
    assert caption.startswith("A story\n\nA night 🎬 at the lighthouse. A night")
    assert caption.endswith("… #storytime #fyp")
    assert 2150 < len(caption.encode("utf-16-le")) // 2 <= 2200


def test_a_missing_privacy_choice_is_refused_before_any_request(
    sandbox: TikTokSandbox, videos: dict[str, Path], tmp_path: Path
) -> None:
    setup = connect(sandbox, privacy=None)
    with pytest.raises(PlatformError, match="PELLACIA_TIKTOK_PRIVACY_LEVEL") as refused:
        publish(setup, post_of(videos["small"]), ledger_for(tmp_path, videos["small"]))
    assert refused.value.kind is ErrorKind.POLICY
    assert sandbox.requests == []


def test_a_privacy_level_the_creator_does_not_offer_is_refused_with_the_options(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    with running(
        TikTokSandbox(tmp_path / "sandbox", privacy_level_options=PRIVATE_ACCOUNT_OPTIONS)
    ) as server:
        assert isinstance(server, TikTokSandbox)
        setup = connect(server, privacy="public_to_everyone")
        with pytest.raises(PlatformError) as refused:
            publish(setup, post_of(videos["small"]), ledger_for(tmp_path, videos["small"]))
        assert refused.value.kind is ErrorKind.POLICY
        assert "FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY" in str(refused.value)
        assert [route for route, _ in server.requests] == ["creator_info"]


def test_the_creators_own_duration_limit_is_respected(tmp_path: Path, videos: dict[str, Path]) -> None:
    with running(TikTokSandbox(tmp_path / "sandbox", max_video_post_duration_sec=2)) as server:
        assert isinstance(server, TikTokSandbox)
        setup = connect(server)
        with pytest.raises(PlatformError, match="may post at most 2 s") as refused:
            publish(setup, post_of(videos["small"]), ledger_for(tmp_path, videos["small"]))
        assert refused.value.kind is ErrorKind.INVALID_MEDIA
        assert [route for route, _ in server.requests] == ["creator_info"]


# --- pieces ------------------------------------------------------------------------------------------------


def test_chunk_plans_follow_the_documented_rules() -> None:
    assert ChunkPlan.for_size(50_000_123, 10_000_000) == ChunkPlan(
        50_000_123, 10_000_000, 5
    )  # the docs' example
    assert ChunkPlan.for_size(4_194_304, 10_000_000) == ChunkPlan(
        4_194_304, 4_194_304, 1
    )  # under 5 MB: whole
    assert ChunkPlan.for_size(8_000_000, 10_000_000) == ChunkPlan(8_000_000, 8_000_000, 1)
    four_gb = ChunkPlan.for_size(4_000_000_000, MIN_CHUNK_BYTES)
    assert four_gb.total_chunk_count <= 1000
    assert four_gb.video_size - (four_gb.total_chunk_count - 1) * four_gb.chunk_size < 128_000_000
    assert ChunkPlan(50_000_123, 10_000_000, 5).span(40_000_000) == (40_000_000, 50_000_123)
    with pytest.raises(PlatformError, match="not a chunk boundary"):
        ChunkPlan(50_000_123, 10_000_000, 5).span(12_345)
    with pytest.raises(ValueError, match="chunks must be"):
        TikTokClient(PlatformSettings("tiktok", {"api": "", "oauth": ""}, access_token="a"), chunk_size=1000)


def test_the_servers_content_range_is_read_in_either_reading() -> None:
    plan = ChunkPlan(50_000_123, 10_000_000, 5)
    assert plan.committed("bytes 0-9999999/50000123") == 10_000_000  # last byte index, as HTTP reads it
    assert plan.committed("bytes 0-10000000/50000123") == 10_000_000  # a byte count
    assert plan.committed("bytes */50000123") == 0
    assert plan.committed("bytes 0-50000122/50000123") == 50_000_123
    assert plan.committed("bytes 0-12345/50000123") is None
    assert plan.committed(None) is None


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", "https://open.tiktokapis.com/v2/post/publish/video/init/")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_errors_are_classified_by_code_and_status() -> None:
    def envelope(code: str) -> dict[str, Any]:
        return {"data": {}, "error": {"code": code, "message": "m", "log_id": "L1"}}

    assert classify(_response(200, envelope("ok"))) is None
    intentional = classify(_response(200, envelope("spam_risk_user_banned_from_posting")))
    assert intentional is not None and intentional.kind is ErrorKind.POLICY
    capped = classify(_response(403, envelope("spam_risk_too_many_posts")))
    assert (
        capped is not None
        and capped.kind is ErrorKind.RATE_LIMIT
        and capped.retry_after_s == DAILY_CAP_WAIT_S
    )
    expired = classify(_response(401, envelope("access_token_invalid")))
    assert expired is not None and expired.kind is ErrorKind.AUTH and expired.status == 401
    assert "log_id L1" in str(expired)
    gateway = classify(httpx.Response(502, text="<html>", request=httpx.Request("POST", "https://x/")))
    assert gateway is not None and gateway.kind is ErrorKind.RETRYABLE


def test_the_resource_builds_a_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    resource = TikTokResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path}/app.db"),
        urls={"api": "http://127.0.0.1:9", "oauth": "http://127.0.0.1:9"},
        access_token="act.env",
        options={"privacy_level": "SELF_ONLY"},
    )
    client = resource.get_client()
    assert isinstance(client, TikTokClient) and client.account == "default"


def test_no_tokens_at_all_is_a_clear_error() -> None:
    with pytest.raises(PlatformError, match="pellacia-dist auth tiktok") as missing:
        TikTokClient(PlatformSettings("tiktok", {"api": "", "oauth": ""}))
    assert missing.value.kind is ErrorKind.AUTH
