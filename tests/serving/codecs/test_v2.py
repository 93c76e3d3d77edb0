"""Open Inference V2: decode the exact bytes tritonclient sends, and let tritonclient parse our answers."""

from __future__ import annotations

import struct

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tritonclient.http import InferenceServerClient, InferInput, InferRequestedOutput, InferResult

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature, TensorSpec
from shipyard.serving.codecs import v2

ARRAYS = {
    "BOOL": np.array([[True, False, True], [False, False, True]]),
    "UINT8": np.array([[0, 255, 7], [1, 2, 3]], dtype=np.uint8),
    "UINT16": np.array([[0, 65535, 7], [1, 2, 3]], dtype=np.uint16),
    "UINT32": np.array([[0, 2**32 - 1, 7], [1, 2, 3]], dtype=np.uint32),
    "UINT64": np.array([[0, 2**64 - 1, 7], [1, 2, 3]], dtype=np.uint64),
    "INT8": np.array([[-128, 127, 0], [1, 2, 3]], dtype=np.int8),
    "INT16": np.array([[-(2**15), 2**15 - 1, 0], [1, 2, 3]], dtype=np.int16),
    "INT32": np.array([[-(2**31), 2**31 - 1, 0], [1, 2, 3]], dtype=np.int32),
    "INT64": np.array([[-(2**63), 2**63 - 1, 0], [1, 2, 3]], dtype=np.int64),
    "FP16": np.array([[0.5, -1.25, 65504], [1, 2, 3]], dtype=np.float16),
    "FP32": np.array([[0.1, -1e30, 3.5], [1, 2, 3]], dtype=np.float32),
    "FP64": np.array([[0.1, -1e300, 2.0000000000000004], [1, 2, 3]], dtype=np.float64),
    "BYTES": np.array([[b"a", b"", "é".encode()], [b"xyz", b"1.5", b"no"]], dtype=object),
}


def _triton_body(
    arrays: dict[str, np.ndarray], binary: bool, outputs: list[InferRequestedOutput] | None = None, **kw
) -> tuple[bytes, int | None]:
    inputs = []
    for name, array in arrays.items():
        datatype = "BYTES" if array.dtype == object else v2.datatype_for(array.dtype)
        inputs.append(
            InferInput(name, list(array.shape), datatype).set_data_from_numpy(array, binary_data=binary)
        )
    return InferenceServerClient.generate_request_body(inputs, outputs=outputs, **kw)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("datatype", list(ARRAYS))
def test_decodes_every_datatype_tritonclient_sends(datatype: str, binary: bool) -> None:
    array = ARRAYS[datatype]
    body, header_length = _triton_body({"x": array}, binary, request_id="r-1")
    assert (header_length is not None) == binary
    request = v2.decode_request(body, header_length)
    assert request.id == "r-1" and request.binary_output is True and request.outputs is None
    (tensor,) = request.inputs
    assert (tensor.name, tensor.datatype, tensor.shape) == ("x", datatype, (2, 3))
    if datatype == "BYTES":
        expected = array if binary else np.vectorize(bytes.decode, otypes=[object])(array)
        assert tensor.data.tolist() == expected.tolist()
    else:
        assert tensor.data.dtype == array.dtype
        np.testing.assert_array_equal(tensor.data, array)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("datatype", list(ARRAYS))
def test_tritonclient_parses_every_datatype_we_send(datatype: str, binary: bool) -> None:
    array = ARRAYS[datatype]
    request = v2.decode_request(
        *_triton_body({"x": ARRAYS["FP32"]}, True, outputs=[InferRequestedOutput("y", binary_data=binary)])
    )
    body, headers = v2.encode_response(
        model_name="m",
        model_version="3",
        request_id="abc",
        outputs=[("y", array), ("z", array)],
        request=request,
    )
    length = headers.get("inference-header-content-length")
    assert (length is not None) == binary
    result = InferenceServerClient.parse_response_body(
        body, header_length=None if length is None else int(length)
    )
    got = result.as_numpy("y")
    assert result.as_numpy("z") is None  # only the requested output is sent
    assert result.get_response()["id"] == "abc" and result.get_response()["model_version"] == "3"
    if datatype == "BYTES":
        want = array.tolist() if binary else [[v.decode() for v in row] for row in array.tolist()]
        assert got.tolist() == want
    else:
        assert got.dtype == array.dtype
        np.testing.assert_array_equal(got, array)


def test_all_outputs_in_the_requested_mode_when_none_are_named() -> None:
    outputs = [("label", np.array(["yes", "no"])), ("proba", np.array([[0.2, 0.8], [0.6, 0.4]]))]
    for binary in (True, False):
        body, length = _triton_body({"x": ARRAYS["FP64"]}, True)
        request = v2.decode_request(body, length)
        request.binary_output = binary
        payload, headers = v2.encode_response(
            model_name="m", model_version=None, request_id=None, outputs=outputs, request=request
        )
        header = headers.get("inference-header-content-length")
        result = InferResult.from_response_body(
            payload, header_length=None if header is None else int(header)
        )
        assert [v if isinstance(v, str) else v.decode() for v in result.as_numpy("label").tolist()] == [
            "yes",
            "no",
        ]
        np.testing.assert_array_equal(result.as_numpy("proba"), outputs[1][1])
        assert "model_version" not in result.get_response() and "id" not in result.get_response()


def test_nan_in_json_output_reaches_tritonclient_as_nan() -> None:
    request = v2.decode_request(
        *_triton_body({"x": ARRAYS["FP32"]}, False, outputs=[InferRequestedOutput("y", False)])
    )
    body, _ = v2.encode_response(
        model_name="m",
        model_version="1",
        request_id=None,
        outputs=[("y", np.array([1.0, np.nan]))],
        request=request,
    )
    assert np.isnan(InferResult.from_response_body(body).as_numpy("y")[1])


def test_unknown_requested_output() -> None:
    request = v2.decode_request(
        *_triton_body({"x": ARRAYS["FP32"]}, True, outputs=[InferRequestedOutput("nope")])
    )
    with pytest.raises(
        InvalidParameterError, match="'nope' does not exist; the model's outputs are y"
    ) as info:
        v2.encode_response(
            model_name="m", model_version="1", request_id=None, outputs=[("y", np.zeros(2))], request=request
        )
    assert info.value.field == "nope"


def test_nested_json_data_and_nan_literals_are_accepted() -> None:
    body = b'{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[NaN,4]]}]}'
    tensor = v2.decode_request(body, None).inputs[0]
    assert tensor.data.shape == (2, 2) and np.isnan(tensor.data[1, 0])


def _json(inputs: list[dict], **extra) -> bytes:
    return orjson.dumps({"inputs": inputs, **extra})


@pytest.mark.parametrize(
    ("body", "header_length", "words", "field"),
    [
        (b"{", None, "not valid JSON", "body"),
        (b"[]", None, "JSON object", "body"),
        (_json([]), None, "non-empty list of inputs", "inputs"),
        (
            _json([{"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}]),
            None,
            "unknown datatype",
            "x",
        ),
        (
            _json([{"name": "x", "shape": [2], "datatype": ["FP32"], "data": [1, 2]}]),
            None,
            "unknown datatype",
            "x",
        ),
        (
            _json([{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]),
            None,
            "needs 3 values",
            "x",
        ),
        (_json([{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]), None, "non-negative", "x"),
        (
            _json([{"name": "x", "shape": [2], "datatype": "INT64", "data": [1, 2.5]}]),
            None,
            "whole numbers",
            "x",
        ),
        (_json([{"name": "x", "shape": [1], "datatype": "UINT8", "data": [256]}]), None, "[0, 255]", "x"),
        (_json([{"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}]), None, "true or false", "x"),
        (
            _json([{"name": "x", "shape": [1], "datatype": "FP32", "data": ["a"]}]),
            None,
            "must be numbers",
            "x",
        ),
        (
            _json([{"name": "x", "shape": [1], "datatype": "BYTES", "data": [1]}]),
            None,
            "must be strings",
            "x",
        ),
        (
            _json([{"name": "x", "shape": [2], "datatype": "FP32", "data": [[1], [2, 3]]}]),
            None,
            "one shape",
            "x",
        ),
        (_json([{"name": "x", "shape": [1], "datatype": "FP32"}]), None, "neither data", "x"),
        (
            _json([{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], id=5),
            None,
            "id must be",
            "id",
        ),
        (
            _json([{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], outputs=[{}]),
            None,
            "output 0",
            "outputs",
        ),
    ],
)
def test_bad_requests_name_the_input(body: bytes, header_length: int | None, words: str, field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        v2.decode_request(body, header_length)
    assert words in info.value.message
    assert info.value.field == field


def test_bad_binary_framing() -> None:
    body, length = _triton_body({"x": ARRAYS["FP32"]}, True)
    with pytest.raises(InvalidParameterError, match="runs past the end"):
        v2.decode_request(body[:-1], length)
    with pytest.raises(InvalidParameterError, match="no input claims"):
        v2.decode_request(body + b"\0", length)
    with pytest.raises(InvalidParameterError, match="Inference-Header-Content-Length is 9999"):
        v2.decode_request(body, 9999)
    assert v2.decode_request(body, str(length)).inputs[0].shape == (2, 3)  # the header's raw text
    with pytest.raises(InvalidParameterError, match="must be a byte count"):
        v2.decode_request(body, "12x")
    with pytest.raises(InvalidParameterError, match="no Inference-Header-Content-Length"):
        v2.decode_request(body[:length], None)
    header = orjson.dumps(
        {"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}]}
    )
    with pytest.raises(InvalidParameterError, match="runs past the end of its data"):
        v2.decode_request(header + struct.pack("<I", 10) + b"ab", len(header))


TABULAR = Signature((ColumnSpec("age", "long"), ColumnSpec("city", "string"), ColumnSpec("score", "double")))


def test_tabular_one_tensor_per_column_like_mlservers_pandas_codec() -> None:
    arrays = {
        "score": np.array([[0.5], [1.5]]),
        "age": np.array([30, 40], dtype=np.int32),
        "city": np.array([b"Oslo", "Zürich".encode()], dtype=object),
    }
    for binary in (True, False):
        rows = v2.request_to_rows(v2.decode_request(*_triton_body(arrays, binary)), TABULAR)
        assert list(rows.columns) == ["age", "city", "score"]
        assert rows.columns["age"].dtype == np.int64 and rows.columns["city"].tolist() == ["Oslo", "Zürich"]
    with pytest.raises(InvalidParameterError, match=r"missing column\(s\) city"):
        v2.request_to_rows(
            v2.decode_request(*_triton_body({"age": arrays["age"], "score": arrays["score"]}, True)), TABULAR
        )


def test_tabular_one_2d_tensor_in_signature_order() -> None:
    numeric = Signature(tuple(ColumnSpec(f"f{i}", "double") for i in range(3)))
    rows = v2.request_to_rows(v2.decode_request(*_triton_body({"x": ARRAYS["FP32"]}, True)), numeric)
    assert rows.n == 2 and rows.columns["f1"].tolist() == [np.float32(-1e30), 2.0]
    with pytest.raises(InvalidParameterError, match="3 columns"):
        v2.request_to_rows(v2.decode_request(*_triton_body({"x": np.zeros((2, 2))}, True)), numeric)
    table = np.array([[b"1", b"Rome", b"2.5"]], dtype=object)  # a mixed table sent as BYTES
    rows = v2.request_to_rows(v2.decode_request(*_triton_body({"x": table}, True)), TABULAR)
    assert rows.columns["age"].tolist() == [1] and rows.columns["city"].tolist() == ["Rome"]


def test_tensor_signature_and_no_signature() -> None:
    sig = Signature(TensorSpec("float64", (-1, 3)))
    rows = v2.request_to_rows(v2.decode_request(*_triton_body({"x": ARRAYS["FP32"]}, True)), sig)
    assert rows.tensor.dtype == np.float64 and rows.tensor.shape == (2, 3)
    with pytest.raises(InvalidParameterError, match="one input tensor; got 2"):
        v2.request_to_rows(
            v2.decode_request(*_triton_body({"a": ARRAYS["FP32"], "b": ARRAYS["FP32"]}, True)), sig
        )
    assert v2.request_to_rows(v2.decode_request(*_triton_body({"x": ARRAYS["INT8"]}, True)), None).n == 2
    cols = v2.request_to_rows(
        v2.decode_request(*_triton_body({"a": np.array([1.0]), "b": np.array([b"x"], dtype=object)}, True)),
        None,
    )
    assert cols.columns["b"].tolist() == ["x"]


def test_metadata_and_errors() -> None:
    meta = v2.model_metadata("m", ["1", "2"], "sklearn", TABULAR, [("predict", "INT64", [-1])])
    assert meta["inputs"][0] == {"name": "age", "datatype": "INT64", "shape": [-1]}
    assert meta["outputs"] == [{"name": "predict", "datatype": "INT64", "shape": [-1]}]
    tensor_meta = v2.model_metadata("m", ["1"], "onnx", Signature(TensorSpec("float32", (-1, 4))), [])
    assert tensor_meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
    assert v2.model_metadata("m", [], "pyfunc", None, [])["inputs"] == []
    assert orjson.loads(v2.encode_error("bad input x")) == {"error": "bad input x"}
    assert all(v2.dtype_for(v2.datatype_for(dt)) == dt for dt in (a.dtype for a in ARRAYS.values()))
    with pytest.raises(InvalidParameterError, match="unknown datatype"):
        v2.dtype_for("BF16")
    with pytest.raises(InvalidParameterError, match="no Open Inference Protocol datatype"):
        v2.datatype_for(np.dtype("complex128"))


_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_VALUE = st.one_of(_FINITE, st.integers(-(2**70), 2**70), st.none(), st.text(max_size=3), st.booleans())


@st.composite
def _requests(draw: st.DrawFn) -> dict:
    """JSON-like V2 requests near the common form: one input, sometimes an id, sometimes a twist."""
    rows, cols = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    shape = draw(st.sampled_from([[rows, cols], [rows * cols], [rows, cols, 1], [rows, cols + 1]]))
    values = draw(
        st.lists(
            st.one_of(_FINITE, _VALUE) if draw(st.booleans()) else _FINITE,
            min_size=rows * cols,
            max_size=rows * cols,
        )
    )
    tensor: dict = {
        "name": draw(st.sampled_from(["x", "input-0"])),
        "shape": shape,
        "datatype": draw(st.sampled_from(["FP64", "FP64", "FP32", "INT64"])),
        "data": values,
    }
    if draw(st.booleans()):
        tensor["parameters"] = {}
    request: dict = {"inputs": [tensor]}
    if draw(st.booleans()):
        request["id"] = draw(st.one_of(st.text(max_size=5), st.integers()))
    return request


@settings(max_examples=400, deadline=None)
@given(_requests())
def test_the_common_request_decodes_as_the_general_path_does(request: dict) -> None:
    """Whatever the shortcut for the usual request takes, the general path decodes the same way."""
    common = v2._common_request(request)
    if common is None:
        return
    general = v2._decode(request, b"", None)
    assert (common.id, common.outputs, common.parameters, common.binary_output) == (
        general.id,
        general.outputs,
        general.parameters,
        general.binary_output,
    )
    [ours], [theirs] = common.inputs, general.inputs
    assert (ours.name, ours.datatype, ours.shape) == (theirs.name, theirs.datatype, theirs.shape)
    assert ours.data.dtype == theirs.data.dtype and np.array_equal(ours.data, theirs.data)


def test_the_common_request_is_taken_for_the_usual_body() -> None:
    body = orjson.dumps(
        {"id": "r1", "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [0.5, 1.5, 2.0]}]}
    )
    assert v2._common_request(orjson.loads(body)) is not None
    decoded = v2.decode_request(body, None)
    assert decoded.id == "r1" and decoded.inputs[0].data.tolist() == [[0.5, 1.5, 2.0]]
