"""Microseconds to decode and validate one one-row request, per protocol, against pandas-based parsing.

Usage: python bench/codecs.py [--json PATH]. Times are CPU microseconds of the calling thread, best of five.
Two signatures: the breast-cancer table (30 double columns) and a mixed table (long, string,
boolean, double). For /invocations, MLflow's own scoring-server parsing (json + pandas, then its
schema enforcement) is timed on the same bodies; for the native API, Shipyard's pandas-based
``Signature.enforce``. Also: merging 16 requests and building the model's DataFrame, once per batch.
With ``--json``, rows with a pandas-based peer become ratios and the others measured-only goal rows
(no target: ``passed`` is null).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import timeit
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from tritonclient.http import InferenceServerClient, InferInput

from shipyard.models.signature import ColumnSpec, Signature, infer_signature
from shipyard.serving.codecs import mlflow as mlflow_codec
from shipyard.serving.codecs import native, v2
from shipyard.serving.rows import concat, to_model_input

MLFLOW_PEER = "MLflow scoring-server parsing + _enforce_schema"
ENFORCE_PEER = "pandas DataFrame + Signature.enforce"


def _best_us(fn: Callable[[], Any], number: int = 2000) -> float:
    """Best of 5 runs in this thread's CPU time: on a shared machine, wall time measures the neighbours."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=5, timer=time.thread_time)) / number * 1e6


def _triton(frame: pd.DataFrame, binary: bool) -> tuple[bytes, int | None]:
    if all(frame.dtypes == np.float64):
        array = frame.to_numpy()
        inputs = [InferInput("x", list(array.shape), "FP64").set_data_from_numpy(array, binary_data=binary)]
    else:  # one tensor per column, as MLServer's pandas codec sends
        inputs = []
        for name in frame.columns:
            column = frame[name].to_numpy()
            if column.dtype == object:
                column = np.array([v.encode() for v in column], dtype=object)
            datatype = "BYTES" if column.dtype == object else v2.datatype_for(column.dtype)
            inputs.append(
                InferInput(name, [len(column)], datatype).set_data_from_numpy(column, binary_data=binary)
            )
    return InferenceServerClient.generate_request_body(inputs)


def _cases() -> dict[str, tuple[pd.DataFrame, Signature]]:
    cancer = load_breast_cancer(as_frame=True).frame.drop(columns="target").iloc[:1]
    mixed = pd.DataFrame({"age": [31], "city": ["Oslo"], "member": [True], "score": [0.5]})
    mixed_sig = Signature(
        (
            ColumnSpec("age", "long"),
            ColumnSpec("city", "string"),
            ColumnSpec("member", "boolean"),
            ColumnSpec("score", "double"),
        )
    )
    return {
        "breast cancer (30 double)": (cancer, infer_signature(cancer)),
        "mixed (4 types)": (mixed, mixed_sig),
    }


def _invocations_rows(frame: pd.DataFrame, sig: Signature, case: str, rows: list[dict[str, Any]]) -> None:
    import io

    from mlflow.models.utils import _enforce_schema
    from mlflow.pyfunc import scoring_server
    from mlflow.types import Schema

    schema = Schema.from_json(sig.to_mlflow()["inputs"])
    records = json.loads(frame.to_json(orient="records"))
    split = json.loads(frame.to_json(orient="split", index=False))
    bodies = {
        "dataframe_split": json.dumps({"dataframe_split": split}).encode(),
        "dataframe_records": json.dumps({"dataframe_records": records}).encode(),
        "inputs (columns)": json.dumps({"inputs": {c: frame[c].tolist() for c in frame.columns}}).encode(),
        "text/csv": frame.to_csv(index=False).encode(),
    }
    for name, body in bodies.items():
        csv = name == "text/csv"
        content_type = "text/csv" if csv else "application/json"
        ours = _best_us(lambda b=body, t=content_type: mlflow_codec.decode_invocations(b, t, sig))
        if csv:
            parse = lambda b=body: scoring_server.parse_csv_input(io.StringIO(b.decode()), schema)  # noqa: E731
        else:
            parse = lambda b=body: scoring_server.infer_and_parse_data(json.loads(b), schema)  # noqa: E731
        theirs = _best_us(lambda p=parse: _enforce_schema(p(), schema), number=200)
        _row(rows, case, "/invocations " + name, ours, theirs, MLFLOW_PEER)


def _row(
    rows: list[dict[str, Any]],
    case: str,
    label: str,
    ours: float,
    theirs: float | None = None,
    peer: str | None = None,
) -> None:
    extra = f"{theirs:>12.1f}{theirs / ours:>7.0f}x" if theirs is not None else ""
    print(f"{case:<28}{label:<34}{ours:>12.1f}{extra}")
    rows.append({"case": case, "label": label, "shipyard_us": ours, "peer_us": theirs, "peer": peer})


def write_json(path: Path, rows: list[dict[str, Any]]) -> None:
    """run_all's contract: ``ratios`` where a peer parsed the same body, ``goals`` for the rest."""
    ratios, goals = [], []
    for row in rows:
        case = f"{row['case']}: {row['label']}"
        if row["peer_us"] is None:
            value = f"{row['shipyard_us']:.1f} µs"
            goals.append({"case": case, "goal": "measured (no peer here)", "value": value, "passed": None})
            continue
        ratios.append(
            {
                "case": case,
                "metric": "CPU µs per one-row request",
                "better": "lower",
                "peer": row["peer"],
                "shipyard": row["shipyard_us"],
                "peer_value": row["peer_us"],
                "speedup": row["peer_us"] / row["shipyard_us"],
            }
        )
    report = {"rows": rows, "ratios": ratios, "goals": goals, "versions": {"mlflow": version("mlflow")}}
    path.write_text(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    rows: list[dict[str, Any]] = []
    print(f"{'case':<28}{'protocol / body':<34}{'Shipyard µs':>12}{'pandas µs':>12}{'ratio':>8}")
    for case, (frame, sig) in _cases().items():
        _invocations_rows(frame, sig, case, rows)
        body = json.dumps({"rows": json.loads(frame.to_json(orient="records"))}).encode()
        ours = _best_us(lambda b=body, s=sig: native.decode_native(b, s))
        old = _best_us(lambda b=body, s=sig: s.enforce(pd.DataFrame(json.loads(b)["rows"])), number=200)
        _row(rows, case, "native rows (vs Signature.enforce)", ours, old, ENFORCE_PEER)
        for binary in (True, False):
            request, length = _triton(frame, binary)
            ours = _best_us(lambda b=request, n=length, s=sig: v2.request_to_rows(v2.decode_request(b, n), s))
            _row(rows, case, "V2 tritonclient " + ("binary" if binary else "JSON"), ours)
        parts = [native.decode_native(body, sig)[0] for _ in range(16)]
        batch = _best_us(lambda p=parts, s=sig: to_model_input(concat(p), s), number=500)
        _row(rows, case, "16 requests: concat + DataFrame", batch)
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
