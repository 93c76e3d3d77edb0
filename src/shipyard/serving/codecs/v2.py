"""Open Inference Protocol V2 (KServe / Triton REST), with Triton's binary tensor data extension.

A request is JSON, optionally followed by raw tensors: the header ``Inference-Header-Content-Length``
gives the JSON's byte length, and each binary input carries ``parameters.binary_data_size``. Tensors
follow in input order, little-endian and row-major; BOOL is one byte per element and each BYTES
element is a 4-byte little-endian length followed by its bytes. ``tritonclient[http]`` sends inputs
that way by default and asks for binary outputs, so both directions speak it.

Tabular models take either one 2-D tensor ``[rows, features]`` in signature column order, or one
1-D (or ``[n, 1]``) tensor per column named after the column, as MLServer's pandas codec sends.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import Signature, TensorSpec
from shipyard.serving import rows as rowslib
from shipyard.serving.codecs._json import loads
from shipyard.serving.rows import Rows

__all__ = [
    "DATATYPES",
    "RequestedOutput",
    "V2Request",
    "V2Tensor",
    "datatype_for",
    "decode_request",
    "dtype_for",
    "encode_error",
    "encode_response",
    "model_metadata",
    "request_to_rows",
]

# OIP datatype -> NumPy dtype (little-endian, as the binary extension lays tensors out).
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}
_BY_KIND_SIZE = {(dt.kind, dt.itemsize): name for name, dt in DATATYPES.items() if name not in ("BYTES",)}
_COLUMN_DATATYPES = {
    "double": "FP64",
    "float": "FP32",
    "long": "INT64",
    "integer": "INT32",
    "boolean": "BOOL",
    "string": "BYTES",
    "binary": "BYTES",
}
_LENGTH = struct.Struct("<I")


@dataclass
class V2Tensor:
    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray  # already reshaped to ``shape``


@dataclass
class RequestedOutput:
    name: str
    binary: bool


@dataclass
class V2Request:
    id: str | None
    inputs: list[V2Tensor]
    outputs: list[RequestedOutput] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    binary_output: bool = False  # request-level "binary_data_output"


# -- datatypes ----------------------------------------------------------------------------------------


def datatype_for(dtype: np.dtype) -> str:
    """The OIP datatype of a NumPy dtype.

    >>> datatype_for(np.dtype("float32")), datatype_for(np.dtype("<U5")), datatype_for(np.dtype(bool))
    ('FP32', 'BYTES', 'BOOL')
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "OUS":
        return "BYTES"
    name = _BY_KIND_SIZE.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise InvalidParameterError(
            f"{dtype} values have no Open Inference Protocol datatype", field="datatype"
        )
    return name


def dtype_for(datatype: str) -> np.dtype:
    """The NumPy dtype of an OIP datatype (object for BYTES).

    >>> dtype_for("INT64")
    dtype('int64')
    """
    dtype = DATATYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InvalidParameterError(
            f"unknown datatype {datatype!r}; expected one of {', '.join(DATATYPES)}", field="datatype"
        )
    return dtype


# -- requests -----------------------------------------------------------------------------------------


def decode_request(body: bytes, header_length: int | str | None) -> V2Request:
    """Parse an inference request: JSON, or a JSON header of ``header_length`` bytes plus raw tensors.

    ``header_length`` is the ``Inference-Header-Content-Length`` header, as an int or as its raw text.
    """
    if isinstance(header_length, str):
        text = header_length.strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidParameterError(
                f"Inference-Header-Content-Length must be a byte count; got {header_length[:40]!r}",
                field="Inference-Header-Content-Length",
            )
        header_length = int(text)
    if header_length is None:
        header, binary = body, b""
    else:
        if not isinstance(header_length, int) or header_length < 0 or header_length > len(body):
            raise InvalidParameterError(
                f"Inference-Header-Content-Length is {header_length} but the body has {len(body)} bytes",
                field="Inference-Header-Content-Length",
            )
        header, binary = body[:header_length], memoryview(body)[header_length:]
    request = loads(header)
    if header_length is None and (common := _common_request(request)) is not None:
        return common
    return _decode(request, binary, header_length)


def _decode(request: Any, binary: Any, header_length: int | None) -> V2Request:
    if not isinstance(request, dict):
        raise InvalidParameterError("the inference request must be a JSON object", field="body")
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidParameterError(f"id must be a string; got {request_id!r}", field="id")
    parameters = _parameters(request.get("parameters"), "parameters")
    raw_inputs = request.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise InvalidParameterError("the request needs a non-empty list of inputs", field="inputs")
    offset = 0
    inputs = []
    for index, raw in enumerate(raw_inputs):
        tensor, offset = _input(raw, index, binary, offset, header_length is not None)
        inputs.append(tensor)
    if offset != len(binary):
        raise InvalidParameterError(
            f"the body has {len(binary) - offset} bytes of binary data that no input claims "
            "(check each input's binary_data_size)",
            field="binary_data_size",
        )
    binary_output = parameters.get("binary_data_output", False)
    if not isinstance(binary_output, bool):
        raise InvalidParameterError("binary_data_output must be true or false", field="binary_data_output")
    return V2Request(
        id=request_id,
        inputs=inputs,
        outputs=_requested_outputs(request.get("outputs"), binary_output),
        parameters=parameters,
        binary_output=binary_output,
    )


_COMMON_INPUT_KEYS = {"name", "shape", "datatype", "data"}


def _common_request(request: Any) -> V2Request | None:
    """The usual request, decoded without the general checks: JSON only, an optional string ``id``,
    one FP64 input of 1 or 2 dimensions whose data is a flat list that NumPy reads as float64.
    Anything else (or any doubt) returns None and takes the general path, so errors and edge cases
    are decided there; for what it takes, the result is the one the general path gives.

    >>> tensor = {"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.5, 2.0]}
    >>> _common_request({"inputs": [tensor]}).inputs[0].data
    array([[1.5, 2. ]])
    >>> _common_request({"inputs": [{**tensor, "data": [1, 2]}]}) is None  # ints: the general path
    True
    """
    if type(request) is not dict or not 1 <= len(request) <= 2:
        return None
    request_id = request.get("id")
    inputs = request.get("inputs")
    if (len(request) == 2 and type(request_id) is not str) or type(inputs) is not list or len(inputs) != 1:
        return None
    raw = inputs[0]
    if type(raw) is not dict or raw.keys() != _COMMON_INPUT_KEYS or raw["datatype"] != "FP64":
        return None
    name, shape, data = raw["name"], raw["shape"], raw["data"]
    if type(name) is not str or type(shape) is not list or type(data) is not list:
        return None
    try:
        # Floats, or ints and booleans among them, give float64, as ``np.asarray`` does on the
        # general path; ints alone, nulls, strings and nesting give another dtype or shape.
        array = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        return None
    if array.dtype != np.float64 or array.ndim != 1:
        return None
    if len(shape) == 2:
        rows, width = shape
        if type(rows) is not int or type(width) is not int or rows < 0 or width < 0:
            return None
        if rows * width != array.size:
            return None
        array = array.reshape(rows, width)
    elif len(shape) != 1 or type(shape[0]) is not int or shape[0] != array.size:
        return None
    return V2Request(id=request_id, inputs=[V2Tensor(name, "FP64", tuple(shape), array)])


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameterError(f"{where} must be a JSON object", field=where)
    return value


def _input(raw: Any, index: int, binary: Any, offset: int, has_binary: bool) -> tuple[V2Tensor, int]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise InvalidParameterError(f"input {index} must be an object with a name", field=f"inputs[{index}]")
    name = raw["name"]
    datatype = raw.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise InvalidParameterError(
            f"input {name}: unknown datatype {datatype!r}; expected one of {', '.join(DATATYPES)}", field=name
        )
    shape = raw.get("shape")
    if not isinstance(shape, list) or len(shape) > 32 or not all([type(d) is int and d >= 0 for d in shape]):
        raise InvalidParameterError(
            f"input {name}: shape must be a list of non-negative integers; got {shape!r}", field=name
        )
    size = math.prod(shape)
    parameters = _parameters(raw.get("parameters"), f"input {name} parameters")
    binary_size = parameters.get("binary_data_size")
    if binary_size is not None:
        if type(binary_size) is not int or binary_size < 0:
            raise InvalidParameterError(f"input {name}: binary_data_size must be a whole number", field=name)
        if not has_binary:
            raise InvalidParameterError(
                f"input {name} has binary_data_size but the request has no Inference-Header-Content-Length",
                field=name,
            )
        if offset + binary_size > len(binary):
            raise InvalidParameterError(
                f"input {name}: binary_data_size {binary_size} runs past the end of the body "
                f"({len(binary) - offset} bytes left)",
                field=name,
            )
        data = _from_binary(name, datatype, binary[offset : offset + binary_size], size)
        offset += binary_size
    elif "data" in raw:
        data = _from_json(name, datatype, raw["data"], size)
    else:
        raise InvalidParameterError(f"input {name} has neither data nor binary_data_size", field=name)
    return V2Tensor(name, datatype, tuple(shape), data.reshape(shape)), offset


def _from_binary(name: str, datatype: str, chunk: Any, size: int) -> np.ndarray:
    if datatype == "BYTES":
        values = _split_bytes(name, bytes(chunk))
        if len(values) != size:
            raise InvalidParameterError(
                f"input {name}: shape needs {size} BYTES elements; the binary data holds {len(values)}",
                field=name,
            )
        array = np.empty(size, dtype=object)
        array[:] = values
        return array
    dtype = DATATYPES[datatype]
    if len(chunk) != size * dtype.itemsize:
        raise InvalidParameterError(
            f"input {name}: shape needs {size} {datatype} values ({size * dtype.itemsize} bytes); "
            f"binary_data_size is {len(chunk)}",
            field=name,
        )
    if datatype == "BOOL":  # any non-zero byte is true; NumPy's bool view would keep odd bytes
        return np.frombuffer(chunk, dtype=np.uint8) != 0
    # Copy: a view would pin the request body and be read-only for models that write in place.
    return np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("="))


def _split_bytes(name: str, blob: bytes) -> list[bytes]:
    values, position, end = [], 0, len(blob)
    while position < end:
        if position + 4 > end:
            raise InvalidParameterError(f"input {name}: BYTES data ends inside an element length", field=name)
        (length,) = _LENGTH.unpack_from(blob, position)
        position += 4
        if position + length > end:
            raise InvalidParameterError(
                f"input {name}: a BYTES element of {length} bytes runs past the end of its data", field=name
            )
        values.append(blob[position : position + length])
        position += length
    return values


def _from_json(name: str, datatype: str, data: Any, size: int) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    if datatype == "BYTES":
        flat = _flatten(name, data)
        bad = next((v for v in flat if not isinstance(v, str)), None)
        if bad is not None:
            raise InvalidParameterError(f"input {name}: BYTES data must be strings; got {bad!r}", field=name)
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
    else:
        try:
            array = np.asarray(data).ravel()
        except (ValueError, TypeError, OverflowError):
            raise InvalidParameterError(
                f"input {name}: data must be numbers in a flat or nested list of one shape", field=name
            ) from None
        if array.dtype.kind in "fO" and DATATYPES[datatype].kind in "iu":
            array = _exact_ints(name, datatype, data, array)
        array = _json_values(name, datatype, array)
    if array.size != size:
        raise InvalidParameterError(
            f"input {name}: shape needs {size} values; data holds {array.size}", field=name
        )
    return array


def _exact_ints(name: str, datatype: str, data: list[Any], array: np.ndarray) -> np.ndarray:
    """Integers past int64 (UINT64) become float64 in ``np.asarray``: convert them exactly instead."""
    flat = _flatten(name, data)
    if not all(type(v) is int for v in flat):
        return array
    try:
        return np.array(flat, dtype=DATATYPES[datatype])
    except OverflowError:
        info = np.iinfo(DATATYPES[datatype])
        raise InvalidParameterError(
            f"input {name}: {datatype} data must lie in [{info.min}, {info.max}]", field=name
        ) from None


def _json_values(name: str, datatype: str, array: np.ndarray) -> np.ndarray:
    target = DATATYPES[datatype]
    kind = array.dtype.kind
    if array.size == 0:
        return array.astype(target)
    if datatype == "BOOL":
        if kind != "b":
            raise InvalidParameterError(f"input {name}: BOOL data must be true or false", field=name)
        return array
    if kind == "O" and not (
        target.kind == "f" and all(v is None or type(v) in (int, float) for v in array.tolist())
    ):
        raise InvalidParameterError(f"input {name}: {datatype} data must be numbers", field=name)
    if kind not in "biufO":
        raise InvalidParameterError(f"input {name}: {datatype} data must be numbers", field=name)
    if target.kind == "f":  # numbers, with null (NaN) for gaps
        try:
            return rowslib.as_float(array, target)
        except (OverflowError, ValueError, TypeError) as exc:
            raise InvalidParameterError(f"input {name}: {datatype} data {exc}", field=name) from None
    if target.kind in "iu" and not np.can_cast(array.dtype, target, "safe"):
        if kind == "f" and not (np.isfinite(array).all() and (array == np.floor(array)).all()):
            raise InvalidParameterError(f"input {name}: {datatype} data must be whole numbers", field=name)
        info = np.iinfo(target)
        if array.min() < info.min or array.max() > info.max:
            raise InvalidParameterError(
                f"input {name}: {datatype} data must lie in [{info.min}, {info.max}]", field=name
            )
    return array.astype(target)


def _flatten(name: str, data: list[Any]) -> list[Any]:
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:  # iterative, so deep nesting cannot exhaust the recursion limit
        for value in stack[-1]:
            if isinstance(value, list):
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
        if len(stack) > 64:
            raise InvalidParameterError(f"input {name}: data is nested too deeply", field=name)
    return flat


def _requested_outputs(raw: Any, binary_default: bool) -> list[RequestedOutput] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidParameterError("outputs must be a list of {name, parameters}", field="outputs")
    outputs = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidParameterError(f"output {index} must be an object with a name", field="outputs")
        parameters = _parameters(item.get("parameters"), f"output {item['name']} parameters")
        binary = parameters.get("binary_data", binary_default)
        if not isinstance(binary, bool):
            raise InvalidParameterError(
                f"output {item['name']}: binary_data must be true or false", field=item["name"]
            )
        outputs.append(RequestedOutput(item["name"], binary))
    return outputs


def request_to_rows(
    request: V2Request, signature: Signature | None, *, max_rows: int = rowslib.MAX_ROWS
) -> Rows:
    """The request's tensors -> ``Rows`` for the model's signature."""
    inputs = request.inputs
    if signature is not None and isinstance(signature.inputs, TensorSpec):
        if len(inputs) != 1:
            raise InvalidParameterError(
                f"the model takes one input tensor; got {len(inputs)} ({', '.join(t.name for t in inputs)})",
                field="inputs",
            )
        return rowslib.validate_array(signature, inputs[0].data, max_rows=max_rows)
    if signature is None:
        if len(inputs) == 1:
            return rowslib.validate_array(None, _text(inputs[0].data), max_rows=max_rows)
        return rowslib.validate_columns(None, _columns(inputs), max_rows=max_rows)
    names = signature.column_names
    if len(inputs) == 1 and inputs[0].name not in names:
        tensor = inputs[0]
        if tensor.data.ndim not in (1, 2):
            raise InvalidParameterError(
                f"input {tensor.name} must be 2-D [rows, {len(names)}] in signature column order; "
                f"got shape {list(tensor.shape)}",
                field=tensor.name,
            )
        return rowslib.validate_array(signature, _text(tensor.data), max_rows=max_rows)
    return rowslib.validate_columns(signature, _columns(inputs), max_rows=max_rows)


def _columns(inputs: list[V2Tensor]) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for tensor in inputs:
        data = tensor.data
        if data.ndim == 2 and data.shape[1] == 1:
            data = data[:, 0]
        if data.ndim != 1:
            raise InvalidParameterError(
                f"input {tensor.name} is one column: shape [rows] or [rows, 1], not {list(tensor.shape)}",
                field=tensor.name,
            )
        if tensor.name in columns:
            raise InvalidParameterError(f"input {tensor.name} appears more than once", field=tensor.name)
        columns[tensor.name] = _text(data)
    return columns


def _text(data: np.ndarray) -> np.ndarray:
    """BYTES elements that are UTF-8 text become ``str`` (what a model trained on text expects)."""
    if data.dtype.kind != "O":
        return data
    flat = data.ravel().tolist()
    if not any(isinstance(v, bytes) for v in flat):
        return data
    try:
        decoded = [v.decode() if isinstance(v, bytes) else v for v in flat]
    except UnicodeDecodeError:
        return data
    out = np.empty(len(decoded), dtype=object)
    out[:] = decoded
    return out.reshape(data.shape)


# -- responses ----------------------------------------------------------------------------------------


def encode_response(
    *,
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    outputs: list[tuple[str, np.ndarray]],
    request: V2Request,
) -> tuple[bytes, dict[str, str]]:
    """The response body and its extra headers (content-type, Inference-Header-Content-Length)."""
    available = dict(outputs)
    if request.outputs is not None:
        unknown = [o.name for o in request.outputs if o.name not in available]
        if unknown:
            raise InvalidParameterError(
                f"requested output {unknown[0]!r} does not exist; the model's outputs are "
                f"{', '.join(available)}",
                field=unknown[0],
            )
        chosen = [(o.name, o.binary) for o in request.outputs]
    else:
        chosen = [(name, request.binary_output) for name, _ in outputs]
    tensors: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for name, binary in chosen:
        array = np.asarray(available[name])
        datatype = datatype_for(array.dtype)
        tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        json_data = None if binary else _json_data(array, datatype)
        if json_data is None:  # binary asked for, or BYTES that are not UTF-8 text (JSON cannot carry them)
            blob = _to_binary(array, datatype)
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = json_data
        tensors.append(tensor)
    response: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        response["model_version"] = model_version
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = tensors
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return header, {"content-type": "application/json"}
    return b"".join([header, *blobs]), {
        "content-type": "application/octet-stream",
        "inference-header-content-length": str(len(header)),
    }


def _json_data(array: np.ndarray, datatype: str) -> Any:
    if datatype != "BYTES":
        flat = np.ascontiguousarray(array).ravel()
        return flat if flat.dtype.byteorder in "=|" else flat.astype(flat.dtype.newbyteorder("="))
    values = []
    for value in array.ravel().tolist():
        if isinstance(value, bytes):
            try:
                value = value.decode()
            except UnicodeDecodeError:
                return None
        values.append(value if isinstance(value, str) else str(value))
    return values


def _to_binary(array: np.ndarray, datatype: str) -> bytes:
    if datatype == "BYTES":
        parts = []
        for value in array.ravel().tolist():
            raw = value if isinstance(value, bytes) else str(value).encode()
            parts.append(_LENGTH.pack(len(raw)))
            parts.append(raw)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=DATATYPES[datatype]).tobytes()


def encode_error(message: str) -> bytes:
    """The OIP error body.

    >>> encode_error("unknown model m")
    b'{"error":"unknown model m"}'
    """
    return orjson.dumps({"error": message})


def model_metadata(
    name: str,
    versions: list[str],
    platform: str,
    signature: Signature | None,
    outputs: list[tuple[str, str, list[int]]],
) -> dict[str, Any]:
    """``GET /v2/models/{name}``: tensor specs of inputs (one per column for tabular models) and outputs."""
    inputs: list[dict[str, Any]] = []
    if signature is not None and isinstance(signature.inputs, TensorSpec):
        spec = signature.inputs
        inputs.append(
            {"name": "input", "datatype": datatype_for(np.dtype(spec.dtype)), "shape": list(spec.shape)}
        )
    elif signature is not None:
        inputs = [
            {"name": c.name, "datatype": _COLUMN_DATATYPES.get(c.type, "BYTES"), "shape": [-1]}
            for c in signature.inputs
        ]
    return {
        "name": name,
        "versions": list(versions),
        "platform": platform,
        "inputs": inputs,
        "outputs": [{"name": n, "datatype": d, "shape": list(s)} for n, d, s in outputs],
    }
