"""Fixtures for the prediction-log tests: plain files under tmp_path, no database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.serving.predlog import PredictionLog


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "predlog"


@pytest.fixture
def log(root: Path) -> Iterator[PredictionLog]:
    with PredictionLog(root, maintenance_seconds=None) as opened:
        yield opened
