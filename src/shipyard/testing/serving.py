"""Helpers for serving tests: register real model packages, and the two reference models.

``register_package`` stores a saved package the way the SDK does (a run's artifacts, then a
registered model version whose source is that folder), so serving reads it through the same
registry, artifact store and hash checks as in production.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from shipyard.core import files
from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.platform import Platform
from shipyard.models.package import save_model
from shipyard.registry import aliases, models, versions
from shipyard.registry.tables import RegisteredModel
from shipyard.tracking import runs

__all__ = ["breast_cancer", "forest", "pipeline", "register_package"]


def register_package(
    platform: Platform,
    name: str,
    model: Any,
    *,
    input_example: Any = None,
    alias: str | None = None,
    folder: Path | None = None,
) -> int:
    """Save ``model`` (or upload the package already at ``folder``) and register it; returns the version."""
    with tempfile.TemporaryDirectory() as scratch:
        package = folder or save_model(model, Path(scratch) / "model", input_example=input_example)
        with platform.database.session(write=True) as session:
            run_id = runs.create_run(session, actor=LOCAL_ADMIN, run_name=f"{name}-training").id
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            blob = platform.artifacts.put_file(path)
            with platform.database.session(write=True) as session:
                files.register_file(
                    session,
                    actor=LOCAL_ADMIN,
                    owner_type="run",
                    owner_id=run_id,
                    path=f"model/{path.relative_to(package).as_posix()}",
                    blob=blob,
                )
    with platform.database.session(write=True) as session:
        if session.get(RegisteredModel, name) is None:
            models.create_registered_model(session, actor=LOCAL_ADMIN, name=name)
    with platform.database.session(write=True) as session:
        version = versions.create_model_version(
            session, actor=LOCAL_ADMIN, name=name, source=f"runs:/{run_id}/model", run_id=run_id
        ).version
    if alias is not None:
        set_alias(platform, name, alias, version)
    return version


def set_alias(platform: Platform, name: str, alias: str, version: int) -> None:
    with platform.database.session(write=True) as session:
        aliases.set_alias(session, actor=LOCAL_ADMIN, name=name, alias=alias, version=version)


@cache
def breast_cancer() -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    return data.data, data.target


@cache
def forest(n_estimators: int = 20) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    x, y = breast_cancer()
    return RandomForestClassifier(n_estimators=n_estimators, random_state=0).fit(x, y)


@cache
def pipeline() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = breast_cancer()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
