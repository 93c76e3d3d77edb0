"""Validation of one request's input against a signature, and merging requests into one model call."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.tree import DecisionTreeClassifier

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature, TensorSpec, infer_signature
from shipyard.serving.rows import (
    Rows,
    concat,
    records_to_columns,
    to_model_input,
    validate_array,
    validate_columns,
)

MIXED = Signature(
    (
        ColumnSpec("age", "long"),
        ColumnSpec("name", "string"),
        ColumnSpec("member", "boolean"),
        ColumnSpec("income", "double"),
    )
)
GOOD = {"age": [31, 45], "name": ["ann", "bob"], "member": [True, False], "income": [1.5, None]}


def test_columns_are_converted_and_put_in_signature_order() -> None:
    rows = validate_columns(MIXED, dict(reversed(GOOD.items())))
    assert rows.n == 2 and rows.tensor is None
    assert list(rows.columns) == ["age", "name", "member", "income"]
    assert rows.columns["age"].dtype == np.int64
    assert rows.columns["name"].dtype == object and rows.columns["name"].tolist() == ["ann", "bob"]
    assert rows.columns["member"].dtype == bool
    assert rows.columns["income"].dtype == np.float64 and np.isnan(rows.columns["income"][1])


def test_text_from_csv_is_converted_by_column_type() -> None:
    rows = validate_columns(
        MIXED, {"age": ["3", "4.0"], "name": ["x", "y"], "member": ["true", "False"], "income": ["2.5", ""]}
    )
    assert rows.columns["age"].tolist() == [3, 4]
    assert rows.columns["member"].tolist() == [True, False]
    assert rows.columns["income"][0] == 2.5 and np.isnan(rows.columns["income"][1])


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"age": ["x", 1]}, "age", "column age must hold whole numbers (long); got 'x'"),
        ({"age": [1.5, 2]}, "age", "whole numbers (long); got 1.5"),
        ({"age": [None, 2]}, "age", "cannot hold NaN"),
        ({"age": [True, False]}, "age", "whole numbers"),
        ({"age": [2**70, 1]}, "age", "outside"),
        ({"name": [3, 4]}, "name", "must hold text"),
        ({"member": [1, 0]}, "member", "true or false"),
        ({"member": [None, True]}, "member", "cannot hold NaN or missing"),
        ({"income": ["lots", 1.0]}, "income", "must hold numbers (double); got 'lots'"),
        ({"income": [1.0]}, "age", "different lengths"),
        ({"extra": [1, 2]}, "extra", "unknown column(s) extra"),
    ],
)
def test_bad_columns_name_the_column_and_the_problem(change: dict, field: str, words: str) -> None:
    with pytest.raises(InvalidParameterError, match=None) as info:
        validate_columns(MIXED, {**GOOD, **change})
    assert info.value.field == field
    assert words in info.value.message


def test_missing_and_optional_columns() -> None:
    with pytest.raises(InvalidParameterError, match=r"missing column\(s\) income") as info:
        validate_columns(MIXED, {k: v for k, v in GOOD.items() if k != "income"})
    assert info.value.field == "income"
    optional = Signature((ColumnSpec("a", "double"), ColumnSpec("b", "double", required=False)))
    rows = validate_columns(optional, {"a": [1.0]})
    assert np.isnan(rows.columns["b"][0]) and list(rows.columns) == ["a", "b"]


def test_row_limits() -> None:
    with pytest.raises(InvalidParameterError, match="no rows"):
        validate_columns(MIXED, {k: [] for k in GOOD})
    with pytest.raises(InvalidParameterError, match="limit is 3 rows"):
        validate_array(None, np.zeros((4, 2)), max_rows=3)
    assert validate_array(None, np.zeros((3, 2)), max_rows=3).n == 3


def test_arrays_in_signature_order_keep_each_value_type() -> None:
    rows = validate_array(MIXED, [[1, "a", True, 2.5], [2, "b", False, None]])
    assert rows.columns["age"].tolist() == [1, 2] and rows.columns["name"].tolist() == ["a", "b"]
    one = validate_array(MIXED, [7, "c", True, 0.5])  # one row without the outer list
    assert one.n == 1 and one.columns["age"].tolist() == [7]
    with pytest.raises(InvalidParameterError, match="3 values; the model takes 4 columns"):
        validate_array(MIXED, [[1, "a", True]])
    with pytest.raises(InvalidParameterError, match="ragged"):
        validate_array(MIXED, [[1, "a", True, 2.0], [1, "a"]])


def test_named_arrays_are_reordered() -> None:
    rows = validate_array(MIXED, [[2.5, True, "a", 1]], names=["income", "member", "name", "age"])
    assert rows.columns["age"].tolist() == [1] and rows.columns["income"].tolist() == [2.5]
    with pytest.raises(InvalidParameterError, match="more than once"):
        validate_array(MIXED, [[1, 1]], names=["age", "age"])


def test_all_double_signature_fast_path_matches_general_rules() -> None:
    sig = Signature(tuple(ColumnSpec(f"f{i}", "double") for i in range(3)))
    assert validate_array(sig, [[1, 2, 3]]).columns["f2"].tolist() == [3.0]
    assert validate_columns(sig, {"f0": [1], "f1": [None], "f2": ["4"]}).columns["f2"].tolist() == [4.0]
    with pytest.raises(InvalidParameterError, match="f1 must hold numbers") as info:
        validate_array(sig, [[1, "x", 3]])
    assert info.value.field == "f1"
    with pytest.raises(InvalidParameterError, match="different lengths"):
        validate_columns(sig, {"f0": [1, 2], "f1": [1], "f2": [3]})


@pytest.mark.parametrize(
    ("spec", "data", "words"),
    [
        (TensorSpec("float32", (-1, 3)), [[1, 2]], "dimension 1 must be 3"),
        (TensorSpec("float32", (-1, 3)), [[[1, 2, 3]]], "must have 2 dimensions"),
        (TensorSpec("float32", (-1, 3)), [[1, 2, "x"]], "must hold numbers"),
        (TensorSpec("int64", (-1, 2)), [[1.5, 2]], "whole numbers"),
        (TensorSpec("int64", (-1, 2)), [[float("nan"), 2]], "NaN"),
        (TensorSpec("int8", (-1, 1)), [[300]], "outside"),
        (TensorSpec("float64", (-1, 2)), [[1, 2], [3]], "ragged"),
        (TensorSpec("float64", (-1, 2)), [], "no rows"),
    ],
)
def test_bad_tensors(spec: TensorSpec, data: list, words: str) -> None:
    with pytest.raises(InvalidParameterError, match=words):
        validate_array(Signature(spec), data)


def test_tensors() -> None:
    sig = Signature(TensorSpec("float32", (-1, 3)))
    rows = validate_array(sig, [1, 2, 3])
    assert rows.n == 1 and rows.tensor.dtype == np.float32 and rows.tensor.shape == (1, 3)
    ints = validate_array(Signature(TensorSpec("int64", (-1, 2))), [[1.0, 2.0]]).tensor
    assert ints.dtype == np.int64 and ints.tolist() == [[1, 2]]
    assert validate_columns(sig, {"x": [[1, 2, 3]]}).tensor.shape == (1, 3)


def test_no_signature() -> None:
    assert validate_array(None, [[1, "a"]]).tensor.tolist() == [[1, "a"]]  # numbers stay numbers
    rows = validate_columns(None, {"b": [1], "a": ["x"]})
    assert list(rows.columns) == ["b", "a"] and rows.columns["a"].dtype == object
    with pytest.raises(InvalidParameterError, match="single value"):
        validate_array(None, 3)


def test_records_to_columns() -> None:
    assert records_to_columns([{"a": 1}, {"a": 2}]) == {"a": [1, 2]}
    assert records_to_columns([{"a": 1}, {"b": 2}], missing="null") == {"a": [1, None], "b": [None, 2]}
    with pytest.raises(InvalidParameterError, match="row 1 has no value for column") as info:
        records_to_columns([{"a": 1, "b": 1}, {"a": 2}])
    assert info.value.field == "b"
    with pytest.raises(InvalidParameterError, match="list of objects"):
        records_to_columns([[1, 2]])


def test_concat_merges_columns_and_tensors() -> None:
    parts = [validate_columns(MIXED, GOOD), validate_array(MIXED, [[5, "c", True, 9.0]])]
    merged = concat(parts)
    assert merged.n == 3 and merged.columns["age"].tolist() == [31, 45, 5]
    assert concat(parts[:1]) is parts[0]
    tensors = concat([validate_array(None, [[1.0, 2.0]]), validate_array(None, [[3.0, 4.0]])])
    assert tensors.tensor.shape == (2, 2)
    with pytest.raises(InvalidParameterError, match="cannot share a model call"):
        concat([validate_array(None, [[1.0, 2.0]]), validate_array(None, [[1.0]])])
    assert Rows(1, tensor=np.zeros((1, 2))).key == ("tensor", (2,))


def test_model_input_is_a_frame_with_the_fitted_feature_names() -> None:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns="target")
    model = DecisionTreeClassifier(random_state=0).fit(frame, data.target)
    sig = infer_signature(frame)
    requests = [validate_array(sig, frame.iloc[i : i + 1].to_numpy().tolist()) for i in range(5)]
    batch = to_model_input(concat(requests), sig)
    assert isinstance(batch, pd.DataFrame) and list(batch.columns) == list(frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn warns when feature names are missing or differ
        np.testing.assert_array_equal(model.predict(batch), model.predict(frame.iloc[:5]))
    mixed = to_model_input(validate_columns(MIXED, GOOD), MIXED)
    assert mixed.dtypes.tolist() == [np.int64, object, bool, np.float64]
    assert isinstance(to_model_input(validate_array(None, [[1.0]]), None), np.ndarray)


def test_float_blocks_and_plain_columns_merge_to_the_same_frame() -> None:
    sig = Signature(tuple(ColumnSpec(f"f{i}", "double") for i in range(3)))
    fast = validate_array(sig, [[1, 2, 3]])
    by_columns = validate_columns(sig, {"f0": [4], "f1": [5], "f2": [6]})
    slow = validate_columns(sig, {"f0": ["7"], "f1": [8], "f2": ["NA"]})  # "NA" text: column by column
    assert fast.block is not None and by_columns.block is not None and slow.block is None
    expected = pd.DataFrame(np.array([[1, 2, 3], [4, 5, 6], [7, 8, np.nan]]), columns=["f0", "f1", "f2"])
    pd.testing.assert_frame_equal(to_model_input(concat([fast, by_columns, slow]), sig), expected)
    pd.testing.assert_frame_equal(to_model_input(concat([fast, by_columns]), sig), expected.iloc[:2])
    merged = concat([fast, by_columns])
    assert merged.block is not None and merged.columns["f1"].tolist() == [2.0, 5.0]
