"""Column profiles: what the drift tests need from one column, computed once and serialisable.

A :class:`ColumnProfile` holds the sorted finite values of a numeric column (what KS, Wasserstein,
Anderson-Darling and the Sturges histograms need) or the sorted category keys and their counts (what
chi-square, the Z-test, Jensen-Shannon, PSI and KL need). A reference profile is built once per model
version and stored as bytes (``ReferenceProfile.to_bytes``, no pickle), so a window is scored without
re-reading the training data. The current window is profiled the same way.

Column types follow ``evidently.Report([DataDriftPreset()])`` 0.7.x (``core/datasets.py::
infer_column_type``), applied to the raw column before NaN removal: float → numerical; int → categorical
when it has ≤ 10 distinct values, else numerical; str/object-of-str → text when distinct values are more
than half the non-null count, else categorical; bool and category → categorical; datetime → datetime;
anything else (nullable ``Int64``/``boolean``, unsigned ints, mixed objects) → unknown.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

from shipyard.core.errors import IntegrityError, InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ColumnProfile",
    "ColumnType",
    "ReferenceProfile",
    "infer_column_type",
    "merge_column_profiles",
    "profile_column",
    "profile_frame",
]

logger = logging.getLogger(__name__)

ColumnType = Literal["numerical", "categorical", "text", "datetime", "unknown"]
INTEGER_CARDINALITY_LIMIT = 10  # Evidently's limit for int columns read as categorical
FORMAT_VERSION = 1
MAGIC = b"SHIPYARD-PROFILE\n"


def infer_column_type(series: pd.Series) -> ColumnType:
    """The type Evidently 0.7.x's new API infers for a raw column.

    >>> import pandas as pd
    >>> infer_column_type(pd.Series([1, 2, 3])), infer_column_type(pd.Series([0.5, 1.0]))
    ('categorical', 'numerical')
    >>> infer_column_type(pd.Series(["a", "b", "c", "d"])), infer_column_type(pd.Series(list("aaab")))
    ('text', 'categorical')
    """
    name = series.dtype.name
    if name.startswith("float"):
        return "numerical"
    if name.startswith("int"):
        return "categorical" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "numerical"
    if name in ("string", "str", "object"):
        if name == "object":
            present = series.dropna()
            if len(present) == 0:
                return "unknown"
            if not (isinstance(present.iloc[0], str) and isinstance(present.iloc[-1], str)):
                return "unknown"
        return "text" if series.nunique() > series.count() * 0.5 else "categorical"
    if name in ("bool", "category"):
        return "categorical"
    if name.startswith("datetime"):
        return "datetime"
    return "unknown"


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """One column of one data set, with missing values (NaN, None, ±inf) removed.

    ``values`` is set for numeric and bool columns (sorted float64); ``keys``/``counts`` are the sorted
    distinct values and their counts (derived from ``values`` on first use for numeric columns).
    ``problem`` names why the column cannot be tested (mixed types, unsupported values), if it cannot.
    """

    name: str
    dtype: str
    inferred_type: ColumnType
    n_rows: int
    n: int
    values: np.ndarray | None = None
    std: float | None = None
    is_integer: bool = False
    stored_keys: np.ndarray | None = field(default=None, repr=False)
    stored_counts: np.ndarray | None = field(default=None, repr=False)
    problem: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.values is not None

    @cached_property
    def _key_counts(self) -> tuple[np.ndarray, np.ndarray]:
        if self.stored_keys is not None and self.stored_counts is not None:
            return self.stored_keys, self.stored_counts
        assert self.values is not None
        values = self.values
        if values.size == 0:
            return values, np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
        counts = np.diff(np.append(starts, values.size))
        return values[starts], counts

    @property
    def keys(self) -> np.ndarray:
        return self._key_counts[0]

    @property
    def counts(self) -> np.ndarray:
        return self._key_counts[1]

    @cached_property
    def n_unique(self) -> int:
        if self.values is not None and self.stored_keys is None:
            if self.values.size == 0:
                return 0
            return int(np.count_nonzero(self.values[1:] != self.values[:-1])) + 1
        return len(self.keys)

    @property
    def minimum(self) -> float:
        assert self.values is not None
        return float(self.values[0])

    @property
    def maximum(self) -> float:
        assert self.values is not None
        return float(self.values[-1])


def _numeric_profile(name: str, series: pd.Series, inferred: ColumnType, dtype: str) -> ColumnProfile:
    raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
    mask = np.isfinite(raw)
    finite = raw if mask.all() else raw[mask]
    # Population std in the original order, as Evidently's ``np.std(reference)`` (ddof=0) sums it.
    std = float(np.std(finite)) if finite.size else None
    values = np.sort(finite)
    is_integer = series.dtype.kind in "iu" and finite.size == raw.size
    keys = counts = None
    if series.dtype.kind == "b":
        keys, counts = np.array([False, True]), np.array([np.sum(values == 0), np.sum(values == 1)])
        present = counts > 0
        keys, counts = keys[present], counts[present].astype(np.int64)
    return ColumnProfile(
        name, dtype, inferred, int(raw.size), int(finite.size), values, std, is_integer, keys, counts
    )


def _categorical_profile(name: str, series: pd.Series, inferred: ColumnType, dtype: str) -> ColumnProfile:
    import pandas as pd

    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        kind = pd.api.types.infer_dtype(series.dtype.categories, skipna=True)
    else:
        kind = pd.api.types.infer_dtype(present, skipna=True)
    key_types = {"string": str, "empty": str, "boolean": bool, "integer": np.float64, "floating": np.float64}
    if kind not in key_types:
        problem = (
            f"column {name!r} mixes value types ({kind}); expected one type per column, "
            "e.g. all strings or all numbers"
            if kind.startswith("mixed")
            else f"column {name!r} holds {kind} values, which have no drift test; expected strings or numbers"
        )
        return ColumnProfile(name, dtype, inferred, len(series), 0, problem=problem)
    counted = present.value_counts(sort=False)
    counted = counted[counted > 0]  # a category dtype lists unused categories with count 0
    index = counted.index.astype(str) if key_types[kind] is str else counted.index
    keys = np.asarray(index, dtype=key_types[kind])
    order = np.argsort(keys, kind="stable")
    counts = counted.to_numpy(dtype=np.int64)[order]
    return ColumnProfile(
        name, dtype, inferred, len(series), int(counts.sum()), stored_keys=keys[order], stored_counts=counts
    )


def profile_column(series: pd.Series, *, name: str | None = None) -> ColumnProfile:
    """Profile one raw column: infer its type, drop NaN/±inf, keep sorted values or category counts.

    >>> import numpy as np, pandas as pd
    >>> column = profile_column(pd.Series([3.0, np.nan, 1.0, np.inf, 1.0]), name="x")
    >>> column.inferred_type, column.n, column.values.tolist(), column.keys.tolist(), column.counts.tolist()
    ('numerical', 3, [1.0, 1.0, 3.0], [1.0, 3.0], [2, 1])
    """
    import pandas as pd

    name = str(series.name if name is None else name)
    inferred = infer_column_type(series)
    dtype = series.dtype.name
    if inferred == "datetime":
        return ColumnProfile(name, dtype, inferred, len(series), int(series.count()))
    if pd.api.types.is_numeric_dtype(series.dtype) and dtype != "category":
        return _numeric_profile(name, series, inferred, dtype)
    if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(
        series.dtype.categories.dtype
    ):
        return _numeric_profile(name, series.astype(series.dtype.categories.dtype), inferred, dtype)
    return _categorical_profile(name, series, inferred, dtype)


def merge_column_profiles(first: ColumnProfile, second: ColumnProfile) -> ColumnProfile:
    """One column's profile over two partitions (exact: sorted values merged, counts added).

    The population std is recomputed over the merged values, equal to the one-pass value to rounding.

    >>> import pandas as pd
    >>> whole = merge_column_profiles(profile_column(pd.Series([3.0, 1.0])), profile_column(pd.Series([2.0])))
    >>> whole.values.tolist(), whole.n, round(whole.std, 6)
    ([1.0, 2.0, 3.0], 3, 0.816497)
    """
    problem = first.problem or second.problem
    if problem is None and first.is_numeric != second.is_numeric:
        problem = f"column {first.name!r} is numeric in one partition and not in the other"
    if problem is not None:
        return ColumnProfile(
            first.name, first.dtype, first.inferred_type, first.n_rows + second.n_rows, 0, problem=problem
        )
    keys = counts = values = None
    std = None
    if first.values is not None and second.values is not None:
        values = np.sort(np.concatenate((first.values, second.values)))
        std = float(np.std(values)) if values.size else None
    if first.stored_keys is not None or values is None:
        from shipyard.monitoring.stattests import aligned_counts

        keys, first_counts, second_counts = aligned_counts(first, second)
        counts = first_counts + second_counts
        keep = counts > 0
        keys, counts = keys[keep], counts[keep]
    return ColumnProfile(
        first.name,
        first.dtype,
        first.inferred_type,
        first.n_rows + second.n_rows,
        first.n + second.n,
        values,
        std,
        first.is_integer and second.is_integer,
        keys,
        counts,
    )


def profile_frame(frame: pd.DataFrame, *, columns: list[str] | None = None) -> dict[str, ColumnProfile]:
    """Profile the named (default: all) columns of a data frame, in their order."""
    names = list(frame.columns) if columns is None else columns
    absent = [name for name in names if name not in frame.columns]
    if absent:
        listed = ", ".join(repr(name) for name in absent)
        raise InvalidParameterError(f"unknown columns: {listed} (not in the data)", field="columns")
    return {str(name): profile_column(frame[name], name=str(name)) for name in names}


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """The profiles of a reference data set; ``to_bytes``/``from_bytes`` round-trip it exactly.

    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"x": np.random.default_rng(0).normal(size=5), "c": list("aabba")})
    >>> profile = ReferenceProfile.from_frame(frame)
    >>> again = ReferenceProfile.from_bytes(profile.to_bytes())
    >>> again.digest == profile.digest, again.columns["c"].counts.tolist()
    (True, [3, 2])
    """

    columns: dict[str, ColumnProfile]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, columns: list[str] | None = None) -> ReferenceProfile:
        return cls(profile_frame(frame, columns=columns))

    def to_bytes(self) -> bytes:
        """Deterministic bytes (magic, JSON header, ``.npy`` arrays; no pickle): equal profiles hash equal."""
        header: list[dict[str, object]] = []
        blobs: list[bytes] = []
        for column in self.columns.values():
            entry: dict[str, object] = {
                "name": column.name,
                "dtype": column.dtype,
                "inferred_type": column.inferred_type,
                "n_rows": column.n_rows,
                "n": column.n,
                "std": column.std,
                "is_integer": column.is_integer,
                "problem": column.problem,
            }
            for key, array in (
                ("values", column.values),
                ("keys", column.stored_keys),
                ("counts", column.stored_counts),
            ):
                if array is not None:
                    buffer = io.BytesIO()
                    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
                    entry[key] = len(blobs)
                    blobs.append(buffer.getvalue())
            header.append(entry)
        meta = json.dumps(
            {"version": FORMAT_VERSION, "columns": header, "sizes": [len(b) for b in blobs]}
        ).encode()
        return MAGIC + len(meta).to_bytes(8, "little") + meta + b"".join(blobs)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        try:
            if not data.startswith(MAGIC):
                raise ValueError("the magic bytes are missing")
            start = len(MAGIC) + 8
            end = start + int.from_bytes(data[len(MAGIC) : start], "little")
            meta = json.loads(data[start:end])
            arrays: list[np.ndarray] = []
            for size in meta["sizes"]:
                arrays.append(np.load(io.BytesIO(data[end : end + size]), allow_pickle=False))
                end += size
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"not a Shipyard reference profile: {exc}") from exc
        if meta.get("version") != FORMAT_VERSION:
            raise InvalidParameterError(
                f"reference profile format {meta.get('version')!r} is not supported; "
                f"expected {FORMAT_VERSION}: rebuild the profile from the reference data"
            )
        columns: dict[str, ColumnProfile] = {}
        for item in meta["columns"]:
            picked = {key: arrays[item[key]] if key in item else None for key in ("values", "keys", "counts")}
            columns[item["name"]] = ColumnProfile(
                item["name"],
                item["dtype"],
                item["inferred_type"],
                item["n_rows"],
                item["n"],
                picked["values"],
                item["std"],
                item["is_integer"],
                picked["keys"],
                picked["counts"],
                item["problem"],
            )
        return cls(columns)

    def merge(self, other: ReferenceProfile) -> ReferenceProfile:
        """The profile of both partitions' rows together (same columns required)."""
        if list(self.columns) != list(other.columns):
            raise InvalidParameterError(
                f"profiles hold different columns: {list(self.columns)} vs {list(other.columns)}",
                field="columns",
            )
        return ReferenceProfile(
            {
                name: merge_column_profiles(column, other.columns[name])
                for name, column in self.columns.items()
            }
        )

    @property
    def digest(self) -> str:
        """SHA-256 of ``to_bytes()``: the content address a later stage stores the profile under."""
        return hashlib.sha256(self.to_bytes()).hexdigest()
