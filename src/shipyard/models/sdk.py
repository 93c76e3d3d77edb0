"""Model methods of ``shipyard.Client``: ``log_model`` and ``load_model`` (embedded and remote).

``log_model`` saves a package, uploads its files as run artifacts under ``name/`` and, when asked,
registers a model version whose source is that run folder. ``load_model`` fetches a package through
``shipyard.models.fetch.fetch_package`` (verified, cached by content hash) and loads it trusted.
"""

from __future__ import annotations

import abc
import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ConflictError
from shipyard.core.paths import validate_artifact_path
from shipyard.models.fetch import (
    PackageFile,
    PackageLocation,
    fetch_package,
    location_of,
    parse_model_uri,
)
from shipyard.models.package import LoadedModel, load_manifest, load_model, save_model
from shipyard.models.signature import Signature

if TYPE_CHECKING:
    import httpx

    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform
    from shipyard.tracking.run_handle import RunHandle

__all__ = ["EmbeddedModelMethods", "ModelInfo", "ModelMethods", "RemoteModelMethods"]

CACHE_FOLDER = "model-cache"


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` did: where the package is, and the version it registered (if any)."""

    run_id: str
    artifact_path: str
    model_uri: str  # runs:/<run_id>/<artifact_path>
    model_id: str | None = None  # the MLflow-style logged model (models:/m-<id>) holding the same files
    registered_model_name: str | None = None
    version: int | None = None


class ModelMethods(abc.ABC):
    if TYPE_CHECKING:  # provided by the tracking methods

        def start_run(self, experiment: str | None = None, **kwargs: Any) -> RunHandle: ...

        def _run_sink(self) -> Any: ...

        def download_blob(self, digest: str, destination: str | Path) -> Path: ...

    @abc.abstractmethod
    def _package_files(self, uri: str) -> tuple[PackageLocation, list[PackageFile]]:
        """Resolve a model URI and list the package's files with their stored digests."""

    @abc.abstractmethod
    def _log_model_files(self, run_id: str, name: str, flavor: str, package: Path) -> str:
        """Create a READY logged model of the run holding the package's files; its id."""

    @abc.abstractmethod
    def _register_version(self, name: str, source: str, run_id: str, model_id: str) -> int:
        """Create the registered model if needed and a version from ``source``; its number."""

    @abc.abstractmethod
    def _model_cache_dir(self) -> Path: ...

    def log_model(
        self,
        model: Any,
        name: str = "model",
        *,
        run_id: str | None = None,
        input_example: Any = None,
        signature: Signature | None = None,
        flavor: str | None = None,
        registered_model_name: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ModelInfo:
        """Save ``model`` as a package under the run's ``name/`` folder; optionally register it.

        Without ``run_id`` a run is started (in the default experiment) and ended around the upload.
        The files are also recorded as an MLflow-style logged model (``ModelInfo.model_id``), and a
        registered version's source is the run folder ``runs:/<run_id>/<name>``.

        Examples:
            >>> import tempfile
            >>> from sklearn.linear_model import LogisticRegression
            >>> from shipyard import Client
            >>> with tempfile.TemporaryDirectory() as home, Client(home=home) as client:
            ...     model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
            ...     info = client.log_model(model, registered_model_name="demo")
            ...     loaded = client.load_model("models:/demo/1")
            ...     (info.artifact_path, info.version, loaded.predict([[0.9]]).tolist())
            ('model', 1, [1])
        """
        folder_name = validate_artifact_path(str(name).strip("/"), field="name")
        handle = None
        with tempfile.TemporaryDirectory() as scratch:
            package = save_model(
                model,
                Path(scratch) / "package",
                flavor=flavor,
                input_example=input_example,
                signature=signature,
                metadata=metadata,
            )
            if run_id is None:
                handle = self.start_run(capture_environment=False)
                run_id = handle.run_id
            upload = self._run_sink()[2]
            try:
                for file in _package_files(package):
                    upload(run_id, file, f"{folder_name}/{file.relative_to(package).as_posix()}")
                flavor_name = load_manifest(package)["flavor"]
                model_id = self._log_model_files(run_id, folder_name, flavor_name, package)
            except BaseException:
                if handle is not None:
                    handle.end("FAILED")
                raise
        if handle is not None:
            handle.end()
        source = f"runs:/{run_id}/{folder_name}"
        version = None
        if registered_model_name:
            version = self._register_version(registered_model_name, source, run_id, model_id)
        return ModelInfo(run_id, folder_name, source, model_id, registered_model_name, version)

    def load_model(self, uri: str, *, cache_dir: str | Path | None = None) -> LoadedModel:
        """Fetch ``uri`` (``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/latest``,
        ``runs:/RUN_ID/PATH``) into the local cache, every file checked against its SHA-256, and load it.

        Pickle-based packages load too: their bytes are the platform's own, hash for hash.
        """
        fetched = fetch_package(self, uri, Path(cache_dir) if cache_dir else self._model_cache_dir())  # type: ignore[arg-type]
        return load_model(fetched.path, trusted=True)


def _package_files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*") if p.is_file())


def _relative(paths_and_digests: list[tuple[str, str, int]], prefix: str) -> list[PackageFile]:
    folder = f"{prefix}/" if prefix else ""
    return [
        PackageFile(path[len(folder) :], digest, size)
        for path, digest, size in paths_and_digests
        if path.startswith(folder)
    ]


class EmbeddedModelMethods(ModelMethods):
    platform: Platform
    actor: Principal

    def _package_files(self, uri: str) -> tuple[PackageLocation, list[PackageFile]]:
        from shipyard.core import files
        from shipyard.registry import aliases, versions
        from shipyard.tracking import logged_models, runs

        parsed = parse_model_uri(uri)
        with self.platform.database.session() as session:
            if parsed.kind == "run":
                run = runs.get_run(session, parsed.run_id or "")
                prefix = validate_artifact_path(parsed.path, field="model_uri") if parsed.path else ""
                location = PackageLocation("run", run.id, prefix, run_id=run.id)
            elif parsed.kind == "logged_model":
                logged = logged_models.get_logged_model(session, parsed.name or "")
                location = PackageLocation("logged_model", logged.id, "", run_id=logged.source_run_id)
            else:
                name = parsed.name or ""
                if parsed.kind == "alias":
                    found = aliases.get_version_by_alias(session, name, parsed.alias or "")
                elif parsed.kind == "latest":
                    latest = max(
                        versions.get_latest_versions(session, name), key=lambda v: v.version, default=None
                    )
                    if latest is None:
                        from shipyard.core.errors import NotFoundError

                        raise NotFoundError(f"registered model {name!r} has no versions", field="model_uri")
                    found = latest
                else:
                    found = versions.get_model_version(session, name, parsed.version)
                owner_type, owner_id, prefix = location_of(found.storage_location)
                location = PackageLocation(
                    owner_type, owner_id, prefix, found.name, found.version, found.run_id
                )
            rows = files.list_files(
                session, owner_type=location.owner_type, owner_id=location.owner_id, prefix=location.prefix
            )
            return location, _relative([(r.path, r.digest, r.size) for r in rows], location.prefix)

    def _log_model_files(self, run_id: str, name: str, flavor: str, package: Path) -> str:
        from shipyard.core import files
        from shipyard.tracking import logged_models, runs

        blobs = [
            (p.relative_to(package).as_posix(), self.platform.artifacts.put_file(p))
            for p in _package_files(package)
        ]
        with self.platform.database.session(write=True) as session:
            experiment_id = runs.get_run(session, run_id).experiment_id
            model = logged_models.create_logged_model(
                session,
                actor=self.actor,
                experiment_id=experiment_id,
                name=name,
                model_type=flavor,
                source_run_id=run_id,
            )
            for path, blob in blobs:  # the run's blobs: content-addressed, so stored once
                files.register_file(
                    session,
                    actor=self.actor,
                    owner_type="logged_model",
                    owner_id=model.id,
                    path=path,
                    blob=blob,
                )
            logged_models.finalize_logged_model(
                session, actor=self.actor, model_id=model.id, status="LOGGED_MODEL_READY"
            )
            return model.id

    def _register_version(self, name: str, source: str, run_id: str, model_id: str) -> int:
        from shipyard.registry import models, versions

        with self.platform.database.session(write=True) as session:
            try:
                models.get_registered_model(session, name)
            except LookupError:
                models.create_registered_model(session, actor=self.actor, name=name)
            return versions.create_model_version(
                session, actor=self.actor, name=name, source=source, run_id=run_id, model_id=model_id
            ).version

    def _model_cache_dir(self) -> Path:
        return self.platform.settings.home / CACHE_FOLDER


class RemoteModelMethods(ModelMethods):
    if TYPE_CHECKING:  # provided by RemoteClient

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

    def _version_location(self, version: dict[str, Any]) -> PackageLocation:
        name, number = str(version["name"]), int(version["version"])
        storage = self._request(
            "GET",
            "/api/2.0/mlflow/model-versions/get-download-uri",
            params={"name": name, "version": str(number)},
        ).json()["artifact_uri"]
        owner_type, owner_id, prefix = location_of(storage)
        return PackageLocation(owner_type, owner_id, prefix, name, number, version.get("run_id") or None)

    def _package_files(self, uri: str) -> tuple[PackageLocation, list[PackageFile]]:
        parsed = parse_model_uri(uri)
        if parsed.kind == "run":
            prefix = validate_artifact_path(parsed.path, field="model_uri") if parsed.path else ""
            location = PackageLocation("run", parsed.run_id or "", prefix, run_id=parsed.run_id)
        elif parsed.kind == "logged_model":
            logged = self._request("GET", f"/api/2.0/mlflow/logged-models/{parsed.name}").json()["model"]
            source_run = logged.get("info", {}).get("source_run_id") or None
            location = PackageLocation("logged_model", parsed.name or "", "", run_id=source_run)
        elif parsed.kind == "alias":
            version = self._request(
                "GET",
                "/api/2.0/mlflow/registered-models/alias",
                params={"name": parsed.name, "alias": parsed.alias},
            ).json()["model_version"]
            location = self._version_location(version)
        elif parsed.kind == "latest":
            found = (
                self._request(
                    "POST",
                    "/api/2.0/mlflow/registered-models/get-latest-versions",
                    json={"name": parsed.name},
                )
                .json()
                .get("model_versions", [])
            )
            if not found:
                from shipyard.core.errors import NotFoundError

                raise NotFoundError(f"registered model {parsed.name!r} has no versions", field="model_uri")
            location = self._version_location(max(found, key=lambda v: int(v["version"])))
        else:
            version = self._request(
                "GET",
                "/api/2.0/mlflow/model-versions/get",
                params={"name": parsed.name, "version": parsed.version},
            ).json()["model_version"]
            location = self._version_location(version)
        owner_route = "runs" if location.owner_type == "run" else "logged-models"
        listed = self._request(
            "GET", f"/api/v1/{owner_route}/{location.owner_id}/artifacts", params={"prefix": location.prefix}
        ).json()["files"]
        rows = [(str(f["path"]), str(f["digest"]), int(f["size"])) for f in listed]
        return location, _relative(rows, location.prefix)

    def _log_model_files(self, run_id: str, name: str, flavor: str, package: Path) -> str:
        experiment_id = self._request("GET", f"/api/v1/runs/{run_id}").json()["experiment_id"]
        body = {"experiment_id": experiment_id, "name": name, "model_type": flavor, "source_run_id": run_id}
        model_id = str(
            self._request("POST", "/api/2.0/mlflow/logged-models", json=body).json()["model"]["info"][
                "model_id"
            ]
        )
        for file in _package_files(package):
            with open(file, "rb") as handle:
                self._request(
                    "PUT",
                    f"/api/v1/logged-models/{model_id}/artifacts",
                    params={"path": file.relative_to(package).as_posix()},
                    content=handle,
                    headers={"Content-Type": "application/octet-stream"},
                )
        self._request(
            "PATCH", f"/api/2.0/mlflow/logged-models/{model_id}", json={"status": "LOGGED_MODEL_READY"}
        )
        return model_id

    def _register_version(self, name: str, source: str, run_id: str, model_id: str) -> int:
        with contextlib.suppress(ConflictError):  # it exists: add a version to it
            self._request("POST", "/api/2.0/mlflow/registered-models/create", json={"name": name})
        body = {"name": name, "source": source, "run_id": run_id, "model_id": model_id}
        created = self._request("POST", "/api/2.0/mlflow/model-versions/create", json=body).json()
        return int(created["model_version"]["version"])

    def _model_cache_dir(self) -> Path:
        from shipyard.core.config import load_settings

        return load_settings().home / CACHE_FOLDER
