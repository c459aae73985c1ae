"""One receiver per module, cleared for each test; a fresh app database per test, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database
from tests.pellacia_assets.webhooks.receiver import Receiver, running_receiver


@pytest.fixture(scope="module")
def shared_receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(shared_receiver: Receiver) -> Receiver:
    shared_receiver.reset()
    return shared_receiver


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return open_database(f"sqlite:///{tmp_path / 'app.db'}")
    url: str = request.getfixturevalue("postgres_url")
    return open_database(url)
