"""Drift types on labelled synthetic streams (fixed seeds), per column and overall."""

from __future__ import annotations

import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.drift_types import ALL_DRIFT_TYPES, classify_drift_type, classify_windows
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.testing.drift_streams import StreamSpec, make_stream


@pytest.mark.parametrize("kind", ALL_DRIFT_TYPES)
@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_streams_are_classified(kind: str, seed: int) -> None:
    reference, windows = make_stream(StreamSpec(kind, seed))
    profile = ReferenceProfile.from_frame(reference)
    types = classify_windows([compute_drift(profile, window) for window in windows])
    assert types.overall == kind
    assert types.column("steady").drift_type == "none"
    assert types.column("x").drift_type == kind
    if kind in ("sudden", "recurring"):
        assert types.column("x").onset == 8


def test_few_or_isolated_drifted_windows_are_none() -> None:
    assert classify_drift_type([0.1, 1.2, 0.2, 0.1, 1.5, 0.3, 0.2, 0.1]).drift_type == "none"


def test_p_value_severities() -> None:
    from shipyard.monitoring.drift import ColumnDrift
    from shipyard.monitoring.drift_types import severity

    at_threshold = ColumnDrift("x", "numerical", "ks", 0.05, 0.05, True, 10, 10)
    assert severity(at_threshold) == pytest.approx(1.0)
    assert severity(ColumnDrift("x", "numerical", "ks", 0.05, 0.0, True, 10, 10)) > 100


def test_too_short_series_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="at least 3"):
        classify_drift_type([0.1, 2.0])
