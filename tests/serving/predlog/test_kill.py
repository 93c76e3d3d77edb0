"""The contract itself: kill -9 a process appending under load; every acknowledged id is in the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shipyard.serving.predlog import PredictionLog

# The child: 16 asyncio tasks append 1-4 row entries (so the writer groups them), print a request id
# only after its entry's write() returned, and stop by themselves if the parent never kills them.
CHILD = """
import asyncio, os, sys, time
import numpy as np
from pathlib import Path
from shipyard.serving.predlog import LogEntry, PredictionLog

log = PredictionLog(Path(sys.argv[1]), segment_rows=300, segment_seconds=0.2, maintenance_seconds=None)
log.start()
deadline = time.monotonic() + 60

async def worker(worker_id):
    g = np.random.default_rng(worker_id)
    for i in range(20_000):
        if time.monotonic() > deadline:
            return
        n = int(g.integers(1, 5))
        rid = f"w{worker_id}-{i}"
        entry = LogEntry(endpoint="live", model_name="m", model_version="1", request_ids=[rid] * n,
            rows=list(range(n)), protocol="v2", received_at=np.full(n, time.time()),
            latency_ms=g.uniform(1, 3, n), inputs={"x": g.normal(size=n), "pixels": g.normal(size=(n, 8))},
            outputs={"prediction": g.integers(0, 2, n)})
        await log.write(entry)
        os.write(1, f"{rid} {n}\\n".encode())

async def main():
    await asyncio.gather(*(worker(w) for w in range(16)))

asyncio.run(main())
"""


def test_every_acknowledged_entry_survives_kill_9(tmp_path: Path) -> None:
    root = tmp_path / "log"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    acknowledged: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 60
        assert child.stdout is not None
        # Kill mid-stream, once enough entries were acknowledged (and segments rolled) or time is up.
        while len(acknowledged) < 1500 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            rid, rows = line.decode().split()
            acknowledged[rid] = int(rows)
        os.kill(child.pid, signal.SIGKILL)
        # Lines printed before the kill are acknowledged too; a line cut by the kill has no newline.
        rest, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    for line in rest.decode().splitlines(keepends=True):
        if line.endswith("\n"):
            rid, rows = line.split()
            acknowledged[rid] = int(rows)
    assert child.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    assert len(acknowledged) >= 100, f"only {len(acknowledged)} acknowledged: {stderr.decode()[-2000:]}"

    with PredictionLog(root, maintenance_seconds=None) as log:
        table = log.scan("live", columns=["request_id", "row", "input.pixels"])
        assert log.stats("live")["segments"] >= 1
    logged: dict[str, int] = {}
    for rid in table.column("request_id").to_pylist():
        logged[rid] = logged.get(rid, 0) + 1
    missing = [rid for rid in acknowledged if logged.get(rid) != acknowledged[rid]]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged entries lost, e.g. {missing[:5]}"
    assert table.column("input.pixels").null_count == 0
