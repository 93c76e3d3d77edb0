"""`shipyard server` as a process: structured logs and graceful shutdown."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from shipyard.testing.servers import server_process
from tests import live_http


def test_json_logs_carry_the_request_id(database_url: str, tmp_path: Path) -> None:
    env = {
        "SHIPYARD_HOME": str(tmp_path),
        "SHIPYARD_DATABASE_URL": database_url,
        "SHIPYARD_LOG_FORMAT": "json",
    }
    with server_process(env) as server:
        live_http.get(f"{server.url}/api/v1/audit", headers={"X-Request-ID": "trace-me-1"}).raise_for_status()
    records = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("request_id") == "trace-me-1"]
    assert access, server.output()[-2000:]
    assert access[0]["logger"] == "shipyard.access"
    assert access[0]["status"] == 200 and access[0]["path"] == "/api/v1/audit"
    assert {"time", "level", "message", "duration_ms"} <= set(access[0])


def test_sigterm_lets_an_in_flight_upload_finish(database_url: str, tmp_path: Path) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_DATABASE_URL": database_url}
    started = threading.Event()
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        for index in range(20):
            if index == 2:
                started.set()
            time.sleep(0.05)
            yield bytes([index]) * 65536

    with server_process(env) as server:

        def upload() -> None:
            response = live_http.post(f"{server.url}/api/v1/blobs", content=slow_body(), timeout=60)
            result["status"] = response.status_code
            result["size"] = response.json().get("size")

        uploader = threading.Thread(target=upload)
        uploader.start()
        assert started.wait(10)
        server.process.send_signal(signal.SIGTERM)
        uploader.join(timeout=60)
        exit_code = server.process.wait(timeout=60)
    assert result == {"status": 201, "size": 20 * 65536}
    assert exit_code == 0
    assert "Traceback" not in server.output()
