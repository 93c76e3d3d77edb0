"""Reliability contracts: alias moves under load, kill -9 with the prediction log, tampered models."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.serving.predlog import PredictionLog
from shipyard.testing.servers import free_port, server_process
from shipyard.testing.serving import breast_cancer, pipeline, register_package, set_alias
from tests import live_http

from .conftest import wait_serving
from .test_model_worker import process_gone

MOVES = 20
LOAD_THREADS = 4
LOAD_SECONDS_LIMIT = 120.0


def _load(url: str, body: dict, stop: threading.Event, results: list[tuple[int, str]], limit: int) -> None:
    with live_http.Client(base_url=url, timeout=30) as client:
        for _ in range(limit):  # bounded in count; the caller bounds it in time
            if stop.is_set():
                return
            response = client.post("/endpoints/lr/predict", json=body)
            version = (
                response.json().get("model_version", "") if response.status_code == 200 else response.text
            )
            results.append((response.status_code, version))


def test_twenty_alias_moves_under_load_fail_no_request(serving_platform: Platform, serving_url: str) -> None:
    x, y = breast_cancer()
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    other = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)).fit(x, y)
    second = register_package(serving_platform, "cancer-lr", other, input_example=x.head(3))
    body = {"rows": x.head(2).to_dict(orient="records")}
    with live_http.Client(base_url=serving_url, timeout=30) as client:
        assert (
            client.post(
                "/api/v1/endpoints", json={"name": "lr", "model_uri": "models:/cancer-lr@live"}
            ).status_code
            == 201
        )
        wait_serving(client, "lr", "1")
        stop, results = threading.Event(), []
        threads = [
            threading.Thread(target=_load, args=(serving_url, body, stop, results, 100_000))
            for _ in range(LOAD_THREADS)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        try:
            for move in range(MOVES):
                version = second if move % 2 == 0 else 1
                set_alias(serving_platform, "cancer-lr", "live", version)
                wait_serving(client, "lr", str(version))
                time.sleep(0.05)  # let some traffic reach the new version
                assert time.monotonic() - started < LOAD_SECONDS_LIMIT
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    failures = [r for r in results if r[0] != 200]
    assert not failures, f"{len(failures)} failed requests during alias moves, e.g. {failures[:3]}"
    assert len(results) > MOVES * 2
    assert {v for _, v in results} == {"1", str(second)}  # both versions answered
    audit = client_events(serving_platform, "serving.version_loaded")
    assert len(audit) >= MOVES + 1


def client_events(platform: Platform, action: str) -> list[object]:
    from shipyard.core import audit

    with platform.database.session() as session:
        return list(audit.list_events(session, action=action, max_results=1000).events)


def test_a_tampered_model_file_is_refused_and_never_serves(
    serving_platform: Platform, serving_url: str
) -> None:
    x, _ = breast_cancer()
    version = register_package(serving_platform, "tampered", pipeline(), input_example=x.head(2))
    with serving_platform.database.session() as session:
        from shipyard.core.files import list_files

        digest = next(
            f.digest
            for f in list_files(session, owner_type="run", owner_id=_run_of(serving_platform, "tampered"))
            if f.path.endswith(".skops")
        )
    blob = (
        Path(serving_platform.settings.artifact_root) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    )
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with live_http.Client(base_url=serving_url, timeout=30) as client:
        created = client.post(
            "/api/v1/endpoints", json={"name": "bad", "model_uri": f"models:/tampered/{version}"}
        )
        assert created.status_code == 201
        deadline = time.monotonic() + 30
        status: dict = {}
        while time.monotonic() < deadline:
            status = client.get("/api/v1/endpoints/bad").json()["status"]
            if status["state"] == "failed":
                break
            time.sleep(0.05)
        assert status["state"] == "failed", status
        assert "tampered" in status["error"] and "corrupt" in status["error"]
        refused = client.post("/endpoints/bad/predict", json={"rows": x.head(1).to_dict(orient="records")})
        assert refused.status_code == 404 and "no model loaded" in refused.json()["message"]
    assert client_events(serving_platform, "serving.version_failed")


def _run_of(platform: Platform, model: str) -> str:
    from shipyard.registry import versions

    with platform.database.session() as session:
        return versions.get_model_version(session, model, 1).run_id


def _live_pipeline(settings: Settings) -> dict[str, str]:
    """Register the scaler+logistic pipeline as ``cancer-lr@live``; the environment pointing at its store."""
    x, _ = breast_cancer()
    with Platform.open(settings) as platform:
        register_package(platform, "cancer-lr", pipeline(), input_example=x.head(3), alias="live")
    return {
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_DATABASE_URL": settings.database_url,
        "SHIPYARD_ARTIFACT_ROOT": settings.artifact_root,
    }


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_prediction(settings: Settings, tmp_path: Path) -> None:
    x, _ = breast_cancer()
    env = _live_pipeline(settings)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(url: str) -> None:
        body = {"rows": x.head(1).to_dict(orient="records")}
        with live_http.Client(base_url=url, timeout=10) as client:
            for index in range(100_000):
                if stop.is_set():
                    return
                try:
                    response = client.post(
                        "/v2/models/cancer-lr/infer", json=_v2(body, f"r{threading.get_ident()}-{index}")
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(response.json()["id"])

    with server_process(
        env, command=("serve", "models:/cancer-lr@live"), log_path=tmp_path / "serve.log"
    ) as served:
        threads = [threading.Thread(target=load, args=(served.url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(served.process.pid)  # `shipyard serve` predicts in a worker process
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(timeout=10)
        assert workers, "shipyard serve started no model worker"
        left = [pid for pid in workers if not process_gone(pid)]
        assert not left, f"model worker(s) {left} outlived the killed server"
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    assert len(acknowledged) >= 300, served.output()[-2000:]
    log = PredictionLog(Path(settings.prediction_log_dir))
    log.start()
    try:
        logged = set(log.scan("cancer-lr", columns=["request_id"]).column("request_id").to_pylist())
    finally:
        log.close()
    missing = [r for r in acknowledged if r not in logged]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged predictions are not in the log"


def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (any of its threads may have started them)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _v2(body: dict, request_id: str) -> dict:
    rows = body["rows"]
    columns = list(rows[0])
    data = np.array([[row[c] for c in columns] for row in rows], dtype=np.float64)
    return {
        "id": request_id,
        "inputs": [
            {"name": "input-0", "shape": list(data.shape), "datatype": "FP64", "data": data.ravel().tolist()}
        ],
    }


def test_serve_refuses_a_prediction_log_held_by_another_process(settings: Settings) -> None:
    """A `shipyard server` on the same home holds the log: `serve` says what to do, without a traceback."""
    env = {**os.environ, **_live_pipeline(settings)}
    held = PredictionLog(Path(settings.prediction_log_dir))
    held.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "shipyard", "serve", "models:/cancer-lr@live", "--port", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        held.close()
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "is in use by another Shipyard process" in output, output
    assert "SHIPYARD_PREDICTION_LOG_DIR" in output, output
    assert "Traceback" not in output, output


def test_serve_refuses_a_tampered_model_in_one_line(settings: Settings) -> None:
    """The version fails to load at start-up: `serve` exits non-zero naming the file, no traceback."""
    env = {**os.environ, **_live_pipeline(settings)}
    with Platform.open(settings) as platform, platform.database.session() as session:
        from shipyard.core.files import list_files

        files = list_files(session, owner_type="run", owner_id=_run_of(platform, "cancer-lr"))
        digest = next(f.digest for f in files if f.path.endswith(".skops"))
    blob = Path(settings.artifact_root) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "serve", "models:/cancer-lr@live", "--port", str(free_port())],
        env={**env, "SHIPYARD_PREDICTION_LOG_DIR": str(settings.home / "serve-log")},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "cannot start" in output and "model.skops" in output and "corrupt" in output, output
    assert "Traceback" not in output, output
