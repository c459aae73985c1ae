"""The part every platform client shares: initial tokens, token answers, retry delays, polling, closing,
and the pre-flight check of the video file, verified whole."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import httplib2
import httpx
import pytest
from googleapiclient.errors import HttpError

from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS, Platform
from resources.platforms.base import VideoPost
from resources.platforms.client_base import PlatformClientBase
from resources.platforms.clients import CLIENT_CLASSES, client_from_env
from resources.platforms.config import DEFAULT_URLS, PlatformSettings
from resources.platforms.credentials import AccountTokens, TokenSet, initial_tokens, token_set_from_answer
from resources.platforms.errors import ErrorKind, PlatformError, kind_for_status
from resources.platforms.http import RetryPolicy, wait_hint
from resources.platforms.youtube import YouTubeClient
from sandbox.platforms import SandboxSuite

ACCOUNT_IDS = {
    "instagram": "17841400000000000",
    "facebook": "100000000000001",
    "linkedin": "urn:li:person:a1",
}


class Stored:
    """A credential store holding one TokenSet for every account."""

    def __init__(self, tokens: TokenSet | None) -> None:
        self.tokens = tokens
        self.saved: list[TokenSet] = []

    def load(self, platform: str, account: str) -> TokenSet | None:
        return self.tokens

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        self.saved.append(tokens)


def settings(
    platform: Platform = "x", access_token: str | None = None, refresh_token: str | None = None
) -> PlatformSettings:
    return PlatformSettings(
        platform,
        dict(DEFAULT_URLS[platform]),
        account="brand",
        access_token=access_token,
        refresh_token=refresh_token,
        account_id=ACCOUNT_IDS.get(platform),
    )


# --- the initial tokens --------------------------------------------------------------------------------


def test_stored_tokens_win_over_the_environment() -> None:
    stored = TokenSet("from-store", "refresh-from-store")
    assert initial_tokens(settings(access_token="from-env"), Stored(stored)) == stored


def test_the_environment_comes_next_and_a_refresh_token_alone_refreshes_at_first_use() -> None:
    assert initial_tokens(settings(access_token="a", refresh_token="r"), Stored(None)) == TokenSet("a", "r")
    assert initial_tokens(settings(access_token="a"), None) == TokenSet("a", None)
    started = initial_tokens(settings(refresh_token="r"), None)
    assert started == TokenSet("", "r", expires_at=0.0) and started.expiring()


def test_a_self_renewing_access_token_is_also_the_token_to_refresh_with() -> None:
    assert initial_tokens(settings(access_token="a"), None, self_renewing=True) == TokenSet("a", "a")
    both = settings(access_token="a", refresh_token="long-lived")
    assert initial_tokens(both, None, self_renewing=True) == TokenSet("a", "long-lived")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_client_without_tokens_says_how_to_authorise(platform: Platform) -> None:
    with pytest.raises(PlatformError) as raised:
        CLIENT_CLASSES[platform](settings(platform), Stored(None))
    prefix = f"PELLACIA_{platform.upper()}_"
    assert raised.value.kind is ErrorKind.AUTH
    assert str(raised.value) == (
        f"{platform}: no tokens for account 'brand': run `pellacia-dist auth {platform}` or set "
        f"{prefix}ACCESS_TOKEN / {prefix}REFRESH_TOKEN"
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_client_shares_the_constructor_and_closes_its_transports(platform: Platform) -> None:
    waits: list[float] = []
    client = CLIENT_CLASSES[platform](
        settings(platform, access_token="a"), None, sleep=waits.append, poll_interval_s=2.0, max_polls=3
    )
    assert isinstance(client, PlatformClientBase)
    assert (client.account, client.poll_interval_s, client.max_polls) == ("brand", 2.0, 3)
    assert client.tokens.current.access_token == "a" and client.chunk_size > 0
    transports = list(client._transports)
    assert transports and client.retry in [http.retry for http in transports]
    client.close()
    assert all(http.client.is_closed for http in transports)


# --- token answers ----------------------------------------------------------------------------------------


def test_a_token_answer_becomes_a_token_set_with_absolute_lifetimes() -> None:
    answer = {
        "access_token": "act",
        "refresh_token": "rft",
        "expires_in": 86400,
        "refresh_expires_in": "31536000",
        "refresh_token_expires_in": 100,
        "open_id": "user-1",
        "scope": "video.publish",
    }
    tokens = token_set_from_answer("tiktok", answer, now=1000.0)
    assert tokens == TokenSet(
        "act",
        "rft",
        expires_at=87400.0,
        extra={
            "refresh_expires_at": 31537000.0,
            "refresh_token_expires_at": 1100.0,
            "open_id": "user-1",
            "scope": "video.publish",
        },
    )


def test_an_answer_without_a_lifetime_or_refresh_token_leaves_them_open() -> None:
    assert token_set_from_answer("facebook", {"access_token": "a", "token_type": "bearer"}) == TokenSet(
        "a", None, None, {"token_type": "bearer"}
    )


@pytest.mark.parametrize("answer", [{}, {"access_token": ""}, None, ["access_token"]])
def test_an_answer_without_an_access_token_is_an_auth_error(answer: object) -> None:
    with pytest.raises(PlatformError, match="answered without an access token") as raised:
        token_set_from_answer("x", answer)
    assert raised.value.kind is ErrorKind.AUTH


def test_a_refresh_keeps_what_the_answer_does_not_repeat() -> None:
    store = Stored(None)
    initial = TokenSet("old", "refresh-1", extra={"open_id": "u", "scope": "a"})
    answer = TokenSet("new", None, 5.0, {"scope": "b"})
    tokens = AccountTokens("linkedin", "brand", initial, lambda _current: answer, store)
    assert tokens.refresh() == "new"
    assert store.saved == [TokenSet("new", "refresh-1", 5.0, {"open_id": "u", "scope": "b"})]


# --- the retry delay ------------------------------------------------------------------------------------


def rate_limited(headers: dict[str, str]) -> PlatformError:
    response = httpx.Response(429, headers=headers)
    return PlatformError("x", ErrorKind.RATE_LIMIT, "HTTP 429", status=429, retry_after_s=wait_hint(response))


def test_the_delay_honours_retry_after_else_backs_off_with_jitter() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=1.0)
    assert policy.delay(rate_limited({"Retry-After": "7"}), 1) == 7.0
    assert 0.5 <= policy.delay(rate_limited({}), 1) <= 1.0
    assert 2.0 <= policy.delay(rate_limited({}), 3) <= 4.0


def test_no_delay_for_what_is_not_retried_or_out_of_attempts() -> None:
    policy = RetryPolicy(max_attempts=2)
    refused = PlatformError("x", ErrorKind.POLICY, "no")
    with pytest.raises(PlatformError) as raised:
        policy.delay(refused, 1)
    assert raised.value is refused
    throttled = rate_limited({"Retry-After": "1"})
    with pytest.raises(PlatformError) as raised:
        policy.delay(throttled, 2)
    assert raised.value is throttled


def test_a_wait_longer_than_the_limit_says_try_later() -> None:
    with pytest.raises(PlatformError, match=r"^x: HTTP 429 \(asked to wait 3600 s; try later\)$") as raised:
        RetryPolicy(max_delay_s=120.0).delay(rate_limited({"Retry-After": "3600"}), 1)
    assert raised.value.kind is ErrorKind.RATE_LIMIT and raised.value.retry_after_s == 3600.0


def youtube_client(waits: list[float]) -> YouTubeClient:
    return YouTubeClient(settings("youtube", access_token="a"), None, sleep=waits.append)


def test_youtube_waits_by_the_same_policy() -> None:
    answers: list[object] = [
        HttpError(httplib2.Response({"status": 429, "retry-after": "7"}), b"{}"),
        HttpError(httplib2.Response({"status": 503}), b"{}"),
        "done",
    ]

    def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    waits: list[float] = []
    assert youtube_client(waits)._retrying("videos.list", call) == "done"
    assert waits[0] == 7.0 and 1.0 <= waits[1] <= 2.0  # Retry-After, then the second backoff step


def test_youtube_refuses_a_wait_over_the_limit_like_the_transport() -> None:
    def call() -> object:
        raise HttpError(httplib2.Response({"status": 429, "retry-after": "3600"}), b"{}")

    waits: list[float] = []
    with pytest.raises(PlatformError, match="asked to wait 3600 s; try later") as raised:
        youtube_client(waits)._retrying("videos.list", call)
    assert raised.value.kind is ErrorKind.RATE_LIMIT and waits == []


# --- polling and statuses ------------------------------------------------------------------------------


def test_polls_sleep_between_rounds_and_running_out_is_retryable() -> None:
    waits: list[float] = []
    client = YouTubeClient(settings("youtube", access_token="a"), None, sleep=waits.append, max_polls=3)
    assert list(client._polls()) == [0, 1, 2] and waits == [client.poll_interval_s] * 2
    waiting = client._still_waiting("video v was still processing")
    assert waiting.kind is ErrorKind.RETRYABLE
    assert str(waiting).startswith("youtube: video v was still processing after 3 polls;")


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, ErrorKind.RETRYABLE), (408, ErrorKind.RETRYABLE), (429, ErrorKind.RATE_LIMIT),
     (401, ErrorKind.AUTH), (403, ErrorKind.POLICY)],
)  # fmt: skip
def test_a_bare_status_has_one_meaning_everywhere(status: int, kind: ErrorKind) -> None:
    assert kind_for_status(status) is kind
    assert kind_for_status(400, ErrorKind.INVALID_MEDIA) is ErrorKind.INVALID_MEDIA


@pytest.fixture
def short(tmp_path: Path, make_video: Callable[..., Path]) -> Path:
    return make_video(tmp_path / "short.mp4", seconds=4.0)


def test_every_client_refuses_a_truncated_video_before_any_request(
    sandboxes: SandboxSuite, short: Path, tmp_path: Path
) -> None:
    half = tmp_path / "half.mp4"
    half.write_bytes(short.read_bytes()[: short.stat().st_size // 2])
    for platform in PLATFORMS:
        client = client_from_env(platform, Settings.from_env().database_url)
        with pytest.raises(PlatformError) as raised:
            client.check(VideoPost(half, "Title", "Words.", ("#storytime",)))
        assert raised.value.kind is ErrorKind.INVALID_MEDIA, platform
        message = str(raised.value)
        assert message.startswith(f"{platform}: half.mp4 is not a readable video: the 'mdat' box"), message
        assert "truncated" in message and "\n" not in message
        assert sandboxes.servers[platform].requests == [], platform


def test_every_client_takes_a_silent_video_with_a_warning(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    make_video: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with_sound = make_video(tmp_path / "with-sound.mp4", seconds=4.0)
    stripped = tmp_path / "no-sound.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(with_sound), "-an", "-c", "copy", "-movflags", "+faststart",
         str(stripped)],
        check=True,
    )  # fmt: skip
    caplog.set_level(logging.WARNING, logger="pellacia.publisher")
    for platform in PLATFORMS:
        client = client_from_env(platform, Settings.from_env().database_url)
        client.check(VideoPost(stripped, "Title", "Words.", ("#storytime",)))
        assert f"{platform}: no-sound.mp4 has no audio track; it goes out silent" in caplog.text
