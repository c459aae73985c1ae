"""The X client against the X sandbox over real HTTP, through publish_once and a real SQLite ledger."""

from __future__ import annotations

import shutil
import subprocess
import tracemalloc
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
from resources.platforms.clients import credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import SECRET_KEY_VARIABLE, DatabaseCredentialStore
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.limits import x_weighted_length
from resources.platforms.resource import XResource
from resources.platforms.x import DEFAULT_CHUNK_SIZE, XClient, classify, multipart_segment
from sandbox.common import Fault, running
from sandbox.x import XSandbox
from tests.media import grow_mp4

STORY = "story-x"
CAPTION = "A lighthouse keeper finds a message in a bottle. #shorts #story"


def make_video(
    path: Path, seconds: float, size: str = "720x1280", rate: int = 30, extra: list[str] | None = None
) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", *(extra or []), "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("x-video") / "short.mp4", 1.0)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "sandbox")
    with running(server):
        yield server


@pytest.fixture
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="test", source_ref="t", title="T", body="B"))
    return sessions


@pytest.fixture
def waits() -> list[float]:
    return []


ClientMaker = Callable[..., XClient]


@pytest.fixture
def make_client(
    sandbox: XSandbox, factory: sessionmaker[Session], waits: list[float]
) -> Iterator[ClientMaker]:
    made: list[XClient] = []

    def make(**overrides: Any) -> XClient:
        grant = sandbox.issue_tokens()
        fields: dict[str, Any] = {
            "platform": "x",
            "urls": {"api": sandbox.base_url, "oauth": sandbox.base_url},
            "account": "main",
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        }
        options = {key: overrides.pop(key) for key in list(overrides) if key in fields}
        client = XClient(
            PlatformSettings(**{**fields, **options}),
            DatabaseCredentialStore(factory),
            sleep=waits.append,
            **overrides,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def journal_for(factory: sessionmaker[Session], video: Path, part: int = 1) -> LedgerJournal:
    return open_entry(factory, LedgerTarget(STORY, part, "x", "main", sha256_of(video)))


def post_of(video: Path, description: str = CAPTION, title: str = "The bottle") -> VideoPost:
    return VideoPost(video=video, title=title, description=description)


def routes(sandbox: XSandbox, name: str) -> int:
    return sum(1 for route, _method in sandbox.requests if route == name)


def test_publishes_the_exact_bytes_and_text_and_records_every_id(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    journal = journal_for(factory, video)
    outcome = publish_once(make_client(), post_of(video), journal)

    [stored] = sandbox.posts
    assert stored["sha256"] == sha256_of(video)
    assert stored["size"] == video.stat().st_size
    assert stored["text"] == f"The bottle\n\n{CAPTION}"  # an X post has no title field: the text leads
    assert outcome.post.post_id == stored["id"]
    assert outcome.post.url == f"https://x.com/i/web/status/{stored['id']}"
    entry = journal.snapshot()
    assert (entry.state, entry.post_id, entry.url) == ("published", stored["id"], outcome.post.url)
    assert entry.platform_ids["media_id"] == stored["media_ids"][0]
    assert entry.platform_ids["media_key"] == f"13_{stored['media_ids'][0]}"
    assert entry.platform_ids["tweet_id"] == stored["id"]
    assert entry.platform_ids["media_state"] == "succeeded"
    assert entry.platform_ids["chunk_size"] == str(DEFAULT_CHUNK_SIZE)


def test_a_multi_segment_upload_streams_every_segment_in_order(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    chunk = 128 * 1024
    seen: list[tuple[int, int]] = []
    publish_once(
        make_client(chunk_size=chunk),
        post_of(video),
        journal_for(factory, video),
        progress=lambda d, t: seen.append((d, t)),
    )

    segments = -(-video.stat().st_size // chunk)
    assert segments >= 3
    assert [index for _media, index in sandbox.appends] == list(range(segments))
    assert seen[-1] == (video.stat().st_size, video.stat().st_size)
    assert sandbox.posts[0]["sha256"] == sha256_of(video)


def test_a_rate_limited_post_waits_until_x_rate_limit_reset_then_posts_once(
    sandbox: XSandbox,
    make_client: ClientMaker,
    factory: sessionmaker[Session],
    video: Path,
    waits: list[float],
) -> None:
    sandbox.rate_limit_next("tweets_create", wait_s=40)
    publish_once(make_client(), post_of(video), journal_for(factory, video))

    assert len(sandbox.posts) == 1
    assert routes(sandbox, "tweets_create") == 2
    assert any(38.0 <= wait <= 40.0 for wait in waits), waits


def test_a_legacy_code_88_body_is_a_rate_limit_too(
    sandbox: XSandbox,
    make_client: ClientMaker,
    factory: sessionmaker[Session],
    video: Path,
    waits: list[float],
) -> None:
    sandbox.rate_limit_next("media_initialize", wait_s=20, legacy_body=True)
    publish_once(make_client(), post_of(video), journal_for(factory, video))

    assert len(sandbox.posts) == 1
    assert any(18.0 <= wait <= 20.0 for wait in waits), waits


def test_a_5xx_on_a_segment_is_retried_and_the_video_arrives_whole(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client(chunk_size=128 * 1024)
    appends = 0

    def fail_third_segment() -> None:
        nonlocal appends
        appends += 1
        if appends == 3:
            sandbox.inject(
                Fault("media_append", status=503, body={"title": "Service Unavailable", "status": 503})
            )

    publish_once(
        client, post_of(video), journal_for(factory, video), progress=lambda _d, _t: fail_third_segment()
    )

    indexes = [index for _media, index in sandbox.appends]
    assert indexes == sorted(indexes) and len(indexes) == len(set(indexes))
    assert routes(sandbox, "media_append") == len(indexes) + 1
    assert len(sandbox.posts) == 1
    assert sandbox.posts[0]["sha256"] == sha256_of(video)


def test_an_upload_that_gives_up_resumes_from_the_next_segment(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    chunk = 128 * 1024
    client = make_client(chunk_size=chunk)
    journal = journal_for(factory, video)

    def break_after_two_segments(done: int, _total: int) -> None:
        if done == 2 * chunk:
            sandbox.inject(Fault("media_append", kind="drop", times=client.http.retry.max_attempts))

    with pytest.raises(PlatformError) as failure:
        publish_once(client, post_of(video), journal, progress=break_after_two_segments)
    assert failure.value.kind is ErrorKind.RETRYABLE
    assert journal.get("last_segment_index") == "1"
    assert journal.state == "uploading"

    outcome = publish_once(client, post_of(video), journal_for(factory, video))

    segments = -(-video.stat().st_size // chunk)
    assert [index for _media, index in sandbox.appends] == list(range(segments))
    assert routes(sandbox, "media_initialize") == 1
    assert sandbox.posts[0]["sha256"] == sha256_of(video)
    assert outcome.post.post_id == sandbox.posts[0]["id"]


def test_the_intent_is_in_the_ledger_before_the_first_create_call(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client()
    sandbox.inject(Fault("media_initialize", kind="drop", times=client.http.retry.max_attempts))
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match="RemoteProtocolError"):
        publish_once(client, post_of(video), journal)

    assert journal.state == "uploading"
    assert journal.get("media_id") is None
    assert routes(sandbox, "media_initialize") == client.http.retry.max_attempts


def test_a_connection_dropped_after_the_post_was_made_is_reconciled_without_a_second_post(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("tweets_create", kind="drop_after_commit"))
    journal = journal_for(factory, video)
    outcome = publish_once(make_client(), post_of(video), journal)

    [stored] = sandbox.posts
    assert outcome.post.post_id == stored["id"]
    assert outcome.post.url == f"https://x.com/{sandbox.username}/status/{stored['id']}"
    assert routes(sandbox, "tweets_create") == 1
    assert routes(sandbox, "users_tweets") == 1
    assert journal.snapshot().state == "published"


def test_a_post_lost_before_x_saw_it_is_made_again_once(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("tweets_create", kind="drop"))
    publish_once(make_client(), post_of(video), journal_for(factory, video))

    assert len(sandbox.posts) == 1
    assert routes(sandbox, "tweets_create") == 2


def test_a_duplicate_refusal_after_an_ambiguous_post_finds_the_earlier_post(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.inject(Fault("tweets_create", kind="drop_after_commit"))
    sandbox.inject(Fault("users_tweets", status=200, body={"meta": {"result_count": 0}}))
    outcome = publish_once(make_client(), post_of(video), journal_for(factory, video))

    [stored] = sandbox.posts
    assert outcome.post.post_id == stored["id"]
    assert routes(sandbox, "tweets_create") == 2


def test_a_crash_after_the_post_is_answered_from_the_journal_on_the_next_run(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client()
    journal = journal_for(factory, video)
    made = client.publish(post_of(video), journal)
    journal.mark_failed("worker died before the ledger was updated", state="unknown")

    outcome = publish_once(client, post_of(video), journal_for(factory, video))

    assert outcome.reconciled
    assert outcome.post.post_id == made.post_id
    assert len(sandbox.posts) == 1


def test_an_expired_access_token_is_refreshed_and_the_rotated_tokens_are_stored(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client()
    old_refresh = client.tokens.current.refresh_token
    old_access = client.tokens.current.access_token
    sandbox.expire_tokens()
    publish_once(client, post_of(video), journal_for(factory, video))

    assert len(sandbox.posts) == 1
    assert sandbox.tokens.refreshes == 1
    stored = DatabaseCredentialStore(factory).load("x", "main")
    assert stored is not None
    assert stored.access_token not in (old_access, "") and stored.refresh_token != old_refresh
    assert sandbox.tokens.refresh(old_refresh or "") is None


def test_without_the_secret_key_a_refresh_is_refused_before_the_token_endpoint_so_nothing_is_burned(
    sandbox: XSandbox,
    tmp_path: Path,
    factory: sessionmaker[Session],
    video: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """X hands out a new refresh token on every refresh and the old one dies: without a key to store the
    new one, the refresh is refused in one line and the token endpoint is never called."""
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    grant = sandbox.issue_tokens()
    settings = PlatformSettings(
        platform="x",
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        account="main",
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    )
    client = XClient(settings, credential_store(f"sqlite:///{tmp_path / 'app.db'}"), sleep=lambda _s: None)
    sandbox.expire_tokens()
    journal = journal_for(factory, video)

    with pytest.raises(PlatformError, match=f"but {SECRET_KEY_VARIABLE} is not set") as refused:
        publish_once(client, post_of(video), journal)
    client.close()

    assert refused.value.kind is ErrorKind.AUTH and "pellacia-dist auth x" in str(refused.value)
    assert routes(sandbox, "token") == 0 and sandbox.tokens.refreshes == 0
    assert sandbox.posts == [] and journal.state == "failed"
    assert sandbox.tokens.refresh(grant.refresh_token) is not None  # not burned


def test_a_refused_refresh_token_is_an_auth_error_that_names_no_token(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client(refresh_token="x-sandbox-refresh.revoked")
    sandbox.expire_tokens()
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError) as failure:
        publish_once(client, post_of(video), journal)

    assert failure.value.kind is ErrorKind.AUTH
    assert "pellacia-dist auth x" in str(failure.value)
    for secret in client.tokens.secrets():
        assert secret not in str(failure.value)
        assert secret not in (journal.snapshot().last_error or "")
    assert journal.state == "failed"
    assert sandbox.posts == []


def test_slow_processing_is_polled_as_often_as_check_after_secs_says(
    sandbox: XSandbox,
    make_client: ClientMaker,
    factory: sessionmaker[Session],
    video: Path,
    waits: list[float],
) -> None:
    sandbox.processing_polls = 4
    sandbox.check_after_secs = 3
    publish_once(make_client(), post_of(video), journal_for(factory, video))

    assert routes(sandbox, "media_status") == 4
    assert waits == [3.0] * 4
    assert len(sandbox.posts) == 1


def test_processing_that_never_ends_stops_after_max_polls_and_resumes_the_same_upload(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.processing_polls = 5
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match="still processing") as failure:
        publish_once(make_client(max_polls=2), post_of(video), journal)
    assert failure.value.kind is ErrorKind.RETRYABLE
    assert journal.state == "processing"

    publish_once(make_client(), post_of(video), journal_for(factory, video))
    assert routes(sandbox, "media_initialize") == 1
    assert routes(sandbox, "media_finalize") == 1
    assert len(sandbox.posts) == 1


def test_rejection_in_processing_fails_clearly_and_posts_nothing(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    sandbox.reject_next_processing("Video codec profile is not supported")
    journal = journal_for(factory, video)
    with pytest.raises(PlatformError, match="Video codec profile is not supported") as failure:
        publish_once(make_client(), post_of(video), journal)

    assert failure.value.kind is ErrorKind.INVALID_MEDIA
    assert journal.state == "failed"
    assert "could not process the video" in (journal.snapshot().last_error or "")
    assert sandbox.posts == []


@pytest.mark.parametrize("expires_at", ["1", "4102444800"], ids=["expired", "unknown-to-x"])
def test_a_media_id_x_no_longer_has_starts_a_fresh_upload(
    expires_at: str, sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    journal = journal_for(factory, video)
    for name, value in [
        ("media_id", "1234567890"),
        ("media_expires_at", expires_at),
        ("chunk_size", "65536"),
        ("last_segment_index", "0"),
        ("media_finalized", "false"),
    ]:
        journal.put(name, value)
    publish_once(make_client(), post_of(video), journal)

    assert routes(sandbox, "media_initialize") == 1
    refused_appends = 0 if expires_at == "1" else 1
    assert routes(sandbox, "media_append") == len(sandbox.appends) + refused_appends
    [stored] = sandbox.posts
    assert stored["media_ids"] != ["1234567890"]
    assert stored["sha256"] == sha256_of(video)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("missing.mp4", "does not exist"),
        ("notes.mp4", "is not readable media"),
        ("long.mp4", "outside 0.5-140 s"),
        ("huge.mp4", "over the 512 MB limit"),
        ("wide.mp4", "aspect ratio 1280:240 is outside 1:3 to 3:1"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    name: str, problem: str, sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session],
    video: Path, tmp_path: Path,
) -> None:  # fmt: skip
    path = tmp_path / name
    if name == "notes.mp4":
        path.write_text("not a video at all\n" * 100)
    elif name == "long.mp4":
        make_video(path, 141, size="64x64", rate=1)
    elif name == "huge.mp4":
        shutil.copy(video, path)
        grow_mp4(path, 600 * 1000 * 1000)
    elif name == "wide.mp4":
        make_video(path, 1, size="1280x240")
    journal = open_entry(factory, LedgerTarget(STORY, 1, "x", "main", "0" * 64))
    with pytest.raises(PlatformError, match=problem) as failure:
        publish_once(make_client(), post_of(path), journal)

    assert failure.value.kind is ErrorKind.INVALID_MEDIA
    assert journal.state == "failed"
    assert sandbox.requests == []


def test_a_title_over_280_weighted_characters_is_refused_before_any_request(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    """The title is never cut, so a title alone too long for X is refused, not trimmed."""
    with pytest.raises(PlatformError, match="282 weighted characters long; the limit is 280"):
        publish_once(make_client(), post_of(video, "", title="界" * 141), journal_for(factory, video))
    assert sandbox.requests == []
    publish_once(make_client(), post_of(video, "", title="界" * 140), journal_for(factory, video, part=2))
    assert sandbox.posts[0]["text"] == "界" * 140


@pytest.mark.parametrize(
    ("word", "weight"), [("界界界", 6), ("words", 5), ("https://example.com/a-long/path", 23)]
)
def test_a_long_description_is_trimmed_to_280_weighted_and_title_and_hashtags_survive(
    sandbox: XSandbox,
    make_client: ClientMaker,
    factory: sessionmaker[Session],
    video: Path,
    word: str,
    weight: int,
) -> None:
    post = VideoPost(video, "The bottle 🍾", " ".join([word] * 200), ("#story", "#sea"))
    publish_once(make_client(), post, journal_for(factory, video))

    [stored] = sandbox.posts
    text = stored["text"]
    assert text.startswith(f"The bottle 🍾\n\n{word} {word}")
    assert text.endswith(f"{word}… #story #sea")
    assert 280 - weight - 2 <= x_weighted_length(text) <= 280  # measured as X measures


def test_metrics_come_from_public_metrics_and_the_videos_view_count(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], video: Path
) -> None:
    client = make_client()
    outcome = publish_once(client, post_of(video), journal_for(factory, video))
    expected = sandbox.public_metrics(outcome.post.post_id)

    readings = client.lifetime_metrics([outcome.post.post_id, "1"])

    assert list(readings) == [outcome.post.post_id]  # a post X does not show is left out
    values = readings[outcome.post.post_id].values
    assert values["views"] == expected["view_count"]
    assert values["likes"] == expected["like_count"]
    assert values["comments"] == expected["reply_count"]
    assert values["shares"] == expected["retweet_count"] + expected["quote_count"]
    assert values["impressions"] == expected["impression_count"]
    assert values["saves"] == expected["bookmark_count"]


def test_the_multipart_body_is_exactly_its_content_length(video: Path) -> None:
    headers, body = multipart_segment(video, 7, 100, 5000)
    payload = b"".join(body())
    assert len(payload) == int(headers["Content-Length"])
    assert video.read_bytes()[100:5100] in payload
    assert b'name="segment_index"\r\n\r\n7\r\n' in payload
    assert b"".join(body()) == payload


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {},
         ErrorKind.AUTH),
        (403, {"detail": "You are not allowed to create a Tweet with duplicate content.",
               "type": "about:blank", "title": "Forbidden", "status": 403}, {}, ErrorKind.DUPLICATE),
        (403, {"title": "Forbidden", "type": "https://api.x.com/2/problems/client-forbidden", "status": 403,
               "detail": "This app is not allowed"}, {}, ErrorKind.POLICY),
        (429, {"title": "Usage capped", "type": "https://api.x.com/2/problems/usage-capped", "status": 429,
               "detail": "Monthly cap reached"}, {}, ErrorKind.RATE_LIMIT),
        (429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
         {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "4102444800"}, ErrorKind.RATE_LIMIT),
        (400, {"title": "Invalid Request", "type": "https://api.x.com/2/problems/invalid-request",
               "detail": "One or more parameters to your request was invalid."}, {}, ErrorKind.INVALID_MEDIA),
        (503, {"title": "Service Unavailable", "status": 503}, {}, ErrorKind.RETRYABLE),
    ],
)  # fmt: skip
def test_x_error_bodies_are_classified(
    status: int, body: dict[str, Any], headers: dict[str, str], kind: ErrorKind
) -> None:
    request = httpx.Request("POST", "https://api.x.com/2/tweets")
    error = classify(httpx.Response(status, json=body, headers=headers, request=request))
    assert error is not None and error.kind is kind
    assert "POST /2/tweets" in str(error)
    if headers:
        assert error.retry_after_s is not None and error.retry_after_s > 1e8


def test_the_resource_builds_a_client_on_the_configured_roots(sandbox: XSandbox, tmp_path: Path) -> None:
    grant = sandbox.issue_tokens()
    resource = XResource(
        database=DatabaseResource(url=f"sqlite:///{tmp_path / 'resource.db'}"),
        urls={"api": sandbox.base_url, "oauth": sandbox.base_url},
        access_token=grant.access_token,
        options={"username": "pellacia", "chunk_size": "65536"},
    )
    client = resource.get_client()
    assert isinstance(client, XClient)
    assert client.chunk_size == 65536
    assert client.post_url("5") == "https://x.com/pellacia/status/5"
    assert client.settings.url("api", "/2/tweets") == f"{sandbox.base_url}/2/tweets"
    with pytest.raises(ValueError, match="PELLACIA_X_CHUNK_SIZE"):
        XResource(database=DatabaseResource(url="sqlite://"), urls={"api": "", "oauth": ""}, access_token="t",
                  options={"chunk_size": "4MB"}).get_client()  # fmt: skip


def test_a_client_without_any_token_says_how_to_authorise() -> None:
    settings = PlatformSettings("x", {"api": "http://127.0.0.1:9", "oauth": "http://127.0.0.1:9"})
    with pytest.raises(PlatformError, match="pellacia-dist auth x"):
        XClient(settings)


@pytest.mark.e2e
def test_a_large_video_streams_with_less_memory_than_one_segment(
    sandbox: XSandbox, make_client: ClientMaker, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    big = make_video(tmp_path / "big.mp4", 4, size="1080x1920", extra=["-crf", "0"])
    size = big.stat().st_size
    segment = 8 * 1024 * 1024
    assert size > 12 * 1024 * 1024
    sandbox.max_segment_bytes = None
    client = make_client(chunk_size=segment)
    journal = journal_for(factory, big)
    tracemalloc.start()
    try:
        publish_once(client, post_of(big), journal)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sandbox.posts[0]["sha256"] == sha256_of(big)
    assert len(sandbox.appends) == -(-size // segment)
    assert peak < segment, f"peak {peak / 1e6:.1f} MB (client and sandbox) for a {size / 1e6:.1f} MB file"
