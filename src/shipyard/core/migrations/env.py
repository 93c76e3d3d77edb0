"""Alembic environment: the connection is always handed in by ``shipyard.core.migrate``."""

from __future__ import annotations

from alembic import context

import shipyard.models_registry  # noqa: F401  (imports every stage's tables into Base.metadata)
from shipyard.core.database import Base, UTCDateTime


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Revisions must not import application types: UTCDateTime is a timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
