"""Connecting to the app database and bringing its schema up to date.

SQLite is the embedded default; on PostgreSQL our tables live in their own schema (default `pellacia`),
selected through the connection's search_path so the models and migrations stay schema-agnostic.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engines: dict[tuple[str, str], tuple[Engine, sessionmaker[Session]]] = {}
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DEFAULT_SCHEMA = "pellacia"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseError(RuntimeError):
    """The app database cannot be reached or migrated; the message says which and why."""


def make_engine(url: str, schema: str = DEFAULT_SCHEMA) -> Engine:
    """An engine for `url`; PostgreSQL connections see `schema` first, SQLite files get their folder."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if not _SCHEMA_NAME.match(schema):
            raise DatabaseError(f"invalid schema name {schema!r}: use lower-case letters, digits and _")
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        engine = create_engine(url, **kwargs)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        return engine
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql:// URLs")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the webserver read while a run writes; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (idempotent; runs on every start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as error:
        raise DatabaseError(f"could not migrate the app database {engine.url!r}: {error}") from error


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    with factory() as session, session.begin():
        yield session


def open_database(url: str, schema: str = DEFAULT_SCHEMA) -> sessionmaker[Session]:
    """The session factory for `url`, creating and migrating the database the first time in a process."""
    with _lock:
        cached = _engines.get((url, schema))
        if cached is None:
            engine = make_engine(url, schema)
            migrate(engine)
            cached = (engine, session_factory(engine))
            _engines[(url, schema)] = cached
        return cached[1]
