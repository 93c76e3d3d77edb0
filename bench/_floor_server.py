"""The client's floor for bench/tracking.py: answers every call with precomputed MLflow-shaped JSON.

Usage: python _floor_server.py PORT [HISTORY_POINTS] [SEARCH_MATCHES]. It stores nothing and
parses nothing, so its time is the mlflow client's own cost plus one loopback round trip.
"""

from __future__ import annotations

import sys
import uuid

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

PORT = int(sys.argv[1])
HISTORY_POINTS = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
SEARCH_MATCHES = int(sys.argv[3]) if len(sys.argv) > 3 else 40
API = "/api/2.0/mlflow"


def run_json(run_id: str) -> dict[str, object]:
    info = {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": "floor",
        "experiment_id": "1",
        "user_id": "u",
        "status": "RUNNING",
        "start_time": 1,
        "artifact_uri": "mlflow-artifacts:/1/x/artifacts",
        "lifecycle_stage": "active",
    }
    return {
        "info": info,
        "data": {
            "metrics": [{"key": "acc", "value": 0.5, "timestamp": 1, "step": 0}],
            "params": [],
            "tags": [{"key": "mlflow.runName", "value": "floor"}],
        },
    }


RUN = orjson.dumps({"run": run_json(uuid.uuid4().hex)})
RUN_INFO = orjson.dumps({"run_info": run_json(uuid.uuid4().hex)["info"]})
EXPERIMENT = orjson.dumps({"experiment_id": "1"})
EMPTY = b"{}"
HISTORY = orjson.dumps(
    {"metrics": [{"key": "loss", "value": i / 7, "timestamp": 1, "step": i} for i in range(HISTORY_POINTS)]}
)
SEARCH = orjson.dumps({"runs": [run_json(uuid.uuid4().hex) for _ in range(SEARCH_MATCHES)]})
ANSWERS = {
    f"{API}/experiments/create": EXPERIMENT,
    f"{API}/runs/create": RUN,
    f"{API}/runs/get": RUN,
    f"{API}/runs/update": RUN_INFO,
    f"{API}/metrics/get-history": HISTORY,
    f"{API}/runs/search": SEARCH,
}


async def answer(request: Request) -> Response:
    await request.body()
    return Response(ANSWERS.get(request.url.path, EMPTY), media_type="application/json")


async def health(_: Request) -> Response:
    return PlainTextResponse("OK")


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/{path:path}", answer, methods=["GET", "POST", "PATCH", "DELETE", "PUT"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", http="httptools", access_log=False)
