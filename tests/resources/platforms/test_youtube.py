"""The YouTube client (real google-api-python-client) against the YouTube sandbox, through publish_once and a
real LedgerJournal on SQLite: bytes, metadata, every fault of the brief, and exactly one post each time."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
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
from resources.platforms.credentials import DatabaseCredentialStore, EnvironmentOnlyStore, TokenSet
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.http import RetryPolicy
from resources.platforms.resource import YouTubeResource
from resources.platforms.youtube import (
    CHUNK_ALIGNMENT,
    UploadSettings,
    YouTubeClient,
    classify,
    seconds_until_quota_reset,
)
from sandbox.common import Fault, TokenGrant
from sandbox.youtube import YouTubeSandbox
from tests.media import grow_mp4

STORY = "story-1"
DECLARATIONS = {"privacy": "private", "made_for_kids": "false", "synthetic_media": "true"}
POLL_S = 0.25


def _ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *arguments], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("youtube-media")
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=30", "-f", "lavfi", "-i", "sine", "-t", "1.5",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-c:a", "aac", "-movflags", "+faststart",
        str(folder / "short.mp4"),
    )  # fmt: skip
    return folder


@pytest.fixture
def video(media: Path) -> Path:
    return media / "short.mp4"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[YouTubeSandbox]:
    server = YouTubeSandbox(tmp_path / "sandbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="test", source_ref="t", title="T", body="B"))
    return sessions


def settings_for(sandbox: YouTubeSandbox, grant: TokenGrant, **options: str) -> PlatformSettings:
    return PlatformSettings(
        platform="youtube",
        urls={root: sandbox.url(root) for root in ("api", "upload", "oauth", "analytics")},
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        options={**DECLARATIONS, **options},
    )


class Waits(list[float]):
    """The injected `sleep`: records how long the client wanted to wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(
    sandbox: YouTubeSandbox, waits: Waits, grant: TokenGrant | None = None, **keywords: Any
) -> YouTubeClient:
    options = keywords.pop("options", {})
    settings = settings_for(sandbox, grant or sandbox.issue_tokens(), **options)
    return YouTubeClient(settings, sleep=waits, poll_interval_s=POLL_S, **keywords)


def journal_for(factory: sessionmaker[Session], video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, 1, "youtube", "default", sha256_of(video)))


def post_of(
    video: Path, title: str = "The lighthouse keeper", description: str = "A short story."
) -> VideoPost:
    return VideoPost(video, title, description, ("#story", "#shorts"))


def chunks(sandbox: YouTubeSandbox) -> list[tuple[int | None, int | None, int]]:
    return [(put.first, put.last, put.status) for put in sandbox.session_puts]


def test_publishes_once_with_the_bytes_and_metadata_as_sent(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    journal = journal_for(factory, video)
    outcome = publish_once(client_for(sandbox, Waits()), post_of(video), journal)
    [posted] = sandbox.posts
    assert posted["sha256"] == sha256_of(video) and posted["size"] == video.stat().st_size
    assert posted["title"] == "The lighthouse keeper"
    assert posted["description"] == "A short story. #story #shorts"
    assert posted["tags"] == ["story", "shorts"]
    assert posted["category_id"] == "22"
    assert posted["status"] == {
        "privacyStatus": "private",
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
    }
    assert outcome.post.post_id == posted["id"]
    assert outcome.post.url == f"https://www.youtube.com/watch?v={posted['id']}"
    entry = journal.snapshot()
    assert entry.state == "published" and entry.post_id == posted["id"]
    assert entry.platform_ids["video_id"] == posted["id"]
    assert "upload_id=" in entry.platform_ids["session_uri"]


def test_a_scheduled_private_video_carries_publish_at(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
    client = client_for(sandbox, Waits(), options={"publish_at": when.isoformat(), "category_id": "24"})
    publish_once(client, post_of(video), journal_for(factory, video))
    [posted] = sandbox.posts
    assert posted["status"]["publishAt"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert posted["category_id"] == "24"


def test_a_chunk_failing_with_5xx_is_resumed_from_the_committed_range(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    waits = Waits()
    client = client_for(sandbox, waits, chunk_size=CHUNK_ALIGNMENT)

    def fail_once_after_the_first_chunk(sent: int, total: int) -> None:
        if sent == CHUNK_ALIGNMENT:
            sandbox.fail_next("upload_session", status=503)

    publish_once(client, post_of(video), journal_for(factory, video), fail_once_after_the_first_chunk)
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(video)]
    log = chunks(sandbox)
    assert log[:3] == [
        (0, CHUNK_ALIGNMENT - 1, 308),
        (None, None, 308),
        (CHUNK_ALIGNMENT, 2 * CHUNK_ALIGNMENT - 1, 308),
    ]
    assert len(waits) == 2 and 0 < waits[0] <= 1.0  # one backoff, one processing poll


def test_an_upload_resumes_from_the_offset_youtube_reports_not_its_own(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    client = client_for(sandbox, Waits(), chunk_size=2 * CHUNK_ALIGNMENT)

    def persist_half_of_the_second_chunk(sent: int, total: int) -> None:
        if sent == 2 * CHUNK_ALIGNMENT:
            sandbox.fail_next_chunk_after(CHUNK_ALIGNMENT)

    publish_once(client, post_of(video), journal_for(factory, video), persist_half_of_the_second_chunk)
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(video)]
    log = chunks(sandbox)
    assert log[1] == (2 * CHUNK_ALIGNMENT, 4 * CHUNK_ALIGNMENT - 1, 503)
    assert log[2] == (None, None, 308)
    assert log[3][0] == 3 * CHUNK_ALIGNMENT  # the committed offset, not the start of its own chunk


@pytest.mark.parametrize(("status", "retry_after", "expected"), [(429, 7, 7.0), (403, None, None)])
def test_a_rate_limit_waits_as_youtube_says_then_posts_once(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    video: Path,
    status: int,
    retry_after: int | None,
    expected: float | None,
) -> None:
    waits = Waits()
    sandbox.rate_limit_next("upload_start", status=status, retry_after_s=retry_after)
    publish_once(client_for(sandbox, waits), post_of(video), journal_for(factory, video))
    assert len(sandbox.posts) == 1
    assert sandbox.requests.count(("upload_start", "POST")) == 2
    if expected is not None:
        assert waits[0] == expected
    else:
        assert 0 < waits[0] <= 1.0  # exponential backoff of Google's sample: no hint was given


def test_an_exhausted_quota_stops_until_midnight_pacific(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.insert_quota = 0
    waits = Waits()
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match=r"quotaExceeded.*midnight Pacific time") as raised:
        publish_once(client_for(sandbox, waits), post_of(video), journal)
    assert raised.value.kind is ErrorKind.RATE_LIMIT
    assert raised.value.retry_after_s == pytest.approx(seconds_until_quota_reset(), abs=5)
    assert waits == [] and sandbox.posts == []
    assert "<a href" not in str(raised.value)


def test_a_connection_dropped_after_the_last_chunk_is_resolved_by_asking_the_session(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("upload_session", kind="drop_after_commit", times=2))
    journal = journal_for(factory, video)
    publish_once(client_for(sandbox, Waits()), post_of(video), journal)
    assert len(sandbox.posts) == 1
    assert chunks(sandbox)[-1] == (None, None, 200)  # the status query found the finished video
    assert journal.snapshot().state == "published"


def test_an_ambiguous_last_chunk_is_reconciled_through_the_ledger(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("upload_session", kind="drop_after_commit", times=4))
    journal = journal_for(factory, video)
    client = client_for(sandbox, Waits(), retry=RetryPolicy(max_attempts=2))
    outcome = publish_once(client, post_of(video), journal)
    [posted] = sandbox.posts
    assert outcome.post.post_id == posted["id"]
    assert sandbox.requests.count(("upload_start", "POST")) == 1
    assert journal.snapshot().state == "published"


class CrashingJournal(LedgerJournal):
    """The process dies right after the upload finished, before the video id reached the ledger."""

    def put(self, name: str, value: str) -> None:
        if name == "video_id":
            raise KeyboardInterrupt("simulated crash")
        super().put(name, value)


def test_a_crash_after_the_upload_finds_the_video_through_the_session(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    first = journal_for(factory, video)
    with pytest.raises(KeyboardInterrupt):
        publish_once(client_for(sandbox, Waits()), post_of(video), CrashingJournal(factory, first.entry_id))
    assert first.snapshot().state == "uploading" and len(sandbox.posts) == 1
    outcome = publish_once(client_for(sandbox, Waits()), post_of(video), journal_for(factory, video))
    assert outcome.reconciled
    assert [post["id"] for post in sandbox.posts] == [outcome.post.post_id]
    assert sandbox.requests.count(("upload_start", "POST")) == 1


def test_a_crash_mid_upload_resumes_the_same_session(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    def crash_after_two_chunks(sent: int, total: int) -> None:
        if sent == 2 * CHUNK_ALIGNMENT:
            raise KeyboardInterrupt("simulated crash")

    with pytest.raises(KeyboardInterrupt):
        publish_once(
            client_for(sandbox, Waits(), chunk_size=CHUNK_ALIGNMENT),
            post_of(video),
            journal_for(factory, video),
            crash_after_two_chunks,
        )
    assert sandbox.posts == []
    publish_once(
        client_for(sandbox, Waits(), chunk_size=CHUNK_ALIGNMENT), post_of(video), journal_for(factory, video)
    )
    assert [post["sha256"] for post in sandbox.posts] == [sha256_of(video)]
    assert sandbox.requests.count(("upload_start", "POST")) == 1
    assert len({put.upload_id for put in sandbox.session_puts}) == 1
    resumed = chunks(sandbox)[2:]
    assert resumed[:2] == [(None, None, 308), (None, None, 308)]  # reconcile asks, then publish asks again
    assert resumed[2][0] == 2 * CHUNK_ALIGNMENT


def test_an_expired_token_is_refreshed_at_the_token_endpoint_and_stored(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PELLACIA_SECRET_KEY", Fernet.generate_key().decode())
    store = DatabaseCredentialStore(factory)
    grant = sandbox.issue_tokens()
    store.save("youtube", "default", TokenSet(grant.access_token, grant.refresh_token))
    sandbox.expire_tokens()
    settings = settings_for(sandbox, grant)
    client = YouTubeClient(settings, store, sleep=Waits(), poll_interval_s=POLL_S)
    with caplog.at_level(logging.DEBUG):
        publish_once(client, post_of(video), journal_for(factory, video))
    assert len(sandbox.posts) == 1 and sandbox.tokens.refreshes == 1
    stored = store.load("youtube", "default")
    assert stored is not None and stored.access_token != grant.access_token
    assert stored.refresh_token == grant.refresh_token  # Google does not rotate refresh tokens
    assert sandbox.tokens.valid(stored.access_token)
    for secret in (grant.access_token, stored.access_token, grant.refresh_token, sandbox.client_secret):
        assert secret not in caplog.text


def test_without_the_secret_key_the_refreshed_token_is_kept_for_the_process_with_one_warning(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    video: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Google does not rotate refresh tokens, so refreshing without a place to store the result is safe:
    the post goes out, and the operator hears once that the token will not outlive the process."""
    monkeypatch.delenv("PELLACIA_SECRET_KEY", raising=False)
    grant = sandbox.issue_tokens()
    store = credential_store(f"sqlite:///{tmp_path / 'app.db'}")
    assert isinstance(store, EnvironmentOnlyStore)
    client = YouTubeClient(settings_for(sandbox, grant), store, sleep=Waits(), poll_interval_s=POLL_S)
    sandbox.expire_tokens()

    with caplog.at_level(logging.WARNING, logger="pellacia.platforms.credentials"):
        publish_once(client, post_of(video), journal_for(factory, video))
        sandbox.expire_tokens()
        client.tokens.refresh()

    assert len(sandbox.posts) == 1 and sandbox.tokens.refreshes == 2
    assert sandbox.tokens.valid(client.tokens.current.access_token)
    assert client.tokens.current.refresh_token == grant.refresh_token
    warnings = [
        record.getMessage() for record in caplog.records if "this process only" in record.getMessage()
    ]
    assert len(warnings) == 1 and "PELLACIA_SECRET_KEY is not set" in warnings[0]
    assert grant.refresh_token not in caplog.text and client.tokens.current.access_token not in caplog.text


def test_a_revoked_refresh_token_is_a_clear_auth_error_without_secrets(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    grant = TokenGrant("ya29.revoked-access-token", "1//revoked-refresh-token", 0.0)
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match=r"invalid_grant.*pellacia-dist auth youtube") as raised:
        publish_once(client_for(sandbox, Waits(), grant), post_of(video), journal)
    assert raised.value.kind is ErrorKind.AUTH
    for secret in (grant.access_token, grant.refresh_token, sandbox.client_secret):
        assert secret not in str(raised.value)
    assert journal.snapshot().state == "failed" and sandbox.posts == []


def test_slow_processing_is_polled_until_done(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 3
    waits = Waits()
    publish_once(client_for(sandbox, waits), post_of(video), journal_for(factory, video))
    assert waits == [POLL_S] * 3
    assert sandbox.requests.count(("videos_list", "GET")) == 4


def test_processing_that_outlasts_the_polls_keeps_the_video_for_the_next_attempt(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 3
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match="still processing after 2 polls") as raised:
        publish_once(client_for(sandbox, Waits(), max_polls=2), post_of(video), journal)
    assert raised.value.kind is ErrorKind.RETRYABLE
    assert journal.snapshot().state == "processing"
    outcome = publish_once(client_for(sandbox, Waits()), post_of(video), journal_for(factory, video))
    assert outcome.reconciled and len(sandbox.posts) == 1


@pytest.mark.parametrize(
    ("outcome", "reason", "kind"),
    [
        ("rejected", "duplicate", ErrorKind.DUPLICATE),
        ("rejected", "copyright", ErrorKind.POLICY),
        ("failed", "codec", ErrorKind.INVALID_MEDIA),
    ],
)
def test_a_video_rejected_in_processing_fails_clearly(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    video: Path,
    outcome: str,
    reason: str,
    kind: ErrorKind,
) -> None:
    if outcome == "rejected":
        sandbox.reject_next_processing(reason)
    else:
        sandbox.fail_next_processing(reason)
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match=f"{reason}") as raised:
        publish_once(client_for(sandbox, Waits()), post_of(video), journal)
    assert raised.value.kind is kind
    entry = journal.snapshot()
    assert entry.state == "failed" and reason in (entry.last_error or "")
    assert len(sandbox.posts) == 1


def _not_a_video(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("not a video at all")
    return path


def _too_long(folder: Path) -> Path:
    path = folder / "long.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=64x64:r=1", "-t", "901",
        "-c:v", "libx264", "-preset", "ultrafast", str(path),
    )  # fmt: skip
    return path


def _too_big(folder: Path, source: Path) -> Path:
    path = folder / "huge.mp4"
    path.write_bytes(source.read_bytes())
    grow_mp4(path, 257 * 1024**3)  # sparse: a real video header, 257 GiB on paper
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder, source: folder / "missing.mp4", "does not exist"),
        (lambda folder, source: _not_a_video(folder), "notes.mp4"),
        (lambda folder, source: _too_long(folder), "outside 1-900 s"),
        (lambda folder, source: _too_big(folder, source), "over the 274878 MB limit"),
    ],
    ids=["missing", "not-a-video", "too-long", "too-big"],
)
def test_bad_files_are_refused_before_any_request(
    sandbox: YouTubeSandbox,
    factory: sessionmaker[Session],
    video: Path,
    tmp_path: Path,
    make: Any,
    message: str,
) -> None:
    bad = make(tmp_path, video)
    journal = open_entry(factory, LedgerTarget(STORY, 1, "youtube", "default", "0" * 64))
    with pytest.raises(PlatformError, match=message) as raised:
        publish_once(client_for(sandbox, Waits()), post_of(bad), journal)
    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert sandbox.requests == [] and journal.snapshot().state == "failed"


@pytest.mark.parametrize(
    ("title", "description", "message"),
    [
        ("x" * 101, "", "title is 101 characters long; the limit is 100"),
        ("Cats <3 dogs", "", "forbidden characters <"),
        ("Fine", "é" * 2501, "caption is 5017 UTF-8 bytes long; the limit is 5000"),
    ],
)
def test_metadata_over_youtubes_limits_is_refused_before_any_request(
    sandbox: YouTubeSandbox, video: Path, title: str, description: str, message: str
) -> None:
    with pytest.raises(PlatformError, match=message):
        client_for(sandbox, Waits()).check(post_of(video, title, description))
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"made_for_kids": ""}, "PELLACIA_YOUTUBE_MADE_FOR_KIDS is not set"),
        ({"synthetic_media": ""}, "PELLACIA_YOUTUBE_SYNTHETIC_MEDIA is not set"),
        ({"privacy": ""}, "PELLACIA_YOUTUBE_PRIVACY is not set"),
        ({"privacy": "secret"}, "PELLACIA_YOUTUBE_PRIVACY='secret' is not one of"),
        ({"made_for_kids": "maybe"}, "PELLACIA_YOUTUBE_MADE_FOR_KIDS='maybe' is not true or false"),
        ({"privacy": "public", "publish_at": "2099-01-01T00:00:00Z"}, "PELLACIA_YOUTUBE_PRIVACY is 'public'"),
        ({"publish_at": "tomorrow"}, "PELLACIA_YOUTUBE_PUBLISH_AT='tomorrow' is not an RFC 3339 time"),
        ({"publish_at": "2020-01-01T00:00:00Z"}, "is in the past"),
    ],
)
def test_declarations_come_from_configuration_and_are_never_defaulted(
    sandbox: YouTubeSandbox, video: Path, options: dict[str, str], message: str
) -> None:
    client = client_for(sandbox, Waits(), options=options)
    with pytest.raises(PlatformError, match=message):
        client.check(post_of(video))
    assert sandbox.requests == []


def test_upload_settings_map_to_youtubes_status_fields() -> None:
    settings = UploadSettings.from_options(
        {"privacy": "Unlisted", "made_for_kids": "yes", "synthetic_media": "0"}
    )
    assert settings.status() == {
        "privacyStatus": "unlisted",
        "selfDeclaredMadeForKids": True,
        "containsSyntheticMedia": False,
    }


def test_metrics_read_the_statistics_and_the_daily_analytics(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    client = client_for(sandbox, Waits())
    video_id = publish_once(client, post_of(video), journal_for(factory, video)).post.post_id
    sandbox.age_post(video_id, 5)
    lifetime = sandbox.statistics(video_id)
    reading = client.lifetime_metrics([video_id])[video_id]
    assert reading.kind == "lifetime"
    assert (reading.values["views"], reading.values["likes"], reading.values["comments"]) == (
        lifetime["viewCount"],
        lifetime["likeCount"],
        lifetime["commentCount"],
    )
    today = dt.datetime.now(dt.UTC).date()
    days = client.daily_metrics([video_id], today - dt.timedelta(days=10), today)[video_id]
    # the sandbox keeps YouTube's reporting delay: the last two days have no rows yet
    assert list(days) == [today - dt.timedelta(days=back) for back in (5, 4, 3, 2)]
    first = sandbox.daily_report(video_id, today - dt.timedelta(days=5))
    day = days[today - dt.timedelta(days=5)]
    assert day.kind == "measured"
    assert day.values == {
        "views": first["views"],
        "likes": first["likes"],
        "comments": first["comments"],
        "shares": first["shares"],
        "watch_time_s": first["estimatedMinutesWatched"] * 60,
    }
    assert day.raw["averageViewDuration"] == first["averageViewDuration"]
    assert set(day.unavailable) == {"saves", "impressions", "reach"}


def test_days_without_analytics_yet_give_no_rows(
    sandbox: YouTubeSandbox, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.reporting_delay_days = 2
    client = client_for(sandbox, Waits())
    video_id = publish_once(client, post_of(video), journal_for(factory, video)).post.post_id
    today = dt.datetime.now(dt.UTC).date()
    assert client.daily_metrics([video_id], today - dt.timedelta(days=1), today) == {}


def test_google_errors_are_classified_by_reason() -> None:
    import httpx

    def error(status: int, reason: str) -> httpx.Response:
        body = {"error": {"code": status, "message": "m", "errors": [{"reason": reason, "domain": "d"}]}}
        return httpx.Response(status, json=body)

    kinds = {
        (401, "authError"): ErrorKind.AUTH,
        (403, "rateLimitExceeded"): ErrorKind.RATE_LIMIT,
        (403, "forbiddenPrivacySetting"): ErrorKind.POLICY,
        (400, "uploadLimitExceeded"): ErrorKind.RATE_LIMIT,
        (400, "invalidTitle"): ErrorKind.INVALID_MEDIA,
        (403, "insufficientPermissions"): ErrorKind.AUTH,
        (503, "backendError"): ErrorKind.RETRYABLE,
    }
    for (status, reason), kind in kinds.items():
        failure = classify(error(status, reason))
        assert failure is not None and failure.kind is kind, (status, reason)
    assert classify(httpx.Response(308)) is None


def test_the_resource_builds_a_client_from_its_configuration(sandbox: YouTubeSandbox, tmp_path: Path) -> None:
    grant = sandbox.issue_tokens()
    resource = YouTubeResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path / 'app.db'}"),
        urls={root: sandbox.url(root) for root in ("api", "upload", "oauth", "analytics")},
        access_token=grant.access_token,
        options=DECLARATIONS,
    )
    client = resource.get_client()
    assert isinstance(client, YouTubeClient)
    assert client.upload_settings().privacy == "private"


def test_a_chunk_size_youtube_would_refuse_is_a_clear_error(sandbox: YouTubeSandbox) -> None:
    with pytest.raises(ValueError, match="multiple of 256 KiB"):
        client_for(sandbox, Waits(), chunk_size=100_000)
