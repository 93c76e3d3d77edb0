"""The native prediction API: three body shapes, a caller's request id, and the response."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature
from shipyard.serving.codecs.native import decode_native, encode_native

SIG = Signature((ColumnSpec("age", "long"), ColumnSpec("city", "string"), ColumnSpec("score", "double")))


@pytest.mark.parametrize(
    "body",
    [
        {"rows": [{"age": 31, "city": "Oslo", "score": 0.5}, {"score": 1.0, "city": "Rome", "age": 45}]},
        {"columns": {"city": ["Oslo", "Rome"], "age": [31, 45], "score": [0.5, 1]}},
        {"data": [[31, "Oslo", 0.5], [45, "Rome", 1.0]]},
        {"data": [["Oslo", 31, 0.5], ["Rome", 45, 1.0]], "columns": ["city", "age", "score"]},
    ],
    ids=["rows", "columns", "data", "data+columns"],
)
def test_three_shapes_give_the_same_rows(body: dict) -> None:
    rows, request_id = decode_native(orjson.dumps(body), SIG)
    assert request_id is None and rows.n == 2
    assert rows.columns["age"].tolist() == [31, 45] and rows.columns["age"].dtype == np.int64
    assert rows.columns["city"].tolist() == ["Oslo", "Rome"]
    assert rows.columns["score"].tolist() == [0.5, 1.0]


def test_request_id() -> None:
    _, rid = decode_native(b'{"rows": [{"x": 1}], "id": "7f3c-9a:trace@svc"}', None)
    assert rid == "7f3c-9a:trace@svc"
    for bad in ['"has space"', '"x' + "y" * 128 + '"', "5", '""', '"\\u00e9"', '"a/b"']:
        with pytest.raises(InvalidParameterError, match="id must be") as info:
            decode_native(b'{"rows": [{"x": 1}], "id": ' + bad.encode() + b"}", None)
        assert info.value.field == "id"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"nope", "body", "not valid JSON"),
        (b"[1]", "body", "must be a JSON object"),
        (b"{}", "rows", "needs rows, columns or data"),
        (b'{"rows": [], "extra": 1}', "extra", "unknown field 'extra'"),
        (b'{"rows": []}', "rows", "no rows"),
        (b'{"rows": [1]}', "rows", "list of objects"),
        (
            b'{"rows": [{"age": 1, "city": "a", "score": 1}, {"age": 2, "city": "b"}]}',
            "score",
            "row 1 has no value",
        ),
        (b'{"rows": [{"age": 1, "city": "a"}]}', "score", "missing column(s) score"),
        (b'{"rows": [{"age": 1, "city": "a", "score": 1, "zip": 9}]}', "zip", "unknown column(s) zip"),
        (b'{"rows": [{"age": "old", "city": "a", "score": 1}]}', "age", "column age must hold whole numbers"),
        (b'{"rows": [{"age": null, "city": "a", "score": 1}]}', "age", "cannot hold NaN"),
        (b'{"columns": [1]}', "columns", "must be an object"),
        (b'{"data": {"a": 1}}', "data", "list of rows"),
        (b'{"data": [[1, "a", 1]], "columns": {"a": 1}}', "columns", "list of column names"),
        (b'{"data": [[1, "a"]]}', "inputs", "the model takes 3 columns"),
        (b'{"data": [[1, "a", 2], [1]]}', "inputs", "ragged"),
        (b'{"rows": [{}], "data": [[1]]}', "rows", "not both"),
    ],
)
def test_bad_bodies_name_the_field(body: bytes, field: str, words: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        decode_native(body, SIG)
    assert words in info.value.message
    assert info.value.field == field


def test_row_limit() -> None:
    body = orjson.dumps({"data": [[1, "a", 1.0]] * 5})
    with pytest.raises(InvalidParameterError, match="the limit is 4 rows"):
        decode_native(body, SIG, max_rows=4)


def test_response() -> None:
    body = encode_native(
        predictions=np.array(["yes", "no"], dtype=object),
        probabilities=np.array([[0.1, 0.9], [0.7, np.nan]], dtype=np.float32),
        classes=[np.str_("no"), np.str_("yes")],
        model_name="churn",
        model_version="4",
        request_id="r-9",
    )
    assert orjson.loads(body) == {
        "predictions": ["yes", "no"],
        "probabilities": [[pytest.approx(0.1), pytest.approx(0.9)], [pytest.approx(0.7), None]],
        "classes": ["no", "yes"],
        "model_name": "churn",
        "model_version": "4",
        "request_id": "r-9",
    }
    plain = orjson.loads(
        encode_native(
            predictions=np.array([1.5, 2.5]),
            probabilities=None,
            classes=None,
            model_name="m",
            model_version="1",
            request_id="x",
        )
    )
    assert plain == {"predictions": [1.5, 2.5], "model_name": "m", "model_version": "1", "request_id": "x"}
