"""Bad input never raises anything but ``InvalidParameterError`` (``ScoringError`` for /invocations)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature, TensorSpec
from shipyard.serving.codecs import mlflow, native, v2
from shipyard.serving.rows import concat, to_model_input

SIGNATURES = [
    None,
    Signature(
        (
            ColumnSpec("a", "long"),
            ColumnSpec("b", "string"),
            ColumnSpec("c", "boolean"),
            ColumnSpec("d", "double"),
        )
    ),
    Signature((ColumnSpec("a", "double"), ColumnSpec("b", "double", required=False))),
    Signature((ColumnSpec("a", "integer"), ColumnSpec("b", "binary"), ColumnSpec("c", "datetime"))),
    Signature(TensorSpec("float32", (-1, 2))),
    Signature(TensorSpec("int8", (-1,))),
]
KEYS = [
    "inputs",
    "outputs",
    "name",
    "shape",
    "datatype",
    "data",
    "parameters",
    "binary_data_size",
    "binary_data",
    "binary_data_output",
    "id",
    "dataframe_split",
    "dataframe_records",
    "instances",
    "params",
    "columns",
    "index",
    "rows",
    "a",
    "b",
    "c",
    "d",
]
DATATYPES = [*v2.DATATYPES, "BF16", "fp32"]
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(DATATYPES),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=30,
)


# Near-valid input: right shapes and names, values of every kind, so fuzzing reaches validation.
near_scalars = st.one_of(
    st.integers(-300, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(["1", "2.5", "true", "x", "", "NaN", "2020-01-01", "YWJj"]),
)
near_rows = st.lists(st.lists(near_scalars, max_size=5), max_size=4)
near_columns = st.dictionaries(st.sampled_from("abcde"), st.lists(near_scalars, max_size=3), max_size=5)
near_records = st.lists(st.dictionaries(st.sampled_from("abcde"), near_scalars, max_size=5), max_size=4)
near_data = st.one_of(near_rows, near_columns, near_records, st.lists(near_scalars, max_size=4))


@st.composite
def near_v2_tensor(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    shape = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    size = max(0, int(np.prod(shape)) + draw(st.sampled_from([0, 0, 0, 1, -1])))
    datatype = draw(st.sampled_from([*v2.DATATYPES, "BF16"]))
    tensor: dict[str, Any] = {"name": draw(st.sampled_from("abcdx")), "shape": shape, "datatype": datatype}
    if not draw(st.booleans()):
        tensor["data"] = draw(st.lists(near_scalars, min_size=size, max_size=size))
        return tensor, b""
    itemsize = v2.DATATYPES[datatype].itemsize if datatype in v2.DATATYPES and datatype != "BYTES" else 1
    blob = draw(st.binary(min_size=size * itemsize, max_size=size * itemsize))
    tensor["parameters"] = {"binary_data_size": len(blob)}
    return tensor, blob


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()  # writes NaN/Infinity, as Python clients do


def _tensor() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", "x"]), "datatype": st.sampled_from(DATATYPES)},
        optional={
            "shape": st.lists(st.integers(min_value=-1, max_value=4), max_size=3),
            "data": values,
            "parameters": st.fixed_dictionaries({}, optional={"binary_data_size": st.integers(-1, 40)}),
        },
    )


v2_requests = st.fixed_dictionaries(
    {"inputs": st.lists(_tensor(), max_size=3)},
    optional={
        "id": values,
        "outputs": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["y", "z"])}), max_size=2),
        "parameters": st.dictionaries(st.sampled_from(["binary_data_output"]), values),
    },
)


def _use(rows: Any, signature: Signature | None) -> None:
    """Whatever validation let through must also merge and become a model input."""
    merged = concat([rows, rows])
    assert merged.n == 2 * rows.n
    to_model_input(merged, signature)


@SETTINGS
@given(body=st.binary(max_size=200), header=st.one_of(st.none(), st.integers(-5, 250), st.text(max_size=4)))
def test_v2_random_bytes(body: bytes, header: int | str | None) -> None:
    with contextlib.suppress(InvalidParameterError):
        v2.decode_request(body, header)


@SETTINGS
@given(
    request=v2_requests,
    tail=st.binary(max_size=48),
    signature=st.sampled_from(SIGNATURES),
    binary=st.booleans(),
)
def test_v2_random_requests(request: dict, tail: bytes, signature: Signature | None, binary: bool) -> None:
    header = _encode(request)
    try:
        decoded = v2.decode_request(header + tail if binary else header, len(header) if binary else None)
        rows = v2.request_to_rows(decoded, signature)
        _use(rows, signature)
        v2.encode_response(
            model_name="m",
            model_version="1",
            request_id=decoded.id,
            outputs=[("y", np.zeros(2))],
            request=decoded,
        )
    except InvalidParameterError:
        pass


@SETTINGS
@given(
    tensors=st.lists(near_v2_tensor(), min_size=1, max_size=4),
    request_id=st.one_of(st.none(), st.text(max_size=4)),
    signature=st.sampled_from(SIGNATURES),
)
def test_v2_near_valid_requests(tensors: list, request_id: str | None, signature: Signature | None) -> None:
    header = _encode(
        {"inputs": [t for t, _ in tensors], **({"id": request_id} if request_id is not None else {})}
    )
    blobs = b"".join(b for _, b in tensors)
    with contextlib.suppress(InvalidParameterError):
        decoded = v2.decode_request(header + blobs, len(header) if blobs else None)
        _use(v2.request_to_rows(decoded, signature), signature)


@SETTINGS
@given(
    body=st.one_of(st.binary(max_size=200), values.map(_encode)),
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "text/csv",
            "application/vnd.apache.parquet",
            "text/plain",
            "text/csv; charset=x",
        ]
    ),
    signature=st.sampled_from(SIGNATURES),
)
def test_invocations_random_bodies(
    body: bytes, content_type: str | None, signature: Signature | None
) -> None:
    error = None
    try:
        rows, _ = mlflow.decode_invocations(body, content_type, signature)
        _use(rows, signature)
    except mlflow.ScoringError as exc:
        error = exc
    assert error is None or error.status in (400, 415)


@SETTINGS
@given(
    fmt=st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs"]),
    data=st.one_of(
        values, near_data, st.fixed_dictionaries({"data": near_rows}, optional={"columns": values})
    ),
    signature=st.sampled_from(SIGNATURES),
)
def test_invocations_random_formats(fmt: str, data: Any, signature: Signature | None) -> None:
    with contextlib.suppress(mlflow.ScoringError):
        rows, _ = mlflow.decode_invocations(_encode({fmt: data}), "application/json", signature)
        _use(rows, signature)


@SETTINGS
@given(
    text=st.lists(
        st.lists(st.sampled_from(["1", "2.5", "", "x", "true", "NaN", "a,b", '"q"']), max_size=5), max_size=5
    ),
    signature=st.sampled_from(SIGNATURES),
)
def test_invocations_random_csv(text: list[list[str]], signature: Signature | None) -> None:
    body = "\n".join(",".join(row) for row in text).encode()
    with contextlib.suppress(mlflow.ScoringError):
        rows, _ = mlflow.decode_invocations(body, "text/csv", signature)
        _use(rows, signature)


@SETTINGS
@given(
    body=st.one_of(
        st.binary(max_size=120),
        values.map(_encode),
        st.fixed_dictionaries({}, optional={k: values for k in ("rows", "columns", "data", "id")}).map(
            _encode
        ),
    ),
    signature=st.sampled_from(SIGNATURES),
)
def test_native_random_bodies(body: bytes, signature: Signature | None) -> None:
    with contextlib.suppress(InvalidParameterError):
        rows, _ = native.decode_native(body, signature)
        _use(rows, signature)
