"""Drift statistics with Evidently 0.7.x's exact semantics, computed from column profiles.

Each statistic is a plain function on arrays, named for what it returns (``ks_test`` returns a p-value,
``wasserstein_norm`` a distance), plus a :class:`StatTest` entry in :data:`STATTESTS` (Evidently's name,
default threshold, the comparison that means drift). Numbers equal Evidently's
``legacy/calculations/stattests/*`` to floating-point rounding; where Evidently calls SciPy we compute the
same formula on pre-sorted data instead of re-sorting per call.

Binned tests (Jensen-Shannon, PSI, KL) share Evidently's ``get_binned_data``: a numerical column whose
reference has more than 20 distinct values is cut into Sturges equal-width bins over the combined range;
anything else uses the share of each distinct value. PSI and KL then replace zero shares by
``min_nonzero / 1e6`` when ``min_nonzero <= 1e-4``, else by ``1e-4``; Jensen-Shannon does not.
"""

from __future__ import annotations

import logging
import math
import operator
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.profile import ColumnProfile

__all__ = [
    "STATTESTS",
    "StatTest",
    "aligned_counts",
    "anderson_test",
    "binned_shares",
    "chisquare_test",
    "energy_distance",
    "fill_zero_shares",
    "get_stattest",
    "hellinger_distance",
    "jensenshannon",
    "kl_div",
    "ks_test",
    "psi",
    "sturges_edges",
    "wasserstein_norm",
    "z_test",
]

logger = logging.getLogger(__name__)

Scorer = Callable[[ColumnProfile, ColumnProfile, str], float]
_WARNINGS_LOCK = threading.Lock()
_COMPARE = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt}


def ks_test(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov p-value (SciPy ``ks_2samp``, two-sided, ``method='auto'``).

    >>> rng = np.random.default_rng(0)
    >>> f"{ks_test(rng.normal(size=300), rng.normal(0.5, size=300)):.4g}"
    '7.278e-09'
    """
    from scipy import stats  # only this path needs scipy.stats; keep it off the command's import path

    return float(stats.ks_2samp(reference, current).pvalue)


def _merged_cdfs(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both empirical CDFs at each point of the merged sorted sample, and the gaps between points.

    Equal to SciPy's ``_cdf_distance`` set-up (searchsorted 'right' into each sample) wherever a gap is
    non-zero, which is everywhere the gap counts; both inputs must be sorted.
    """
    n, m = reference.size, current.size
    at = np.searchsorted(reference, current, side="right") + np.arange(m)
    from_current = np.zeros(n + m, dtype=bool)
    from_current[at] = True
    merged = np.empty(n + m, dtype=np.float64)
    merged[at] = current
    merged[~from_current] = reference
    cur_cdf = np.cumsum(from_current)[:-1] / m
    ref_cdf = (np.arange(1, n + m) - np.cumsum(from_current)[:-1]) / n
    return ref_cdf, cur_cdf, np.diff(merged)


def wasserstein_norm(reference: np.ndarray, current: np.ndarray, reference_std: float) -> float:
    """Wasserstein-1 distance divided by ``max(std(reference), 0.001)`` (population std, ddof=0).

    Both samples must be sorted. Equals ``scipy.stats.wasserstein_distance(r, c) / max(np.std(r), 1e-3)``.

    >>> rng = np.random.default_rng(0)
    >>> ref, cur = np.sort(rng.normal(size=2000)), np.sort(rng.normal(0.3, size=2000))
    >>> round(wasserstein_norm(ref, cur, float(np.std(ref))), 6)
    0.325783
    """
    # W1 = ∫_0^1 |F⁻¹(u) - G⁻¹(u)| du over the merged grid of quantile levels i/n and j/m, kept in
    # integer units of 1/(n·m): no binary search, only sequential gathers (SciPy integrates |F - G| dx,
    # the same integral; the two sums agree to rounding).
    n, m = reference.size, current.size
    norm = max(reference_std, 0.001)
    if n == m:  # every level i/n is shared: the integral is the mean gap between order statistics
        return float(np.mean(np.abs(reference - current))) / norm
    grid = np.concatenate((np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n))
    grid.sort()
    widths = np.diff(grid, prepend=0).astype(np.float64)
    gaps = np.abs(reference[(grid - 1) // m] - current[(grid - 1) // n])
    return float(np.dot(widths, gaps)) / (float(n) * float(m)) / norm


def energy_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Energy distance ``sqrt(2 * ∫ (F - G)^2)`` of two sorted samples (``scipy.stats.energy_distance``).

    >>> rng = np.random.default_rng(0)
    >>> round(energy_distance(np.sort(rng.normal(size=500)), np.sort(rng.normal(1, size=500))), 6)
    0.714614
    """
    ref_cdf, cur_cdf, gaps = _merged_cdfs(reference, current)
    return float(np.sqrt(2) * np.sqrt(np.dot(np.square(ref_cdf - cur_cdf), gaps)))


def anderson_test(reference: np.ndarray, current: np.ndarray) -> float:
    """k-sample Anderson-Darling significance level (SciPy ``anderson_ksamp``; capped to [0.001, 0.25]).

    >>> rng = np.random.default_rng(0)
    >>> anderson_test(rng.normal(size=300), rng.normal(size=300))
    0.25
    """
    from scipy import stats

    # SciPy warns when it caps the p-value (Evidently's result is capped too). Warning filters are
    # process-global, so the lock keeps parallel column workers from restoring them under each other.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.anderson_ksamp([reference, current]).significance_level)


def chisquare_test(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Chi-square p-value of current counts against reference shares scaled to the current size.

    A value absent from the reference gets an expected count of 0 and the p-value is 0, as in Evidently.

    >>> round(chisquare_test(np.array([50, 30, 20]), np.array([40, 30, 30])), 6)
    0.030197
    """
    n_ref, n_cur = reference_counts.sum(), current_counts.sum()
    expected = reference_counts * (n_cur / n_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (current_counts - expected) ** 2 / expected
    terms[(expected == 0) & (current_counts == 0)] = 0.0
    from scipy import special  # lazy: SciPy's import costs a cold command ~0.25 s

    return float(special.chdtrc(len(terms) - 1, terms.sum()))


def z_test(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Two-sided Z-test for proportions; the first count is the smallest value (coded 0), the rest 1.

    If both samples hold the same single value the p-value is 1, as in Evidently.

    >>> round(z_test(np.array([70, 30]), np.array([60, 40])), 6)
    0.138208
    """
    n1, n2 = int(reference_counts.sum()), int(current_counts.sum())
    ref_single, cur_single = np.count_nonzero(reference_counts), np.count_nonzero(current_counts)
    if ref_single == 1 and cur_single == 1 and np.argmax(reference_counts) == np.argmax(current_counts):
        return 1.0
    p1 = float(n1 - int(reference_counts[0])) / n1
    p2 = float(n2 - int(current_counts[0])) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    from scipy import special

    return float(2 * (1 - special.ndtr(np.abs(z))))


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr`` in NumPy: ``x ln(x / y)``, 0 where ``x == 0``, inf where ``y == 0 < x``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = x * np.log(x / y)
    terms = np.where((x == 0) & (y >= 0), 0.0, terms)
    return np.where((x > 0) & (y == 0), np.inf, terms)


def jensenshannon(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Jensen-Shannon distance, natural log (``scipy.spatial.distance.jensenshannon``), at most √ln2.

    >>> round(jensenshannon(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])), 6)
    0.088416
    """
    p = reference_shares / np.sum(reference_shares)
    q = current_shares / np.sum(current_shares)
    m = (p + q) / 2.0
    js = np.sum(_rel_entr(p, m)) + np.sum(_rel_entr(q, m))
    return float(np.sqrt(js / 2.0))


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Population stability index ``Σ (r - c) ln(r / c)`` over zero-filled shares.

    >>> round(psi(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])), 6)
    0.062861
    """
    return float(np.sum((reference_shares - current_shares) * np.log(reference_shares / current_shares)))


def kl_div(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Kullback-Leibler divergence KL(reference ‖ current), natural log (``scipy.stats.entropy``).

    >>> round(kl_div(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])), 6)
    0.030479
    """
    p = reference_shares / np.sum(reference_shares)
    q = current_shares / np.sum(current_shares)
    return float(np.sum(_rel_entr(p, q)))


def hellinger_distance(reference_density: np.ndarray, current_density: np.ndarray, width: float) -> float:
    """Hellinger distance ``sqrt(1 - Σ sqrt(p q) · width)`` (Bhattacharyya coefficient clipped to [0, 1]).

    For categories pass shares and ``width=1``.

    >>> round(hellinger_distance(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3]), 1.0), 6)
    0.088529
    """
    coefficient = 0.0
    for p, q in zip(reference_density.tolist(), current_density.tolist(), strict=True):
        coefficient += math.sqrt(p * q) * width  # summed in order, as Evidently's loop over bins
    return math.sqrt(1 - float(np.clip(coefficient, 0, 1)))


def sturges_edges(low: float, high: float, size: int, *, integer: bool) -> np.ndarray:
    """``np.histogram_bin_edges(data, bins="sturges")`` from the data's min, max, size and int-ness.

    >>> sturges_edges(0.0, 1.0, 100, integer=False).size - 1
    8
    """
    first, last = (low - 0.5, high + 0.5) if low == high else (low, high)
    width = np.float64(high - low) / (np.log2(size) + 1.0)
    if width:
        if integer and width < 1:
            width = 1
        n_bins = int(np.ceil(np.float64(last - first) / width))
    else:
        n_bins = 1
    return np.linspace(first, last, n_bins + 1, endpoint=True, dtype=np.float64)


def _histogram(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` for sorted values: [a, b) bins, the last one closed."""
    cuts = np.concatenate(
        (
            np.searchsorted(sorted_values, edges[:-1], "left"),
            np.searchsorted(sorted_values, edges[-1:], "right"),
        )
    )
    return np.diff(cuts)


def aligned_counts(reference: ColumnProfile, current: ColumnProfile) -> tuple[np.ndarray, ...]:
    """The sorted union of both columns' distinct values, and each side's count of every one.

    >>> import pandas as pd
    >>> from shipyard.monitoring.profile import profile_column
    >>> ref, cur = profile_column(pd.Series(list("aab"))), profile_column(pd.Series(list("bc")))
    >>> keys, r, c = aligned_counts(ref, cur)
    >>> keys.tolist(), r.tolist(), c.tolist()
    (['a', 'b', 'c'], [2, 1, 0], [0, 1, 1])
    """
    ref_keys, cur_keys = reference.keys, current.keys
    if (ref_keys.dtype.kind == "U") != (cur_keys.dtype.kind == "U"):
        raise InvalidParameterError(
            f"column {reference.name!r} holds strings in one data set and numbers in the other; "
            "expected the same type in both",
            field=reference.name,
        )
    keys = np.union1d(ref_keys, cur_keys)
    ref_counts = np.zeros(keys.size, dtype=np.int64)
    cur_counts = np.zeros(keys.size, dtype=np.int64)
    ref_counts[np.searchsorted(keys, ref_keys)] = reference.counts
    cur_counts[np.searchsorted(keys, cur_keys)] = current.counts
    return keys, ref_counts, cur_counts


def fill_zero_shares(shares: np.ndarray) -> np.ndarray:
    """Evidently's zero filling for PSI and KL: zeros become ``min_nonzero / 1e6`` if that minimum is
    ``<= 1e-4``, else ``1e-4``.

    >>> fill_zero_shares(np.array([0.0, 0.5, 0.5])).tolist()
    [0.0001, 0.5, 0.5]
    """
    smallest = shares[shares != 0].min()
    return np.where(shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001, shares)


def binned_shares(
    reference: ColumnProfile, current: ColumnProfile, column_type: str, *, fill_zeros: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Evidently's ``get_binned_data``: Sturges-bin shares, or per-value shares (see module docstring)."""
    if column_type == "numerical" and reference.n_unique > 20:
        _require_numeric(reference, current)
        edges = sturges_edges(
            min(reference.minimum, current.minimum),
            max(reference.maximum, current.maximum),
            reference.n + current.n,
            integer=reference.is_integer and current.is_integer,
        )
        assert reference.values is not None and current.values is not None
        ref_counts, cur_counts = _histogram(reference.values, edges), _histogram(current.values, edges)
    else:
        _, ref_counts, cur_counts = aligned_counts(reference, current)
    ref_shares, cur_shares = ref_counts / reference.n, cur_counts / current.n
    if fill_zeros:
        return fill_zero_shares(ref_shares), fill_zero_shares(cur_shares)
    return ref_shares, cur_shares


def _require_numeric(reference: ColumnProfile, current: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    if reference.values is None or current.values is None:
        side = "reference" if reference.values is None else "current"
        raise InvalidParameterError(
            f"column {reference.name!r} in the {side} data is not numeric; a numerical test needs numbers "
            "(set its type to categorical to compare value frequencies)",
            field=reference.name,
        )
    return reference.values, current.values


def _hellinger(reference: ColumnProfile, current: ColumnProfile, column_type: str) -> float:
    if column_type == "categorical":
        _, ref_counts, cur_counts = aligned_counts(reference, current)
        return hellinger_distance(ref_counts / reference.n, cur_counts / current.n, 1.0)
    ref_values, cur_values = _require_numeric(reference, current)
    keys, _, _ = aligned_counts(reference, current)
    integer = reference.is_integer and current.is_integer
    edges = sturges_edges(float(keys[0]), float(keys[-1]), keys.size, integer=integer)
    widths = np.diff(edges)
    ref_counts, cur_counts = _histogram(ref_values, edges), _histogram(cur_values, edges)
    width = (edges.max() - edges.min()) / (len(edges) - 1)
    return hellinger_distance(
        ref_counts / widths / ref_counts.sum(), cur_counts / widths / cur_counts.sum(), float(width)
    )


def _wasserstein(reference: ColumnProfile, current: ColumnProfile, column_type: str) -> float:
    ref_values, cur_values = _require_numeric(reference, current)
    assert reference.std is not None
    return wasserstein_norm(ref_values, cur_values, reference.std)


@dataclass(frozen=True)
class StatTest:
    """A drift test as Evidently names it: ``drifted(score, threshold)`` applies its comparison."""

    name: str
    display_name: str
    column_types: frozenset[str]
    default_threshold: float
    drift_if: str  # "score <op> threshold" means drift
    returns: str  # "p_value" or "distance"
    scorer: Scorer

    def score(self, reference: ColumnProfile, current: ColumnProfile, column_type: str) -> float:
        return self.scorer(reference, current, column_type)

    def drifted(self, score: float, threshold: float) -> bool:
        return bool(_COMPARE[self.drift_if](score, threshold))


def _entry(name: str, display: str, types: str, threshold: float, drift_if: str, scorer: Scorer) -> StatTest:
    returns = "p_value" if drift_if in ("<", "<=") else "distance"
    return StatTest(name, display, frozenset(types.split()), threshold, drift_if, returns, scorer)


def _shares(fill: bool, stat: Callable[[np.ndarray, np.ndarray], float]) -> Scorer:
    return lambda r, c, t: stat(*binned_shares(r, c, t, fill_zeros=fill))


STATTESTS: dict[str, StatTest] = {
    test.name: test
    for test in (
        _entry(
            "ks", "K-S p_value", "numerical", 0.05, "<=", lambda r, c, t: ks_test(*_require_numeric(r, c))
        ),
        _entry(
            "chisquare",
            "chi-square p_value",
            "categorical",
            0.05,
            "<",
            lambda r, c, t: chisquare_test(*aligned_counts(r, c)[1:]),
        ),
        _entry(
            "z", "Z-test p_value", "categorical", 0.05, "<", lambda r, c, t: z_test(*aligned_counts(r, c)[1:])
        ),
        _entry("wasserstein", "Wasserstein distance (normed)", "numerical", 0.1, ">=", _wasserstein),
        _entry(
            "jensenshannon",
            "Jensen-Shannon distance",
            "categorical numerical",
            0.1,
            ">=",
            _shares(False, jensenshannon),
        ),
        _entry("psi", "PSI", "categorical numerical", 0.1, ">=", _shares(True, psi)),
        _entry(
            "kl_div", "Kullback-Leibler divergence", "categorical numerical", 0.1, ">=", _shares(True, kl_div)
        ),
        _entry("hellinger", "Hellinger distance", "categorical numerical", 0.1, ">=", _hellinger),
        _entry(
            "anderson",
            "Anderson-Darling",
            "numerical",
            0.1,
            "<",
            lambda r, c, t: anderson_test(*_require_numeric(r, c)),
        ),
        _entry(
            "ed",
            "Energy-distance",
            "numerical",
            0.1,
            ">",
            lambda r, c, t: energy_distance(*_require_numeric(r, c)),
        ),
    )
}


def get_stattest(name: str) -> StatTest:
    """The registered test called ``name`` (Evidently's names), or an error listing the known ones."""
    try:
        return STATTESTS[name]
    except KeyError:
        raise InvalidParameterError(
            f"unknown drift test {name!r}; expected one of {', '.join(sorted(STATTESTS))}", field="stattest"
        ) from None
