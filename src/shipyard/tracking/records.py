"""What a run carries, read back in bulk: params, tags, latest metrics, inputs and outputs.

Searches return hundreds of runs, so everything but the datasets comes back in one ``UNION ALL``
of plain rows; building an ORM object per param or tag cost more than the query. Reads that only
report runs (MLflow's get and search) take the run itself as a plain row too (``RunInfo``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    String,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from shipyard.tracking.tables import Dataset, LatestMetric, Param, Run, RunInput, RunOutput, RunTag

__all__ = [
    "RUN_INFO_COLUMNS",
    "LatestValue",
    "OutputModel",
    "RunInfo",
    "RunRecord",
    "load_records",
    "read_run_info",
]


class RunInfo(NamedTuple):
    """A run's own columns as a plain row, with the ``Run`` model's attribute names."""

    id: str
    experiment_id: int
    name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    deleted_time: int | None


RUN_INFO_COLUMNS = tuple(Run.__table__.c[name] for name in RunInfo._fields)
_RUN_INFO_BY_ID = select(*RUN_INFO_COLUMNS).where(Run.__table__.c.id == bindparam("run_id"))


def read_run_info(session: Session, run_id: str) -> RunInfo | None:
    """One run's row without an ORM object (a Core statement on the session's connection)."""
    row = session.connection().execute(_RUN_INFO_BY_ID, {"run_id": run_id}).first()
    return None if row is None else RunInfo(*row)


class LatestValue(NamedTuple):
    """A run's latest value of one metric."""

    key: str
    value: float
    is_nan: bool
    timestamp: int
    step: int


class OutputModel(NamedTuple):
    """A logged model a run produced, at a step."""

    model_id: str
    step: int


@dataclass(frozen=True)
class RunRecord:
    """A run with everything MLflow's ``Run`` message carries, loaded without N+1 queries."""

    run: Run | RunInfo
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[LatestValue] = field(default_factory=list)
    inputs: list[tuple[Dataset, list[dict[str, Any]]]] = field(default_factory=list)
    outputs: list[OutputModel] = field(default_factory=list)


def _with_ids(dialect: str) -> Callable[[Any, Any], Any]:
    """A SELECT's rows of ``table`` whose ``run_id`` is among the bound ``ids``, bound as ONE value:
    a JSON array joined through ``json_each`` on SQLite, an array on PostgreSQL. An expanding ``IN``
    renders a placeholder per id in every part of the union, and that string building cost more than
    the query for a page of runs; on SQLite the join also beats ``IN (SELECT … json_each)``, which
    builds a temporary index per part."""
    if dialect == "postgresql":
        ids = bindparam("ids", type_=postgresql.ARRAY(String))
        return lambda query, table: query.where(table.c.run_id == any_(ids))
    listed = func.json_each(bindparam("ids", type_=String)).table_valued("value")
    return lambda query, table: query.select_from(listed.join(table, table.c.run_id == listed.c.value))


def bound_ids(dialect: str, ids: list[str]) -> list[str] | str:
    """The ``ids`` value for statements built with ``_with_ids``."""
    unique = list(dict.fromkeys(ids))  # SQLite joins the list: a repeated id would repeat its rows
    return unique if dialect == "postgresql" else orjson.dumps(unique).decode()


def _child_rows(dialect: str) -> Any:
    """Params, tags, latest metrics, outputs and input links of runs as one ``UNION ALL`` (one round
    trip, one prebuilt statement whatever the number of ids). Columns: kind, run_id, key, text,
    number, is_nan, timestamp, step (an input's dataset id)."""
    with_ids = _with_ids(dialect)
    no_text, no_number = cast(null(), Text), cast(null(), Float)
    no_flag, no_int = cast(null(), Boolean), cast(null(), BigInteger)
    param, tag, latest, output, used = (
        t.__table__ for t in (Param, RunTag, LatestMetric, RunOutput, RunInput)
    )
    columns_by_kind = {  # key, text, number, is_nan, timestamp, step
        "p": (param, param.c.key, param.c.value, no_number, no_flag, no_int, no_int),
        "t": (tag, tag.c.key, tag.c.value, no_number, no_flag, no_int, no_int),
        "m": (
            latest,
            latest.c.key,
            no_text,
            latest.c.value,
            latest.c.is_nan,
            latest.c.timestamp,
            latest.c.step,
        ),
        "o": (output, output.c.model_id, no_text, no_number, no_flag, no_int, output.c.step),
        "i": (used, no_text, no_text, no_number, no_flag, no_int, used.c.dataset_id),
    }
    parts = [
        with_ids(select(literal(kind), table.c.run_id, *columns), table)
        for kind, (table, *columns) in columns_by_kind.items()
    ]
    return union_all(*parts)


_CHILD_ROWS = {dialect: _child_rows(dialect) for dialect in ("sqlite", "postgresql")}
_INPUTS = (
    select(RunInput, Dataset)
    .join(Dataset, Dataset.id == RunInput.dataset_id)
    .where(RunInput.run_id.in_(bindparam("ids", expanding=True)))
)


def load_records(session: Session, runs: Sequence[Run | RunInfo]) -> list[RunRecord]:
    """Params, tags, latest metrics, inputs and outputs of many runs: one query, and a second one
    for the datasets only when some run has inputs.

    Everything is read as plain rows on the session's connection: building an ORM object per row
    cost more than the queries themselves.
    """
    ids = [run.id for run in runs]
    if not ids:
        return []
    params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    metrics: dict[str, list[LatestValue]] = {run_id: [] for run_id in ids}
    inputs: dict[str, list[tuple[Dataset, list[dict[str, Any]]]]] = {run_id: [] for run_id in ids}
    outputs: dict[str, list[OutputModel]] = {run_id: [] for run_id in ids}
    with_inputs = False
    connection = session.connection()
    dialect = connection.dialect.name
    for kind, run_id, key, text, number, is_nan, timestamp, step in connection.execute(
        _CHILD_ROWS[dialect], {"ids": bound_ids(dialect, ids)}
    ).all():
        if kind == "t":
            tags[run_id][key] = text
        elif kind == "m":
            metrics[run_id].append(LatestValue(key, number, bool(is_nan), timestamp, step))
        elif kind == "p":
            params[run_id][key] = text
        elif kind == "o":
            outputs[run_id].append(OutputModel(key, step))
        else:
            with_inputs = True
    if with_inputs:
        for run_input, dataset in session.execute(_INPUTS, {"ids": ids}):
            inputs[run_input.run_id].append((dataset, run_input.tags or []))
    return [
        RunRecord(run, params[run.id], tags[run.id], metrics[run.id], inputs[run.id], outputs[run.id])
        for run in runs
    ]
