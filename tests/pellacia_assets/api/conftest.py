"""The API under test: a private home, three tokens (viewer, editor, admin) in a tokens file, and a
FastAPI TestClient on `create_app()`; helpers that put stories and posts where the API reads them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance
from dagster._daemon.types import DaemonHeartbeat
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.app import create_app
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import admit
from resources.database.models import LedgerEntry

TOKENS = {
    "viewer": "viewer-7b1e0c2f4a9d4c7e8f30",
    "editor": "editor-3c5a9e1d7b2f4e6a8c10",
    "admin": "admin-9f2d4b6e8a1c3e5f7a90",
}


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@pytest.fixture
def api_env(pellacia_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The three tokens in a JSON tokens file (named after their roles), no single token, no rate limit."""
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps([{"name": role, "token": token, "role": role} for role, token in TOKENS.items()])
    )
    monkeypatch.delenv("PELLACIA_API_TOKEN", raising=False)
    monkeypatch.setenv("PELLACIA_API_TOKENS_FILE", str(tokens))
    monkeypatch.setenv("PELLACIA_API_RATE", "off")
    return tokens


@pytest.fixture
def api_client(api_env: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def factory(pellacia_home: Path) -> sessionmaker[Session]:
    return open_database(Settings.from_env().database_url)


def add_story(
    factory: sessionmaker[Session],
    key: str,
    *,
    title: str = "A story",
    source_kind: str = "reddit",
    approval: str = "pending",
    url: str | None = None,
) -> None:
    record = SourceRecord(
        key=key, source_kind=source_kind, source_ref=key, title=title, body=f"The body of {key}."
    )
    with transaction(factory) as session:
        admit(session, record, approval=approval, canonical_url=url)


def add_post(
    factory: sessionmaker[Session],
    key: str,
    platform: str,
    *,
    state: str = "published",
    post_id: str | None = None,
    minutes_ago: int = 10,
) -> int:
    """A ledger row as a finished (or failed) publication leaves it; its id."""
    published = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with transaction(factory) as session:
        entry = LedgerEntry(
            story_key=key,
            part=1,
            platform=platform,
            account="main",
            video_sha256="0" * 64,
            state=state,
            platform_ids={},
            post_id=post_id if state == "published" else None,
            url=f"https://example.test/{platform}/{post_id}" if state == "published" else None,
            attempts=1,
            last_error=None if state == "published" else "upload refused",
            allow_duplicate=False,
            published_at=published if state == "published" else None,
        )
        session.add(entry)
        session.flush()
        return entry.id


def daemons_beat(settings: Settings, age_s: float = 0.0) -> None:
    """Every daemon the home's instance needs beats (as `dagster-daemon` does every 30 s), `age_s` ago."""
    prepare_dagster_home(settings)
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for daemon in instance.get_required_daemon_types():
            instance.add_daemon_heartbeat(DaemonHeartbeat(time.time() - age_s, daemon, None, None))
