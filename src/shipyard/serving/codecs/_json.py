"""JSON parsing shared by the codecs: orjson, with a fallback for the NaN literals Python clients send.

``json.dumps`` (MLflow's client, tritonclient's rapidjson) writes ``NaN`` and ``Infinity`` for
non-finite floats; orjson refuses them as RFC 8259 says. Only a body that fails orjson *and* holds one
of those words is parsed a second time, by the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from shipyard.core.errors import InvalidParameterError

__all__ = ["loads"]


def loads(body: bytes, *, field: str = "body") -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if b"NaN" in body or b"Infinity" in body:
            try:
                return json.loads(body)
            except (ValueError, RecursionError):
                pass
        raise InvalidParameterError(f"request body is not valid JSON: {exc}", field=field) from None
