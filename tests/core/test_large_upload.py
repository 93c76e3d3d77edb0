"""A file larger than 200 MB goes through a real server process with bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.testing.servers import process_memory, server_process
from tests import live_http

MiB = 1024 * 1024
TOTAL = 210 * MiB


def chunks() -> Iterator[bytes]:
    for index in range(TOTAL // MiB):
        yield hashlib.sha256(index.to_bytes(4, "big")).digest() * (MiB // 32)


@pytest.mark.slow
def test_210_mb_upload_and_download_keep_server_memory_bounded(database_url: str, tmp_path: Path) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_DATABASE_URL": database_url}
    expected = hashlib.sha256()
    for chunk in chunks():
        expected.update(chunk)
    with server_process(env) as (url, process), live_http.Client(base_url=url, timeout=120) as client:
        client.post("/api/v1/blobs", content=b"warm-up").raise_for_status()
        baseline = process_memory(process.pid)["VmRSS"]
        uploaded = client.post(
            "/api/v1/blobs", content=chunks(), headers={"Content-Type": "application/octet-stream"}
        )
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json() == {"digest": expected.hexdigest(), "size": TOTAL, "created": True}
        after_upload = process_memory(process.pid)["VmHWM"]
        received = hashlib.sha256()
        size = 0
        with client.stream("GET", f"/api/v1/blobs/{expected.hexdigest()}") as response:
            assert response.status_code == 200
            for part in response.iter_bytes():
                received.update(part)
                size += len(part)
        peak = process_memory(process.pid)["VmHWM"]
    assert size == TOTAL and received.hexdigest() == expected.hexdigest()
    growth = max(after_upload, peak) - baseline
    assert growth < 100 * MiB, f"server memory grew {growth / MiB:.0f} MiB for a {TOTAL / MiB:.0f} MiB file"
