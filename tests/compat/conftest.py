"""The real ``mlflow`` client pointed at a live Shipyard server (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

mlflow = pytest.importorskip("mlflow", reason="the mlflow client is in the test extra")


@pytest.fixture
def mlflow_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A 5xx would otherwise be retried for minutes; here it must fail the test at once.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server_url)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(server_url)
    _forget_active_experiment()
    yield server_url
    while mlflow.active_run():
        mlflow.end_run()
    _forget_active_experiment()
    mlflow.set_tracking_uri(None)


def _forget_active_experiment() -> None:
    # The fluent API remembers the last set_experiment() in a module global; every test here starts
    # on a fresh database, where that id may not exist.
    import mlflow.tracking.fluent as fluent

    fluent._active_experiment_id = None
