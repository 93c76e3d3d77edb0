"""Buffered SDK logging throughput (goal >= 100,000 metrics/s), embedded and against a live server.

The clock runs from the first ``log_metric`` call until ``flush()`` has returned, i.e. until every
point is committed in the store. The mlflow client is shown beside it for scale: its fluent
``log_metric`` sends one request per call (its ``log_batch`` is measured in bench/tracking.py).

    python bench/tracking_sdk.py [--points 500000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from shipyard import Client

console = Console()


def throughput(client: object, points: int) -> float:
    started = time.perf_counter()
    with client.start_run("throughput", capture_environment=False) as run:  # type: ignore[attr-defined]
        for step in range(points):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.flush()
    return points / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as home:
        with Client(home=Path(home) / "embedded") as embedded:
            rows.append(("shipyard SDK, embedded (SQLite)", throughput(embedded, args.points)))
        from shipyard.testing.servers import free_port

        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
            env={
                "SHIPYARD_HOME": str(Path(home) / "server"),
                "SHIPYARD_LOG_LEVEL": "WARNING",
                "PATH": "/usr/bin:/bin",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            with Client(url) as remote:
                rows.append(("shipyard SDK, remote (server on SQLite)", throughput(remote, args.points)))
            import mlflow

            mlflow.set_tracking_uri(url)
            with mlflow.start_run():
                started = time.perf_counter()
                for step in range(300):
                    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
                rows.append(("mlflow fluent log_metric, same server", 300 / (time.perf_counter() - started)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    table = Table(title=f"metrics/s until flushed ({args.points:,} points)", title_justify="left")
    table.add_column("client")
    table.add_column("metrics/s", justify="right")
    for label, rate in rows:
        table.add_row(label, f"{rate:,.0f}")
    console.print(table)
    if args.json:
        write_json(args.json, rows)
    return 0


def write_json(path: Path, rows: list[tuple[str, float]]) -> None:
    from importlib.metadata import version

    rates = dict(rows)
    ours, peer = (
        rates["shipyard SDK, remote (server on SQLite)"],
        rates["mlflow fluent log_metric, same server"],
    )
    ratio = {
        "case": "log_metric in a loop until flushed (mlflow: one request per call)",
        "metric": "metrics/s",
        "better": "higher",
        "peer": "mlflow fluent log_metric",
        "shipyard": ours,
        "peer_value": peer,
        "speedup": ours / peer,
    }
    goals = [
        {"case": label, "goal": ">= 100,000 metrics/s", "value": f"{rate:,.0f}", "passed": rate >= 100_000}
        for label, rate in rows
        if label.startswith("shipyard")
    ]
    report = {
        "metrics_per_s": rates,
        "ratios": [ratio],
        "goals": goals,
        "versions": {"mlflow": version("mlflow")},
    }
    path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
