"""The app database as a Dagster resource: one engine per process, migrated on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import DEFAULT_SCHEMA, make_engine, migrate, session_factory, transaction

_lock = threading.Lock()
_engines: dict[tuple[str, str], tuple[Engine, sessionmaker[Session]]] = {}


def open_database(url: str, schema: str = DEFAULT_SCHEMA) -> sessionmaker[Session]:
    """The session factory for `url`, creating and migrating the database the first time."""
    with _lock:
        cached = _engines.get((url, schema))
        if cached is None:
            engine = make_engine(url, schema)
            migrate(engine)
            cached = (engine, session_factory(engine))
            _engines[(url, schema)] = cached
        return cached[1]


class DatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The app tables (stories, ledger, analytics, schedules, manual queue, credentials)."""

    url: str
    schema_name: str = DEFAULT_SCHEMA

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(open_database(self.url, self.schema_name)) as session:
            yield session
