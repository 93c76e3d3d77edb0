"""The engine in-process: type inference, profiles, skipped columns, overrides, roles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.core.errors import IntegrityError, InvalidParameterError
from shipyard.monitoring.drift import ColumnDrift, SkippedColumn, compute_drift, score_column
from shipyard.monitoring.profile import ReferenceProfile, infer_column_type, profile_column


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([0.5, 1.0]), "numerical"),
        (pd.Series(np.arange(10) % 10), "categorical"),
        (pd.Series(np.arange(11)), "numerical"),
        (pd.Series([True, False]), "categorical"),
        (pd.Series(list("aaab")), "categorical"),
        (pd.Series(list("abcd")), "text"),
        (pd.Series(list("aab"), dtype="category"), "categorical"),
        (pd.Series(list("aab"), dtype="string"), "text"),
        (pd.Series([1, "a"], dtype=object), "unknown"),
        (pd.Series([None, None], dtype=object), "unknown"),
        (pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"])), "datetime"),
        (pd.Series([1, 2, None], dtype="Int64"), "unknown"),
        (pd.Series([1, 2], dtype="uint8"), "unknown"),
    ],
)
def test_type_inference_follows_evidently(values: pd.Series, expected: str) -> None:
    assert infer_column_type(values) == expected


def test_mixed_object_column_is_skipped_with_reason() -> None:
    ref = pd.DataFrame({"m": pd.Series(["a", 1, "b"] * 10, dtype=object), "x": np.arange(30.0)})
    report = compute_drift(ref, ref, column_types={"m": "categorical"})
    assert [s.column for s in report.skipped] == ["m"]
    assert "mixes value types" in report.skipped[0].reason


def test_profile_round_trip_is_deterministic_and_checked() -> None:
    g = np.random.default_rng(0)
    frame = pd.DataFrame({"x": g.normal(size=100), "c": g.choice(list("xyz"), 100), "b": g.random(100) < 0.5})
    first, second = ReferenceProfile.from_frame(frame), ReferenceProfile.from_frame(frame)
    assert first.to_bytes() == second.to_bytes()
    again = ReferenceProfile.from_bytes(first.to_bytes())
    assert np.array_equal(again.columns["x"].values, first.columns["x"].values)
    assert again.columns["b"].keys.tolist() == [False, True]
    with pytest.raises(IntegrityError):
        ReferenceProfile.from_bytes(b"not a profile")


def test_numeric_category_dtype_and_bool_profiles() -> None:
    column = profile_column(pd.Series([1, 2, 2, 3], dtype="category"))
    assert column.is_numeric and column.keys.tolist() == [1.0, 2.0, 3.0]
    flags = profile_column(pd.Series([True, True, False]))
    assert flags.counts.tolist() == [1, 2]


def test_text_and_datetime_are_skipped() -> None:
    words = pd.Series([f"w{i}" for i in range(20)])
    dates = pd.Series(pd.date_range("2024-01-01", periods=20))
    assert isinstance(score_column(profile_column(words), profile_column(words)), SkippedColumn)
    assert "datetime" in score_column(profile_column(dates), profile_column(dates)).reason


def test_numerical_override_on_strings_is_skipped() -> None:
    strings = profile_column(pd.Series(list("aabb")))
    result = score_column(strings, strings, column_type="numerical")
    assert isinstance(result, SkippedColumn) and "not numeric" in result.reason


def test_strings_against_numbers_is_skipped() -> None:
    result = score_column(profile_column(pd.Series(list("aab"))), profile_column(pd.Series([1, 1, 2])))
    assert isinstance(result, SkippedColumn) and "strings in one data set" in result.reason


def test_target_and_prediction_drift_use_the_same_engine() -> None:
    g = np.random.default_rng(3)
    ref = pd.DataFrame({"f": g.normal(size=400), "y": g.integers(0, 2, 400), "p": g.normal(size=400)})
    cur = pd.DataFrame({"f": g.normal(size=400), "y": g.integers(0, 2, 400), "p": g.normal(0.8, size=400)})
    report = compute_drift(ref, cur, target="y", prediction="p")
    by_name = {c.column: c for c in report.columns}
    assert (by_name["y"].role, by_name["y"].stattest) == ("target", "z")
    assert (by_name["p"].role, by_name["p"].stattest, by_name["p"].drifted) == ("prediction", "ks", True)


def test_dataset_share_boundary() -> None:
    g = np.random.default_rng(4)
    ref = pd.DataFrame({"a": g.normal(size=300), "b": g.normal(size=300)})
    cur = pd.DataFrame({"a": g.normal(2, size=300), "b": g.normal(size=300)})
    report = compute_drift(ref, cur)
    assert report.drift_share == 0.5 and report.dataset_drift  # share >= 0.5
    assert not compute_drift(ref, cur, drift_share=0.51).dataset_drift


def test_parallel_and_serial_agree() -> None:
    g = np.random.default_rng(5)
    ref = pd.DataFrame(g.normal(size=(3000, 6)), columns=list("abcdef"))
    cur = pd.DataFrame(g.normal(0.1, size=(3000, 6)), columns=list("abcdef"))
    assert compute_drift(ref, cur, workers=1) == compute_drift(ref, cur, workers=2)


def test_unknown_override_columns_are_refused() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(InvalidParameterError, match="stattests names unknown columns: b"):
        compute_drift(frame, frame, stattests={"b": "ks"})
    assert isinstance(score_column(profile_column(frame["a"]), profile_column(frame["a"])), ColumnDrift)


def test_object_columns_of_booleans_and_nan_scores() -> None:
    flags = pd.Series([True, False, None, True] * 10, dtype=object)
    profile = profile_column(flags)
    assert profile.inferred_type == "unknown" and profile.keys.tolist() == [False, True]
    result = score_column(profile, profile, column_type="categorical")
    assert isinstance(result, ColumnDrift) and result.stattest == "z"
    single = profile_column(pd.Series(["a"] * 10))
    nan = score_column(single, single, stattest="chisquare")
    assert isinstance(nan, SkippedColumn) and "undefined" in nan.reason


def test_profiles_of_partitions_merge_exactly() -> None:
    g = np.random.default_rng(8)
    ref = pd.DataFrame(
        {"x": g.normal(size=3000), "c": g.choice(list("abcd"), 3000), "i": g.integers(0, 4, 3000)}
    )
    cur = pd.DataFrame(
        {"x": g.normal(0.3, size=2000), "c": g.choice(list("abc"), 2000), "i": g.integers(0, 4, 2000)}
    )
    parts = [ReferenceProfile.from_frame(ref.iloc[i : i + 1000]) for i in range(0, 3000, 1000)]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    whole = compute_drift(ref, cur)
    for mine, theirs in zip(compute_drift(merged, cur).columns, whole.columns, strict=True):
        assert (mine.stattest, mine.drifted) == (theirs.stattest, theirs.drifted)
        assert mine.score == pytest.approx(theirs.score, rel=1e-12)


def test_integer_labels_and_duplicate_names() -> None:
    g = np.random.default_rng(9)
    frame = pd.DataFrame(g.normal(size=(200, 2)))
    assert [c.column for c in compute_drift(frame, frame).columns] == ["0", "1"]
    twice = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(InvalidParameterError, match="duplicate column names: 'a'"):
        compute_drift(twice, twice)


def test_sketch_batches_may_move_between_int_and_float() -> None:
    from shipyard.monitoring.sketches import WindowSketch

    window = WindowSketch.from_frames([pd.DataFrame({"v": [1, 2, 3]}), pd.DataFrame({"v": [1.5, np.nan]})])
    assert window.columns["v"].problem is None and window.columns["v"].n == 4
    mixed = WindowSketch.from_frames([pd.DataFrame({"v": [1.0]}), pd.DataFrame({"v": ["a"]})])
    assert "dtype changed" in mixed.columns["v"].problem
    strings = WindowSketch.from_frames([pd.DataFrame({"s": pd.Series(["a"], dtype="string")})] * 2)
    assert strings.columns["s"].problem is None and strings.columns["s"].n == 2
