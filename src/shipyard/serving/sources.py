"""Model sources over the platform's own registry and artifact store.

``PlatformSource`` reads the store in-process (the control plane, and ``shipyard serve`` on a local
home). Every file of a version is copied from the content-addressed store into a cache folder,
each byte checked against its SHA-256 on the way, and the cached copy is checked again before each
load, so a file changed on disk after the download is refused as well. Because the bytes provably
come from the registry, the package is trusted: pickle-based flavors (MLflow's cloudpickle
scikit-learn models) may load; nothing a client uploads elsewhere ever is.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from shipyard.compat.mlflow.artifacts import locate
from shipyard.core.errors import IntegrityError, InvalidParameterError, NotFoundError
from shipyard.core.files import list_files
from shipyard.core.platform import Platform
from shipyard.registry import aliases, versions
from shipyard.registry.tables import ModelVersion
from shipyard.serving.endpoints import check_model_uri
from shipyard.serving.runtime import ModelRef
from shipyard.tracking import logged_models, runs

__all__ = ["PlatformSource", "parse_model_uri"]

_PROXY = "mlflow-artifacts:/"


def parse_model_uri(uri: str) -> tuple[str, str, str]:
    """``(kind, name, selector)``: kind is alias, version, latest, logged or run.

    >>> parse_model_uri("models:/churn@champion")
    ('alias', 'churn', 'champion')
    >>> parse_model_uri("models:/churn/3")
    ('version', 'churn', '3')
    >>> parse_model_uri("runs:/0123456789abcdef0123456789abcdef/model")
    ('run', '0123456789abcdef0123456789abcdef', 'model')
    """
    check_model_uri(uri)
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").partition("/")
        return "run", run_id, path.rstrip("/")
    rest = uri.removeprefix("models:/")
    if rest.startswith("m-"):
        return "logged", rest, ""
    if "@" in rest:
        name, _, alias = rest.partition("@")
        return "alias", name, alias
    name, _, selector = rest.rpartition("/")
    return ("latest" if selector == "latest" else "version"), name, selector


class PlatformSource:
    def __init__(self, platform: Platform, cache_dir: Path | None = None) -> None:
        self.platform = platform
        self.cache_dir = Path(cache_dir or platform.settings.model_cache_dir)

    def resolve(self, uri: str) -> ModelRef:
        kind, name, selector = parse_model_uri(uri)
        with self.platform.database.session() as session:
            if kind == "run":
                run = runs.get_run(session, name)
                location = f"{run.artifact_uri}/{selector}"
                return ModelRef(
                    name=Path(selector).name or "model", version=run.id[:8], uri=location, run_id=run.id
                )
            if kind == "logged":
                model = logged_models.get_logged_model(session, name)
                return ModelRef(
                    name=model.name, version=model.id, uri=model.artifact_location, run_id=model.source_run_id
                )
            if kind == "alias":
                version = aliases.get_version_by_alias(session, name, selector)
            elif kind == "latest":
                number = session.scalar(
                    select(func.max(ModelVersion.version)).where(ModelVersion.name == name)
                )
                if number is None:
                    raise NotFoundError(f"registered model {name!r} has no versions", field="model_uri")
                version = versions.get_model_version(session, name, number)
            else:
                version = versions.get_model_version(session, name, selector)
            return ModelRef(
                name=version.name,
                version=str(version.version),
                uri=version.storage_location,
                run_id=version.run_id,
            )

    def fetch(self, ref: ModelRef) -> tuple[Path, bool]:
        if not ref.uri.startswith(_PROXY):
            raise InvalidParameterError(
                f"{ref.uri} is not in this server's artifact store", field="model_uri"
            )
        with self.platform.database.session() as session:
            location = locate(session, ref.uri.removeprefix(_PROXY))
            found = list_files(
                session, owner_type=location.owner_type, owner_id=location.owner_id, prefix=location.path
            )
        prefix = f"{location.path.rstrip('/')}/" if location.path else ""
        digests = {row.path.removeprefix(prefix): row.digest for row in found}
        if not digests:
            raise NotFoundError(f"no model files under {ref.uri}", field="model_uri")
        key = hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()[:32]
        folder = self.cache_dir / key
        if folder.is_dir():
            _verify_cached(folder, digests)
            return folder, True
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=self.cache_dir))
        try:
            store = self.platform.artifacts
            for relative, digest in digests.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                store.download_to(digest, target)  # checks every byte against the digest
            try:
                staging.rename(folder)
            except OSError:  # another process cached the same version meanwhile
                shutil.rmtree(staging, ignore_errors=True)
                _verify_cached(folder, digests)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder, True


def _verify_cached(folder: Path, digests: dict[str, str]) -> None:
    for relative, digest in digests.items():
        path = folder / relative
        if not path.is_file():
            raise IntegrityError(f"cached model file {relative} is missing; refusing to load", field="model")
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                hasher.update(chunk)
        if hasher.hexdigest() != digest:
            raise IntegrityError(
                f"cached model file {relative} does not match its SHA-256 in the registry; refusing to load",
                field="model",
            )
