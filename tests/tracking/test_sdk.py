"""The SDK's tracking: buffered runs, reproducibility capture, reads — embedded and remote alike."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard import Client
from shipyard._client.base import BaseClient
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.tracking.reproducibility import REQUIREMENTS_PATH, TAG_PREFIX


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, platform: Platform, server_url: str) -> Iterator[BaseClient]:
    if request.param == "embedded":
        with EmbeddedClient(platform, owns_platform=False) as embedded:
            yield embedded
    else:
        with Client(server_url) as remote:
            yield remote


def test_buffered_run_round_trip(client: BaseClient, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("all good")
    with client.start_run("sdk", run_name="first", seed=42, flush_interval=0.05) as run:
        run.log_params({"lr": 0.01, "depth": 4})
        run.set_tag("team", "risk")
        for step in range(2_000):
            run.log_metric("loss", 1 / (step + 1))
        run.log_metrics({"auc": 0.91, "nan": math.nan, "inf": math.inf})
        run.log_artifact(report, "reports/report.txt")
    stored = client.get_run(run.run_id)
    assert stored.status == "FINISHED" and stored.name == "first"
    assert stored.params == {"lr": "0.01", "depth": "4"}
    assert stored.metrics["loss"] == pytest.approx(1 / 2000) and stored.metrics["auc"] == 0.91
    assert math.isnan(stored.metrics["nan"]) and stored.metrics["inf"] == math.inf
    history = client.get_metric_history(run.run_id, "loss")
    assert history.step == list(range(2_000)) and history.value[0] == 1.0
    assert (
        client.download_run_file(run.run_id, "reports/report.txt", tmp_path / "back.txt").read_text()
        == "all good"
    )
    assert [r.run_id for r in client.search_runs("sdk", filter_string="metrics.auc > 0.9")] == [run.run_id]


def test_environment_is_captured_once(client: BaseClient, platform: Platform, tmp_path: Path) -> None:
    with client.start_run("repro", seed=7) as first:
        pass
    with client.start_run("repro") as second:
        pass
    tags = client.get_run(first.run_id).tags
    assert tags[f"{TAG_PREFIX}python_version"].count(".") == 2
    assert tags[f"{TAG_PREFIX}seed"] == "7"
    assert (
        tags[f"{TAG_PREFIX}git_commit"]
        == subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    )
    assert tags[f"{TAG_PREFIX}git_dirty"] in ("true", "false")
    requirements = client.download_run_file(first.run_id, REQUIREMENTS_PATH, tmp_path / "req.txt").read_text()
    assert "pydantic==" in requirements and "sqlalchemy==" in requirements.lower()
    from shipyard.core import files

    with platform.database.session() as session:
        digests = {
            files.get_file(session, owner_type="run", owner_id=r.run_id, path=REQUIREMENTS_PATH).digest
            for r in (first, second)
        }
    assert len(digests) == 1, "identical environments share one stored blob"


def test_exception_marks_the_run_failed_and_keeps_its_data(client: BaseClient) -> None:
    started: list[str] = []

    def train() -> None:
        with client.start_run("failing", capture_environment=False) as run:
            started.append(run.run_id)
            run.log_metric("progress", 0.5)
            raise RuntimeError("training diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        train()
    stored = client.get_run(started[0])
    assert stored.status == "FAILED" and stored.metrics == {"progress": 0.5}


def test_background_errors_surface_and_nothing_is_lost(client: BaseClient) -> None:
    run = client.start_run("conflict", capture_environment=False, flush_interval=60)
    run.log_param("lr", 0.1)
    run.flush()
    run.log_param("lr", 0.2)  # a param cannot change: the flush must say so
    run.log_metric("kept", 1.0)
    with pytest.raises(InvalidParameterError, match="Changing param values is not allowed"):
        run.flush()
    run._params.clear()  # drop the bad param, keep the metric that was buffered beside it
    run.end()
    assert client.get_run(run.run_id).metrics == {"kept": 1.0}


def test_runs_cli_reproduce(server_url: str) -> None:
    with Client(server_url) as remote, remote.start_run("cli", seed=3) as run:
        run.log_metric("m", 1.0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_TRACKING_URI"] = server_url
    result = subprocess.run(
        [sys.executable, "-m", "shipyard", "runs", "reproduce", run.run_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "git checkout" in result.stdout and "SHIPYARD_SEED=3" in result.stdout
    assert f"shipyard runs download {run.run_id} {REQUIREMENTS_PATH}" in result.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "shipyard", "runs", "show", run.run_id, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert json.loads(shown.stdout)["metrics"] == {"m": 1.0}
