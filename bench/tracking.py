"""Tracking benchmark: the real ``mlflow`` client against three servers, in one run.

1. ``mlflow server`` (SQLite backend), the peer;
2. ``shipyard server`` (SQLite), us;
3. a do-nothing server that answers each call with precomputed MLflow-shaped JSON: the client's own
   floor, which no server can beat.

For each row it prints the three times and the share of the possible speed-up Shipyard reaches,
(t_mlflow - t_shipyard) / (t_mlflow - t_floor); the goal is >= 0.8 on every row. Every loop is
bounded; servers listen on 127.0.0.1 only and are stopped at the end.

    python bench/tracking.py            # full sizes
    python bench/tracking.py --quick    # a fast smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

console = Console()
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def mlflow_server(workdir: Path, sizes: Sizes) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        str(workdir / "mlartifacts"),
        "--workers",
        "1",
    ]
    return server(command, {}, port)


def shipyard_server(workdir: Path, sizes: Sizes) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "shipyard", "server", "--host", "127.0.0.1", "--port", str(port)]
    return server(
        command, {"SHIPYARD_HOME": str(workdir / "shipyard"), "SHIPYARD_LOG_LEVEL": "WARNING"}, port
    )


def floor_server(workdir: Path, sizes: Sizes) -> Iterator[str]:
    port = free_port()
    matches = sum(1 for index in range(sizes.search_runs) if index / sizes.search_runs >= 0.2)
    command = [
        sys.executable,
        str(Path(__file__).parent / "_floor_server.py"),
        str(port),
        str(sizes.history_points),
        str(matches),
    ]
    return server(command, {}, port)


@dataclass
class Sizes:
    single_metrics: int = 100
    batch_metrics: int = 10_000
    history_points: int = 10_000
    lifecycles: int = 50
    # 20, not 5: five searches last ~60 ms, less than this machine's scheduling noise between runs.
    searches: int = 20
    search_runs: int = 50


def warm_up(client: object, experiment_id: str, now: int) -> None:
    """One untimed call of every kind, so no server is timed on its cold first request."""
    from mlflow.entities import Metric

    run_id = client.create_run(experiment_id).info.run_id  # type: ignore[attr-defined]
    client.log_param(run_id, "warm", "1")  # type: ignore[attr-defined]
    client.log_metric(run_id, "warm", 1.0, timestamp=now)  # type: ignore[attr-defined]
    client.log_batch(run_id, metrics=[Metric("warm_batch", 1.0, now, i) for i in range(100)])  # type: ignore[attr-defined]
    client.get_metric_history(run_id, "warm_batch")  # type: ignore[attr-defined]
    client.search_runs([experiment_id], "metrics.warm >= 0", order_by=["metrics.warm DESC"])  # type: ignore[attr-defined]
    client.set_terminated(run_id)  # type: ignore[attr-defined]


def workload(url: str, sizes: Sizes) -> dict[str, float]:
    """The same calls for every server; returns seconds per row."""
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(url)
    experiment_id = client.create_experiment(f"bench-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    timings: dict[str, float] = {}
    warm_up(client, experiment_id, now)

    def timed(name: str, action: Callable[[], object]) -> None:
        started = time.perf_counter()
        action()
        timings[name] = time.perf_counter() - started

    timed(
        f"log_metric x{sizes.single_metrics}",
        lambda: [
            client.log_metric(run_id, "single", float(i), timestamp=now, step=i)
            for i in range(sizes.single_metrics)
        ],
    )

    def batches() -> None:
        for start in range(0, sizes.batch_metrics, 1000):
            client.log_batch(
                run_id, metrics=[Metric("batched", float(i), now, i) for i in range(start, start + 1000)]
            )

    timed(f"log_batch {sizes.batch_metrics} (1000 per call)", batches)
    history_run = client.create_run(experiment_id).info.run_id
    for start in range(0, sizes.history_points, 1000):
        client.log_batch(
            history_run, metrics=[Metric("loss", i / 7, now, i) for i in range(start, start + 1000)]
        )
    # Five calls: one call of a 10k-point history is dominated by the client's own GC pauses.
    timed(
        f"get_metric_history {sizes.history_points} x5",
        lambda: [client.get_metric_history(history_run, "loss") for _ in range(5)],
    )

    def lifecycles() -> None:
        for index in range(sizes.lifecycles):
            run = client.create_run(experiment_id)
            client.log_param(run.info.run_id, "p", str(index))
            client.log_metric(run.info.run_id, "m", float(index), timestamp=now)
            client.set_terminated(run.info.run_id)

    timed(f"run lifecycle x{sizes.lifecycles}", lifecycles)
    search_experiment = client.create_experiment(f"search-{uuid.uuid4().hex[:8]}")
    for index in range(sizes.search_runs):
        run = client.create_run(search_experiment)
        client.log_batch(run.info.run_id, metrics=[Metric("acc", index / sizes.search_runs, now, 0)])
    timed(
        f"search_runs x{sizes.searches} (filter, order)",
        lambda: [
            client.search_runs([search_experiment], "metrics.acc >= 0.2", order_by=["metrics.acc DESC"])
            for _ in range(sizes.searches)
        ],
    )
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    sizes = Sizes(20, 2000, 2000, 10, 3, 20) if args.quick else Sizes()
    workdir = Path(tempfile.mkdtemp(prefix="shipyard-bench-"))
    results: dict[str, dict[str, float]] = {}
    try:
        for name, start in (
            ("floor", floor_server),
            ("mlflow", mlflow_server),
            ("shipyard", shipyard_server),
        ):
            with console.status(f"{name}: starting and running the workload"), start(workdir, sizes) as url:
                results[name] = workload(url, sizes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = Table(title="mlflow client workload (seconds; lower is better)", title_justify="left")
    for column in ("row", "mlflow server", "shipyard", "client floor", "speed-up", "share of possible"):
        table.add_column(column, justify="right" if column != "row" else "left")
    shares = []
    ratios, goals = [], []
    for row in results["mlflow"]:
        peer, ours, floor = results["mlflow"][row], results["shipyard"][row], results["floor"][row]
        share = (peer - ours) / (peer - floor) if peer > floor else float("nan")
        shares.append(share)
        case = f"mlflow client: {row}"
        ratios.append(
            {
                "case": case,
                "metric": "seconds",
                "better": "lower",
                "peer": "mlflow server",
                "shipyard": ours,
                "peer_value": peer,
                "speedup": peer / ours,
            }
        )
        goal = "share of possible speed-up >= 0.80"
        goals.append({"case": case, "goal": goal, "value": f"{share:.2f}", "passed": share >= 0.8})
        table.add_row(
            row,
            f"{peer:.3f}",
            f"{ours:.3f}",
            f"{floor:.3f}",
            f"{peer / ours:.1f}x",
            f"[{'green' if share >= 0.8 else 'red'}]{share:.2f}[/]",
        )
    console.print(table)
    console.print(f"goal: share >= 0.80 on every row; worst {min(shares):.2f}")
    if args.json:
        from importlib.metadata import version

        report = {
            "seconds": results,
            "ratios": ratios,
            "goals": goals,
            "versions": {"mlflow": version("mlflow")},
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
