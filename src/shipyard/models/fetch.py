"""Fetch a model package from the platform into a local, verified, content-addressed cache folder.

``fetch_package(client, uri, cache_dir)`` is what ``Client.load_model`` and the serving layer call:

1. ``uri`` is resolved through the client (embedded or remote) to the files of one owner folder:
   ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/latest`` (a registered version,
   whose ``storage_location`` names a run folder or a logged model), ``runs:/RUN_ID/PATH`` or
   ``models:/m-<id>`` (a logged model). The listing gives each file's SHA-256 from the store.
2. The package's digest is the SHA-256 of that listing (paths and file digests), and the cache
   folder is ``cache_dir/<digest>``: the same bytes are downloaded once, whatever URI named them.
3. Every file is downloaded by its digest (the store checks the bytes as they stream), hashed again
   here, and, when the package has a ``shipyard.json``, compared with the manifest's digest: a
   mismatch raises ``IntegrityError`` naming the file and nothing is cached.
4. A cached folder is re-hashed on every fetch; one that no longer matches is fetched again.

Because every byte was checked against the platform's own digests, the caller may load the folder
with ``load_model(path, trusted=True)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import IntegrityError, InvalidParameterError, NotFoundError
from shipyard.models.package import MANIFEST, file_digests

if TYPE_CHECKING:
    from shipyard._client.base import BaseClient

__all__ = [
    "FetchedPackage",
    "ModelURI",
    "PackageFile",
    "PackageLocation",
    "fetch_package",
    "location_of",
    "parse_model_uri",
]

logger = logging.getLogger(__name__)

_RUN_FOLDER = re.compile(r"^mlflow-artifacts:/\d+/([^/]+)/artifacts(?:/(.*))?$")
_MODEL_FOLDER = re.compile(r"^mlflow-artifacts:/\d+/models/(m-[0-9a-f]{32})/artifacts/?$")
_LOGGED_MODEL = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelURI:
    """A parsed model URI. ``kind`` is version, alias, latest, run or logged_model."""

    kind: str
    name: str | None = None  # registered model (version, alias, latest) or logged model id
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str = ""  # folder inside the run (kind run)


@dataclass(frozen=True)
class PackageLocation:
    """Where a package's files are: an owner in the artifact store and a folder inside it."""

    owner_type: str  # "run" or "logged_model"
    owner_id: str
    prefix: str  # folder inside the owner's files; "" is the whole owner
    name: str | None = None  # the registered model, when the URI named one
    version: int | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class PackageFile:
    path: str  # relative to the package folder
    digest: str  # SHA-256 of the stored bytes
    size: int


@dataclass(frozen=True)
class FetchedPackage:
    """A verified local copy: ``path`` is the package folder, ``digest`` identifies its exact bytes."""

    path: Path
    name: str | None
    version: int | None
    run_id: str | None
    digest: str


def _invalid(uri: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"model URI {uri!r} {why}; expected models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest, "
        "models:/m-<id> or runs:/RUN_ID/PATH",
        field="model_uri",
    )


def parse_model_uri(uri: str) -> ModelURI:
    """Parse ``uri``; a malformed one raises ``InvalidParameterError`` (field ``model_uri``).

    >>> parse_model_uri("models:/churn@champion")
    ModelURI(kind='alias', name='churn', version=None, alias='champion', run_id=None, path='')
    >>> parse_model_uri("runs:/0123abc/model").path
    'model'
    """
    if not isinstance(uri, str) or not uri:
        raise _invalid(str(uri), "is empty")
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").strip("/").partition("/")
        if not run_id:
            raise _invalid(uri, "names no run")
        return ModelURI("run", run_id=run_id, path=path.strip("/"))
    if not uri.startswith("models:/"):
        raise _invalid(uri, "has an unknown scheme")
    rest = uri.removeprefix("models:/").strip("/")
    if _LOGGED_MODEL.match(rest):
        return ModelURI("logged_model", name=rest)
    if "@" in rest and "/" not in rest:
        name, _, alias = rest.partition("@")
        if not name or not alias:
            raise _invalid(uri, "needs a model name and an alias")
        return ModelURI("alias", name=name, alias=alias)
    name, _, version = rest.rpartition("/")
    if not name or "/" in name:
        raise _invalid(uri, "needs a model name and a version")
    if version.lower() == "latest":
        return ModelURI("latest", name=name)
    if not version.isdigit() or int(version) < 1:
        raise _invalid(uri, f"has version {version!r}, not a positive integer or 'latest'")
    return ModelURI("version", name=name, version=int(version))


def location_of(storage_location: str) -> tuple[str, str, str]:
    """(owner_type, owner_id, folder) of a version's ``storage_location`` in this server's store.

    >>> location_of("mlflow-artifacts:/1/0123abc/artifacts/model")
    ('run', '0123abc', 'model')
    """
    if match := _MODEL_FOLDER.match(storage_location):
        return "logged_model", match.group(1), ""
    if match := _RUN_FOLDER.match(storage_location):
        return "run", match.group(1), (match.group(2) or "").strip("/")
    raise IntegrityError(
        f"storage location {storage_location!r} is not in this server's artifact store", field="source"
    )


def package_digest(files: list[PackageFile]) -> str:
    """SHA-256 over the sorted (path, file digest) pairs: the identity of a package's bytes."""
    hasher = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.path):
        hasher.update(f"{file.path}\0{file.digest}\n".encode())
    return hasher.hexdigest()


def _mismatches(folder: Path, files: list[PackageFile]) -> list[str]:
    actual = {**file_digests(folder), **_manifest_digest(folder)}
    expected = {f.path: f.digest for f in files}
    return sorted(p for p in set(actual) | set(expected) if actual.get(p) != expected.get(p))


def _manifest_digest(folder: Path) -> dict[str, str]:
    # file_digests leaves the manifest out (it records the others); the store lists it like any file.
    manifest = folder / MANIFEST
    return {MANIFEST: hashlib.sha256(manifest.read_bytes()).hexdigest()} if manifest.is_file() else {}


def _check_manifest(folder: Path, files: list[PackageFile], uri: str) -> None:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return  # an MLflow package: the store's digests are all there is to check
    import json

    recorded: dict[str, str] = json.loads(manifest_path.read_text()).get("files") or {}
    stored = {f.path: f.digest for f in files if f.path != MANIFEST}
    for path in sorted(set(recorded) | set(stored)):
        if path not in stored:
            raise IntegrityError(
                f"model file {path} of {uri} is in its manifest but not stored", field="model"
            )
        if path not in recorded:
            raise IntegrityError(f"model file {path} of {uri} is not in its manifest", field="model")
        if recorded[path] != stored[path]:
            raise IntegrityError(
                f"model file {path} of {uri} does not match the SHA-256 its manifest records; refusing it",
                field="model",
            )


def _safe_target(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not relative or not target.is_relative_to(root.resolve()):
        raise IntegrityError(f"package file path {relative!r} leaves the package folder", field="path")
    return target


def fetch_package(client: BaseClient, uri: str, cache_dir: str | Path) -> FetchedPackage:
    """Download the package ``uri`` names into ``cache_dir/<digest>``, verified; return where it is.

    ``client`` is a ``shipyard.Client`` (embedded or remote). Raises ``InvalidParameterError`` for a
    malformed URI, ``NotFoundError`` when it names nothing or an empty folder, and ``IntegrityError``
    (naming the file) when any byte does not match the store's digest or the package manifest.
    """
    location, files = client._package_files(uri)
    if not files:
        raise NotFoundError(f"{uri} names a folder with no files", field="model_uri")
    digest = package_digest(files)
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / digest
    fetched = FetchedPackage(target, location.name, location.version, location.run_id, digest)
    if target.is_dir():
        bad = _mismatches(target, files)
        if not bad:
            return fetched
        logger.warning("cached package %s no longer matches (%s); fetching it again", target, ", ".join(bad))
        shutil.rmtree(target, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache))
    try:
        for file in files:
            local = _safe_target(staging, file.path)
            try:
                client.download_blob(file.digest, local)
            except IntegrityError as exc:
                raise IntegrityError(
                    f"model file {file.path} of {uri} does not match its SHA-256 {file.digest}: {exc}",
                    field="model",
                ) from exc
        bad = _mismatches(staging, files)
        if bad:
            raise IntegrityError(
                f"model file {bad[0]} of {uri} does not match its SHA-256 after download", field="model"
            )
        _check_manifest(staging, files, uri)
        try:
            os.rename(staging, target)
        except OSError:  # another process cached the same bytes first
            if not target.is_dir():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("fetched %s (%d files) into %s", uri, len(files), target)
    return fetched
