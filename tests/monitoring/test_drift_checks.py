"""The common drift-test checks over every registered test (discovered, not listed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shipyard.monitoring.stattests import StatTest
from shipyard.testing.drift_checks import iter_drift_checks

CHECKS = list(iter_drift_checks())


@pytest.mark.parametrize(
    ("test", "column_type", "check"), [c[1:] for c in CHECKS], ids=[c[0] for c in CHECKS]
)
def test_drift_test_check(test: StatTest, column_type: str, check: Callable[[StatTest, str], None]) -> None:
    check(test, column_type)


def test_every_registered_test_is_checked() -> None:
    from shipyard.monitoring.stattests import STATTESTS

    assert {c[1].name for c in CHECKS} == set(STATTESTS)
