"""The app database as a Dagster resource: one engine per process, migrated on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import DEFAULT_SCHEMA, open_database, transaction


class DatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The app tables (stories, ledger, analytics, schedules, manual queue, credentials)."""

    url: str
    schema_name: str = DEFAULT_SCHEMA

    def session_factory(self) -> sessionmaker[Session]:
        return open_database(self.url, self.schema_name)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.session_factory()) as session:
            yield session
