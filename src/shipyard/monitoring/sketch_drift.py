"""Drift from sketches: Evidently's test choice and thresholds, scores with their error bound.

Test selection is the exact engine's (:func:`shipyard.monitoring.drift.choose_stattest`): it needs only
row counts (exact) and whether there are ≤ 2, ≤ 5 or > 5 (> 20 for binning) distinct values, which a
frequency sketch of capacity > 20 answers exactly. Scores:

* ``wasserstein``, ``ks``, ``ed`` from the weighted CDFs of the quantile sketches; ``error_bound`` is
  rigorous: with ``ε = ε_ref + ε_cur`` (each sketch's CDF bound), W1 moves by at most ``ε·(max - min)``
  (then normed), the KS statistic D by ``ε`` (the p-value bound is ``p(D ∓ ε)``; p uses SciPy's
  asymptotic Kolmogorov distribution, which ``ks_2samp`` itself uses above 10 000 rows; below that the
  bound does not cover the gap to the exact p-value), ``ed`` by
  ``sqrt(2·ε·(max - min))``.
* count tests (``chisquare``, ``z``, ``jensenshannon``/``psi``/``kl_div``/``hellinger`` on values) are
  exact (``error_bound = 0``) while both frequency sketches are; otherwise the column is skipped.
* binned ``psi``/``kl_div``/``jensenshannon`` on numbers read the quantile sketch at the Sturges edges;
  each bin share is within ``2ε`` (stated in the notes, no bound on the score itself).
* ``anderson`` and numerical ``hellinger`` need the raw samples: skipped in sketch mode.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.drift import ColumnDrift, DriftReport, SkippedColumn, default_stattest
from shipyard.monitoring.profile import ColumnProfile, ReferenceProfile
from shipyard.monitoring.sketches import ColumnSketch, WindowSketch
from shipyard.monitoring.stattests import (
    STATTESTS,
    fill_zero_shares,
    get_stattest,
    jensenshannon,
    kl_div,
    psi,
    sturges_edges,
)

__all__ = ["sketch_drift"]

logger = logging.getLogger(__name__)

COUNT_TESTS = frozenset({"chisquare", "z", "jensenshannon", "psi", "kl_div", "hellinger"})


def _cdfs(ref: ColumnSketch, cur: ColumnSketch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both weighted CDFs at every distinct sketch point, and the gaps between points."""
    assert ref.quantiles is not None and cur.quantiles is not None
    cdfs = []
    items = [q.weighted() for q in (ref.quantiles, cur.quantiles)]
    points = np.union1d(items[0][0], items[1][0])
    for values, weights in items:
        cumulative = np.concatenate(([0.0], np.cumsum(weights)))
        cdfs.append(cumulative[np.searchsorted(values, points, "right")] / cumulative[-1])
    return cdfs[0][:-1], cdfs[1][:-1], np.diff(points)


def _as_profile(sketch: ColumnSketch) -> ColumnProfile:
    keys, counts = sketch.frequencies.keys, sketch.frequencies.counts
    return ColumnProfile(
        sketch.name, sketch.dtype, "categorical", sketch.n_rows, sketch.n, None, None, False, keys, counts
    )


def _binned(ref: ColumnSketch, cur: ColumnSketch, name: str) -> float:
    edges = sturges_edges(
        min(ref.minimum, cur.minimum),
        max(ref.maximum, cur.maximum),
        ref.n + cur.n,
        integer=ref.integer and cur.integer,
    )
    shares = []
    for sketch in (ref, cur):
        assert sketch.quantiles is not None
        values, weights = sketch.quantiles.weighted()
        cumulative = np.concatenate(([0.0], np.cumsum(weights)))
        cuts = np.concatenate(
            (np.searchsorted(values, edges[:-1], "left"), np.searchsorted(values, edges[-1:], "right"))
        )
        shares.append(np.diff(cumulative[cuts]) / sketch.n)
    if name == "jensenshannon":
        return jensenshannon(*shares)
    filled = [fill_zero_shares(part) for part in shares]
    return psi(*filled) if name == "psi" else kl_div(*filled)


def _ks_p_value(statistic: float, n: int, m: int) -> float:
    from scipy import stats

    return float(stats.kstwo.sf(min(max(statistic, 0.0), 1.0), round(n * m / (n + m))))


def _score(ref: ColumnSketch, cur: ColumnSketch, name: str, column_type: str) -> tuple[float, float | None]:
    """The score and a bound on its error (None where only the bin shares are bounded)."""
    if name in COUNT_TESTS and (column_type == "categorical" or ref.n_unique <= 20):
        if not (ref.frequencies.exact and cur.frequencies.exact):
            raise InvalidParameterError(
                f"more than {min(ref.frequencies.k, cur.frequencies.k)} distinct values: the category counts "
                "would be approximate; "
                "use an exact window or a larger sketch"
            )
        return STATTESTS[name].score(_as_profile(ref), _as_profile(cur), column_type), 0.0
    if ref.quantiles is None or cur.quantiles is None:
        raise InvalidParameterError(f"{name} needs numbers in both data sets")
    epsilon = ref.quantiles.epsilon + cur.quantiles.epsilon
    spread = max(ref.maximum, cur.maximum) - min(ref.minimum, cur.minimum)
    if name == "wasserstein":
        ref_cdf, cur_cdf, gaps = _cdfs(ref, cur)
        norm = max(ref.std, 0.001)
        return float(np.dot(np.abs(ref_cdf - cur_cdf), gaps)) / norm, epsilon * spread / norm
    if name == "ed":
        ref_cdf, cur_cdf, gaps = _cdfs(ref, cur)
        return float(np.sqrt(2 * np.dot(np.square(ref_cdf - cur_cdf), gaps))), math.sqrt(2 * epsilon * spread)
    if name == "ks":
        ref_cdf, cur_cdf, _ = _cdfs(ref, cur)
        statistic = float(np.max(np.abs(ref_cdf - cur_cdf), initial=0.0))
        p = _ks_p_value(statistic, ref.n, cur.n)
        low, high = (
            _ks_p_value(statistic + epsilon, ref.n, cur.n),
            _ks_p_value(statistic - epsilon, ref.n, cur.n),
        )
        return p, max(p - low, high - p)
    if name in ("psi", "kl_div", "jensenshannon"):
        return _binned(ref, cur, name), None
    raise InvalidParameterError(f"{name} needs the raw samples; it is not available in sketch mode")


def _choose(ref: ColumnSketch, cur: ColumnSketch, column_type: str) -> str:
    if ref.n_unique > 5 or cur.n_unique > 5:
        n_values = max(ref.n_unique, cur.n_unique)
    else:
        n_values = np.union1d(ref.frequencies.keys, cur.frequencies.keys).size
    return default_stattest(ref.n, n_values, column_type).name


def _column(
    ref: ColumnSketch,
    cur: ColumnSketch,
    column_type: str | None,
    stattest: str | None,
    threshold: float | None,
) -> ColumnDrift | SkippedColumn:
    problem = ref.problem or cur.problem
    if problem:
        return SkippedColumn(ref.name, problem)
    if column_type is None and cur.quantiles is None and not cur.frequencies.exact:
        return SkippedColumn(
            ref.name,
            f"more than {cur.frequencies.k} distinct values: sketch mode cannot tell text from categories "
            "here; use the exact mode",
        )
    column_type = column_type or cur.inferred_type()
    if column_type not in ("numerical", "categorical"):
        return SkippedColumn(ref.name, f"{column_type} column: not drift-tested (as in exact mode)")
    if ref.n == 0 or cur.n == 0:
        side = "reference" if ref.n == 0 else "current"
        return SkippedColumn(ref.name, f"empty in the {side} data after removing NaN and ±inf")
    try:
        test = get_stattest(stattest or _choose(ref, cur, column_type))
        score, bound = _score(ref, cur, test.name, column_type)
    except InvalidParameterError as exc:
        return SkippedColumn(ref.name, exc.message)
    limit = test.default_threshold if threshold is None else threshold
    return ColumnDrift(
        ref.name,
        column_type,
        test.name,
        limit,
        score,
        test.drifted(score, limit),
        ref.n,
        cur.n,
        error_bound=bound,
    )


def sketch_drift(
    reference: ReferenceProfile | WindowSketch,
    current: WindowSketch,
    *,
    columns: Sequence[str] | None = None,
    stattests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    column_types: Mapping[str, str] | None = None,
    drift_share: float = 0.5,
) -> DriftReport:
    """Score a sketched window against a reference profile or another sketch (``mode="sketch"``).

    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = ReferenceProfile.from_frame(pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> batches = (pd.DataFrame({"x": rng.normal(0.5, size=20_000)}) for _ in range(5))
    >>> report = sketch_drift(ref, WindowSketch.from_frames(batches, k=1024))
    >>> column = report.columns[0]
    >>> column.stattest, column.drifted, column.error_bound < 0.05
    ('wasserstein', True, True)
    """
    if isinstance(reference, ReferenceProfile):
        ref_columns = {name: ColumnSketch.from_profile(p) for name, p in reference.columns.items()}
    else:
        ref_columns = reference.columns
    names = list(columns) if columns is not None else list(ref_columns)
    absent = [name for name in names if name not in ref_columns or name not in current.columns]
    if absent:
        raise InvalidParameterError(
            f"columns missing from one side: {', '.join(map(repr, absent))}", field="columns"
        )
    results = [
        _column(
            ref_columns[name],
            current.columns[name],
            (column_types or {}).get(name),
            (stattests or {}).get(name),
            (thresholds or {}).get(name),
        )
        for name in names
    ]
    tested = tuple(r for r in results if isinstance(r, ColumnDrift))
    skipped = tuple(r for r in results if isinstance(r, SkippedColumn))
    if not tested:
        raise InvalidParameterError("no column could be tested in sketch mode", field="columns")
    bounds = {
        name: sketch.quantiles.epsilon
        for name, sketch in current.columns.items()
        if sketch.quantiles is not None and name in names
    }
    notes = (
        "sketch mode: scores are approximate; error_bound is a rigorous bound on |score - exact score| "
        "(0 = exact, absent = only the bin shares are bounded, each within twice the CDF bound)",
        "current CDF bound per column: " + ", ".join(f"{k} ≤ {v:.2g}" for k, v in bounds.items()),
    )
    return DriftReport(tested, skipped, drift_share, mode="sketch", notes=notes)
