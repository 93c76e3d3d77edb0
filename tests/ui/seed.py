"""A small but complete store for the UI tests: a portfolio, runs with history and artifacts, a registry."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass

from shipyard.core import files
from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.platform import Platform
from shipyard.registry import aliases, groups, models, versions
from shipyard.tracking import experiments, runs
from shipyard.tracking.metrics import MetricPoint
from shipyard.usecases import canvas, kpis, redflags, scoring

ANA = Principal("ana", Role.EDITOR)
BEN = Principal("ben", Role.EDITOR)


@dataclass(frozen=True)
class Seeded:
    portfolio_id: str
    use_case_id: str
    other_use_case_id: str
    red_flag_id: int
    experiment_id: int
    run_ids: list[str]
    model: str
    request_id: int


def tiny_png() -> bytes:
    """A valid 2x2 PNG, built by hand so the test needs no imaging library."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def seed(platform: Platform) -> Seeded:
    actor = LOCAL_ADMIN
    with platform.database.session(write=True) as s:
        portfolio = canvas.create_portfolio(s, actor=actor, name="Retail AI")
        churn = canvas.create_use_case(
            s,
            actor=actor,
            portfolio_id=portfolio.id,
            values={
                "title": "Churn prediction",
                "owner": "ana",
                "what": "Predict who leaves",
                "roi": {
                    "build_cost": 50000,
                    "running_cost": 1000,
                    "tasks_per_period": 2000,
                    "minutes_saved_per_task": 5,
                    "hourly_cost": 60,
                },
            },
        )
        pricing = canvas.create_use_case(
            s, actor=actor, portfolio_id=portfolio.id, values={"title": "Dynamic pricing"}
        )
        scoring.cast_votes(
            s,
            actor=ANA,
            use_case_id=churn.id,
            voter="ana",
            scores={
                "economic_value": 5,
                "strategic_alignment": 4,
                "data_availability": 4,
                "technology_maturity": 4,
                "process_integration": 3,
                "know_how": 4,
            },
        )
        scoring.cast_votes(
            s,
            actor=BEN,
            use_case_id=churn.id,
            voter="ben",
            scores={
                "economic_value": 1,
                "strategic_alignment": 3,
                "data_availability": 3,
                "technology_maturity": 4,
                "process_integration": 2,
                "know_how": 3,
            },
        )
        scoring.cast_votes(
            s,
            actor=ANA,
            use_case_id=pricing.id,
            voter="ana",
            scores={
                "economic_value": 2,
                "strategic_alignment": 2,
                "data_availability": 1,
                "technology_maturity": 2,
                "process_integration": 2,
                "know_how": 1,
            },
        )
        flag = redflags.add_check(
            s,
            actor=actor,
            use_case_id=churn.id,
            values={
                "category": "regulation_ethics",
                "question": "Customer data under GDPR?",
                "red_flag": True,
            },
        )
        kpi = kpis.add_kpi(
            s, actor=actor, use_case_id=churn.id, values={"name": "Retention", "unit": "%", "target": 90}
        )
        kpis.record_kpi_value(s, actor=actor, use_case_id=churn.id, kpi_id=kpi.id, value=84.5)

        experiment = experiments.create_experiment(s, actor=actor, name="churn-models")
        run_ids = []
        for index, (model, depth) in enumerate((("rf", 4), ("rf", 8), ("gbm", 3))):
            run = runs.create_run(
                s,
                actor=actor,
                experiment_id=experiment.id,
                run_name=f"{model}-{depth}",
                start_time=1_700_000_000_000 + index,
            )
            points = [
                MetricPoint("loss", 1.0 / (step + 1 + index), 1_700_000_000_000 + step, step)
                for step in range(200)
            ]
            points.append(MetricPoint("accuracy", 0.8 + index / 20, 1_700_000_000_500, 199))
            runs.log_batch(
                s,
                actor=actor,
                run_id=run.id,
                metrics=points,
                params={"model": model, "max_depth": str(depth), "seed": "7"},
                tags={"shipyard.repro.python_version": "3.11.7", "shipyard.repro.seed": "7"},
            )
            runs.update_run(s, actor=actor, run_id=run.id, status="FINISHED", end_time=1_700_000_100_000)
            run_ids.append(run.id)
        first = run_ids[0]
        report = {
            "task": "classification",
            "labels": ["stay", "leave"],
            "candidates": [
                {
                    "name": "rf-4",
                    "metrics": {"accuracy": 0.8, "f1": 0.7},
                    "per_class": {},
                    "confusion_matrix": [[50, 5], [8, 37]],
                }
            ],
        }
        for path, data in (
            ("notes.txt", b"trained on the March extract\n"),
            ("evaluation/evaluation.json", json.dumps(report).encode()),
            ("evaluation/roc.png", tiny_png()),
        ):
            files.register_file(
                s,
                actor=actor,
                owner_type="run",
                owner_id=first,
                path=path,
                blob=platform.artifacts.put_bytes(data),
            )

        models.create_registered_model(s, actor=actor, name="churn", description="Churn classifier")
        for run_id in run_ids[:2]:
            versions.create_model_version(
                s, actor=actor, name="churn", source=f"runs:/{run_id}/model", run_id=run_id
            )
        groups.link_use_case(s, actor=actor, model_name="churn", use_case_id=churn.id)
        request = aliases.request_alias(
            s, actor=ANA, name="churn", alias="champion", version=2, reason="better accuracy"
        )
        return Seeded(
            portfolio.id, churn.id, pricing.id, flag.id, experiment.id, run_ids, "churn", request.id
        )
