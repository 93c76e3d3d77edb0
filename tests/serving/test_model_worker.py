"""Model worker processes (``serving_model_processes``): the same answers as the model in-process, a
swap or a removal ends the old version's process, and a worker that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.serving.manager import ServingManager
from shipyard.serving.sources import PlatformSource
from shipyard.serving.worker import Block, ModelWorker
from shipyard.testing.servers import live_server
from shipyard.testing.serving import breast_cancer, forest, pipeline, register_package, set_alias
from tests import live_http

from .conftest import wait_serving

pytestmark = pytest.mark.slow


def process_gone(pid: int, timeout: float = 15.0) -> bool:
    """Whether ``pid`` has exited (or is a zombie waiting for init) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        if "\nState:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def worker_platform(settings: Settings) -> Iterator[Platform]:
    update = {"serving_poll_seconds": 0.1, "serving_model_processes": True}
    with Platform.open(settings.model_copy(update=update)) as opened:
        yield opened


@pytest.fixture
def hosted(worker_platform: Platform) -> Iterator[tuple[str, FastAPI]]:
    x, _ = breast_cancer()
    register_package(worker_platform, "cancer-rf", forest(), input_example=x.head(3), alias="live")
    register_package(worker_platform, "cancer-lr", pipeline(), input_example=x.head(3), alias="live")
    app = create_app(platform=worker_platform)
    with live_server(app) as url:
        yield url, app


def _endpoint(client: httpx.Client, name: str, model: str) -> None:
    response = client.post("/api/v1/endpoints", json={"name": name, "model_uri": f"models:/{model}@live"})
    assert response.status_code == 201, response.text
    wait_serving(client, name)


def _worker_pid(app: FastAPI, name: str) -> int:
    manager: ServingManager = app.state.serving
    runtime = manager.endpoints[name].active
    assert runtime is not None and runtime.worker is not None
    pid = runtime.worker.pid
    assert pid is not None and pid != os.getpid()
    return pid


def test_worker_answers_like_the_model_in_process(hosted: tuple[str, FastAPI]) -> None:
    url, app = hosted
    x, _ = breast_cancer()
    rows = x.head(7)
    with live_http.Client(base_url=url, timeout=30) as client:
        _endpoint(client, "rf", "cancer-rf")
        _worker_pid(app, "rf")
        native = client.post("/endpoints/rf/predict", json={"rows": rows.to_dict(orient="records")})
        assert native.status_code == 200, native.text
        body = native.json()
        assert body["predictions"] == forest().predict(rows).tolist()
        expected_proba = forest().predict_proba(rows)
        assert np.allclose(np.asarray(body["probabilities"]), expected_proba)
        tensor = {
            "name": "x",
            "shape": list(rows.shape),
            "datatype": "FP64",
            "data": rows.to_numpy().ravel().tolist(),
        }
        v2 = client.post("/v2/models/rf/infer", json={"inputs": [tensor]})
        assert v2.status_code == 200, v2.text
        assert v2.json()["outputs"][0]["data"] == forest().predict(rows).tolist()
        bad = client.post("/endpoints/rf/predict", json={"rows": [{"nope": 1.0}]})
        assert bad.status_code == 400 and "missing column" in bad.text


def test_a_dead_worker_is_replaced_and_swaps_and_removals_end_workers(
    worker_platform: Platform, hosted: tuple[str, FastAPI]
) -> None:
    url, app = hosted
    x, y = breast_cancer()
    body = {"rows": x.head(2).to_dict(orient="records")}
    with live_http.Client(base_url=url, timeout=60) as client:
        # The forest: the pipeline's float rows are predicted on the event loop once warm (see
        # test_inline.py), so only its other batches would find a dead worker.
        _endpoint(client, "rf", "cancer-rf")
        first = _worker_pid(app, "rf")
        os.kill(first, signal.SIGKILL)
        assert process_gone(first)
        statuses = []
        for _ in range(20):  # bounded: the batch that finds the worker dead restarts it
            response = client.post("/endpoints/rf/predict", json=body)
            statuses.append(response.status_code)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 200:
                break
        assert statuses[-1] == 200, statuses
        assert _worker_pid(app, "rf") != first

        _endpoint(client, "lr", "cancer-lr")
        restarted = _worker_pid(app, "lr")

        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        other = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)).fit(x, y)
        register_package(worker_platform, "cancer-lr", other, input_example=x.head(3))
        set_alias(worker_platform, "cancer-lr", "live", 2)
        wait_serving(client, "lr", "2")
        assert client.post("/endpoints/lr/predict", json=body).json()["model_version"] == "2"
        assert process_gone(restarted), "the swapped-out version's worker is still running"
        current = _worker_pid(app, "lr")
        assert client.delete("/api/v1/endpoints/lr").status_code == 204
        assert process_gone(current), "the removed endpoint's worker is still running"


def _pipeline_worker(settings: Settings, tmp_path: Path, name: str) -> ModelWorker:
    """A started worker for the breast-cancer pipeline, registered and fetched like a served version."""
    x, _ = breast_cancer()
    with Platform.open(settings) as opened:
        register_package(opened, "cancer-lr", pipeline(), input_example=x.head(3), alias="live")
        source = PlatformSource(opened, tmp_path / "cache")
        package, trusted = source.fetch(source.resolve("models:/cancer-lr@live"))
    worker = ModelWorker(package, trusted=trusted, name=name)
    worker.start()
    return worker


def test_a_batch_cancelled_while_predicting_never_answers_the_next(
    settings: Settings, tmp_path: Path
) -> None:
    """A batch cancelled after it reached the worker leaves an answer on the pipe; the next batch must
    not take it for its own (the worker is replaced instead)."""
    x, _ = breast_cancer()
    worker = _pipeline_worker(settings, tmp_path, "cancel-test")
    names = tuple(str(c) for c in x.columns)
    first = Block(np.ascontiguousarray(x.iloc[:5].to_numpy(dtype=np.float64)), names)
    second = Block(np.ascontiguousarray(x.iloc[100:103].to_numpy(dtype=np.float64)), names)

    async def main() -> list[int]:
        task = asyncio.create_task(worker.predict(first, False))
        for _ in range(5):  # until it has sent the batch and waits for the answer
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        predictions, _ = await worker.predict(second, False)
        return predictions.tolist()

    try:
        assert asyncio.run(main()) == pipeline().predict(x.iloc[100:103]).tolist()
    finally:
        worker.close()


def test_meanwhile_runs_once_while_the_worker_predicts(settings: Settings, tmp_path: Path) -> None:
    """What the server does while its batch is away (preparing the batch's log record) runs once, after
    the batch is sent, and does not disturb the answer."""
    x, _ = breast_cancer()
    worker = _pipeline_worker(settings, tmp_path, "meanwhile-test")
    names = tuple(str(c) for c in x.columns)
    calls: list[int] = []

    def meanwhile() -> None:
        time.sleep(0.05)  # longer than the worker takes: its answer waits on the socket
        calls.append(len(calls))

    async def main() -> list[list[int]]:
        answers = []
        for start in (0, 200):
            block = Block(np.ascontiguousarray(x.iloc[start : start + 4].to_numpy(dtype=np.float64)), names)
            predictions, _ = await worker.predict(block, False, meanwhile=meanwhile)
            answers.append(predictions.tolist())
        return answers

    try:
        expected = [pipeline().predict(x.iloc[s : s + 4]).tolist() for s in (0, 200)]
        assert asyncio.run(main()) == expected
        assert calls == [0, 1]
    finally:
        worker.close()
