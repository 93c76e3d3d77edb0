from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import shipyard.models_registry  # noqa: F401
from shipyard.core import migrate
from shipyard.core.database import Base, Database


def test_upgrade_from_empty_then_idempotent(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        before = migrate.schema_status(database)
        assert before.current is None and not before.up_to_date
        after = migrate.upgrade(database)
        assert after.up_to_date and after.current == migrate.head_revision()
        assert migrate.upgrade(database) == after
        assert {"token", "audit_event", "artifact_file"} <= set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def test_schema_matches_the_models(database_url: str) -> None:
    """The migrations produce exactly the tables the ORM declares (nothing forgotten in a revision)."""
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:

            def for_this_database(obj, name, type_, reflected, compare_to) -> bool:
                # Objects declared with .ddl_if(dialect=...) exist only on that database.
                condition = getattr(obj, "_ddl_if", None)
                return condition is None or condition.dialect in (None, connection.dialect.name)

            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": for_this_database}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        database.dispose()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    database = Database(database_url)
    try:
        migrate.downgrade(database, "base")
        assert migrate.schema_status(database).current is None
        assert "audit_event" not in inspect(database.engine).get_table_names()
        migrate.upgrade(database)
        assert migrate.schema_status(database).up_to_date
    finally:
        database.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"])
def test_audit_table_is_append_only_in_the_database(database_url: str, statement: str) -> None:
    database = Database(database_url)
    try:
        with database.session(write=True) as session:
            session.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor, actor_role, action, object_type, "
                    "object_id) VALUES (CURRENT_TIMESTAMP, 'alice', 'admin', 'x.create', 'x', '1')"
                )
            )
        with pytest.raises(Exception, match="append-only"), database.session(write=True) as session:
            session.execute(text(statement))
        with database.session() as session:
            assert session.execute(text("SELECT actor FROM audit_event")).scalars().all() == ["alice"]
    finally:
        database.dispose()


def test_truncate_is_refused_on_postgresql(database_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    database = Database(database_url)
    try:
        with pytest.raises(Exception, match="append-only"), database.session(write=True) as session:
            session.execute(text("TRUNCATE audit_event"))
    finally:
        database.dispose()


def test_sqlite_pragmas(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        database.dispose()
