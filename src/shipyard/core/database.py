"""SQLAlchemy engine and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout and foreign keys on. Its transactions are begun by us,
not by the driver: a session opened for writing (on an engine of its own) starts with ``BEGIN
IMMEDIATE`` so that two writers queue on the busy timeout instead of failing with ``SQLITE_BUSY`` when a
read transaction is upgraded to a write; read sessions use a plain deferred ``BEGIN`` and never block
each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shipyard.core.config import mask_url
from shipyard.core.errors import ConfigurationError, StoreUnavailableError

__all__ = ["Base", "Database", "UTCDateTime", "utcnow"]

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Stable constraint names, so Alembic can alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Shipyard stores only aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ShipyardSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite whose transactions Shipyard begins itself: ``BEGIN``, or ``BEGIN IMMEDIATE`` on the
    engine made for writers.

    The driver's own transaction handling is off (``isolation_level = None``, set on connect). Beginning
    here rather than in a "begin" event keeps the engine free of connection-event listeners: with one,
    SQLAlchemy dispatches its execution events around every statement, a fifth of a logging call.
    """

    supports_statement_cache = True

    def __init__(self, begin_immediate: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.begin_statement = "BEGIN IMMEDIATE" if begin_immediate else "BEGIN"

    def do_begin(self, dbapi_connection: Any) -> None:
        dbapi_connection.execute(self.begin_statement)


registry.register("sqlite.shipyard", __name__, "ShipyardSQLiteDialect")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun by the dialect above, never implicitly by the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class Database:
    """Owns one engine and hands out sessions; the only place that knows the backend.

    >>> db = Database("sqlite://")
    >>> with db.session() as session:
    ...     session.scalar(text("select 1"))
    1
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except Exception as exc:
            raise ConfigurationError(
                f"SHIPYARD_DATABASE_URL: cannot parse {mask_url(url)!r}: {exc}", field="database_url"
            ) from None
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":  # plain URL: use psycopg 3, not psycopg2
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        else:
            raise ConfigurationError(
                f"SHIPYARD_DATABASE_URL: unsupported database {self.dialect!r}; use sqlite or postgresql",
                field="database_url",
            )
        self._engines: list[Engine] = []
        if self.dialect == "sqlite":
            # Writers get an engine (and pool) of their own whose transactions begin IMMEDIATE; an
            # in-memory database exists per connection, so there one engine serves both.
            parsed = parsed.set(drivername="sqlite+shipyard")
            self.engine = self._sqlite_engine(parsed, kwargs, begin_immediate=False)
            in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
            write_engine = (
                self.engine if in_memory else self._sqlite_engine(parsed, kwargs, begin_immediate=True)
            )
        else:
            self.engine = write_engine = create_engine(parsed, **kwargs)
            self._engines.append(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    def _sqlite_engine(self, url: Any, kwargs: dict[str, Any], *, begin_immediate: bool) -> Engine:
        engine = create_engine(url, begin_immediate=begin_immediate, **kwargs)
        _configure_sqlite(engine)
        self._engines.append(engine)
        return engine

    @contextlib.contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error."""
        maker = self._write if write else self._read
        with maker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("select 1"))
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(
                f"database {mask_url(self.url)} is unreachable: {_first_line(exc)}", field="database_url"
            ) from None

    def optimize(self) -> None:
        """Refresh planner statistics on SQLite (bounded sampling); PostgreSQL's autovacuum does its own."""
        if self.dialect == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA analysis_limit=1000")
                connection.exec_driver_sql("ANALYZE")
                connection.commit()

    def dispose(self) -> None:
        for engine in self._engines:
            engine.dispose()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
