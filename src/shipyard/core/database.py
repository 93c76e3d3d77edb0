"""SQLAlchemy engine and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout and foreign keys on. Its transactions are begun by us,
not by the driver: a session opened for writing starts with ``BEGIN IMMEDIATE`` so that two writers
queue on the busy timeout instead of failing with ``SQLITE_BUSY`` when a read transaction is upgraded
to a write; read sessions use a plain deferred ``BEGIN`` and never block each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("shipyard_write", False)
        # Straight to the driver: every request opens a transaction, and SQLAlchemy's statement
        # pipeline cost several times the BEGIN itself.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
        self.engine = create_engine(parsed, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(shipyard_write=True), expire_on_commit=False)

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
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
