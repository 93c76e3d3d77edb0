"""Scores and decisions equal Evidently 0.7.x's on seeded data sets that walk every branch.

Each case builds a reference and a current frame whose columns sit on one side of a boundary of
Evidently's rules (rows 1000/1001 after NaN removal, 2/5/6 distinct values, 20/21 reference values for
binning, the 0.001 std floor, ``p <=`` vs ``p <``, categories absent on one side, ints with ≤ 10 values,
booleans, strings, constants, NaN and ±inf). Evidently runs in-process on the same frames.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.profile import ReferenceProfile

from .evidently_reference import run_evidently

Frames = tuple[pd.DataFrame, pd.DataFrame]
REL = 1e-9


def _defaults(seed: int, n_ref: int, n_cur: int) -> Frames:
    """Columns on each side of the default-test boundaries."""
    g = np.random.default_rng(seed)

    def frame(n: int, shift: float, p: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "normal": g.normal(shift, 1.0, n),
                "two_values": g.choice([0.0, 1.0], n, p=[p[0], 1 - p[0]]),
                "five_values": g.choice([0.0, 1.5, 2.0, 3.0, 4.0], n),
                "six_values": g.choice(np.arange(6.0), n),
                "ints_10": g.integers(0, 10, n),
                "ints_wide": g.integers(0, 1000, n),
                "flag": g.random(n) < p[1],
                "city": g.choice(["oslo", "lima", "rome", "pune"], n, p=[0.4, 0.3, 0.2, 0.1]),
                "pair": g.choice(["x", "y"], n, p=[p[2], 1 - p[2]]),
            }
        )

    return frame(n_ref, 0.0, [0.7, 0.3, 0.6]), frame(n_cur, 0.2, [0.6, 0.35, 0.55])


def _missing_values(seed: int) -> Frames:
    """NaN and ±inf dropped per side; 1001 raw rows with one NaN leave 1000 (the KS side)."""
    g = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": g.normal(size=1001), "y": g.normal(size=1001), "c": g.choice(list("abc"), 1001)})
    cur = pd.DataFrame(
        {"x": g.normal(0.1, size=900), "y": g.normal(size=900), "c": g.choice(list("abc"), 900)}
    )
    ref.loc[5, "x"] = np.nan
    ref.loc[[1, 2], "y"] = [np.inf, -np.inf]
    ref.loc[[3, 4], "c"] = None
    cur.loc[[0, 7, 9], "x"] = [np.nan, np.inf, -np.inf]
    return ref, cur


def _edge_values(seed: int, n: int) -> Frames:
    """Constants, the std floor, categories on one side only, single values on each side."""
    g = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "const_same": np.full(n, 3.0),
            "const_ref": np.full(n, 1.0),
            "single_vs_other": np.full(n, "a"),
            "new_category": g.choice(["a", "b", "c"], n),
            "lost_category": g.choice(["a", "b", "c", "d"], n),
        }
    )
    cur = pd.DataFrame(
        {
            "const_same": np.full(n, 3.0),
            "const_ref": g.normal(1.0, 0.001, n),  # std(ref) = 0 → the 0.001 floor
            "single_vs_other": np.full(n, "b"),
            "new_category": g.choice(["a", "b", "c", "z"], n),
            "lost_category": g.choice(["a", "b", "c"], n),
        }
    )
    return ref, cur


def _binning(seed: int, n: int) -> Frames:
    """Reference with 20 vs 21 distinct values: per-value shares vs Sturges bins (PSI, KL, JS)."""
    g = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "v20": g.choice(np.arange(20.0), n),
            "v21": g.choice(np.arange(21.0), n),
            "wide": g.normal(size=n),
            "int_wide": g.integers(0, 500, n),
        }
    )
    cur = pd.DataFrame(
        {
            "v20": g.choice(np.arange(22.0), n),
            "v21": g.choice(np.arange(21.0), n) + 0.5,
            "wide": g.normal(0.3, 1.2, n),
            "int_wide": g.integers(20, 520, n),
        }
    )
    return ref, cur


def _categorical_only(seed: int, n: int) -> Frames:
    ref, cur = _edge_values(seed, n)
    names = ["single_vs_other", "new_category", "lost_category"]
    return ref[names], cur[names]


def _numeric_only(seed: int, n: int) -> Frames:
    g = np.random.default_rng(seed)
    ref = pd.DataFrame({"a": g.normal(size=n), "b": g.exponential(size=n), "c": g.uniform(size=n)})
    cur = pd.DataFrame({"a": g.normal(0.2, size=n), "b": g.exponential(1.3, size=n), "c": g.uniform(size=n)})
    return ref, cur


CASES: dict[str, Callable[[], Frames]] = {
    "defaults-n500": lambda: _defaults(1, 500, 400),
    "defaults-n1000": lambda: _defaults(2, 1000, 1000),
    "defaults-n1001": lambda: _defaults(3, 1001, 800),
    "defaults-n5000": lambda: _defaults(4, 5000, 3000),
    "defaults-equal-n2000": lambda: _defaults(14, 2000, 2000),
    "missing-values": lambda: _missing_values(5),
    "edges-n300": lambda: _edge_values(6, 300),
    "edges-n2000": lambda: _edge_values(7, 2000),
}
METHOD_CASES: dict[str, tuple[Callable[[], Frames], list[str]]] = {
    "binning": (lambda: _binning(8, 3000), ["psi", "kl_div", "jensenshannon", "hellinger"]),
    "binning-small": (lambda: _binning(9, 400), ["psi", "kl_div", "jensenshannon", "hellinger"]),
    "numeric": (lambda: _numeric_only(10, 700), ["ks", "wasserstein", "anderson", "ed", "psi"]),
    "categorical": (
        lambda: _categorical_only(11, 1500),
        ["chisquare", "z", "jensenshannon", "psi", "kl_div"],
    ),
}


def assert_same(ours: object, theirs: object) -> None:
    from shipyard.monitoring.drift import DriftReport

    assert isinstance(ours, DriftReport)
    names = {c.column for c in ours.columns}
    assert names == set(theirs.columns), (names, set(theirs.columns))
    for column in ours.columns:
        expected = theirs.columns[column.column]
        assert column.stattest == expected.stattest, column
        assert column.threshold == expected.threshold, column
        assert math.isclose(column.score, expected.score, rel_tol=REL, abs_tol=1e-300), (column, expected)
        assert column.drifted == expected.drifted, (column, expected)
    # The dataset verdict counts the per-column decisions (Evidently's ValueDrift results); see
    # test_evidently_dataset_count_uses_legacy_typing for why not DriftedColumnsCount.
    per_column = sum(c.drifted for c in theirs.columns.values())
    assert ours.drifted_columns == per_column
    assert math.isclose(ours.drift_share, per_column / len(theirs.columns))


@pytest.mark.parametrize("case", sorted(CASES))
def test_default_tests_match_evidently(case: str) -> None:
    ref, cur = CASES[case]()
    assert_same(compute_drift(ref, cur), run_evidently(ref, cur))


@pytest.mark.parametrize("case", sorted(CASES))
def test_stored_profile_gives_the_same_numbers(case: str) -> None:
    ref, cur = CASES[case]()
    profile = ReferenceProfile.from_bytes(ReferenceProfile.from_frame(ref).to_bytes())
    direct, stored = compute_drift(ref, cur), compute_drift(profile, cur)
    assert direct.to_dict() == stored.to_dict()


@pytest.mark.parametrize(
    ("case", "method"), [(c, m) for c, (_, ms) in sorted(METHOD_CASES.items()) for m in ms]
)
def test_named_tests_match_evidently(case: str, method: str) -> None:
    ref, cur = METHOD_CASES[case][0]()
    assert_same(compute_drift(ref, cur, stattest=method), run_evidently(ref, cur, method=method))


def test_thresholds_and_per_column_tests_match_evidently() -> None:
    ref, cur = _defaults(12, 2000, 2000)
    ours = compute_drift(
        ref,
        cur,
        stattests={"normal": "psi", "city": "chisquare"},
        thresholds={"normal": 0.01},
        threshold=0.05,
    )
    theirs = run_evidently(
        ref,
        cur,
        per_column_method={"normal": "psi", "city": "chisquare"},
        per_column_threshold={"normal": 0.01},
        threshold=0.05,
    )
    assert_same(ours, theirs)


def test_decision_boundaries_follow_evidently_comparisons() -> None:
    # KS drifts at p == threshold (p <= t), chi-square and Z do not (p < t); distances drift at d == t.
    from shipyard.monitoring.stattests import STATTESTS

    assert STATTESTS["ks"].drifted(0.05, 0.05)
    assert not STATTESTS["chisquare"].drifted(0.05, 0.05)
    assert not STATTESTS["z"].drifted(0.05, 0.05)
    assert STATTESTS["wasserstein"].drifted(0.1, 0.1)
    assert STATTESTS["jensenshannon"].drifted(0.1, 0.1)
    assert not STATTESTS["ed"].drifted(0.1, 0.1)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cli_json_matches_evidently(tmp_path: Path, fmt: str) -> None:
    ref, cur = _defaults(13, 1200, 900)
    paths = []
    for name, frame in (("ref", ref), ("cur", cur)):
        path = tmp_path / f"{name}.{fmt}"
        frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path)
        paths.append(path)
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "drift", *map(str, paths), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ours = json.loads(done.stdout)
    read = (lambda p: pd.read_csv(p)) if fmt == "csv" else (lambda p: pd.read_parquet(p))
    theirs = run_evidently(read(paths[0]), read(paths[1]))
    assert {c["column"] for c in ours["columns"]} == set(theirs.columns)
    for column in ours["columns"]:
        expected = theirs.columns[column["column"]]
        assert column["stattest"] == expected.stattest
        assert math.isclose(column["score"], expected.score, rel_tol=REL)
        assert column["drifted"] == expected.drifted
    assert ours["drifted_columns"] == theirs.drifted_count
    assert set(ours) == {"dataset_drift", "drift_share", "drifted_columns", "columns"}


def _random_case(seed: int) -> Frames:
    """Random shapes around every boundary: row counts near 1000, 1-25 distinct values, NaN/inf, types."""
    g = np.random.default_rng(1000 + seed)
    n_ref = int(g.choice([40, 999, 1000, 1001, 1002, 1500, 4000]))
    n_cur = int(g.integers(30, 3000))
    ref, cur = {}, {}
    for i in range(int(g.integers(3, 9))):
        kind = g.choice(["float", "lowfloat", "int", "str", "bool"])
        distinct = int(g.choice([1, 2, 3, 5, 6, 10, 11, 20, 21, 25]))
        shift = float(g.choice([0.0, 0.0, 0.3, 1.0]))
        for frame, n, moved in ((ref, n_ref, 0.0), (cur, n_cur, shift)):
            if kind == "float":
                values = g.normal(moved, 1.0, n)
            elif kind == "lowfloat":
                values = g.integers(0, distinct, n) * 0.5 + (moved > 0.5)
            elif kind == "int":
                values = g.integers(0, distinct, n) + int(moved > 0.5)
            elif kind == "str":
                values = np.array(
                    [f"k{v}" for v in g.integers(0, distinct, n) + int(moved > 0.5)], dtype=object
                )
            else:
                values = g.random(n) < 0.3 + moved / 3
            if kind in ("float", "lowfloat") and g.random() < 0.5:
                values = values.astype(np.float64)
                values[g.random(n) < 0.05] = g.choice([np.nan, np.inf, -np.inf])
            frame[f"{kind}{i}"] = values
    ref_frame, cur_frame = pd.DataFrame(ref), pd.DataFrame(cur)
    for name in list(ref_frame.columns):
        both = pd.concat([ref_frame[name], cur_frame[name]]).replace([np.inf, -np.inf], np.nan).dropna()
        if ref_frame[name].replace([np.inf, -np.inf], np.nan).dropna().empty or both.empty:
            ref_frame, cur_frame = ref_frame.drop(columns=name), cur_frame.drop(columns=name)
        elif ref_frame[name].dtype == object and cur_frame[name].nunique() > 0.5 * cur_frame[name].count():
            ref_frame, cur_frame = (
                ref_frame.drop(columns=name),
                cur_frame.drop(columns=name),
            )  # text: not compared
    return ref_frame, cur_frame


@pytest.mark.parametrize("seed", range(16))
def test_random_data_sets_match_evidently(seed: int) -> None:
    ref, cur = _random_case(seed)
    ours = compute_drift(ref, cur)
    assert not ours.skipped, ours.skipped
    assert_same(ours, run_evidently(ref, cur))


def test_evidently_dataset_count_uses_legacy_typing() -> None:
    """Evidently 0.7.23's ``DriftedColumnsCount`` runs the legacy ``DatasetDriftMetric``, which types
    columns by the legacy rules (any numeric dtype is numerical) and cleans NaN/inf on another path, so
    its count can differ from its own per-column ``ValueDrift`` decisions. Shipyard counts the per-column
    decisions it reports. This pins the discrepancy so that an Evidently change is noticed."""
    ref, cur = _random_case(3)
    theirs = run_evidently(ref, cur)
    ours = compute_drift(ref, cur)
    assert sum(c.drifted for c in theirs.columns.values()) == ours.drifted_columns == 0
    assert theirs.drifted_count == 1
