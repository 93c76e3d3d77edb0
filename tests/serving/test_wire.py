"""``shipyard serve``'s HTTP protocol (``serving.wire``): inference POSTs answered without ASGI give the
same answers as the model, and every request it does not take (pipelined, chunked, oversized, other
routes) still gets uvicorn's handling, in order, on the same connection."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shipyard.core.auth import Principal, Role
from shipyard.core.config import Settings
from shipyard.core.errors import AuthenticationError
from shipyard.core.platform import Platform
from shipyard.serving import wire
from shipyard.serving.app import TokenCheck, create_serving_app, with_fast_path
from shipyard.serving.manager import EndpointSpec
from shipyard.serving.sources import PlatformSource
from shipyard.serving.wire import inference_protocol
from shipyard.testing.servers import live_server
from shipyard.testing.serving import breast_cancer, pipeline, register_package
from tests import live_http

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024
INFER = "/v2/models/cancer-lr/infer"


@pytest.fixture
def serve_platform(settings: Settings) -> Iterator[Platform]:
    with Platform.open(settings) as opened:
        x, _ = breast_cancer()
        register_package(opened, "cancer-lr", pipeline(), input_example=x.head(3), alias="live")
        yield opened


def _serve(platform: Platform, log_root: Path, token_check: TokenCheck | None = None) -> Iterator[str]:
    app = create_serving_app(
        source=PlatformSource(platform),
        specs=[EndpointSpec(name="cancer-lr", model_uri="models:/cancer-lr@live")],
        predlog_root=log_root,
        max_body_bytes=LIMIT,
        token_check=token_check,
    )
    fast = with_fast_path(app, max_body_bytes=LIMIT)
    with live_server(fast, http=inference_protocol(fast)) as url:
        yield url


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the protocol answered itself (the rest went through ASGI)."""
    answered: list[str] = []
    original = wire._InferenceProtocol._answer

    async def counting(self: wire._InferenceProtocol, cycle: wire._FastCycle) -> None:
        answered.append(cycle.route.protocol)
        await original(self, cycle)

    monkeypatch.setattr(wire._InferenceProtocol, "_answer", counting)
    return answered


@pytest.fixture
def served(serve_platform: Platform, tmp_path: Path, fast_answers: list[str]) -> Iterator[str]:
    yield from _serve(serve_platform, tmp_path / "predictions")


def _v2(rows: np.ndarray, request_id: str | None = None) -> bytes:
    body: dict = {
        "inputs": [
            {"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}
        ]
    }
    if request_id is not None:
        body["id"] = request_id
    return json.dumps(body).encode()


def _raw_exchange(url: str, data: bytes, *, responses: int) -> list[tuple[bytes, dict[str, str], bytes]]:
    """Send ``data`` as is on one socket; read ``responses`` HTTP/1.1 responses (Content-Length bodies)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        buffer, found = b"", []
        while len(found) < responses:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                lines = buffer[:head_end].split(b"\r\n")
                headers = {
                    k.decode().lower(): v.decode().strip()
                    for k, v in (line.split(b":", 1) for line in lines[1:])
                }
                end = head_end + 4 + int(headers["content-length"])
                if len(buffer) >= end:
                    found.append((lines[0], headers, buffer[head_end + 4 : end]))
                    buffer = buffer[end:]
                    continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
        return found


def test_answers_match_the_model_on_every_protocol_over_one_connection(
    served: str, fast_answers: list[str]
) -> None:
    x, _ = breast_cancer()
    expected = pipeline().predict(x.head(20)).tolist()
    with live_http.Client(base_url=served, timeout=30) as client:
        got = []
        for index in range(20):
            response = client.post(
                INFER, content=_v2(x.iloc[[index]].to_numpy()), headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 200, response.text
            got.append(response.json()["outputs"][0]["data"][0])
            assert len(response.headers["x-request-id"]) == 32
        assert got == expected
        native = client.post(
            "/endpoints/cancer-lr/predict", json={"rows": x.head(3).to_dict(orient="records"), "id": "r-1"}
        )
        assert native.status_code == 200 and native.json()["predictions"] == expected[:3]
        assert native.headers["x-request-id"] == "r-1"
        invoked = client.post("/invocations", json={"dataframe_split": x.head(3).to_dict(orient="split")})
        assert invoked.status_code == 200 and invoked.json()["predictions"] == expected[:3]
        metrics = client.get("/metrics").text  # a GET: uvicorn's ASGI path, same connection
    assert 'protocol="v2",status="200",version="1"} 20.0' in metrics
    assert fast_answers == ["v2"] * 20 + ["native", "mlflow"]


def test_tritonclient_binary_tensors_take_the_fast_path(served: str, fast_answers: list[str]) -> None:
    import tritonclient.http as triton

    x, _ = breast_cancer()
    client = triton.InferenceServerClient(served.removeprefix("http://"))
    tensor = triton.InferInput("input-0", [4, x.shape[1]], "FP64")
    tensor.set_data_from_numpy(x.head(4).to_numpy(dtype=np.float64))  # binary_data=True by default
    result = client.infer("cancer-lr", [tensor])
    assert result.as_numpy("predict").tolist() == pipeline().predict(x.head(4)).tolist()
    client.close()
    assert fast_answers == ["v2"]


def test_pipelined_requests_are_answered_in_order(served: str, fast_answers: list[str]) -> None:
    x, _ = breast_cancer()
    requests = b""
    for index in range(3):
        body = _v2(x.iloc[[index]].to_numpy(), request_id=f"p-{index}")
        requests += f"POST {INFER} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n".encode()
        requests += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    requests += b"GET /v2/health/ready HTTP/1.1\r\nHost: t\r\n\r\n"
    answers = _raw_exchange(served, requests, responses=4)
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert [json.loads(body).get("id") for _, _, body in answers[:3]] == ["p-0", "p-1", "p-2"]
    assert json.loads(answers[3][2]) == {"ready": True}
    assert 1 <= len(fast_answers) <= 3  # the first at least; those behind one in flight went the ASGI way


def test_chunked_oversized_and_http10_requests(served: str, fast_answers: list[str]) -> None:
    x, _ = breast_cancer()
    body = _v2(x.head(2).to_numpy())
    chunked = f"POST {INFER} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    chunked += f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    ((status, _, answer),) = _raw_exchange(served, chunked, responses=1)
    assert status == b"HTTP/1.1 200 OK"
    assert json.loads(answer)["outputs"][0]["data"] == pipeline().predict(x.head(2)).tolist()

    with live_http.Client(base_url=served, timeout=30) as client:
        too_big = client.post(INFER, content=b"[" + b" " * LIMIT + b"]")
    assert too_big.status_code == 413 and "limit" in too_big.json()["error"]

    http10 = f"POST {INFER} HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    ((status, headers, _),) = _raw_exchange(served, http10, responses=1)
    assert status.endswith(b"200 OK") and headers["connection"] == "close"
    assert fast_answers == ["v2"]  # only the HTTP/1.0 one: chunked and oversized bodies are streamed


def test_errors_in_the_fast_path_keep_the_connection_and_never_split_headers(served: str) -> None:
    x, _ = breast_cancer()
    with live_http.Client(base_url=served, timeout=30) as client:
        malformed = client.post(INFER, content=b"{not json", headers={"Content-Type": "application/json"})
        unknown = client.post("/v2/models/nope/infer", content=_v2(x.head(1).to_numpy()))
        media = client.post(INFER, content=_v2(x.head(1).to_numpy()), headers={"Content-Type": "text/csv"})
        injected = client.post(INFER, content=_v2(x.head(1).to_numpy(), request_id="a\r\nx-evil: 1"))
    assert malformed.status_code == 400 and unknown.status_code == 404 and media.status_code == 415
    assert "Content-Type" in media.json()["error"] or "content type" in media.json()["error"]
    assert injected.status_code == 200 and injected.json()["id"] == "a\r\nx-evil: 1"
    assert "x-evil" not in injected.headers and "x-request-id" not in injected.headers


def test_auth_applies_to_the_fast_path(serve_platform: Platform, tmp_path: Path) -> None:
    def token_check(secret: str | None) -> Principal:
        if secret != "s3cret-token":
            raise AuthenticationError("unknown token", field="Authorization")
        return Principal(name="reader", role=Role.VIEWER)

    x, _ = breast_cancer()
    for url in _serve(serve_platform, tmp_path / "predictions", token_check):
        with live_http.Client(base_url=url, timeout=30) as client:
            anonymous = client.post(INFER, content=_v2(x.head(1).to_numpy()))
            allowed = client.post(
                INFER, content=_v2(x.head(1).to_numpy()), headers={"Authorization": "Bearer s3cret-token"}
            )
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        assert allowed.status_code == 200


def test_on_ready_runs_once_the_models_are_warm_and_before_any_answer(
    serve_platform: Platform, tmp_path: Path
) -> None:
    """`shipyard serve` freezes what start-up built there (see serving.cli): the model must be loaded
    and warm by then, and it must run once."""
    seen: list[int] = []

    def on_ready() -> None:
        runtime = app.state.serving.endpoints["cancer-lr"].active
        seen.append(0 if runtime is None or runtime.predict_dtype is None else 1)

    app = create_serving_app(
        source=PlatformSource(serve_platform),
        specs=[EndpointSpec(name="cancer-lr", model_uri="models:/cancer-lr@live")],
        predlog_root=tmp_path / "log",
        max_body_bytes=LIMIT,
        on_ready=on_ready,
    )
    x, _ = breast_cancer()
    with live_server(app) as url, live_http.Client(base_url=url, timeout=60) as client:
        assert seen == [1]
        response = client.post("/endpoints/cancer-lr/predict", json={"rows": x.head(1).to_dict("records")})
        assert response.status_code == 200, response.text
    assert seen == [1]
