"""The app tables on SQLite and PostgreSQL: migrations, round trips, constraints, encrypted credentials."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import make_engine, migrate, open_database, transaction
from resources.database.models import LedgerEntry, PlatformCredential
from resources.database.stories import load_source, save_source, set_status
from resources.platforms.credentials import CredentialKeyError, load_credentials, load_key, save_credentials

TABLES = {
    "stories",
    "publish_ledger",
    "metric_snapshots",
    "post_queue",
    "alert_incidents",
    "manual_queue",
    "platform_credentials",
    "rate_budgets",
    "source_cursors",
    "source_skips",
    "webhooks",
    "webhook_deliveries",
    "alembic_version",
}


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    schema = "pellacia" if database_url.startswith("postgresql") else None
    assert set(inspect(engine).get_table_names(schema=schema)) >= TABLES
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0009"


def test_story_and_ledger_round_trip(database_url: str) -> None:
    factory = open_database(database_url)
    record = SourceRecord(key="s1", source_kind="file", source_ref="a.md", title="T", body="B", tags=("x",))
    with transaction(factory) as session:
        save_source(session, record)
    with transaction(factory) as session:
        set_status(session, "s1", "rejected", "too long")
        session.add(LedgerEntry(story_key="s1", platform="youtube", account="main", video_sha256="ab" * 32))
    with transaction(factory) as session:
        assert load_source(session, "s1") == record
        entry = session.query(LedgerEntry).one()
        assert entry.state == "planned"
        assert entry.platform_ids == {}
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(LedgerEntry(story_key="s1", platform="youtube", account="main", video_sha256="cd" * 32))


def test_credentials_are_encrypted_at_rest(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_SECRET_KEY", Fernet.generate_key().decode())
    factory = open_database(database_url)
    secrets = {"access_token": "ya29.secret-token", "refresh_token": "1//refresh"}
    with transaction(factory) as session:
        save_credentials(session, load_key(), "youtube", "main", secrets)
    with transaction(factory) as session:
        stored = session.query(PlatformCredential).one().ciphertext
        assert b"secret-token" not in stored
        assert load_credentials(session, load_key(), "youtube", "main") == secrets
    monkeypatch.setenv("PELLACIA_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(CredentialKeyError, match="cannot be decrypted"), transaction(factory) as session:
        load_credentials(session, load_key(), "youtube", "main")


def test_missing_or_bad_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PELLACIA_SECRET_KEY", raising=False)
    with pytest.raises(CredentialKeyError, match="PELLACIA_SECRET_KEY is not set"):
        load_key()
    monkeypatch.setenv("PELLACIA_SECRET_KEY", "not-a-key")
    with pytest.raises(CredentialKeyError, match="not a Fernet key"):
        load_key()
