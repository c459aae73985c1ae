from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import SECRET_KEY_VARIABLE, CredentialStore, DatabaseCredentialStore
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.limits import escape_little_text
from resources.platforms.linkedin import DEFAULT_VERSION, LinkedInClient, classify, post_url
from resources.platforms.resource import LinkedInResource
from sandbox.common import Fault, TokenGrant, running
from sandbox.linkedin import PART_SIZE, THROTTLE_BODY, LinkedInSandbox
from tests.media import grow_mp4

SMALL_PART = 64 * 1024
POLL_S = 7.0
STORY = "lighthouse-keeper"


def _render(path: Path, size: str, seconds: float, *extra: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-f", "lavfi",
         "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", *extra,
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3.5 s vertical mp4 of about 370 KB: several 64 KiB parts."""
    return _render(tmp_path_factory.mktemp("linkedin") / "short.mp4", "180x320", 3.5)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LinkedInSandbox]:
    server = LinkedInSandbox(tmp_path / "sandbox", part_size=SMALL_PART, current_version=DEFAULT_VERSION)
    with running(server):
        yield server


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    factory = open_database(f"sqlite:///{tmp_path}/app.db")
    with transaction(factory) as session:
        record = SourceRecord(STORY, "manual", "test", "The lighthouse keeper", "He kept the light.")
        save_source(session, record)
    return factory


@pytest.fixture
def waits() -> list[float]:
    return []


ClientFactory = Callable[..., LinkedInClient]


@pytest.fixture
def make_client(sandbox: LinkedInSandbox, waits: list[float]) -> Iterator[ClientFactory]:
    grant = sandbox.issue_tokens()
    made: list[LinkedInClient] = []

    def make(store: CredentialStore | None = None, **changes: Any) -> LinkedInClient:
        client = LinkedInClient(
            _settings(sandbox, grant, **changes), store, sleep=waits.append, poll_interval_s=POLL_S
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _settings(sandbox: LinkedInSandbox, grant: TokenGrant, **changes: Any) -> PlatformSettings:
    fields: dict[str, Any] = {
        "platform": "linkedin",
        "urls": {"api": sandbox.url("api"), "oauth": sandbox.url("oauth")},
        "account": "brand",
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "account_id": sandbox.author,
        "options": {},
    }
    fields.update(changes)
    return PlatformSettings(**fields)


def _post(video: Path, **changes: Any) -> VideoPost:
    fields: dict[str, Any] = {
        "video": video,
        "title": "The lighthouse keeper (part 1)",
        "description": "His last night on the rock [a true story] with *stars* & sea_spray",
        "hashtags": ("#history", "#shorts"),
    }
    fields.update(changes)
    return VideoPost(**fields)


def _journal(factory: sessionmaker[Session], video: Path) -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, 1, "linkedin", "brand", sha256_of(video)))


def _count(sandbox: LinkedInSandbox, route: str) -> int:
    return sum(1 for name, _method in sandbox.requests if name == route)


def _assert_one_post_of(sandbox: LinkedInSandbox, video: Path, post_id: str) -> dict[str, Any]:
    [stored] = sandbox.posts
    assert stored["id"] == post_id
    assert stored["sha256"] == sha256_of(video)
    assert stored["size"] == video.stat().st_size
    return stored


def test_publishes_once_with_bytes_and_metadata_intact(
    video: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
    waits: list[float],
) -> None:
    post = _post(video)
    journal = _journal(factory, video)
    progress: list[tuple[int, int]] = []

    outcome = publish_once(make_client(), post, journal, lambda done, total: progress.append((done, total)))

    stored = _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert stored["commentary"] == escape_little_text(post.caption())
    assert stored["text"] == post.caption()  # nothing lost to unescaped little-text characters
    assert stored["title"] == post.title
    assert stored["author"] == sandbox.author
    assert stored["visibility"] == "PUBLIC" and stored["lifecycle_state"] == "PUBLISHED"
    assert stored["distribution"]["feedDistribution"] == "MAIN_FEED"
    assert outcome.post.url == f"https://www.linkedin.com/feed/update/{stored['id']}/"
    entry = journal.snapshot()
    assert entry.state == "published" and entry.post_id == stored["id"]
    assert entry.platform_ids["video_urn"] == stored["media_id"]
    assert entry.platform_ids["post_urn"] == stored["id"]
    parts = math.ceil(video.stat().st_size / SMALL_PART)
    assert [upload["parts"] for upload in sandbox.uploads] == [parts]
    assert len([etag for etag in _etags(journal) if etag]) == parts
    assert progress[-1] == (video.stat().st_size, video.stat().st_size)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert waits == [POLL_S]  # one processing poll, nothing else waited for


def _etags(journal: LedgerJournal) -> list[str | None]:
    return list(json.loads(journal.ids()["part_etags"]))


@pytest.mark.e2e
def test_large_video_goes_up_in_real_4_mib_parts(
    tmp_path: Path, factory: sessionmaker[Session], waits: list[float]
) -> None:
    large = _render(tmp_path / "large.mp4", "1080x1920", 3.5, "-crf", "0")
    assert large.stat().st_size > 3 * PART_SIZE
    sandbox = LinkedInSandbox(tmp_path / "sandbox", current_version=DEFAULT_VERSION)
    with running(sandbox):
        client = LinkedInClient(_settings(sandbox, sandbox.issue_tokens()), sleep=waits.append)
        outcome = publish_once(client, _post(large), _journal(factory, large))
        client.close()
    _assert_one_post_of(sandbox, large, outcome.post.post_id)
    assert sandbox.uploads[0]["parts"] == math.ceil(large.stat().st_size / PART_SIZE)


def test_throttling_backs_off_exponentially_and_posts_once(
    video: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
    waits: list[float],
) -> None:
    sandbox.throttle("initialize_upload")
    sandbox.throttle("create_post")

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    backoffs = [wait for wait in waits if wait != POLL_S]
    assert len(backoffs) == 2 and all(0.5 <= wait <= 1.0 for wait in backoffs)  # first backoff step


def test_a_retry_after_header_is_honoured_when_sent(
    video: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
    waits: list[float],
) -> None:
    sandbox.inject(Fault("create_post", status=429, body=dict(THROTTLE_BODY), headers={"Retry-After": "42"}))

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert 42.0 in waits


def test_exhausted_daily_limit_stops_and_the_next_attempt_resumes_at_the_post(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.throttle("create_post", times=5)
    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(video), _journal(factory, video))
    assert raised.value.kind is ErrorKind.RATE_LIMIT
    assert "midnight UTC" in str(raised.value)
    assert sandbox.posts == []
    parts_sent = _count(sandbox, "part")

    journal = _journal(factory, video)
    assert journal.state == "processing"  # kept for the retry, not failed
    outcome = publish_once(make_client(), _post(video), journal)

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert len(sandbox.uploads) == 1 and _count(sandbox, "part") == parts_sent  # nothing uploaded again


def test_server_error_on_a_part_resends_only_that_part(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.fail("part", status=503)

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert _count(sandbox, "part") == sandbox.uploads[0]["parts"] + 1


def test_an_interrupted_upload_resumes_from_the_journaled_etags(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    failures = 5  # the transport's attempts per call

    def break_after_two_parts(done: int, total: int) -> None:
        if done == 2 * SMALL_PART:
            sandbox.fail("part", status=500, times=failures)

    one_at_a_time = {"parts_in_flight": "1"}
    with pytest.raises(PlatformError) as raised:
        publish_once(
            make_client(options=one_at_a_time), _post(video), _journal(factory, video), break_after_two_parts
        )
    assert raised.value.kind is ErrorKind.RETRYABLE
    journal = _journal(factory, video)
    assert journal.state == "uploading"
    assert len([etag for etag in _etags(journal) if etag]) == 2

    outcome = publish_once(make_client(options=one_at_a_time), _post(video), journal)

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    parts = sandbox.uploads[0]["parts"]
    assert len(sandbox.uploads) == 1
    assert _count(sandbox, "part") == 2 + failures + (parts - 2)


def test_two_parts_are_in_flight_at_once(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.inject(Fault("part", kind="delay", seconds=0.3, times=2))

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert sandbox.most_parts_at_once == 2
    assert sandbox.uploads[0]["hashed_as_parts_arrived"]


def test_one_part_in_flight_when_configured(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.inject(Fault("part", kind="delay", seconds=0.1, times=2))

    client = make_client(options={"parts_in_flight": "1"})
    outcome = publish_once(client, _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert sandbox.most_parts_at_once == 1


@pytest.mark.parametrize("setting", ["0", "two", "-1"])
def test_a_bad_parts_in_flight_setting_is_refused(make_client: ClientFactory, setting: str) -> None:
    with pytest.raises(PlatformError, match="PARTS_IN_FLIGHT") as raised:
        make_client(options={"parts_in_flight": setting})
    assert raised.value.kind is ErrorKind.POLICY


def test_a_failed_part_with_two_in_flight_stops_the_upload_and_resumes_only_missing_parts(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    failures = 5  # the transport's attempts per call
    sandbox.fail_part(2, status=500, times=failures)

    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(video), _journal(factory, video))
    assert raised.value.kind is ErrorKind.RETRYABLE and "HTTP 500" in str(raised.value)
    journal = _journal(factory, video)
    etags = _etags(journal)
    assert journal.state == "uploading"
    assert etags[0] and etags[1] and not etags[2]
    parts = sandbox.uploads[0]["parts"]

    outcome = publish_once(make_client(), _post(video), journal)

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert len(sandbox.uploads) == 1
    assert _count(sandbox, "part") == parts + failures  # every part went up once, part 2 after its failures


def test_a_finalize_whose_answer_was_lost_is_not_repeated_blindly(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.inject(Fault("finalize_upload", kind="drop_after_commit"))

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert _count(sandbox, "finalize_upload") == 2  # the retry was refused: already finalized, so carry on


def test_refused_parts_are_sent_again_on_the_next_attempt(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    refusal = {
        "status": 422,
        "code": "UNPROCESSABLE_ENTITY",
        "message": "ERROR :: uploadedPartIds :: mismatch",
    }
    sandbox.inject(Fault("finalize_upload", status=422, body=refusal))
    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(video), _journal(factory, video))
    assert raised.value.kind is ErrorKind.INVALID_MEDIA and "mismatch" in str(raised.value)

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert len(sandbox.uploads) == 1 and _count(sandbox, "part") == 2 * sandbox.uploads[0]["parts"]


def test_connection_dropped_after_the_post_was_committed(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.inject(Fault("create_post", kind="drop_after_commit"))
    journal = _journal(factory, video)

    outcome = publish_once(make_client(), _post(video), journal)

    stored = _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert _count(sandbox, "find_posts") == 1 and _count(sandbox, "create_post") == 1
    assert journal.snapshot().state == "published" and journal.snapshot().post_id == stored["id"]


def test_a_lagging_finder_still_ends_with_one_post_through_the_duplicate_answer(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.inject(Fault("create_post", kind="drop_after_commit"))
    sandbox.inject(
        Fault("find_posts", status=200, body={"elements": [], "paging": {"start": 0, "count": 10}})
    )

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert _count(sandbox, "create_post") == 2  # the second answered 422 "duplicate of <our post>"


def test_a_duplicate_of_another_video_is_refused(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    publish_once(make_client(), _post(video), _journal(factory, video))
    other = open_entry(
        factory, LedgerTarget(STORY, 2, "linkedin", "brand", sha256_of(video)), allow_duplicate=True
    )

    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(video), other)

    assert raised.value.kind is ErrorKind.DUPLICATE
    assert "change the caption" in str(raised.value)
    assert len(sandbox.posts) == 1 and other.snapshot().state == "failed"


def test_expired_token_is_refreshed_through_the_token_endpoint_and_stored(
    video: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    store = DatabaseCredentialStore(factory)
    client = make_client(store)
    old = client.tokens.current
    sandbox.expire_tokens()

    outcome = publish_once(client, _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert sandbox.tokens.refreshes == 1
    saved = store.load("linkedin", "brand")
    assert saved is not None and saved.access_token != old.access_token
    assert sandbox.tokens.valid(saved.access_token)
    assert saved.refresh_token == old.refresh_token  # LinkedIn does not rotate refresh tokens
    assert saved.extra["refresh_token_expires_at"] > 0


def test_refused_refresh_is_an_auth_error_without_secrets(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    client = make_client(client_secret="not-the-secret")
    journal = _journal(factory, video)
    sandbox.expire_tokens()

    with pytest.raises(PlatformError) as raised:
        publish_once(client, _post(video), journal)

    assert raised.value.kind is ErrorKind.AUTH
    assert "pellacia-dist auth linkedin" in str(raised.value)
    for secret in (client.tokens.current.access_token, client.tokens.current.refresh_token, "not-the-secret"):
        assert secret is not None and secret not in str(raised.value)
        assert secret not in (journal.snapshot().last_error or "")
    assert journal.snapshot().state == "failed" and sandbox.posts == []


def test_slow_processing_is_polled_until_available(
    video: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
    waits: list[float],
) -> None:
    sandbox.processing_polls = 5

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert waits == [POLL_S] * 5


def test_processing_that_runs_past_max_polls_is_retryable(
    video: Path, sandbox: LinkedInSandbox, factory: sessionmaker[Session], waits: list[float]
) -> None:
    sandbox.processing_polls = 10
    settings = _settings(sandbox, sandbox.issue_tokens())
    client = LinkedInClient(settings, sleep=waits.append, poll_interval_s=POLL_S, max_polls=3)
    with pytest.raises(PlatformError) as raised:
        publish_once(client, _post(video), _journal(factory, video))
    client.close()
    assert raised.value.kind is ErrorKind.RETRYABLE and "still PROCESSING after 3 polls" in str(raised.value)

    again = LinkedInClient(settings, sleep=waits.append, poll_interval_s=POLL_S)
    outcome = publish_once(again, _post(video), _journal(factory, video))
    again.close()

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert len(sandbox.uploads) == 1


def test_rejection_in_processing_fails_clearly_and_a_retry_uploads_afresh(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    sandbox.reject_next_processing("Unsupported audio sample rate")
    journal = _journal(factory, video)

    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(video), journal)

    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert "Unsupported audio sample rate" in str(raised.value)
    assert journal.snapshot().state == "failed" and sandbox.posts == []

    outcome = publish_once(make_client(), _post(video), _journal(factory, video))

    _assert_one_post_of(sandbox, video, outcome.post.post_id)
    assert [upload["status"] for upload in sandbox.uploads] == ["PROCESSING_FAILED", "AVAILABLE"]


def _not_a_video(directory: Path) -> Path:
    path = directory / "notes.mp4"
    path.write_text("just words, no frames\n" * 100)
    return path


def _too_short(directory: Path) -> Path:
    return _render(directory / "blink.mp4", "180x320", 1.0)


def _too_big(directory: Path, video: Path) -> Path:
    path = directory / "huge.mp4"
    path.write_bytes(video.read_bytes())
    grow_mp4(path, 501_000_000)  # sparse: a real mp4 header, 501 MB long
    return path


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (lambda directory, video: directory / "missing.mp4", "does not exist"),
        (lambda directory, video: _not_a_video(directory), "not a readable video"),
        (lambda directory, video: _too_short(directory), "outside 3-1800 s"),
        (_too_big, "over the 500 MB limit"),
    ],
    ids=["missing", "not-a-video", "too-short", "too-big"],
)
def test_bad_files_are_refused_before_any_request(
    make_file: Callable[[Path, Path], Path],
    expected: str,
    video: Path,
    tmp_path: Path,
    sandbox: LinkedInSandbox,
    make_client: ClientFactory,
    factory: sessionmaker[Session],
) -> None:
    bad = make_file(tmp_path, video)
    journal = open_entry(factory, LedgerTarget(STORY, 1, "linkedin", "brand", "0" * 64))

    with pytest.raises(PlatformError) as raised:
        publish_once(make_client(), _post(bad), journal)

    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert expected in str(raised.value)
    assert sandbox.requests == []
    assert journal.snapshot().state == "failed"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"description": "(" * 1600}, "the caption is 3217 characters long; the limit is 3000"),
        ({"title": "T" * 101}, "the title is 101 characters long; the limit is 100"),
        ({"hashtags": ("#two words",)}, "is not a single #word"),
    ],
    ids=["caption-after-escaping", "title", "hashtag"],
)
def test_metadata_over_the_limits_is_refused_before_any_request(
    changes: dict[str, Any], expected: str, video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory
) -> None:
    with pytest.raises(PlatformError) as raised:
        make_client().check(_post(video, **changes))
    assert raised.value.kind is ErrorKind.INVALID_MEDIA
    assert expected in str(raised.value)
    assert sandbox.requests == []


def test_a_retired_api_version_says_how_to_fix_it(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    client = make_client(options={"version": "202401"})
    with pytest.raises(PlatformError) as raised:
        publish_once(client, _post(video), _journal(factory, video))
    assert raised.value.kind is ErrorKind.POLICY and raised.value.status == 426
    assert "LinkedIn-Version 202401" in str(raised.value) and "PELLACIA_LINKEDIN_VERSION" in str(raised.value)
    assert client.tokens.current.access_token not in str(raised.value)


def test_posting_for_an_author_without_permission_is_a_policy_error(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    with pytest.raises(PlatformError) as raised:
        publish_once(
            make_client(account_id="urn:li:organization:999"), _post(video), _journal(factory, video)
        )
    assert raised.value.kind is ErrorKind.POLICY and raised.value.status == 403
    assert "w_organization_social" in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"account_id": None}, "PELLACIA_LINKEDIN_AUTHOR"),
        ({"account_id": "acme"}, "urn:li:organization:<id>"),
        ({"access_token": None, "refresh_token": None}, "PELLACIA_LINKEDIN_ACCESS_TOKEN"),
        ({"options": {"version": "2026-11"}}, "YYYYMM"),
    ],
    ids=["no-author", "bad-author", "no-token", "bad-version"],
)
def test_configuration_mistakes_are_named(
    changes: dict[str, Any], expected: str, sandbox: LinkedInSandbox, make_client: ClientFactory
) -> None:
    with pytest.raises(PlatformError, match=expected):
        make_client(**changes)


def test_organization_metrics_come_from_share_statistics(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    client = make_client()
    post_id = publish_once(client, _post(video), _journal(factory, video)).post.post_id

    reading = client.lifetime_metrics([post_id])[post_id]

    stats = sandbox.metrics_for(post_id)
    assert reading.values == {
        "likes": stats["likeCount"],
        "comments": stats["commentCount"],
        "shares": stats["shareCount"],
        "impressions": stats["impressionCount"],
        "reach": stats["uniqueImpressionsCount"],
    }
    assert reading.raw["clickCount"] == stats["clickCount"]
    assert "impressions, not video views" in reading.unavailable["views"]


def test_member_metrics_come_from_creator_post_analytics(
    video: Path, tmp_path: Path, factory: sessionmaker[Session], waits: list[float]
) -> None:
    member = LinkedInSandbox(
        tmp_path / "member", author="urn:li:person:8675309", current_version=DEFAULT_VERSION
    )
    with running(member):
        client = LinkedInClient(_settings(member, member.issue_tokens()), sleep=waits.append)
        post_id = publish_once(client, _post(video), _journal(factory, video)).post.post_id
        reading = client.lifetime_metrics([post_id])[post_id]
        client.close()

    stats = member.metrics_for(post_id)
    assert reading.values == {
        "likes": stats["likeCount"],
        "comments": stats["commentCount"],
        "shares": stats["shareCount"],
        "impressions": stats["impressionCount"],
        "reach": stats["uniqueImpressionsCount"],
    }
    assert set(reading.unavailable) == {"views", "saves", "watch_time_s"}


def test_reconcile_with_nothing_journaled_asks_nothing(
    video: Path, sandbox: LinkedInSandbox, make_client: ClientFactory, factory: sessionmaker[Session]
) -> None:
    assert make_client().reconcile(_post(video), _journal(factory, video)) is None
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN"}, ErrorKind.AUTH),
        (403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED"}, ErrorKind.POLICY),
        (426, {"status": 426, "code": "NONEXISTENT_VERSION"}, ErrorKind.POLICY),
        (429, THROTTLE_BODY, ErrorKind.RATE_LIMIT),
        (
            422,
            {"status": 422, "message": "Content is a duplicate of urn:li:share:7"},
            ErrorKind.DUPLICATE,
        ),
        (422, {"status": 422, "code": "UNPROCESSABLE_ENTITY"}, ErrorKind.INVALID_MEDIA),
        (400, {"error": "invalid_request", "error_description": "bad refresh token"}, ErrorKind.AUTH),
        (503, None, ErrorKind.RETRYABLE),
    ],
)
def test_classify_sorts_linkedin_errors(status: int, body: dict[str, Any] | None, kind: ErrorKind) -> None:
    request = httpx.Request(
        "POST", "https://api.linkedin.com/rest/posts", headers={"LinkedIn-Version": "202401"}
    )
    response = httpx.Response(status, json=body, request=request)
    error = classify(response)
    assert error is not None and error.kind is kind and error.status == status
    assert classify(httpx.Response(201, request=request)) is None


def test_resource_builds_a_client_from_its_settings(
    tmp_path: Path, sandbox: LinkedInSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    resource = LinkedInResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path}/app.db"),
        urls={"api": sandbox.url("api"), "oauth": sandbox.url("oauth")},
        account_id=sandbox.author,
        access_token="token-from-the-environment",
    )
    client = resource.get_client()
    assert isinstance(client, LinkedInClient)
    assert client.author == sandbox.author and client.version == DEFAULT_VERSION
    assert post_url("urn:li:share:1") == "https://www.linkedin.com/feed/update/urn:li:share:1/"
    client.close()
