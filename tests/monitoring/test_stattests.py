"""Statistic goldens: each function against SciPy/NumPy on seeded data, and the published Evidently table."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from scipy.spatial import distance

from shipyard.monitoring import stattests as st
from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.profile import profile_column

REL = 1e-12


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(11)
    return np.sort(g.normal(size=1700)), np.sort(g.standard_t(5, size=1300) + 0.1)


def test_ks_wasserstein_energy_anderson_equal_scipy(samples: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = samples
    assert st.ks_test(ref, cur) == stats.ks_2samp(ref, cur).pvalue
    expected = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert math.isclose(st.wasserstein_norm(ref, cur, float(np.std(ref))), expected, rel_tol=REL)
    assert math.isclose(st.wasserstein_norm(ref, ref.copy(), 0.0), 0.0, abs_tol=1e-15)
    assert math.isclose(st.energy_distance(ref, cur), stats.energy_distance(ref, cur), rel_tol=REL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's capped-p-value and deprecation notices
        expected_ad = stats.anderson_ksamp([ref, cur]).significance_level
    assert st.anderson_test(ref, cur) == expected_ad


def test_wasserstein_std_floor_and_unequal_sizes() -> None:
    ref = np.full(50, 2.0)
    cur = np.sort(np.random.default_rng(1).normal(2.0, 0.01, 70))
    expected = stats.wasserstein_distance(ref, cur) / 0.001
    assert math.isclose(st.wasserstein_norm(ref, cur, 0.0), expected, rel_tol=REL)


def test_share_statistics_equal_scipy() -> None:
    g = np.random.default_rng(12)
    p, q = g.dirichlet(np.ones(7)), g.dirichlet(np.ones(7))
    assert math.isclose(st.jensenshannon(p, q), distance.jensenshannon(p, q), rel_tol=REL)
    assert math.isclose(st.kl_div(p, q), stats.entropy(p, q), rel_tol=REL)
    assert math.isclose(st.psi(p, q), float(np.sum((p - q) * np.log(p / q))), rel_tol=REL)
    x = np.array([0.0, 0.0, 0.5, 0.2, 0.3])
    y = np.array([0.0, 0.1, 0.0, 0.4, 0.5])
    assert np.array_equal(st._rel_entr(x, y), special.rel_entr(x, y))


def test_count_tests_equal_scipy_and_formula() -> None:
    ref, cur = np.array([50, 30, 20, 7]), np.array([41, 35, 20, 1])
    expected = stats.chisquare(cur, ref * cur.sum() / ref.sum()).pvalue
    assert math.isclose(st.chisquare_test(ref, cur), expected, rel_tol=REL)
    assert st.chisquare_test(np.array([10, 0]), np.array([5, 5])) == 0.0  # a value absent from reference
    p1, p2, n1, n2 = 30 / 100, 40 / 120, 100, 120
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert math.isclose(
        st.z_test(np.array([70, 30]), np.array([80, 40])), 2 * stats.norm.sf(abs(z)), rel_tol=1e-9
    )
    assert st.z_test(np.array([0, 9]), np.array([0, 4])) == 1.0


@pytest.mark.parametrize("size", [2, 7, 100, 1001, 20_000])
@pytest.mark.parametrize("integer", [False, True])
def test_sturges_edges_equal_numpy(size: int, integer: bool) -> None:
    g = np.random.default_rng(size)
    data = g.integers(-40, 90, size) if integer else g.normal(size=size) * 3
    edges = st.sturges_edges(float(data.min()), float(data.max()), size, integer=integer)
    assert np.array_equal(edges, np.histogram_bin_edges(data, bins="sturges"))
    sorted_data = np.sort(data).astype(np.float64)
    assert np.array_equal(st._histogram(sorted_data, edges), np.histogram(data, edges)[0])


def test_constant_data_edges_equal_numpy() -> None:
    assert np.array_equal(
        st.sturges_edges(3.0, 3.0, 10, integer=False), np.histogram_bin_edges(np.full(10, 3.0), "sturges")
    )


def _make_small(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The golden data of ../shared/reference/drift-semantics.md §2 (one Generator, ref columns first)."""
    g = np.random.default_rng(seed)

    def draw(mu: float, sd: float, p_low: list, p_bin: list, p3: list, p2: list) -> dict:
        return {
            "num_same": g.normal(0.0, 1.0, n),
            "num_shift": g.normal(mu, 1.0, n),
            "num_scale": g.normal(0.0, sd, n),
            "num_low": g.choice([0.0, 1.0, 2.0, 3.0], n, p=p_low),
            "num_bin": g.choice([0.0, 1.0], n, p=p_bin),
            "cat3": g.choice(["a", "b", "c"], n, p=p3),
            "cat_bin": g.choice(["x", "y"], n, p=p2),
        }

    ref = pd.DataFrame(draw(0.0, 1.0, [0.4, 0.3, 0.2, 0.1], [0.7, 0.3], [0.5, 0.3, 0.2], [0.6, 0.4]))
    cur = pd.DataFrame(draw(0.5, 1.5, [0.3, 0.3, 0.2, 0.2], [0.6, 0.4], [0.4, 0.3, 0.3], [0.6, 0.4]))
    return ref, cur


GOLDEN = {
    500: {
        "num_same": ("ks", 0.8636766933110154, False),
        "num_shift": ("ks", 6.591662713252528e-14, True),
        "num_scale": ("ks", 0.01637912818629415, True),
        "num_low": ("chisquare", 5.725951737353661e-23, True),
        "num_bin": ("z", 0.007143432919219483, True),
        "cat3": ("chisquare", 6.082640051829798e-06, True),
        "cat_bin": ("z", 0.8971048618715871, False),
    },
    5000: {
        "num_same": ("wasserstein", 0.02638874982728931, False),
        "num_shift": ("wasserstein", 0.4712348365725002, True),
        "num_scale": ("wasserstein", 0.3904133200169655, True),
        "num_low": ("jensenshannon", 0.1145742603929042, True),
        "num_bin": ("jensenshannon", 0.07495756377927083, False),
        "cat3": ("jensenshannon", 0.08922691802044946, False),
        "cat_bin": ("jensenshannon", 0.008809529148947505, False),
    },
}
GOLDEN_BINNED = {
    "psi": (0.007662174223620096, 0.2259177525405755, 0.2994241264696533),
    "kl_div": (0.003560677077480058, 0.11200925383642027, 0.11674810358221138),
    "jensenshannon": (0.03334236024146149, 0.16536193291395607, 0.18410574710565464),
}


@pytest.mark.parametrize("n", sorted(GOLDEN))
def test_published_goldens(n: int) -> None:
    ref, cur = _make_small(n)
    report = compute_drift(ref, cur)
    for column in report.columns:
        name, score, drifted = GOLDEN[n][column.column]
        assert (column.stattest, column.drifted) == (name, drifted)
        assert math.isclose(column.score, score, rel_tol=1e-12)
    assert report.dataset_drift is (n == 500)


@pytest.mark.parametrize("method", sorted(GOLDEN_BINNED))
def test_published_binned_goldens(method: str) -> None:
    ref, cur = _make_small(5000)
    names = ["num_same", "num_shift", "num_scale"]
    report = compute_drift(ref[names], cur[names], stattest=method)
    for column, expected in zip(report.columns, GOLDEN_BINNED[method], strict=True):
        assert math.isclose(column.score, expected, rel_tol=1e-12)
    assert (
        st.binned_shares(
            profile_column(ref["num_same"]), profile_column(cur["num_same"]), "numerical", fill_zeros=False
        )[0].size
        == 15
    )
