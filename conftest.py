"""Applies to tests/ and to the doctests in src/: no SHIPYARD_* variable of the shell leaks in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def _clear_shipyard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SHIPYARD_") and not name.startswith("SHIPYARD_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True, scope="session")
def _isolated_session() -> Iterator[None]:
    """Module- and session-scoped fixtures are built before any test's own environment is set."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clear_shipyard_variables(monkeypatch)
        yield


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clear_shipyard_variables(monkeypatch)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
