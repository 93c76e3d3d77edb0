"""Tracking methods of ``shipyard.Client``: experiments, buffered runs, reads (embedded and remote)."""

from __future__ import annotations

import abc
import math
import random
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shipyard.core import files
from shipyard.tracking import experiments, reproducibility, runs, search
from shipyard.tracking._common import json_float
from shipyard.tracking.reproducibility import REQUIREMENTS_PATH
from shipyard.tracking.run_handle import RunHandle
from shipyard.tracking.runs import NATIVE_LIMITS, MetricBatch
from shipyard.tracking.schemas import MetricHistoryPublic, RunPublic

if TYPE_CHECKING:
    import httpx

    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform

__all__ = ["EmbeddedTrackingMethods", "RemoteTrackingMethods", "TrackingMethods"]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)


class TrackingMethods(abc.ABC):
    @abc.abstractmethod
    def set_experiment(self, name: str) -> str:
        """The id of the experiment called ``name``, created if it does not exist."""

    @abc.abstractmethod
    def _create_run(self, experiment_id: str, run_name: str | None, tags: dict[str, str]) -> str: ...

    @abc.abstractmethod
    def _run_sink(self) -> Any: ...

    def start_run(
        self,
        experiment: str | None = None,
        *,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
        seed: int | None = None,
        capture_environment: bool = True,
        flush_interval: float = 0.5,
    ) -> RunHandle:
        """Start a run whose logging is buffered and sent in the background.

        With ``capture_environment`` (the default) the run records its git commit and dirty flag, entry
        point and arguments, Python version, platform and installed packages (stored once, shared by
        runs with the same environment). A ``seed`` is recorded and applied to ``random`` and NumPy.
        """
        experiment_id = self.set_experiment(experiment) if experiment else "0"
        all_tags = dict(tags or {})
        if seed is not None:
            _seed_everything(seed)
        if capture_environment:
            all_tags.update(reproducibility.capture(seed=seed).as_tags())
        elif seed is not None:
            all_tags[f"{reproducibility.TAG_PREFIX}seed"] = str(seed)
        run_id = self._create_run(experiment_id, run_name, all_tags)
        handle = RunHandle(run_id, experiment_id, self._run_sink(), flush_interval=flush_interval)
        if capture_environment:
            with tempfile.TemporaryDirectory() as folder:
                requirements = Path(folder) / "requirements.txt"
                requirements.write_text(reproducibility.requirements_text())
                handle.log_artifact(requirements, REQUIREMENTS_PATH)
        return handle

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunPublic:
        """A run with its params, latest metrics and tags."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment: str,
        *,
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
    ) -> list[RunPublic]:
        """Runs of the experiment named ``experiment`` matching an MLflow filter string."""

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> MetricHistoryPublic:
        """Every point of a metric, as columns."""

    @abc.abstractmethod
    def download_run_file(self, run_id: str, path: str, destination: str | Path) -> Path:
        """Copy one of a run's files to ``destination`` (verified against its hash)."""


class EmbeddedTrackingMethods(TrackingMethods):
    platform: Platform
    actor: Principal

    def set_experiment(self, name: str) -> str:
        with self.platform.database.session(write=True) as session:
            try:
                return str(experiments.get_experiment_by_name(session, name).id)
            except LookupError:
                return str(experiments.create_experiment(session, actor=self.actor, name=name).id)

    def _create_run(self, experiment_id: str, run_name: str | None, tags: dict[str, str]) -> str:
        with self.platform.database.session(write=True) as session:
            return runs.create_run(
                session, actor=self.actor, experiment_id=experiment_id, run_name=run_name, tags=tags
            ).id

    def _run_sink(self) -> Any:
        def send(run_id: str, metrics: MetricBatch, params: dict[str, str], tags: dict[str, str]) -> None:
            for start in range(0, max(len(metrics), 1), NATIVE_LIMITS.metrics):
                chunk = metrics.slice(start, start + NATIVE_LIMITS.metrics)
                with self.platform.database.session(write=True) as session:
                    runs.log_batch(
                        session,
                        actor=self.actor,
                        run_id=run_id,
                        metrics=chunk,
                        params=params if start == 0 else {},
                        tags=tags if start == 0 else {},
                        limits=NATIVE_LIMITS,
                    )

        def end(run_id: str, status: str) -> None:
            with self.platform.database.session(write=True) as session:
                runs.update_run(session, actor=self.actor, run_id=run_id, status=status)

        def upload(run_id: str, local: Path, artifact_path: str) -> None:
            with self.platform.database.session() as session:
                runs.get_run(session, run_id)
            blob = self.platform.artifacts.put_file(local)
            with self.platform.database.session(write=True) as session:
                files.register_file(
                    session,
                    actor=self.actor,
                    owner_type="run",
                    owner_id=run_id,
                    path=artifact_path,
                    blob=blob,
                )

        def inputs(run_id: str, datasets: list[dict[str, Any]]) -> None:
            with self.platform.database.session(write=True) as session:
                runs.log_inputs(session, actor=self.actor, run_id=run_id, datasets=datasets)

        return send, end, upload, inputs

    def get_run(self, run_id: str) -> RunPublic:
        from shipyard.tracking.routes import run_public

        with self.platform.database.session() as session:
            return run_public(runs.load_records(session, [runs.get_run(session, run_id)])[0])

    def search_runs(
        self,
        experiment: str,
        *,
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
    ) -> list[RunPublic]:
        from shipyard.tracking.routes import run_public

        with self.platform.database.session() as session:
            experiment_id = experiments.get_experiment_by_name(session, experiment).id
            records, _ = search.search_runs(
                session,
                experiment_ids=[experiment_id],
                filter_string=filter_string,
                order_by=order_by,
                max_results=max_results,
            )
            return [run_public(record) for record in records]

    def get_metric_history(self, run_id: str, key: str) -> MetricHistoryPublic:
        with self.platform.database.session() as session:
            points, _ = runs.get_metric_history(session, run_id=run_id, key=key, max_results=100_000)
        return MetricHistoryPublic(
            key=key,
            step=[p[3] for p in points],
            timestamp=[p[2] for p in points],
            value=[math.nan if p[1] else p[0] for p in points],
        )

    def download_run_file(self, run_id: str, path: str, destination: str | Path) -> Path:
        with self.platform.database.session() as session:
            runs.get_run(session, run_id)
            digest = files.get_file(session, owner_type="run", owner_id=run_id, path=path).digest
        return self.platform.artifacts.download_to(digest, destination)


class RemoteTrackingMethods(TrackingMethods):
    if TYPE_CHECKING:  # provided by RemoteClient

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

        def _download(
            self, path: str, destination: str | Path, *, params: dict[str, str] | None = None
        ) -> Path: ...

    def set_experiment(self, name: str) -> str:
        from shipyard.core.errors import NotFoundError

        try:
            response = self._request(
                "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
            )
            return str(response.json()["experiment"]["experiment_id"])
        except NotFoundError:
            response = self._request("POST", "/api/2.0/mlflow/experiments/create", json={"name": name})
            return str(response.json()["experiment_id"])

    def _create_run(self, experiment_id: str, run_name: str | None, tags: dict[str, str]) -> str:
        body = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        return str(
            self._request("POST", "/api/2.0/mlflow/runs/create", json=body).json()["run"]["info"]["run_id"]
        )

    def _run_sink(self) -> Any:
        def send(run_id: str, metrics: MetricBatch, params: dict[str, str], tags: dict[str, str]) -> None:
            for start in range(0, max(len(metrics), 1), NATIVE_LIMITS.metrics):
                chunk = metrics.slice(start, start + NATIVE_LIMITS.metrics)
                body: dict[str, Any] = {
                    "params": params if start == 0 else {},
                    "tags": tags if start == 0 else {},
                }
                if len(chunk):
                    body["metrics"] = {
                        "key": chunk.keys,
                        "value": (
                            # JSON has no NaN or infinities; finite values (nearly always all) go as they are.
                            chunk.values
                            if all(map(math.isfinite, chunk.values))
                            else [json_float(value) for value in chunk.values]
                        ),
                        "step": chunk.steps,
                        "timestamp": chunk.timestamps,
                    }
                self._request(
                    "POST",
                    f"/api/v1/runs/{run_id}/log",
                    content=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                )

        def end(run_id: str, status: str) -> None:
            self._request("POST", "/api/2.0/mlflow/runs/update", json={"run_id": run_id, "status": status})

        def upload(run_id: str, local: Path, artifact_path: str) -> None:
            with open(local, "rb") as handle:
                self._request(
                    "PUT",
                    f"/api/v1/runs/{run_id}/artifacts",
                    params={"path": artifact_path},
                    content=handle,
                    headers={"Content-Type": "application/octet-stream"},
                )

        def inputs(run_id: str, datasets: list[dict[str, Any]]) -> None:
            self._request(
                "POST", "/api/2.0/mlflow/runs/log-inputs", json={"run_id": run_id, "datasets": datasets}
            )

        return send, end, upload, inputs

    def get_run(self, run_id: str) -> RunPublic:
        return RunPublic.model_validate(self._request("GET", f"/api/v1/runs/{run_id}").json())

    def search_runs(
        self,
        experiment: str,
        *,
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
    ) -> list[RunPublic]:
        experiment_id = self._request(
            "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": experiment}
        ).json()["experiment"]["experiment_id"]
        body = {
            "experiment_ids": [experiment_id],
            "filter": filter_string,
            "order_by": order_by or [],
            "max_results": max_results,
        }
        found = self._request("POST", "/api/2.0/mlflow/runs/search", json=body).json().get("runs", [])
        return [RunPublic.from_mlflow_json(run) for run in found]

    def get_metric_history(self, run_id: str, key: str) -> MetricHistoryPublic:
        return MetricHistoryPublic.model_validate(
            self._request("GET", f"/api/v1/runs/{run_id}/metrics/{key}").json()
        )

    def download_run_file(self, run_id: str, path: str, destination: str | Path) -> Path:
        return self._download(f"/api/v1/runs/{run_id}/artifacts/content", destination, params={"path": path})
