"""Fixtures of the browser tests: the TikTok web sandbox, an encrypted session store, a real clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from resources.browser.sessions import SessionStore
from resources.platforms.credentials import SECRET_KEY_VARIABLE
from sandbox.common import running
from sandbox.web.tiktok import TikTokWebSandbox
from tests.resources.browser.helpers import make_clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("browser-clips") / "short.mp4")


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, key)
    return key


@pytest.fixture
def store(tmp_path: Path, secret_key: str) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TikTokWebSandbox]:
    with running(TikTokWebSandbox(tmp_path / "tiktok-web")) as sandbox:
        yield sandbox
