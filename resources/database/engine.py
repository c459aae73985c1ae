"""Connecting to the app database and bringing its schema up to date.

SQLite is the embedded default; on PostgreSQL our tables live in their own schema (default `pellacia`),
selected through the connection's search_path so the models and migrations stay schema-agnostic.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

_lock = threading.Lock()
_engines: dict[tuple[str, str], tuple[Engine, sessionmaker[Session]]] = {}
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DEFAULT_SCHEMA = "pellacia"
MIGRATION_LOCK = "pellacia-migrate"
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
        with engine.connect() as conn:
            # Two processes creating the same schema at once collide in pg_namespace: one at a time.
            take_write_lock(conn, f"{MIGRATION_LOCK}:{schema}")
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
        return engine
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql:// URLs")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the webserver read while a run writes; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    try:
        _wal_mode(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _wal_mode(cursor: Any, patience_s: float = 30.0) -> None:
    """Switch the file to WAL once (it stays so). The switch does not wait for the busy timeout: while
    another process migrates a fresh file it answers "database is locked", so ask again a while."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (idempotent; runs on every start).

    Safe when several processes start at once on a fresh home: the whole upgrade runs in one transaction
    that first takes the migration lock (SQLite: the database's write lock, `BEGIN IMMEDIATE`; PostgreSQL:
    a transaction-level advisory lock), so the others wait, then find the schema at head and do nothing.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.connect() as connection:
            take_write_lock(connection, f"{MIGRATION_LOCK}:{_schema_of(connection)}")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    except Exception as error:
        raise DatabaseError(f"could not migrate the app database {engine.url!r}: {error}") from error


def _schema_of(connection: Connection) -> str:
    if connection.dialect.name != "postgresql":
        return ""
    return str(connection.execute(text("SELECT current_schema()")).scalar() or "")


def lock_id(name: str) -> int:
    """A stable signed 64-bit number for `name` (PostgreSQL advisory locks are keyed by a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def take_write_lock(connection: Connection, name: str) -> None:
    """Hold a write lock named `name` until the connection's transaction ends; call it first thing.

    SQLite: `BEGIN IMMEDIATE` takes the database's write lock now (waiting up to the busy timeout for the
    writer before us), so what this transaction reads stays true until it commits. PostgreSQL:
    `pg_advisory_xact_lock` on the name, so transactions taking the same name run one after another.
    """
    if connection.dialect.name == "sqlite":
        # pysqlite would only BEGIN (deferred) before the first write; ours comes first and holds the lock
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_id(name)})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def locked_transaction(factory: sessionmaker[Session], name: str) -> Iterator[Session]:
    """A transaction that holds the write lock `name` (see `take_write_lock`) from its first statement:
    a read-check-write inside it cannot interleave with another process doing the same."""
    with factory() as session, session.begin():
        take_write_lock(session.connection(), name)
        yield session


def upsert(
    session: Session, model: type[DeclarativeBase], keys: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert the row `keys` + `values`, or update `values` where a row with `keys` exists: one atomic
    statement (`INSERT ... ON CONFLICT DO UPDATE`), so two processes saving the same row never collide.
    `keys` must be the columns of a unique constraint. Objects of that row already in the session are
    refreshed."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        lite = sqlite.insert(model).values(**keys, **values)
        session.execute(lite.on_conflict_do_update(index_elements=list(keys), set_=values))
    elif dialect == "postgresql":
        pg = postgresql.insert(model).values(**keys, **values)
        session.execute(pg.on_conflict_do_update(index_elements=list(keys), set_=values))
    else:
        raise DatabaseError(f"upsert is not supported on {dialect!r}")
    for instance in list(session.identity_map.values()):
        if isinstance(instance, model) and all(getattr(instance, k) == v for k, v in keys.items()):
            session.refresh(instance)


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
