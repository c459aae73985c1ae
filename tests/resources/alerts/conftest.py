"""The app database under the alert tests: SQLite, and PostgreSQL where the incidents' locks matter."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return open_database(f"sqlite:///{tmp_path / 'app.db'}")
    url: str = request.getfixturevalue("postgres_url")
    return open_database(url)
