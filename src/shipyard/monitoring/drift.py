"""The drift engine: per-column tests chosen as Evidently 0.7.x chooses them, and the dataset verdict.

Default test (Evidently ``stattests/registry.py::_get_default_stattest``), with ``n_ref`` the reference
rows left after dropping NaN/±inf and ``n_values`` the distinct values of both samples together:

==========  ===========  ==========  ====================  =========  ================
n_ref       column type  n_values    test                  threshold  drift if
==========  ===========  ==========  ====================  =========  ================
≤ 1000      numerical    > 5         ``ks``                0.05       p ≤ threshold
≤ 1000      numerical    3-5         ``chisquare``         0.05       p < threshold
≤ 1000      any          ≤ 2         ``z``                 0.05       p < threshold
≤ 1000      categorical  > 2         ``chisquare``         0.05       p < threshold
> 1000      numerical    > 5         ``wasserstein``       0.1        d ≥ threshold
> 1000      otherwise                ``jensenshannon``     0.1        d ≥ threshold
==========  ===========  ==========  ====================  =========  ================

The column type is inferred from the *current* data, as Evidently's ``Report.run(current, reference)``
does (see :mod:`shipyard.monitoring.profile`), unless given. A target or prediction column is numerical
when it is numeric with more than 5 distinct values, else categorical (Evidently's legacy rule). The data
set drifts when the share of drifted columns is ≥ ``drift_share`` (default 0.5); columns that cannot be
tested are reported as skipped, with the reason, and are not counted. The count is that of the per-column
decisions reported, which equal Evidently's per-column ``ValueDrift`` results; Evidently's own
``DriftedColumnsCount`` re-runs its legacy metric with the legacy column typing (any numeric dtype is
numerical) and can disagree with its per-column results on int, bool and inf-holding columns.

Text columns are skipped: Evidently scores them by training a domain classifier, which this engine does
not imitate; set their type to ``categorical`` to compare value frequencies instead.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.profile import ColumnProfile, ReferenceProfile, profile_column
from shipyard.monitoring.stattests import StatTest, aligned_counts, get_stattest

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ColumnDrift",
    "DriftReport",
    "SkippedColumn",
    "choose_stattest",
    "compute_drift",
    "default_stattest",
    "score_column",
]

logger = logging.getLogger(__name__)

TESTABLE_TYPES = ("numerical", "categorical")
ROLES = ("feature", "target", "prediction")


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift result. ``error_bound`` is None for exact results (see sketch mode)."""

    column: str
    type: str
    stattest: str
    threshold: float
    score: float
    drifted: bool
    n_reference: int
    n_current: int
    role: str = "feature"
    error_bound: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "column": self.column,
            "type": self.type,
            "stattest": self.stattest,
            "threshold": self.threshold,
            "score": self.score,
            "drifted": self.drifted,
        }
        if self.role != "feature":
            data["role"] = self.role
        if self.error_bound is not None:
            data["error_bound"] = self.error_bound
        return data


@dataclass(frozen=True)
class SkippedColumn:
    """A column that was not tested, and why."""

    column: str
    reason: str


@dataclass(frozen=True)
class DriftReport:
    """Per-column results and the dataset verdict: drift when ``share >= drift_share_threshold``."""

    columns: tuple[ColumnDrift, ...]
    skipped: tuple[SkippedColumn, ...] = ()
    drift_share_threshold: float = 0.5
    mode: str = "exact"
    notes: tuple[str, ...] = field(default=())

    @property
    def drifted_columns(self) -> int:
        return sum(column.drifted for column in self.columns)

    @property
    def drift_share(self) -> float:
        return self.drifted_columns / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.drift_share >= self.drift_share_threshold

    def column(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.column == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``shipyard drift --json``; ``skipped``/``mode``/``notes`` only when relevant."""
        data: dict[str, Any] = {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "drifted_columns": self.drifted_columns,
            "columns": [column.to_dict() for column in self.columns],
        }
        if self.skipped:
            data["skipped_columns"] = [{"column": s.column, "reason": s.reason} for s in self.skipped]
        if self.mode != "exact":
            data["mode"] = self.mode
            data["notes"] = list(self.notes)
        return data


def _n_values(reference: ColumnProfile, current: ColumnProfile) -> int:
    """Distinct values of both samples together, exact up to 6 (all the default rules need)."""
    if reference.n_unique > 5 or current.n_unique > 5:
        return max(reference.n_unique, current.n_unique)
    return len(aligned_counts(reference, current)[0])


def default_stattest(n_reference: int, n_values: int, column_type: str) -> StatTest:
    """Evidently's default test from the reference row count, the distinct values of both samples
    together (exact up to 6 is enough) and the column type (table in the module docstring).

    >>> default_stattest(1000, 6, "numerical").name, default_stattest(1001, 6, "numerical").name
    ('ks', 'wasserstein')
    >>> default_stattest(1000, 3, "categorical").name, default_stattest(1001, 3, "categorical").name
    ('chisquare', 'jensenshannon')
    """
    if n_reference <= 1000:
        if column_type == "numerical" and n_values > 5:
            return get_stattest("ks")
        return get_stattest("chisquare" if n_values > 2 else "z")
    if column_type == "numerical" and n_values > 5:
        return get_stattest("wasserstein")
    return get_stattest("jensenshannon")


def choose_stattest(reference: ColumnProfile, current: ColumnProfile, column_type: str) -> StatTest:
    """Evidently's default test for this pair of columns.

    >>> import numpy as np, pandas as pd
    >>> from shipyard.monitoring.profile import profile_column
    >>> rng = np.random.default_rng(0)
    >>> small = profile_column(pd.Series(rng.normal(size=500)))
    >>> big = profile_column(pd.Series(rng.normal(size=5000)))
    >>> choose_stattest(small, small, "numerical").name, choose_stattest(big, big, "numerical").name
    ('ks', 'wasserstein')
    """
    return default_stattest(reference.n, _n_values(reference, current), column_type)


def _role_type(profile: ColumnProfile) -> str:
    return (
        "numerical"
        if profile.is_numeric and profile.dtype != "bool" and profile.n_unique > 5
        else "categorical"
    )


def _skip_reason(reference: ColumnProfile, current: ColumnProfile, column_type: str) -> str | None:
    for side, profile in (("reference", reference), ("current", current)):
        if profile.problem:
            return f"{side} data: {profile.problem}"
    if column_type == "text":
        return (
            "text column (more distinct values than half its rows): Evidently scores text with a trained "
            "domain classifier, which Shipyard does not imitate; set its type to categorical to compare "
            "value frequencies"
        )
    if column_type == "datetime":
        return "datetime column: not drift-tested (Evidently leaves datetime columns out as well)"
    if column_type not in TESTABLE_TYPES:
        return (
            f"no drift type for dtype {current.dtype!r} (Evidently infers 'unknown' and leaves it out); "
            "set its type to numerical or categorical"
        )
    for side, profile in (("reference", reference), ("current", current)):
        if profile.n == 0:
            return f"empty in the {side} data after removing NaN and ±inf"
    if column_type == "numerical" and not (reference.is_numeric and current.is_numeric):
        side, dtype = (
            ("reference", reference.dtype) if not reference.is_numeric else ("current", current.dtype)
        )
        return f"typed numerical but the {side} data is not numeric ({dtype})"
    return None


def score_column(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    column_type: str | None = None,
    stattest: str | None = None,
    threshold: float | None = None,
    role: str = "feature",
) -> ColumnDrift | SkippedColumn:
    """Test one column: a :class:`ColumnDrift`, or a :class:`SkippedColumn` saying why it cannot be.

    >>> import numpy as np, pandas as pd
    >>> from shipyard.monitoring.profile import profile_column
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_column(pd.Series(rng.normal(size=500)))
    >>> cur = profile_column(pd.Series(rng.normal(1, size=500)))
    >>> result = score_column(ref, cur)
    >>> result.stattest, result.drifted
    ('ks', True)
    """
    if column_type is None:
        column_type = _role_type(current) if role != "feature" else current.inferred_type
    reason = _skip_reason(reference, current, column_type)
    if reason is not None:
        return SkippedColumn(reference.name, reason)
    if stattest is None:
        try:
            test = choose_stattest(reference, current, column_type)
        except InvalidParameterError as exc:
            return SkippedColumn(reference.name, exc.message)
    else:
        test = get_stattest(stattest)
        if column_type not in test.column_types:
            raise InvalidParameterError(
                f"drift test {test.name!r} does not apply to {column_type} column {reference.name!r}; "
                f"it takes {' or '.join(sorted(test.column_types))} columns",
                field=reference.name,
            )
    limit = test.default_threshold if threshold is None else float(threshold)
    try:
        score = test.score(reference, current, column_type)
    except InvalidParameterError as exc:
        return SkippedColumn(reference.name, exc.message)
    if math.isnan(score):
        # e.g. chi-square over a single value has no degrees of freedom; Evidently would report NaN.
        return SkippedColumn(reference.name, f"{test.name} is undefined for this column (score NaN)")
    return ColumnDrift(
        reference.name,
        column_type,
        test.name,
        limit,
        score,
        test.drifted(score, limit),
        reference.n,
        current.n,
        role,
    )


def _check_columns(
    reference: Sequence[str], current: Sequence[str], columns: Sequence[str] | None
) -> list[str]:
    if columns is not None:
        absent = [
            f"{name!r} (not in {'reference' if name not in reference else 'current'})"
            for name in columns
            if name not in reference or name not in current
        ]
        if absent:
            raise InvalidParameterError(f"unknown columns: {', '.join(absent)}", field="columns")
        return list(dict.fromkeys(columns))
    only_ref = [name for name in reference if name not in current]
    only_cur = [name for name in current if name not in reference]
    if only_ref or only_cur:
        parts = []
        if only_ref:
            parts.append(f"only in reference: {', '.join(map(repr, only_ref))}")
        if only_cur:
            parts.append(f"only in current: {', '.join(map(repr, only_cur))}")
        raise InvalidParameterError(
            f"the data sets have different columns ({'; '.join(parts)}); "
            "pass the columns to compare with --columns",
            field="columns",
        )
    return list(reference)


def _labels(frame: pd.DataFrame, side: str) -> dict[str, Any]:
    """Column names as text, mapped to the frame's own labels; duplicate names are refused."""
    labels = {str(label): label for label in frame.columns}
    if len(labels) != len(frame.columns):
        seen = [str(label) for label in frame.columns]
        twice = sorted({name for name in seen if seen.count(name) > 1})
        raise InvalidParameterError(
            f"the {side} data has duplicate column names: {', '.join(map(repr, twice))}", field="columns"
        )
    return labels


def compute_drift(
    reference: ReferenceProfile | pd.DataFrame,
    current: pd.DataFrame | Mapping[str, ColumnProfile],
    *,
    columns: Sequence[str] | None = None,
    stattest: str | None = None,
    stattests: Mapping[str, str] | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    column_types: Mapping[str, str] | None = None,
    drift_share: float = 0.5,
    target: str | None = None,
    prediction: str | None = None,
    workers: int | None = None,
) -> DriftReport:
    """Compare a current window (a data frame or its column profiles) with a reference (a data frame
    or a stored :class:`ReferenceProfile`).

    ``stattest``/``threshold`` apply to every column, ``stattests``/``thresholds`` per column (Evidently
    names, e.g. ``{"age": "psi"}``); ``column_types`` overrides the inferred type. ``target`` and
    ``prediction`` name the columns whose drift is target and prediction drift (same tests).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("ab"), 2000)})
    >>> cur = pd.DataFrame({"x": rng.normal(0.5, size=2000), "c": rng.choice(list("ab"), 2000)})
    >>> report = compute_drift(ref, cur)
    >>> [(c.column, c.stattest, c.drifted) for c in report.columns], report.dataset_drift
    ([('x', 'wasserstein', True), ('c', 'jensenshannon', False)], True)
    """
    if not 0 < drift_share <= 1:
        raise InvalidParameterError(f"drift share must be in (0, 1]; got {drift_share}", field="drift_share")
    profile = reference if isinstance(reference, ReferenceProfile) else None
    ref_labels = {} if profile else _labels(reference, "reference")
    ref_names = list(profile.columns) if profile else list(ref_labels)
    given = current if isinstance(current, Mapping) else None
    cur_labels = {} if given is not None else _labels(current, "current")
    cur_names = list(given) if given is not None else list(cur_labels)
    names = _check_columns(ref_names, cur_names, columns)
    if not names:
        raise InvalidParameterError("there are no columns to compare", field="columns")
    n_current = next(iter(given.values())).n_rows if given else len(current)
    if n_current == 0:
        raise InvalidParameterError("the current data has no rows; nothing to compare", field="current")
    if profile is None and len(reference) == 0:
        raise InvalidParameterError("the reference data has no rows; nothing to compare", field="reference")
    for label, mapping in (
        ("stattests", stattests),
        ("thresholds", thresholds),
        ("column_types", column_types),
    ):
        unknown = sorted(set(mapping or {}) - set(names))
        if unknown:
            raise InvalidParameterError(f"{label} names unknown columns: {', '.join(unknown)}", field=label)
    if stattest is not None:
        get_stattest(stattest)
    for name in (stattests or {}).values():
        get_stattest(name)
    roles = {name: "feature" for name in names}
    for role, name in (("target", target), ("prediction", prediction)):
        if name is not None:
            if name not in roles:
                raise InvalidParameterError(
                    f"{role} column {name!r} is not among the compared columns", field=role
                )
            roles[name] = role

    def run(name: str) -> ColumnDrift | SkippedColumn:
        ref = profile.columns[name] if profile else profile_column(reference[ref_labels[name]], name=name)
        cur = given[name] if given is not None else profile_column(current[cur_labels[name]], name=name)
        return score_column(
            ref,
            cur,
            column_type=(column_types or {}).get(name),
            stattest=(stattests or {}).get(name, stattest),
            threshold=(thresholds or {}).get(name, threshold),
            role=roles[name],
        )

    workers = min(workers or os.cpu_count() or 1, len(names)) or 1
    if workers > 1:
        # NumPy sorts and searches release the GIL, so threads scale over columns without copying data.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run, names))
    else:
        results = [run(name) for name in names]
    tested = tuple(r for r in results if isinstance(r, ColumnDrift))
    skipped = tuple(r for r in results if isinstance(r, SkippedColumn))
    if not tested:
        reasons = "; ".join(f"{s.column}: {s.reason}" for s in skipped)
        raise InvalidParameterError(f"no column could be tested ({reasons})", field="columns")
    logger.info("drift: %d columns tested, %d skipped", len(tested), len(skipped))
    return DriftReport(tested, skipped, drift_share)
