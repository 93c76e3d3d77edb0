"""Helpers for serving tests: register real model packages, and the two reference models.

``register_package`` logs and registers a model through the SDK's ``log_model``, so serving reads
it through the same registry, artifact store and hash checks as in production.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.platform import Platform
from shipyard.registry import aliases

__all__ = ["breast_cancer", "forest", "pipeline", "register_package"]


def register_package(
    platform: Platform, name: str, model: Any, *, input_example: Any = None, alias: str | None = None
) -> int:
    """Log ``model`` with the SDK and register it as a version of ``name``; returns the version."""
    from shipyard._client.embedded import EmbeddedClient

    client = EmbeddedClient(platform, owns_platform=False)
    info = client.log_model(model, input_example=input_example, registered_model_name=name)
    assert info.version is not None
    if alias is not None:
        set_alias(platform, name, alias, info.version)
    return int(info.version)


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
