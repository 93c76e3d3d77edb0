"""Mergeable sketches for windows too big to hold, with their error stated.

:class:`QuantileSketch` is a multi-level compactor (the MRL/KLL family, deterministic). Level ``h`` holds
items of weight ``2**h``; a level over capacity ``k`` is sorted and every other item is kept at double
weight. For any ``x`` that changes the weighted count of items ``<= x`` by at most the level's weight, so
the sketch adds ``2**h`` to ``rank_error`` at each compaction and, for every ``x``,
``|rank_estimate(x) - rank(x)| <= rank_error``: the CDF is off by at most ``rank_error / n`` (about
``2 log2(n / k) / k`` for one stream, e.g. 0.2 % for 10 M values at ``k = 8192``). Merging concatenates
levels and adds the bounds, so partitions (processes, Ray tasks) sketch apart and combine.

:class:`FrequencySketch` is Misra-Gries with the mergeable reduction of Agarwal et al. (2012): at most
``k`` counters; when more are needed every count drops by the (k+1)-th largest, which bounds each
undercount by ``count_error``. While ``count_error == 0`` the counts are exact.

Scores from sketches (see :func:`sketch_drift`): Wasserstein and KS come with a rigorous bound on the
score (``ε`` = both CDF bounds added: W1 moves by at most ``ε · (max - min)``, the KS statistic by ``ε``);
chi-square, Z and Jensen-Shannon on categories are exact while the frequency sketch has not overflowed;
binned PSI/KL/JS on numbers use the quantile sketch at the bin edges (each bin share within ``2ε``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from shipyard.monitoring.profile import INTEGER_CARDINALITY_LIMIT, ColumnProfile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColumnSketch", "FrequencySketch", "QuantileSketch", "WindowSketch"]

logger = logging.getLogger(__name__)


@dataclass
class QuantileSketch:
    """Weighted items summarising a numeric stream; CDF error at most ``rank_error / n`` everywhere.

    >>> rng = np.random.default_rng(0)
    >>> left, right = QuantileSketch(k=256), QuantileSketch(k=256)
    >>> left.update(rng.normal(size=50_000)); right.update(rng.normal(size=50_000))
    >>> both = left.merge(right)
    >>> both.n, both.rank_error / both.n < 0.02, abs(both.cdf(0.0) - 0.5) < 0.02
    (100000, True, True)
    """

    k: int = 4096
    levels: list[np.ndarray] = field(default_factory=list)
    n: int = 0
    rank_error: float = 0.0

    def update(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return
        if not self.levels:
            self.levels.append(np.zeros(0))
        self.levels[0] = np.concatenate((self.levels[0], values))
        self.n += int(values.size)
        self._compact()

    def _compact(self) -> None:
        h = 0
        while h < len(self.levels):
            level = self.levels[h]
            if level.size > self.k:
                level = np.sort(level)
                keep, rest = (level[:-1], level[-1:]) if level.size % 2 else (level, level[:0])
                promoted = keep[h % 2 :: 2]  # alternate the offset by level so errors do not pile one way
                self.rank_error += 2.0**h
                self.levels[h] = rest
                if h + 1 == len(self.levels):
                    self.levels.append(np.zeros(0))
                self.levels[h + 1] = np.concatenate((self.levels[h + 1], promoted))
            h += 1

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        depth = max(len(self.levels), len(other.levels))
        levels = [
            np.concatenate([s.levels[h] for s in (self, other) if h < len(s.levels)] or [np.zeros(0)])
            for h in range(depth)
        ]
        merged = QuantileSketch(
            min(self.k, other.k), levels, self.n + other.n, self.rank_error + other.rank_error
        )
        merged._compact()
        return merged

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted items and their weights (weights sum to ``n``)."""
        items = np.concatenate(self.levels or [np.zeros(0)])
        weights = np.concatenate(
            [np.full(level.size, 2.0**h) for h, level in enumerate(self.levels)] or [np.zeros(0)]
        )
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def cdf(self, x: float) -> float:
        items, weights = self.weighted()
        return float(weights[: np.searchsorted(items, x, "right")].sum() / max(self.n, 1))

    @property
    def epsilon(self) -> float:
        """The bound on the CDF error at any point."""
        return self.rank_error / self.n if self.n else 0.0


@dataclass
class FrequencySketch:
    """At most ``k`` (value, count) counters; each count is under by at most ``count_error``.

    >>> sketch = FrequencySketch(k=2)
    >>> sketch.update(np.array(["a", "b", "c", "a"]), np.array([5, 3, 1, 1]))
    >>> sketch.estimates(), sketch.count_error
    ({'a': 5, 'b': 2}, 1)
    """

    k: int = 1024
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    count_error: int = 0

    def update(self, keys: np.ndarray, counts: np.ndarray) -> None:
        if keys.size == 0:
            return
        if self.keys.size and (self.keys.dtype.kind == "U") != (keys.dtype.kind == "U"):
            raise TypeError("a column holds strings in one batch and numbers in another")
        union = np.union1d(self.keys, keys) if self.keys.size else np.unique(keys)
        total = np.zeros(union.size, dtype=np.int64)
        if self.keys.size:
            total[np.searchsorted(union, self.keys)] += self.counts
        np.add.at(total, np.searchsorted(union, keys), counts)
        if union.size > self.k:
            cut = int(np.partition(total, union.size - self.k - 1)[union.size - self.k - 1])
            total -= cut
            self.count_error += cut
            keep = total > 0
            union, total = union[keep], total[keep]
        self.keys, self.counts = union, total

    def merge(self, other: FrequencySketch) -> FrequencySketch:
        merged = FrequencySketch(
            min(self.k, other.k), self.keys, self.counts, self.count_error + other.count_error
        )
        merged.update(other.keys, other.counts)
        return merged

    @property
    def exact(self) -> bool:
        return self.count_error == 0

    def estimates(self) -> dict[object, int]:
        return {key.item(): int(count) for key, count in zip(self.keys, self.counts, strict=True)}


@dataclass
class ColumnSketch:
    """Count, exact moments and range, plus quantile and frequency sketches of one column's stream."""

    name: str
    dtype: str = ""
    n_rows: int = 0
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = np.inf
    maximum: float = -np.inf
    integer: bool = True
    quantiles: QuantileSketch | None = None
    frequencies: FrequencySketch = field(default_factory=FrequencySketch)
    problem: str | None = None
    kind: str = ""  # NumPy dtype kind of the first batch: batches may move between int and float

    def update(self, series: pd.Series, *, k: int = 4096) -> None:
        import pandas as pd

        self.n_rows += len(series)
        self.dtype = self.dtype or series.dtype.name
        self.kind = self.kind or series.dtype.kind
        if self.problem:
            return
        numbers = "iuf"
        if series.dtype.name != self.dtype and not (series.dtype.kind in numbers and self.kind in numbers):
            self.problem = f"dtype changed between batches ({self.dtype} then {series.dtype.name})"
            return
        if pd.api.types.is_numeric_dtype(series.dtype) and series.dtype.kind != "b":
            raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
            values = raw[np.isfinite(raw)]
            self.integer = self.integer and series.dtype.kind in "iu"
            self._add_moments(values)
            if self.quantiles is None:
                self.quantiles = QuantileSketch(k=k)
            self.quantiles.update(values)
            keys, counts = np.unique(values, return_counts=True)
        else:
            present = series.dropna()
            kind = pd.api.types.infer_dtype(present, skipna=True)
            if kind not in ("string", "boolean", "empty"):
                self.problem = f"column {self.name!r} mixes value types ({kind})"
                return
            counted = present.value_counts(sort=False)
            keys = np.asarray(counted.index, dtype=bool if kind == "boolean" else str)
            counts = counted.to_numpy(dtype=np.int64)
            self.n += int(counts.sum())
        try:
            self.frequencies.update(keys, counts)
        except TypeError as exc:
            self.problem = str(exc)

    def _add_moments(self, values: np.ndarray) -> None:
        if values.size == 0:
            return
        count, mean = values.size, float(np.mean(values))
        m2 = float(np.sum((values - mean) ** 2))
        self._combine(count, mean, m2, float(values.min()), float(values.max()))

    def _combine(self, count: int, mean: float, m2: float, low: float, high: float) -> None:
        # Chan et al.'s parallel update: exact up to rounding, and mergeable.
        if count == 0:
            return
        total = self.n + count
        delta = mean - self.mean
        self.mean += delta * count / total
        self.m2 += m2 + delta * delta * self.n * count / total
        self.n = total
        self.minimum, self.maximum = min(self.minimum, low), max(self.maximum, high)

    def merge(self, other: ColumnSketch) -> ColumnSketch:
        merged = ColumnSketch(self.name, self.dtype or other.dtype, self.n_rows + other.n_rows)
        merged.problem = self.problem or other.problem
        merged.kind = self.kind or other.kind
        merged.integer = self.integer and other.integer
        numeric = [s for s in (self, other) if s.quantiles is not None]
        if numeric:
            for part in numeric:
                merged._combine(part.n, part.mean, part.m2, part.minimum, part.maximum)
            first = numeric[0].quantiles
            assert first is not None
            merged.quantiles = first if len(numeric) == 1 else first.merge(numeric[1].quantiles)  # type: ignore[arg-type]
        else:
            merged.n = self.n + other.n
        merged.frequencies = self.frequencies.merge(other.frequencies)
        return merged

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0

    @property
    def n_unique(self) -> int:
        """Exact while the frequency sketch is; otherwise a lower bound above its capacity."""
        return int(self.frequencies.keys.size) if self.frequencies.exact else self.frequencies.k + 1

    def inferred_type(self) -> str:
        """Evidently's type rules, decided from the sketch (see :mod:`shipyard.monitoring.profile`)."""
        name = self.dtype
        if name.startswith("float"):
            return "numerical"
        if name.startswith("int"):
            return "categorical" if self.n_unique <= INTEGER_CARDINALITY_LIMIT else "numerical"
        if name in ("string", "str", "object"):
            return "text" if self.n_unique > self.n * 0.5 else "categorical"
        if name in ("bool", "category"):
            return "categorical"
        return "datetime" if name.startswith("datetime") else "unknown"

    @classmethod
    def from_profile(cls, profile: ColumnProfile, *, k: int = 4096) -> ColumnSketch:
        """An exact profile seen as a sketch with zero error (for sketch-vs-profile comparisons)."""
        sketch = cls(profile.name, profile.dtype, profile.n_rows, problem=profile.problem)
        sketch.frequencies = FrequencySketch(
            max(k, profile.keys.size), profile.keys, profile.counts.astype(np.int64)
        )
        if profile.values is not None and profile.dtype != "bool":
            sketch.integer = profile.is_integer
            # All values at weight 1 in a level too large to compact: a zero-error "sketch".
            sketch.quantiles = QuantileSketch(profile.n + 1, [profile.values], profile.n)
            sketch._add_moments(profile.values)
            sketch.n = profile.n
        else:
            sketch.n = profile.n
        return sketch


@dataclass
class WindowSketch:
    """Column sketches of a window fed in batches (``update``), or combined from partitions (``merge``).

    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> parts = [WindowSketch.from_frames([pd.DataFrame({"x": rng.normal(size=1000)})]) for _ in range(3)]
    >>> merged = parts[0].merge(parts[1]).merge(parts[2])
    >>> merged.columns["x"].n, merged.columns["x"].quantiles.rank_error
    (3000, 0.0)
    """

    columns: dict[str, ColumnSketch] = field(default_factory=dict)
    k: int = 4096

    def update(self, frame: pd.DataFrame) -> None:
        for name in frame.columns:
            column = self.columns.setdefault(str(name), ColumnSketch(str(name)))
            column.update(frame[name], k=self.k)

    def merge(self, other: WindowSketch) -> WindowSketch:
        names = list(dict.fromkeys([*self.columns, *other.columns]))
        merged = {}
        for name in names:
            mine, theirs = self.columns.get(name), other.columns.get(name)
            merged[name] = mine.merge(theirs) if mine and theirs else (mine or theirs)  # type: ignore[assignment]
        return WindowSketch(merged, min(self.k, other.k))

    @classmethod
    def from_frames(cls, frames: Iterable[pd.DataFrame], *, k: int = 4096) -> WindowSketch:
        sketch = cls(k=k)
        for frame in frames:
            sketch.update(frame)
        return sketch
