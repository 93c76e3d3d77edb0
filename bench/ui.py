"""Server time of every UI page with 10,000 runs, 1,000 model versions and 1M metric points (goal: < 200 ms).

Seeds the store with bulk inserts (10,000 runs with params and latest metrics, one run whose ``loss``
has 1,000,000 points, 1,000 versions across 20 models, a portfolio with 50 use cases and votes, 5,000
audit rows), then requests each page through the real ASGI app in-process (auth off) and reports
the median of several requests. The metric chart endpoint of the 1M-point run is timed too: it is the
one that scans the series (bucketed in SQL, then LTTB).

The endpoint and monitoring pages get 50 endpoints with a monitor each (500 scored windows and 200 alert
events on the first) and a prediction log of 200,000 rows (bench/_ui_serving.py).

    python bench/ui.py [--postgres postgresql://postgres@127.0.0.1:5432/test [--no-sqlite]] [--repeat 5]
                       [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.config import Settings
from shipyard.core.database import utcnow
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.registry import aliases
from shipyard.registry.tables import ModelVersion, RegisteredModel
from shipyard.server import create_app
from shipyard.tracking.tables import Experiment, LatestMetric, Metric, Param, Run
from shipyard.usecases import canvas, scoring

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ui_serving import seed_serving

console = Console()
RUNS = 10_000
POINTS = 1_000_000
MODELS, VERSIONS_PER_MODEL = 20, 50
GOAL_MS = 200.0


def seed(platform: Platform) -> dict[str, str]:
    started = time.perf_counter()
    now = 1_700_000_000_000
    rng = np.random.default_rng(7)
    with platform.database.session(write=True) as s:
        s.execute(
            insert(Experiment),
            [
                {
                    "name": "bench",
                    "artifact_location": "mlflow-artifacts:/1",
                    "creation_time": now,
                    "last_update_time": now,
                }
            ],
        )
        experiment_id = s.query(Experiment.id).filter(Experiment.name == "bench").scalar()
        run_ids = [uuid.uuid4().hex for _ in range(RUNS)]
        s.execute(
            insert(Run),
            [
                {
                    "id": r,
                    "experiment_id": experiment_id,
                    "name": f"run-{i}",
                    "user_id": "bench",
                    "status": "FINISHED",
                    "start_time": now + i,
                    "end_time": now + i + 60_000,
                    "lifecycle_stage": "active",
                    "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{r}/artifacts",
                }
                for i, r in enumerate(run_ids)
            ],
        )
        s.execute(
            insert(Param),
            [
                {"run_id": r, "key": key, "value": str(value)}
                for i, r in enumerate(run_ids)
                for key, value in (
                    ("model", "rf" if i % 2 else "gbm"),
                    ("max_depth", i % 12),
                    ("lr", 0.01 * (i % 7)),
                )
            ],
        )
        accuracy = rng.uniform(0.6, 0.99, RUNS)
        s.execute(
            insert(LatestMetric),
            [
                {
                    "run_id": r,
                    "key": "accuracy",
                    "value": float(accuracy[i]),
                    "is_nan": False,
                    "timestamp": now,
                    "step": 0,
                }
                for i, r in enumerate(run_ids)
            ],
        )
        s.execute(
            insert(Metric),
            [
                {
                    "run_id": r,
                    "key": "accuracy",
                    "value": float(accuracy[i]),
                    "is_nan": False,
                    "timestamp": now,
                    "step": 0,
                }
                for i, r in enumerate(run_ids)
            ],
        )
        long_run = run_ids[0]
        steps = np.arange(POINTS)
        loss = 1.0 / (1 + steps / 1000) + rng.normal(0, 0.01, POINTS)
        for start in range(0, POINTS, 100_000):
            s.execute(
                insert(Metric),
                [
                    {
                        "run_id": long_run,
                        "key": "loss",
                        "value": float(loss[j]),
                        "is_nan": False,
                        "timestamp": now + j,
                        "step": j,
                    }
                    for j in range(start, min(POINTS, start + 100_000))
                ],
            )
        s.execute(
            insert(LatestMetric),
            [
                {
                    "run_id": long_run,
                    "key": "loss",
                    "value": float(loss[-1]),
                    "is_nan": False,
                    "timestamp": now,
                    "step": POINTS - 1,
                }
            ],
        )
        s.execute(
            insert(RegisteredModel),
            [
                {"name": f"model-{m}", "creation_time": now, "last_updated_time": now + m, "description": ""}
                for m in range(MODELS)
            ],
        )
        s.execute(
            insert(ModelVersion),
            [
                {
                    "name": f"model-{m}",
                    "version": v,
                    "creation_time": now + v,
                    "last_updated_time": now + v,
                    "source": f"runs:/{run_ids[m * 100 + v]}/model",
                    "storage_location": "x",
                    "run_id": run_ids[m * 100 + v],
                    "status": "READY",
                    "current_stage": "None",
                    "lifecycle": "draft",
                }
                for m in range(MODELS)
                for v in range(1, VERSIONS_PER_MODEL + 1)
            ],
        )
        s.execute(
            insert(AuditEvent),
            [
                {
                    "occurred_at": utcnow(),
                    "actor": "bench",
                    "actor_role": "admin",
                    "action": f"bench.{i % 10}",
                    "object_type": "run",
                    "object_id": run_ids[i],
                    "before": None,
                    "after": {"i": i},
                }
                for i in range(5000)
            ],
        )
        portfolio = canvas.create_portfolio(s, actor=LOCAL_ADMIN, name="bench")
        use_case_id = ""
        for i in range(50):
            use_case = canvas.create_use_case(
                s, actor=LOCAL_ADMIN, portfolio_id=portfolio.id, values={"title": f"use case {i}"}
            )
            use_case_id = use_case.id
            for voter in ("ana", "ben", "eve"):
                scores = {d: float(rng.integers(0, 6)) for d in ("economic_value", "data_availability")}
                scoring.cast_votes(s, actor=LOCAL_ADMIN, use_case_id=use_case.id, voter=voter, scores=scores)
        for m in range(MODELS):
            aliases.request_alias(s, actor=LOCAL_ADMIN, name=f"model-{m}", alias="champion", version=1)
    serving = seed_serving(platform)
    console.print(f"seeded in {time.perf_counter() - started:.1f} s")
    return serving | {
        "experiment": str(experiment_id),
        "run": long_run,
        "other_run": run_ids[5000],
        "portfolio": portfolio.id,
        "use_case": use_case_id,
    }


def pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    e = ids["experiment"]
    return [
        ("portfolio matrix (50 use cases)", f"/ui/portfolio/{ids['portfolio']}"),
        ("use case", f"/ui/usecases/{ids['use_case']}"),
        ("experiments", "/ui/experiments"),
        ("runs table, newest 50 of 10,000", f"/ui/experiments/{e}"),
        (
            "runs table, filter + sort by metric",
            f"/ui/experiments/{e}?filter=metrics.accuracy+>+0.9"
            "+AND+params.model+%3D+'rf'&order=metrics.accuracy+DESC",
        ),
        ("runs table, page 150", f"/ui/experiments/{e}?page=150"),
        ("run detail (1M-point metric)", f"/ui/runs/{ids['run']}"),
        ("chart data, 1M points -> LTTB", f"/ui/runs/{ids['run']}/chart?key=loss"),
        ("compare 500 runs", f"/ui/compare?experiment={e}&limit=500"),
        ("compare chart, 500 runs", f"/ui/compare/chart?experiment={e}&limit=500&key=accuracy"),
        ("registry (20 models)", "/ui/registry"),
        ("model with 50 versions", "/ui/registry/models/model-3"),
        ("model version", "/ui/registry/models/model-3/versions/7"),
        ("approval queue (20 pending)", "/ui/registry/approvals"),
        ("audit log", "/ui/audit"),
        ("audit log, filtered", "/ui/audit?action=bench.*&actor=bench"),
        ("settings", "/ui/settings"),
        ("endpoints (50)", "/ui/endpoints"),
        ("endpoint, recent of 200,000 predictions", f"/ui/endpoints/{ids['endpoint']}"),
        ("monitoring (50 monitors)", "/ui/monitoring"),
        ("monitor with 500 windows", f"/ui/monitoring/{ids['monitor']}"),
        ("drift chart, 500 windows x 10 columns", f"/ui/monitoring/{ids['monitor']}/chart?kind=drift"),
        ("window distributions, 10 columns", f"/ui/monitoring/{ids['monitor']}/windows/{ids['window']}"),
    ]


def measure(platform: Platform, ids: dict[str, str], repeat: int) -> list[tuple[str, float, int]]:
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    results = []

    async def run() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for label, path in pages(ids):
                timings, size = [], 0
                await client.get(path)  # warm caches and the template compiler
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")
                    size = len(response.content)
                results.append((label, statistics.median(timings), size))

    import asyncio

    asyncio.run(run())
    return results


def report(backend: str, results: list[tuple[str, float, int]]) -> None:
    table = Table(title=f"UI page server time, {backend} (goal < {GOAL_MS:.0f} ms)")
    table.add_column("page")
    table.add_column("median ms", justify="right")
    table.add_column("bytes", justify="right")
    table.add_column("goal", justify="center")
    for label, ms, size in results:
        table.add_row(label, f"{ms:.1f}", f"{size:,}", "ok" if ms < GOAL_MS else "over")
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also run on a database created (and dropped) on this server")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    measured: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        backends = [] if args.no_sqlite else [("sqlite", f"sqlite:///{base / 'bench.db'}")]
        created = None
        if args.postgres:
            import psycopg

            created = f"shipyard_bench_ui_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{created}"')
            backends.append(("postgresql", args.postgres.rsplit("/", 1)[0] + f"/{created}"))
        try:
            for backend, url in backends:
                settings = Settings(
                    home=base / backend, database_url=url, artifact_root=str(base / "artifacts")
                )
                with Platform.open(settings) as platform:
                    ids = seed(platform)
                    platform.database.optimize()
                    if backend == "postgresql":
                        # Planner statistics, as autovacuum would gather them soon after a bulk load.
                        with platform.database.engine.connect() as connection:
                            connection.execute(text("ANALYZE"))
                            connection.commit()
                    results = measure(platform, ids, args.repeat)
                    report(backend, results)
                    measured += [
                        {"backend": backend, "page": label, "ms": round(ms, 2), "bytes": size}
                        for label, ms, size in results
                    ]
        finally:
            if created:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
    if args.json:
        goals = [
            {
                "case": f"{row['backend']}: {row['page']}",
                "goal": f"< {GOAL_MS:.0f} ms",
                "value": f"{row['ms']:.1f} ms",
                "passed": float(row["ms"]) < GOAL_MS,  # type: ignore[arg-type]
            }
            for row in measured
        ]
        args.json.write_text(json.dumps({"results": measured, "goals": goals}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
