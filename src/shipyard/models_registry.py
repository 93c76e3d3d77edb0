"""Imports every stage's ``tables`` module so that ``Base.metadata`` knows all tables.

Alembic and the test suite import this; a new stage adds one line here.
"""

from __future__ import annotations

import shipyard.core.tables
import shipyard.monitoring.tables
import shipyard.registry.tables
import shipyard.serving.tables
import shipyard.tracking.tables
import shipyard.usecases.tables  # noqa: F401

__all__: list[str] = []
