"""A served endpoint for the UI tests: a real sklearn model behind a live server, real predictions (the
second half drifted), feedback labels, a monitor against the training data, an alert rule, scored windows."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from shipyard.client import RemoteClient
from shipyard.core.platform import Platform
from shipyard.monitoring.views import prediction_log_reader
from shipyard.testing.serving import breast_cancer, forest, register_package
from tests import live_http
from tests.monitoring.monitor_data import upload_reference

ENDPOINT = "cancer"
MODEL = "cancer-rf"
FEATURES = ["mean radius", "mean texture", "mean perimeter", "mean smoothness"]
REQUESTS, ROWS_PER_REQUEST = 6, 60
DRIFTED_FROM = 3  # requests from this one on have their FEATURES shifted


@dataclass(frozen=True)
class ServedSeed:
    endpoint: str
    model: str
    monitor_id: str
    window_ids: list[int]
    request_ids: list[str]


def wait_until(check: object, what: str, timeout: float = 60.0) -> None:
    """Poll ``check()`` (bounded in time) until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def serving_version(url: str, token: str | None, endpoint: str = ENDPOINT) -> str | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status = live_http.get(f"{url}/api/v1/endpoints/{endpoint}", headers=headers, timeout=30).json()["status"]
    if status["state"] == "failed":
        raise AssertionError(f"endpoint {endpoint} failed: {status['error']}")
    return status["version"] if status["state"] == "ready" else None


def seed_serving(platform: Platform, url: str, token: str | None) -> ServedSeed:
    x, y = breast_cancer()
    register_package(platform, MODEL, forest(), input_example=x.head(3), alias="champion")
    register_package(platform, MODEL, forest(10), input_example=x.head(3))  # version 2, not serving yet
    reference = x.assign(target=y)
    reference_uri = upload_reference(platform, reference)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        RemoteClient(url, token=token) as client,
        live_http.Client(base_url=url, headers=headers, timeout=60) as http,
    ):
        client.create_endpoint(ENDPOINT, f"models:/{MODEL}@champion", description="Breast cancer screening")
        wait_until(lambda: serving_version(url, token) == "1", "version 1 to serve")
        monitor = client.create_monitor(
            ENDPOINT,
            "drift",
            reference_uri,
            window_kind="count",
            window_size=ROWS_PER_REQUEST,
            features=FEATURES,
            target_column="target",
            task="classification",
            schedule_seconds=86_400,
        )
        client.create_alert_rule(monitor.id, "dataset_drift", ">=", 1.0, name="dataset drift")
        rng = np.random.default_rng(5)
        request_ids = []
        for index in range(REQUESTS):
            rows = rng.choice(len(x), ROWS_PER_REQUEST, replace=False)
            batch = x.iloc[rows].copy()
            if index >= DRIFTED_FROM:
                batch[FEATURES] = batch[FEATURES] * 1.6
            answer = client.predict(ENDPOINT, batch)
            request_ids.append(answer["request_id"])
            labels = [
                {"request_id": answer["request_id"], "row": row, "label": int(label)}
                for row, label in enumerate(y.iloc[rows])
            ]
            response = http.post(f"/endpoints/{ENDPOINT}/feedback", json={"feedback": labels})
            assert response.status_code == 200, response.text
        reader = prediction_log_reader(platform)
        wait_until(
            lambda: reader.scan(ENDPOINT, columns=["row"]).num_rows == REQUESTS * ROWS_PER_REQUEST,
            "the predictions to reach the log",
        )
        client.run_monitor(monitor.id)
        # The server's scheduler may have scored the first windows already (a new monitor is due at once).
        scored = client.monitor_results(monitor.id, limit=REQUESTS + 1)
    window_ids = sorted(result.id for result in scored.results)
    assert len(window_ids) == REQUESTS, [
        (r.id, str(r.window_start), str(r.window_end), r.rows) for r in scored.results
    ]
    return ServedSeed(ENDPOINT, MODEL, monitor.id, window_ids, request_ids)
