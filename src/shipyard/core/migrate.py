"""Schema migrations, run at server start and by ``shipyard db upgrade``.

The revision scripts live in ``shipyard/core/migrations/versions`` and form one linear history for
all stages. On PostgreSQL an advisory lock makes concurrent replicas migrate one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from shipyard.core.database import Database

__all__ = ["SchemaStatus", "downgrade", "head_revision", "schema_status", "upgrade"]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x5348_4950  # "SHIP"


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(database: Database) -> SchemaStatus:
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaStatus(current=current, head=head_revision())


def upgrade(database: Database, revision: str = "head") -> SchemaStatus:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    before = schema_status(database)
    if before.up_to_date and revision == "head":
        return before
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        command.upgrade(_alembic_config(connection), revision)
    after = schema_status(database)
    logger.info("database schema upgraded from %s to %s", before.current, after.current)
    return after


def downgrade(database: Database, revision: str) -> SchemaStatus:
    """Step the schema back to ``revision`` (``base`` drops every table): for operators and tests."""
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        command.downgrade(_alembic_config(connection), revision)
    after = schema_status(database)
    logger.info("database schema downgraded to %s", after.current)
    return after
