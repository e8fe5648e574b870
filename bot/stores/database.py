"""The database under the feedback and analytics stores: a SQLite file each by default, or the PostgreSQL
database of `database.url` (SQLAlchemy Core, one engine per URL).

A store's tables are created on its first use that reaches the database (at start-up when the database
answers, later otherwise), so the service starts and answers while PostgreSQL is down. An unreachable
database raises `DatabaseUnavailable`: the routes refuse with a 503 and a French reason, the statistics log it
once and let the answer go on. PostgreSQL connections are checked before use (`pool_pre_ping`), so a
restarted server is reached again without restarting the service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

# Seconds a PostgreSQL connection may take before the database counts as unreachable
CONNECT_TIMEOUT_S = 3
# The advisory lock held while the stores' tables are created (any constant, the same in every worker)
_SCHEMA_LOCK_KEY = 0x637561626F74  # "cuabot"


class DatabaseUnavailable(Exception):
    """The store's database does not answer (stopped, unreachable, locked): nothing was written or read."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


@cache
def engine_for(url: str) -> Engine:
    """The one engine of `url`. SQLite: a connection per use (as many threads as requests), purged rows
    overwritten on disk (secure_delete); PostgreSQL: a pool whose connections are pinged before use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 10})
        event.listen(engine, "connect", _overwrite_deleted_rows)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def _overwrite_deleted_rows(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA secure_delete = ON")


class Database:
    """One store's tables in the database of `url`; `prepare` (a migration) runs once, after they are created."""

    def __init__(self, url: str, metadata: MetaData, prepare: Callable[[Engine], None] | None = None) -> None:
        self.engine = engine_for(url)
        self.metadata = metadata
        self.prepare = prepare
        self._ready = False
        self._lock = threading.Lock()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed at the end; DatabaseUnavailable when the database is down."""
        with unavailable_as_database_error():
            self._create_tables()
            with self.engine.begin() as connection:
                yield connection

    def check(self) -> None:
        """Raise DatabaseUnavailable unless the database answers (before a response that cannot be taken back)."""
        with self.begin():
            pass

    def _create_tables(self) -> None:
        with self._lock:
            if self._ready:
                return
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":  # workers starting together create the tables once
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
                self.metadata.create_all(connection)
                for table in self.metadata.tables.values():
                    for index in table.indexes:  # a table created by an earlier version may lack one
                        index.create(connection, checkfirst=True)
            if self.prepare:
                self.prepare(self.engine)
            self._ready = True


@contextmanager
def unavailable_as_database_error() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(str(exc.orig)) from exc
