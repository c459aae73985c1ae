"""Several processes at once on one app database: a fresh home's migration and credentials saved by
several processes after a refresh, on SQLite and PostgreSQL (the races of issue 12)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from resources.database.engine import make_engine, open_database, transaction
from resources.database.models import PlatformCredential
from resources.platforms.credentials import load_credentials, load_key
from tests.resources.database.concurrently import run_together

PROCESSES = 4


def test_a_fresh_database_migrated_by_several_processes_at_once(database_url: str) -> None:
    for _round in range(2):
        finished = run_together(
            "from resources.database.engine import open_database",
            "open_database(sys.argv[1]); print('migrated')",
            [[database_url]] * PROCESSES,
        )
        assert [f.returncode for f in finished] == [0] * PROCESSES, [f.stderr[-2000:] for f in finished]
        assert all("migrated" in f.stdout for f in finished)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from alembic_version")).scalar() == 1
        assert connection.execute(text("select count(*) from publish_ledger")).scalar() == 0


def test_refreshed_credentials_saved_by_several_processes_at_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PELLACIA_SECRET_KEY", key)
    factory = open_database(database_url)  # migrated: the race is on each account's first row
    accounts = ["main", "brand", "backup"]
    finished = run_together(
        "from resources.database.engine import open_database\n"
        "from resources.platforms.credentials import DatabaseCredentialStore, TokenSet\n"
        "store = DatabaseCredentialStore(open_database(sys.argv[1]))",
        "for account in sys.argv[3:]:\n"
        "    store.save('tiktok', account, TokenSet('access-' + sys.argv[2], 'refresh-' + sys.argv[2]))",
        [[database_url, str(n), *accounts] for n in range(PROCESSES)],
        env={"PELLACIA_SECRET_KEY": key},
    )
    assert [f.returncode for f in finished] == [0] * PROCESSES, [f.stderr[-2000:] for f in finished]
    with transaction(factory) as session:
        assert session.query(PlatformCredential).count() == len(accounts)
        for account in accounts:
            saved = load_credentials(session, load_key(), "tiktok", account)
            assert saved is not None
            winner = saved["access_token"].removeprefix("access-")
            assert saved["refresh_token"] == f"refresh-{winner}"  # one whole save won, none half
