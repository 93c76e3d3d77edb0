"""Sketch error bounds hold, partial sketches merge, and sketch scores stay within their stated bound."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.monitoring.sketch_drift import sketch_drift
from shipyard.monitoring.sketches import FrequencySketch, QuantileSketch, WindowSketch


@pytest.mark.parametrize(("k", "batches"), [(64, 1), (128, 17), (512, 5)])
def test_quantile_sketch_cdf_error_within_bound(k: int, batches: int) -> None:
    rng = np.random.default_rng(k)
    data = np.concatenate([rng.lognormal(size=40_000 // batches) for _ in range(batches)])
    parts = [QuantileSketch(k=k) for _ in range(3)]
    for i, chunk in enumerate(np.array_split(data, batches)):
        parts[i % 3].update(chunk)
    sketch = parts[0].merge(parts[1]).merge(parts[2])
    assert sketch.n == data.size and sketch.rank_error > 0
    items, weights = sketch.weighted()
    assert weights.sum() == data.size
    ordered = np.sort(data)
    probes = np.quantile(data, np.linspace(0, 1, 201))
    estimated = np.concatenate(([0.0], np.cumsum(weights)))[np.searchsorted(items, probes, "right")]
    exact = np.searchsorted(ordered, probes, "right")
    assert np.max(np.abs(estimated - exact)) <= sketch.rank_error


def test_frequency_sketch_bounds_and_merge() -> None:
    rng = np.random.default_rng(1)
    values = rng.zipf(1.6, 30_000) % 500
    sketches = []
    for chunk in np.array_split(values, 4):
        s = FrequencySketch(k=50)
        keys, counts = np.unique(chunk, return_counts=True)
        s.update(keys, counts)
        sketches.append(s)
    merged = sketches[0].merge(sketches[1]).merge(sketches[2]).merge(sketches[3])
    truth = dict(zip(*np.unique(values, return_counts=True), strict=True))
    estimates = merged.estimates()
    assert len(estimates) <= 50 and merged.count_error > 0
    for key, count in truth.items():
        estimate = estimates.get(key, 0)
        assert estimate <= count <= estimate + merged.count_error


def test_exact_sketch_scores_equal_exact_engine() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(list("abc"), 4000)})
    cur = pd.DataFrame({"x": rng.normal(0.2, size=3000), "c": rng.choice(list("abcd"), 3000)})
    exact = compute_drift(ref, cur)
    window = WindowSketch.from_frames([cur.iloc[:1000], cur.iloc[1000:]], k=10_000)  # never compacts
    sketched = sketch_drift(ReferenceProfile.from_frame(ref), window)
    for mine, theirs in zip(sketched.columns, exact.columns, strict=True):
        assert (mine.stattest, mine.drifted, mine.error_bound) == (theirs.stattest, theirs.drifted, 0.0)
        assert math.isclose(mine.score, theirs.score, rel_tol=1e-9)
    assert sketched.to_dict()["mode"] == "sketch"


@pytest.mark.parametrize("stattest", ["wasserstein", "ks", "ed"])
def test_approximate_scores_within_stated_bound(stattest: str) -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=20_000)})
    chunks = [pd.DataFrame({"x": rng.normal(0.05, 1.1, size=25_000)}) for _ in range(4)]
    exact = compute_drift(ref, pd.concat(chunks), stattest=stattest).columns[0]
    partials = [WindowSketch.from_frames([chunk], k=256) for chunk in chunks]
    window = partials[0].merge(partials[1]).merge(partials[2]).merge(partials[3])
    approx = sketch_drift(ReferenceProfile.from_frame(ref), window, stattests={"x": stattest}).columns[0]
    assert approx.error_bound is not None and approx.error_bound > 0
    if (
        stattest == "ks"
    ):  # the sketch path uses the asymptotic distribution; compare statistics' p-values loosely
        assert approx.drifted == exact.drifted
    else:
        assert abs(approx.score - exact.score) <= approx.error_bound


def test_binned_tests_and_too_many_categories() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=5000), "id": [f"u{i % 3000}" for i in range(5000)]})
    cur = pd.DataFrame({"x": rng.normal(0.4, size=8000), "id": [f"u{i % 3000}" for i in range(8000)]})
    window = WindowSketch.from_frames([cur], k=2048)
    report = sketch_drift(
        ReferenceProfile.from_frame(ref), window, stattests={"x": "psi"}, column_types={"id": "categorical"}
    )
    exact = compute_drift(ref, cur, stattest="psi", column_types={"id": "categorical"}).column("x")
    assert report.column("x").drifted == exact.drifted
    assert report.column("x").error_bound is None
    assert "distinct values" in report.skipped[0].reason
