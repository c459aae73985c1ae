"""The consent flow of `pellacia-dist auth` against each platform's sandbox, over real HTTP.

A thread plays the operator's browser: it opens the consent URL (the sandbox approves at once and answers
302) and follows the redirect to the local listener. The tokens that come back must publish a real video
through the platform's client, refresh through the token endpoint, and never show up in logs or errors.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.publishing import publish_once
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerTarget, open_entry
from resources.database.stories import save_source
from resources.platforms import PLATFORMS, platform_named
from resources.platforms.base import PlatformClient, VideoPost, sha256_of
from resources.platforms.clients import CLIENT_CLASSES
from resources.platforms.config import DEFAULT_URLS, PlatformSettings
from resources.platforms.credentials import (
    SECRET_KEY_VARIABLE,
    AccountTokens,
    DatabaseCredentialStore,
    TokenSet,
)
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.oauth import FLOWS, Consent, authorise, consent_url, exchange_code
from sandbox.common import SandboxServer, running
from sandbox.platforms import ACCOUNT_IDS, CLIENT_ID, CLIENT_SECRET, DECLARATIONS, build_servers

STORY = "oauth-story"
PKCE_PLATFORMS = [platform for platform in PLATFORMS if FLOWS[platform].pkce]


class PlatformSandbox(Protocol):
    """What these tests use of a sandbox beyond SandboxServer: the posts it stored."""

    base_url: str

    @property
    def posts(self) -> list[dict[str, Any]]: ...


class RenewingClient(PlatformClient, Protocol):
    """Every client keeps its account's tokens as `tokens` (the transport's TokenProvider)."""

    tokens: AccountTokens


class Browser:
    """The `show` callback: a browser in another thread that opens the consent page and follows its 302.

    `tamper` rewrites the redirect before it is followed (a forged state, a refusal).
    """

    def __init__(self, tamper: Callable[[str], str] | None = None) -> None:
        self.tamper = tamper or (lambda location: location)
        self.consent_answers: list[httpx.Response] = []
        self.callback_answers: list[httpx.Response] = []
        self.failures: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        thread = threading.Thread(target=self._browse, args=(url,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _browse(self, url: str) -> None:
        try:
            consent = httpx.get(url, follow_redirects=False, timeout=10)
            self.consent_answers.append(consent)
            if consent.status_code == 302:
                self.callback_answers.append(httpx.get(self.tamper(consent.headers["location"]), timeout=10))
        except httpx.HTTPError as error:
            self.failures.append(error)

    def finish(self) -> None:
        for thread in self._threads:
            thread.join(10)
        assert not self.failures


def consent_page(platform: str, server: SandboxServer) -> str:
    """The documented authorize path, on the sandbox."""
    return server.url("consent", urlsplit(FLOWS[platform].authorize_url).path)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3.5 s vertical mp4 every platform accepts (Reels, TikTok, X, LinkedIn, YouTube)."""
    path = tmp_path_factory.mktemp("oauth-video") / "short.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=720x1280:r=30", "-f", "lavfi",
         "-i", "sine", "-t", "3.5", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(platform: str, tmp_path: Path) -> Iterator[SandboxServer]:
    sandbox = build_servers(tmp_path / "sandboxes")[platform]
    with running(sandbox):
        yield sandbox


@pytest.fixture
def settings(platform: str, server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> PlatformSettings:
    """The operator's configuration for `pellacia-dist auth`: app credentials and URLs, no tokens."""
    prefix = f"PELLACIA_{platform.upper()}_"
    for suffix in ("ACCESS_TOKEN", "REFRESH_TOKEN", "ACCOUNT"):
        monkeypatch.delenv(prefix + suffix, raising=False)
    for kind in DEFAULT_URLS[platform]:
        monkeypatch.setenv(f"{prefix}{kind.upper()}_URL", server.url(kind))
    monkeypatch.setenv(f"{prefix}CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv(f"{prefix}CLIENT_SECRET", CLIENT_SECRET)
    if platform in ACCOUNT_IDS:
        monkeypatch.setenv(*ACCOUNT_IDS[platform])
    for name, value in DECLARATIONS.items():
        if name.startswith(prefix):
            monkeypatch.setenv(name, value)
    return PlatformSettings.from_env(platform)


@pytest.fixture
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    sessions = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(sessions) as session:
        save_source(session, SourceRecord(key=STORY, source_kind="test", source_ref="t", title="T", body="B"))
    return sessions


def granted_code(platform: str, server: SandboxServer, settings: PlatformSettings) -> tuple[Consent, str]:
    """One approved consent and its code, without the listener (as the browser would see it)."""
    consent = consent_url(
        platform, settings, "http://127.0.0.1:8765/callback", consent_page(platform, server)
    )
    answer = httpx.get(consent.url, follow_redirects=False, timeout=10)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [consent.state]
    return consent, query["code"][0]


def token_requests(server: SandboxServer) -> int:
    return sum(route in ("token", "oauth_token") for route, _method in server.requests)


def secrets_of(tokens: TokenSet) -> list[str]:
    return [secret for secret in (tokens.access_token, tokens.refresh_token) if secret]


def test_consent_gives_tokens_that_publish_refresh_and_stay_out_of_logs(
    platform: str,
    server: SandboxServer,
    settings: PlatformSettings,
    factory: sessionmaker[Session],
    video: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = Browser()
    tokens = authorise(platform, settings, 0, browser, consent_page(platform, server), timeout_s=10)
    browser.finish()
    [consent_answer] = browser.consent_answers
    [callback_answer] = browser.callback_answers
    assert consent_answer.status_code == 302
    assert consent_answer.headers["location"].startswith("http://127.0.0.1:")
    assert callback_answer.status_code == 200
    assert tokens.refresh_token, "every flow must leave a way to renew the access token"
    assert tokens.expires_at is not None

    token_calls = token_requests(server)
    store = DatabaseCredentialStore(factory)
    store.save(platform, settings.account, tokens)
    client = CLIENT_CLASSES[platform_named(platform)](
        settings, store, sleep=lambda _seconds: None, poll_interval_s=0.0
    )
    post = VideoPost(video=video, title="The lighthouse", description="A keeper's last night. #story")
    journal = open_entry(factory, LedgerTarget(STORY, 1, platform, settings.account, sha256_of(video)))
    outcome = publish_once(client, post, journal)

    [stored] = cast(PlatformSandbox, server).posts
    assert stored["sha256"] == sha256_of(video)
    assert journal.snapshot().state == "published"
    assert token_requests(server) == token_calls, "the tokens as given must publish, without a refresh"

    cast(RenewingClient, client).tokens.refresh()
    renewed = store.load(platform, settings.account)
    assert renewed is not None and renewed.access_token != tokens.access_token
    assert outcome.post.post_id in client.lifetime_metrics([outcome.post.post_id])

    printed = capsys.readouterr()
    for secret in [*secrets_of(tokens), *secrets_of(renewed), CLIENT_SECRET]:
        assert secret not in caplog.text
        assert secret not in printed.out + printed.err


def test_a_reused_code_is_refused_by_the_token_endpoint(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    consent, code = granted_code(platform, server, settings)
    tokens = exchange_code(platform, settings, consent, code)

    with pytest.raises(PlatformError) as refused:
        exchange_code(platform, settings, consent, code)
    assert refused.value.kind is ErrorKind.AUTH
    assert refused.value.status == 400
    message = str(refused.value)
    assert message.startswith(f"{platform}: the token endpoint refused the authorization code")
    assert f"pellacia-dist auth {platform}" in message
    for secret in [*secrets_of(tokens), code, CLIENT_SECRET]:
        assert secret not in message


def test_an_unknown_code_is_refused(platform: str, server: SandboxServer, settings: PlatformSettings) -> None:
    consent, _code = granted_code(platform, server, settings)
    with pytest.raises(PlatformError, match="refused the authorization code") as refused:
        exchange_code(platform, settings, consent, "forged-code-0123456789")
    assert refused.value.kind is ErrorKind.AUTH
    assert "forged-code-0123456789" not in str(refused.value)


def test_a_code_redeemed_with_another_redirect_uri_is_refused(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    consent, code = granted_code(platform, server, settings)
    elsewhere = replace(consent, redirect_uri="http://127.0.0.1:9/callback")
    with pytest.raises(PlatformError, match="refused the authorization code") as refused:
        exchange_code(platform, settings, elsewhere, code)
    assert refused.value.kind is ErrorKind.AUTH


@pytest.mark.parametrize("platform", PKCE_PLATFORMS, indirect=True)
def test_a_wrong_pkce_verifier_is_refused(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    consent, code = granted_code(platform, server, settings)
    assert consent.verifier is not None
    impostor = replace(consent, verifier=consent.verifier[::-1])
    with pytest.raises(PlatformError, match="code_verifier does not match") as refused:
        exchange_code(platform, settings, impostor, code)
    assert consent.verifier not in str(refused.value)


@pytest.mark.parametrize("platform", ["x"], indirect=True)
def test_a_redirect_with_another_state_is_refused_before_any_exchange(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    def forge_state(location: str) -> str:
        parts = urlsplit(location)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        return parts._replace(query=urlencode({**query, "state": "forged"})).geturl()

    browser = Browser(tamper=forge_state)
    with pytest.raises(PlatformError, match="state does not match") as refused:
        authorise(platform, settings, 0, browser, consent_page(platform, server), timeout_s=10)
    browser.finish()
    assert refused.value.kind is ErrorKind.AUTH
    assert browser.callback_answers[0].status_code == 400
    assert ("oauth_token", "POST") not in server.requests


@pytest.mark.parametrize("platform", ["linkedin"], indirect=True)
def test_a_refused_consent_reports_the_platforms_reason(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    def deny(location: str) -> str:
        parts = urlsplit(location)
        state = parse_qs(parts.query)["state"][0]
        denial = {
            "error": "user_cancelled_authorize",
            "error_description": "The member declined",
            "state": state,
        }
        return parts._replace(query=urlencode(denial)).geturl()

    browser = Browser(tamper=deny)
    with pytest.raises(PlatformError, match="consent was not given: The member declined"):
        authorise(platform, settings, 0, browser, consent_page(platform, server), timeout_s=10)
    browser.finish()
    assert ("token", "POST") not in server.requests


@pytest.mark.parametrize("platform", ["youtube"], indirect=True)
def test_a_busy_port_fails_before_the_consent_page_is_shown(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    shown: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PlatformError, match=f"cannot listen on 127.0.0.1:{port}"):
            authorise(platform, settings, port, shown.append, consent_page(platform, server))
    assert shown == []


@pytest.mark.parametrize("platform", ["tiktok"], indirect=True)
def test_no_redirect_within_the_timeout_is_a_clear_error(
    platform: str, server: SandboxServer, settings: PlatformSettings
) -> None:
    shown: list[str] = []
    with pytest.raises(PlatformError, match="no redirect within"):
        authorise(platform, settings, 0, shown.append, consent_page(platform, server), timeout_s=0.3)
    [url] = shown
    assert parse_qs(urlsplit(url).query)["client_key"] == [CLIENT_ID]


@pytest.mark.parametrize(
    ("platform", "variable"),
    [
        ("youtube", "PELLACIA_YOUTUBE_CLIENT_ID"),
        ("linkedin", "PELLACIA_LINKEDIN_CLIENT_SECRET"),
        ("facebook", "PELLACIA_FACEBOOK_PAGE_ID"),
    ],
    indirect=["platform"],
)
@pytest.mark.usefixtures("settings")
def test_missing_settings_are_named_before_anything_is_shown(
    platform: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.delenv(variable)
    incomplete = PlatformSettings.from_env(platform)
    with pytest.raises(PlatformError, match=f"set {variable} first"):
        authorise(platform, incomplete, 0, shown.append)
    assert shown == []


@pytest.mark.parametrize("platform", ["x"], indirect=True)
def test_a_public_x_client_sends_its_client_id_instead_of_basic_auth(
    platform: str, tmp_path: Path, settings: PlatformSettings
) -> None:
    from sandbox.x import XSandbox

    public = XSandbox(tmp_path / "public-x", client_id=CLIENT_ID, client_secret=None)
    with running(public):
        without_secret = replace(
            settings, client_secret=None, urls={root: public.url(root) for root in settings.urls}
        )
        browser = Browser()
        tokens = authorise(platform, without_secret, 0, browser, consent_page(platform, public), timeout_s=10)
        browser.finish()
    assert tokens.refresh_token
    assert tokens.extra["scope"] == " ".join(FLOWS["x"].scopes)
