"""MLflow ``/invocations``: the same frames as MLflow's own parsing, the same errors and status codes."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.pyfunc import scoring_server
from mlflow.types import Schema
from sklearn.datasets import load_breast_cancer

from shipyard.models.signature import ColumnSpec, Signature, TensorSpec, infer_signature
from shipyard.serving.codecs.mlflow import ScoringError, decode_invocations, encode_predictions, error_body
from shipyard.serving.rows import to_model_input

CANCER = load_breast_cancer(as_frame=True).frame.drop(columns="target").iloc[:3]
CANCER_SIG = infer_signature(CANCER)
MIXED = pd.DataFrame(
    {
        "age": [31, 45, 27],
        "city": ["Oslo", "Zürich", "Rome"],
        "member": [True, False, True],
        "score": [0.5, 1.25, -3.0],
    }
)
MIXED_SIG = Signature(
    (
        ColumnSpec("age", "long"),
        ColumnSpec("city", "string"),
        ColumnSpec("member", "boolean"),
        ColumnSpec("score", "double"),
    )
)


def _bodies(frame: pd.DataFrame) -> dict[str, str]:
    split = json.loads(frame.to_json(orient="split", index=False))
    records = json.loads(frame.to_json(orient="records"))
    return {
        "dataframe_split": json.dumps({"dataframe_split": split}),
        "dataframe_records": json.dumps({"dataframe_records": records}),
        "instances": json.dumps({"instances": records}),
        "inputs": json.dumps({"inputs": {c: frame[c].tolist() for c in frame.columns}}),
    }


def _mlflow_frame(body: str, signature: Signature | None, columns: list[str]) -> pd.DataFrame:
    schema = None if signature is None else Schema.from_json(signature.to_mlflow()["inputs"])
    parsed = scoring_server.infer_and_parse_data(json.loads(body), schema)
    if isinstance(parsed, dict):
        parsed = pd.DataFrame(parsed)
    return parsed if isinstance(parsed, pd.DataFrame) else pd.DataFrame(parsed, columns=columns)


def _ours(body: bytes | str, content_type: str | None, signature: Signature | None) -> pd.DataFrame:
    raw = body.encode() if isinstance(body, str) else body
    rows, _ = decode_invocations(raw, content_type, signature)
    frame = to_model_input(rows, signature)
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)


@pytest.mark.parametrize("with_signature", [True, False], ids=["signature", "no-signature"])
@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records", "instances", "inputs"])
@pytest.mark.parametrize("name", ["cancer", "mixed"])
def test_json_formats_give_mlflows_frame(name: str, fmt: str, with_signature: bool) -> None:
    frame, signature = (CANCER, CANCER_SIG) if name == "cancer" else (MIXED, MIXED_SIG)
    signature = signature if with_signature else None
    body = _bodies(frame)[fmt]
    ours = _ours(body, "application/json", signature)
    theirs = _mlflow_frame(body, signature, list(frame.columns))
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=with_signature)
    pd.testing.assert_frame_equal(ours, frame.reset_index(drop=True), check_dtype=with_signature)


def test_records_with_missing_keys_are_nan_like_pandas() -> None:
    body = json.dumps({"dataframe_records": [{"a": 1.5, "b": 2.0}, {"b": 3.0}, {"a": None, "b": 4.0}]})
    theirs = _mlflow_frame(body, None, ["a", "b"])
    pd.testing.assert_frame_equal(_ours(body, "application/json", None), theirs)
    sig = Signature((ColumnSpec("a", "double"), ColumnSpec("b", "double")))
    pd.testing.assert_frame_equal(_ours(body, "application/json", sig), _mlflow_frame(body, sig, ["a", "b"]))
    with pytest.raises(ScoringError, match=r"column a \(long\) cannot hold NaN") as info:
        decode_invocations(
            body.encode(), "application/json", Signature((ColumnSpec("a", "long"), ColumnSpec("b", "double")))
        )
    assert (info.value.status, info.value.error_code, info.value.field) == (
        400,
        "INVALID_PARAMETER_VALUE",
        "a",
    )


@pytest.mark.parametrize("with_signature", [True, False], ids=["signature", "no-signature"])
@pytest.mark.parametrize("name", ["cancer", "mixed", "gaps"])
def test_csv_gives_mlflows_frame(name: str, with_signature: bool) -> None:
    gaps = pd.DataFrame({"x": [1.5, None, 3.0], "n": [1, 2, 3], "t": ["a", None, "c"]})
    frame, signature = {
        "cancer": (CANCER, CANCER_SIG),
        "mixed": (MIXED, MIXED_SIG),
        "gaps": (
            gaps,
            Signature((ColumnSpec("x", "double"), ColumnSpec("n", "long"), ColumnSpec("t", "string"))),
        ),
    }[name]
    signature = signature if with_signature else None
    text = frame.to_csv(index=False)
    schema = None if signature is None else Schema.from_json(signature.to_mlflow()["inputs"])
    theirs = scoring_server.parse_csv_input(io.StringIO(text), schema)
    ours = _ours(text, "text/csv; charset=utf-8", signature)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    if not with_signature:
        assert [d.kind for d in ours.dtypes] == [d.kind for d in theirs.dtypes]


def test_parquet() -> None:
    buffer = io.BytesIO()
    MIXED.to_parquet(buffer)
    ours = _ours(buffer.getvalue(), "application/vnd.apache.parquet", MIXED_SIG)
    pd.testing.assert_frame_equal(ours, MIXED)
    with pytest.raises(ScoringError, match="valid Parquet") as info:
        decode_invocations(b"PAR1nonsense", "application/vnd.apache.parquet", MIXED_SIG)
    assert info.value.error_code == "BAD_REQUEST"


def test_params_and_extra_columns_like_mlflow() -> None:
    body = json.dumps({"inputs": {"a": [1.0], "zzz": ["ignored"]}, "params": {"k": 3}}).encode()
    rows, params = decode_invocations(body, None, Signature((ColumnSpec("a", "double"),)))
    assert params == {"k": 3} and list(rows.columns) == ["a"]
    with pytest.raises(ScoringError, match="params must be a JSON object"):
        decode_invocations(b'{"inputs": [[1]], "params": [1]}', "application/json", None)


def test_tensor_signature() -> None:
    sig = Signature(TensorSpec("float32", (-1, 2)))
    rows, _ = decode_invocations(b'{"inputs": [[1, 2], [3, 4]]}', "application/json", sig)
    assert rows.tensor.dtype == np.float32 and rows.tensor.shape == (2, 2)
    rows, _ = decode_invocations(b"a,b\n1,2\n", "text/csv", sig)
    assert rows.tensor.tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "words"),
    [
        (b"{", "application/json", 400, "BAD_REQUEST", "Ensure that input is a valid JSON formatted string"),
        (b"[1]", "application/json", 400, "BAD_REQUEST", "Received a list."),
        (b"3", "application/json", 400, "BAD_REQUEST", "Received unexpected input type"),
        (b"{}", "application/json", 400, "BAD_REQUEST", "Received dictionary with input fields: []"),
        (b'{"inputs": [1], "instances": [1]}', None, 400, "BAD_REQUEST", "exactly one of the input fields"),
        (
            b'{"dataframe_split": [[1]]}',
            None,
            400,
            "BAD_REQUEST",
            "split format must be a dictionary. Got list.",
        ),
        (b'{"dataframe_split": {"x": 1}}', None, 400, "BAD_REQUEST", "must have 'data' field"),
        (b'{"dataframe_records": {"a": 1}}', None, 400, "BAD_REQUEST", "list of records. Got dictionary."),
        (b'{"inputs": {"a": [1]}}', None, 400, "INVALID_PARAMETER_VALUE", "missing column(s) b"),
        (
            b'{"inputs": {"a": ["x"], "b": [1]}}',
            None,
            400,
            "INVALID_PARAMETER_VALUE",
            "column a must hold whole",
        ),
        (b"a,b\n1,2,3\n", "text/csv", 400, "BAD_REQUEST", "Expected 2 fields in line 2, saw 3"),
        (b"\xff", "text/csv", 400, "BAD_REQUEST", "valid UTF-8"),
        (b"", "text/csv", 400, "BAD_REQUEST", "No columns to parse"),
        (b"a,b\n", "text/csv", 400, "INVALID_PARAMETER_VALUE", "no rows"),
        (b"{}", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", "only supports the following content types"),
        (b"{}", "application/json; charset=latin-1", 415, "UNSUPPORTED_MEDIA_TYPE", "only supports UTF-8"),
        (
            b"{}",
            "application/json; format=pandas-split",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Unrecognized content type",
        ),
    ],
)
def test_errors_match_mlflows_codes(
    body: bytes, content_type: str | None, status: int, code: str, words: str
) -> None:
    sig = Signature((ColumnSpec("a", "long"), ColumnSpec("b", "double")))
    with pytest.raises(ScoringError) as info:
        decode_invocations(body, content_type, sig)
    error = info.value
    assert (error.status, error.error_code) == (status, code)
    assert words in error.message
    if status == 415:
        assert error.content_type == "text/plain" and error_body(error) == error.message.encode()
    else:
        assert json.loads(error_body(error)) == {"error_code": code, "message": error.message}


def _mlflow_json(predictions: Any) -> Any:
    out = io.StringIO()
    scoring_server.predictions_to_json(predictions, out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    "predictions",
    [
        np.array([2.0000000000000004, 9.0]),
        np.array([0.1, np.nan, np.inf], dtype=np.float32),
        np.array([[0.2, 0.8], [0.6, 0.4]]),
        np.array([1, 0, 1]),
        np.array([True, False]),
        np.array(["yes", "no"], dtype=object),
        np.array(["yes", "no"]),
        {"label": np.array([1, 2]), "score": np.array([0.5, np.nan])},
        pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]}),
        pd.Series([1.0, 2.0], name="p"),
    ],
)
def test_predictions_are_what_mlflow_writes(predictions: Any) -> None:
    ours = json.loads(encode_predictions(predictions))  # json.loads reads NaN like MLflow's clients
    theirs = _mlflow_json(predictions)
    assert json.dumps(ours) == json.dumps(theirs)  # equal including NaN positions


def test_predictions_json_is_compact_and_fast_path_is_orjson() -> None:
    assert (
        encode_predictions(np.array([2.0000000000000004, 9.0])) == b'{"predictions":[2.0000000000000004,9.0]}'
    )
    assert b"NaN" in encode_predictions(np.array([np.nan]))
