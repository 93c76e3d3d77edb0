"""Filtered run search over 100,000 runs (goal: well under 100 ms), on SQLite and optionally PostgreSQL.

Seeds one experiment with N runs, each with a param, a metric and a tag (bulk inserts), then times
``search_runs`` through the service with typical filters; each query runs several times and the
median is reported. ``--postgres URL`` also runs it on a database it creates and drops.

    python bench/tracking_search.py [--runs 100000] [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text

from shipyard.core import migrate
from shipyard.core.database import Database
from shipyard.tracking.search import search_runs
from shipyard.tracking.tables import LatestMetric, Param, Run, RunTag

console = Console()
QUERIES = [
    ("metric filter, top 100 by metric", "metrics.acc > 0.999", ["metrics.acc DESC"]),
    ("param = and metric >", "params.model = 'rf' AND metrics.acc > 0.99", None),
    ("tag LIKE", "tags.team LIKE 'risk%' AND metrics.acc > 0.995", None),
    ("attribute run_name", "attributes.run_name = 'run-77777'", None),
    ("no filter, newest 100", "", None),
]


def seed(database: Database, count: int) -> None:
    chooser = random.Random(7)
    now = int(time.time() * 1000)
    with database.session(write=True) as session:
        for start in range(0, count, 10_000):
            ids = [uuid.uuid4().hex for _ in range(min(10_000, count - start))]
            session.execute(
                insert(Run),
                [
                    {
                        "id": run_id,
                        "experiment_id": 0,
                        "name": f"run-{start + i}",
                        "user_id": "bench",
                        "status": "FINISHED",
                        "start_time": now - (start + i),
                        "lifecycle_stage": "active",
                        "artifact_uri": f"mlflow-artifacts:/0/{run_id}/artifacts",
                    }
                    for i, run_id in enumerate(ids)
                ],
            )
            session.execute(
                insert(Param),
                [{"run_id": r, "key": "model", "value": chooser.choice(["rf", "lr", "gb"])} for r in ids],
            )
            session.execute(
                insert(RunTag),
                [
                    {
                        "run_id": r,
                        "key": "team",
                        "value": chooser.choice(["risk", "riskops", "growth", "ops"]),
                    }
                    for r in ids
                ],
            )
            session.execute(
                insert(LatestMetric),
                [
                    {
                        "run_id": r,
                        "key": "acc",
                        "value": chooser.random(),
                        "is_nan": False,
                        "timestamp": now,
                        "step": 0,
                    }
                    for r in ids
                ],
            )


def measure(database: Database, repeats: int) -> list[tuple[str, float, int]]:
    rows = []
    for label, filter_string, order_by in QUERIES:
        timings, found = [], 0
        for _ in range(repeats):
            with database.session() as session:
                started = time.perf_counter()
                records, _ = search_runs(
                    session,
                    experiment_ids=["0"],
                    filter_string=filter_string,
                    order_by=order_by,
                    max_results=100,
                )
                timings.append(time.perf_counter() - started)
                found = len(records)
        rows.append((label, statistics.median(timings) * 1000, found))
    return rows


def run_on(label: str, url: str, count: int, repeats: int) -> list[tuple[str, str, float, int]]:
    database = Database(url)
    try:
        migrate.upgrade(database)
        started = time.perf_counter()
        with console.status(f"{label}: seeding {count:,} runs"):
            seed(database, count)
        console.print(f"{label}: seeded {count:,} runs in {time.perf_counter() - started:.1f} s")
        # What a server does at start: SQLite gets bounded ANALYZE; PostgreSQL an explicit one here
        # because autovacuum may not have reached the freshly loaded tables yet.
        database.optimize()
        if database.dialect == "postgresql":
            with database.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        return [(label, *row) for row in measure(database, repeats)]
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--postgres", help="an admin URL; a database is created and dropped")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results += run_on("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.runs, args.repeats)
    if args.postgres:
        import psycopg

        name = f"shipyard_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            results += run_on(
                "postgresql", args.postgres.rsplit("/", 1)[0] + f"/{name}", args.runs, args.repeats
            )
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    table = Table(
        title=f"search_runs over {args.runs:,} runs (median of {args.repeats})", title_justify="left"
    )
    for column in ("database", "query", "ms", "runs returned"):
        table.add_column(column, justify="left" if column in ("database", "query") else "right")
    for database, label, ms, found in results:
        table.add_row(database, label, f"[{'green' if ms < 100 else 'red'}]{ms:.1f}[/]", str(found))
    console.print(table)
    if args.json:
        goals = [
            {
                "case": f"{database}, {args.runs:,} runs: {label}",
                "goal": "< 100 ms",
                "value": f"{ms:.1f} ms",
                "passed": ms < 100,
            }
            for database, label, ms, _ in results
        ]
        args.json.write_text(json.dumps({"results": results, "goals": goals}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
