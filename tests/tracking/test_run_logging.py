"""The run logging service on both databases: latest values, immutable params, audit rows, records."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.tracking import runs
from shipyard.tracking.metrics import MetricBatch, MetricPoint


def _new_run(platform: Platform) -> str:
    with platform.database.session(write=True) as session:
        return runs.create_run(session, actor=LOCAL_ADMIN, run_name="logging", tags={"team": "risk"}).id


def _record(platform: Platform, run_id: str) -> runs.RunRecord:
    with platform.database.session() as session:
        return runs.load_records(session, [runs.get_run(session, run_id)])[0]


def _log(platform: Platform, run_id: str, **kwargs: object) -> None:
    with platform.database.session(write=True) as session:
        runs.log_batch(session, actor=LOCAL_ADMIN, run_id=run_id, **kwargs)  # type: ignore[arg-type]


def test_latest_value_moves_forward_only(platform: Platform) -> None:
    run_id = _new_run(platform)
    _log(
        platform,
        run_id,
        metrics=MetricBatch(["loss", "loss", "acc"], [0.9, 0.5, 0.7], [0, 3, 1], [10, 10, 5]),
    )
    # An older step logged later (a late point from another worker) keeps the newer latest value.
    _log(platform, run_id, metrics=[MetricPoint("loss", 0.1, timestamp=99, step=2)])
    # Same step, later timestamp: this one is the latest.
    _log(platform, run_id, metrics=[MetricPoint("acc", 0.8, timestamp=6, step=1)])
    _log(platform, run_id, metrics=MetricBatch(["nan"], [math.nan], [0], [1]), limits=runs.NATIVE_LIMITS)
    latest = {m.key: m for m in _record(platform, run_id).metrics}
    assert (latest["loss"].value, latest["loss"].step) == (0.5, 3)
    assert (latest["acc"].value, latest["acc"].timestamp) == (0.8, 6)
    assert latest["nan"].is_nan and latest["nan"].value == 0.0
    with platform.database.session() as session:
        history, _ = runs.get_metric_history(session, run_id=run_id, key="loss")
    assert [(step, value) for value, _, _, step in history] == [(0, 0.9), (2, 0.1), (3, 0.5)]


def test_params_are_immutable_and_each_write_is_audited(platform: Platform) -> None:
    run_id = _new_run(platform)
    _log(platform, run_id, params={"lr": "0.1"})
    _log(platform, run_id, params={"lr": "0.1"})  # the same value again is fine
    with pytest.raises(InvalidParameterError, match="Changing param values is not allowed"):
        _log(platform, run_id, params={"lr": "0.2"})
    with pytest.raises(InvalidParameterError, match="Changing param values is not allowed"):
        _log(platform, run_id, params={"depth": "3", "lr": "0.3"})  # all or nothing: depth is not kept
    record = _record(platform, run_id)
    assert record.params == {"lr": "0.1"}
    assert record.tags == {"team": "risk", "mlflow.runName": "logging"}
    with platform.database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == run_id).order_by(AuditEvent.id)
        ).all()
        assert actions == ["run.create", "run.log", "run.log"]


def test_writes_to_unknown_or_deleted_runs_are_refused(platform: Platform) -> None:
    with pytest.raises(NotFoundError):
        _log(platform, "0" * 32, params={"lr": "1"})
    run_id = _new_run(platform)
    with platform.database.session(write=True) as session:
        runs.delete_run(session, actor=LOCAL_ADMIN, run_id=run_id)
    with pytest.raises(InvalidParameterError, match="must be in the 'active' state"):
        _log(platform, run_id, metrics=[MetricPoint("m", 1.0, timestamp=1)])
    with pytest.raises(NotFoundError), platform.database.session(write=True) as session:
        runs.create_run(session, actor=LOCAL_ADMIN, experiment_id=987654)


def test_created_run_can_be_changed_in_the_same_session(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        run = runs.create_run(session, actor=LOCAL_ADMIN, run_name="first")
        run.status = "FINISHED"  # attached as if loaded: the change is flushed with the transaction
        run_id = run.id
    assert _record(platform, run_id).run.status == "FINISHED"
