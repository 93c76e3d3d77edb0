"""Common checks run over every registered drift test, discovered from ``STATTESTS`` rather than listed.

A new test in :data:`shipyard.monitoring.stattests.STATTESTS` gets these for free, for each column type
it accepts: the same sample never drifts, a clearly shifted sample does, p-values stay in [0, 1], and
the score is a pure function of the data (same seed, same score).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from shipyard.monitoring.drift import ColumnDrift, score_column
from shipyard.monitoring.profile import ColumnProfile, profile_column
from shipyard.monitoring.stattests import STATTESTS, StatTest

__all__ = [
    "CHECKS",
    "check_drift_test",
    "check_p_value_in_unit_interval",
    "check_same_sample_no_drift",
    "check_seed_stable",
    "check_shift_drifts",
    "iter_drift_checks",
    "sample_column",
]

N_ROWS = 1500


def sample_column(test: StatTest, column_type: str, *, seed: int, shifted: bool) -> ColumnProfile:
    """A seeded sample the test accepts: normal numbers, or categories (two for the Z-test)."""
    rng = np.random.default_rng(seed)
    if column_type == "numerical":
        values = rng.normal(1.5 if shifted else 0.0, 1.0, N_ROWS)
        return profile_column(pd.Series(values, name="x"))
    keys = ["a", "b"] if test.name == "z" else ["a", "b", "c", "d"]
    p = np.linspace(1, 2, len(keys))[:: -1 if shifted else 1]
    values = rng.choice(keys, N_ROWS, p=p / p.sum())
    if shifted:
        values[: N_ROWS // 2] = keys[0]
    return profile_column(pd.Series(values, name="x"))


def _score(test: StatTest, column_type: str, reference: ColumnProfile, current: ColumnProfile) -> ColumnDrift:
    result = score_column(reference, current, column_type=column_type, stattest=test.name)
    assert isinstance(result, ColumnDrift), f"{test.name} skipped a valid column: {result}"
    return result


def check_same_sample_no_drift(test: StatTest, column_type: str) -> None:
    sample = sample_column(test, column_type, seed=1, shifted=False)
    result = _score(test, column_type, sample, sample)
    assert not result.drifted, f"{test.name} finds drift between a sample and itself: {result.score}"


def check_shift_drifts(test: StatTest, column_type: str) -> None:
    reference = sample_column(test, column_type, seed=2, shifted=False)
    current = sample_column(test, column_type, seed=3, shifted=True)
    result = _score(test, column_type, reference, current)
    assert result.drifted, f"{test.name} misses a clear shift: score {result.score}"


def check_p_value_in_unit_interval(test: StatTest, column_type: str) -> None:
    for seed, shifted in ((4, False), (5, True), (6, False)):
        reference = sample_column(test, column_type, seed=seed, shifted=False)
        current = sample_column(test, column_type, seed=seed + 100, shifted=shifted)
        score = _score(test, column_type, reference, current).score
        assert np.isfinite(score), f"{test.name} returned {score}"
        if test.returns == "p_value":
            assert 0.0 <= score <= 1.0, f"{test.name} p-value {score} is outside [0, 1]"
        else:
            assert score >= 0.0, f"{test.name} distance {score} is negative"


def check_seed_stable(test: StatTest, column_type: str) -> None:
    scores = {
        _score(
            test,
            column_type,
            sample_column(test, column_type, seed=7, shifted=False),
            sample_column(test, column_type, seed=8, shifted=True),
        ).score
        for _ in range(2)
    }
    assert len(scores) == 1, f"{test.name} gives different scores for the same data: {scores}"


CHECKS: tuple[Callable[[StatTest, str], None], ...] = (
    check_same_sample_no_drift,
    check_shift_drifts,
    check_p_value_in_unit_interval,
    check_seed_stable,
)


def iter_drift_checks() -> Iterator[tuple[str, StatTest, str, Callable[[StatTest, str], None]]]:
    """``(id, test, column type, check)`` for every registered test, type it accepts and check."""
    for name, test in sorted(STATTESTS.items()):
        for column_type in sorted(test.column_types):
            for check in CHECKS:
                yield f"{name}-{column_type}-{check.__name__}", test, column_type, check


def check_drift_test(test: StatTest) -> None:
    """Run every check on one test, for each column type it accepts.

    >>> from shipyard.monitoring.stattests import get_stattest
    >>> check_drift_test(get_stattest("psi"))
    """
    for column_type in sorted(test.column_types):
        for check in CHECKS:
            check(test, column_type)
