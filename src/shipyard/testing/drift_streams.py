"""Labelled synthetic window streams of each drift type, for tests and ``bench/drift_types.py``.

Each window holds ``x`` (normal, mean moved by the concept), ``c`` (categories whose shares move with
the concept) and ``steady`` (never drifts). The concept ``a_t`` in [0, 1] per window defines the type:

* ``none``: 0 throughout;  ``sudden``: 0 before the onset, 1 from it;
* ``incremental``: rises linearly from 0 to 1 over ``span`` windows;
* ``gradual``: each window in the span is wholly new (1) with a probability rising from 0 to 1, and
  old (0) otherwise, drawn until old and new alternate at least twice;
* ``recurring``: 1 for ``span`` windows, then 0 again (the old concept returns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["StreamSpec", "concept_path", "make_stream"]

KINDS = ("none", "sudden", "gradual", "incremental", "recurring")


@dataclass(frozen=True)
class StreamSpec:
    kind: str
    seed: int
    n_windows: int = 24
    window_size: int = 1500
    reference_size: int = 4000
    onset: int = 8
    span: int = 8
    magnitude: float = 0.8


def concept_path(spec: StreamSpec, rng: np.random.Generator) -> np.ndarray:
    """The concept ``a_t`` of each window (see the module docstring).

    >>> concept_path(StreamSpec("sudden", 0, n_windows=6, onset=3), np.random.default_rng(0)).tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    t = np.arange(spec.n_windows, dtype=np.float64)
    after = t >= spec.onset
    if spec.kind == "none":
        return np.zeros_like(t)
    if spec.kind == "sudden":
        return after.astype(np.float64)
    if spec.kind == "incremental":
        return np.clip((t - spec.onset + 1) / spec.span, 0.0, 1.0)
    if spec.kind == "recurring":
        return ((t >= spec.onset) & (t < spec.onset + spec.span)).astype(np.float64)
    if spec.kind == "gradual":
        chance = np.clip((t - spec.onset + 1) / (spec.span + 1), 0.0, 1.0)
        for _ in range(1000):  # bounded: alternation is likely within a few draws
            path = (rng.random(spec.n_windows) < chance).astype(np.float64)
            path[t >= spec.onset + spec.span] = 1.0
            if np.count_nonzero(np.diff(path) != 0) >= 3:
                return path
        raise RuntimeError("could not draw an alternating gradual path")
    raise ValueError(f"unknown drift type {spec.kind!r}; expected one of {KINDS}")


def _window(rng: np.random.Generator, a: float, size: int, magnitude: float) -> pd.DataFrame:
    shares = (1 - a) * np.array([0.5, 0.3, 0.2]) + a * np.array([0.2, 0.3, 0.5])
    return pd.DataFrame(
        {
            "x": rng.normal(magnitude * a, 1.0, size),
            "c": rng.choice(["p", "q", "r"], size, p=shares),
            "steady": rng.normal(0.0, 1.0, size),
        }
    )


def make_stream(spec: StreamSpec) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """A reference frame (concept 0) and the stream's windows.

    >>> reference, windows = make_stream(StreamSpec("incremental", seed=1, n_windows=5, window_size=10))
    >>> reference.shape, len(windows), list(windows[0].columns)
    ((4000, 3), 5, ['x', 'c', 'steady'])
    """
    rng = np.random.default_rng(spec.seed)
    path = concept_path(spec, rng)
    reference = _window(rng, 0.0, spec.reference_size, spec.magnitude)
    return reference, [_window(rng, float(a), spec.window_size, spec.magnitude) for a in path]
