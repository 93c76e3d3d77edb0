"""One scored window's distributions next to the monitor's stored reference profile.

A result keeps scores, not data, so the window's rows are read back from the prediction log (only the
tested input columns of that time range) and profiled the same way the runner profiled them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from shipyard.core.artifacts import ArtifactStore
from shipyard.monitoring.monitors import load_profile
from shipyard.monitoring.profile import profile_column
from shipyard.monitoring.report import distribution_svg
from shipyard.serving.predlog import PredictionLog

__all__ = ["MAX_PLOTS", "Distribution", "window_distributions"]

MAX_PLOTS = 12


@dataclass(frozen=True)
class Distribution:
    column: str
    column_type: str
    stattest: str
    score: float | None
    drifted: bool
    reference_rows: int
    current_rows: int
    svg: Markup | None  # None when the column is not in the log or the reference any more
    problem: str | None = None


def window_distributions(
    predlog: PredictionLog,
    store: ArtifactStore,
    *,
    endpoint: str,
    profile_digest: str,
    model_version: str | None,
    window: Any,
    columns: list[str] | None = None,
) -> list[Distribution]:
    """Histograms of the window's tested columns (``columns``: a chosen few) against the reference."""
    tested = [c for c in window.columns or [] if columns is None or c["column"] in columns][:MAX_PLOTS]
    if not tested:
        return []
    reference = load_profile(store, profile_digest)
    wanted = [f"input.{c['column']}" for c in tested]
    table = predlog.scan(
        endpoint, since=window.window_start, until=window.window_end, columns=[*wanted, "model_version"]
    )
    if model_version is not None and table.num_rows:
        import pyarrow.compute as pc

        table = table.filter(pc.equal(table.column("model_version"), model_version))
    found = []
    for column in tested:
        name = column["column"]
        ref = reference.columns.get(name)
        svg, problem, current_rows = None, None, 0
        if ref is None:
            problem = "the reference profile has no such column"
        elif table.num_rows == 0:
            problem = "the prediction log no longer holds this window's rows (retention)"
        else:
            current = profile_column(table.column(f"input.{name}").to_pandas(), name=name)
            current_rows = current.n
            if current.problem or ref.problem:
                problem = current.problem or ref.problem
            else:
                svg = Markup(distribution_svg(ref, current, column["type"]))  # noqa: S704  (escaped inside)
        found.append(
            Distribution(
                column=name,
                column_type=column["type"],
                stattest=column["stattest"],
                score=column.get("score"),
                drifted=bool(column.get("drifted")),
                reference_rows=ref.n if ref is not None else 0,
                current_rows=current_rows,
                svg=svg,
                problem=problem,
            )
        )
    return found
