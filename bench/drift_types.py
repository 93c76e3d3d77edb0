"""Drift-type classification accuracy on labelled synthetic streams it was not tuned on.

Usage: ``.venv/bin/python bench/drift_types.py [--streams-per-type N] [--seconds S]``

The classifier's constants were set on ``shipyard.testing.drift_streams`` defaults with seeds 1-2 and
100-105; here every stream draws its seed from 10_000 up and its parameters (magnitude, span, onset, window
size, number of windows) at random from ranges around and beyond those, so none was seen while tuning.
Prints a confusion table and the accuracy per type and overall (goal: >= 90 %). Bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.drift_types import ALL_DRIFT_TYPES, classify_windows
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.testing.drift_streams import StreamSpec, make_stream


def random_spec(kind: str, seed: int, rng: np.random.Generator) -> StreamSpec:
    n_windows = int(rng.integers(20, 41))
    onset = int(rng.integers(4, n_windows // 3 + 1))
    span = int(rng.integers(5, 13))
    if kind == "recurring":  # leave room for the old concept to come back for a few windows
        span = min(span, n_windows - onset - 4)
    return StreamSpec(
        kind,
        seed,
        n_windows=n_windows,
        window_size=int(rng.integers(600, 2501)),
        reference_size=int(rng.integers(2000, 6001)),
        onset=onset,
        span=span,
        magnitude=float(rng.uniform(0.35, 1.2)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams-per-type", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=240.0, help="stop drawing streams after this long")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rng = np.random.default_rng(20_260_101)
    confusion: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    for index in range(args.streams_per_type):
        if time.perf_counter() - started > args.seconds:
            print(f"time limit reached after {index} streams per type")
            break
        for kind in ALL_DRIFT_TYPES:
            spec = random_spec(kind, 10_000 + index * len(ALL_DRIFT_TYPES) + ALL_DRIFT_TYPES.index(kind), rng)
            reference, windows = make_stream(spec)
            profile = ReferenceProfile.from_frame(reference)
            predicted = classify_windows([compute_drift(profile, window) for window in windows]).overall
            confusion[(kind, predicted)] += 1
    header = "| true \\ predicted | " + " | ".join(ALL_DRIFT_TYPES) + " | accuracy |"
    print(header)
    print("|" + "---|" * (len(ALL_DRIFT_TYPES) + 2))
    correct = total = 0
    per_type: dict[str, float] = {}
    for kind in ALL_DRIFT_TYPES:
        row = [confusion[(kind, p)] for p in ALL_DRIFT_TYPES]
        n = sum(row)
        correct += confusion[(kind, kind)]
        total += n
        accuracy = confusion[(kind, kind)] / n if n else float("nan")
        per_type[kind] = accuracy
        print(f"| {kind} | " + " | ".join(map(str, row)) + f" | {accuracy:.1%} |")
    print(
        f"\noverall accuracy: {correct}/{total} = {correct / total:.1%} (goal >= 90%); "
        f"{time.perf_counter() - started:.0f} s"
    )
    if args.json:
        overall = correct / total
        goal = {"case": f"drift type of {total} unseen streams", "goal": "accuracy >= 90 %"}
        goal |= {"value": f"{overall:.1%}", "passed": overall >= 0.9}
        args.json.write_text(
            json.dumps({"accuracy": per_type, "overall": overall, "goals": [goal]}, indent=2)
        )


if __name__ == "__main__":
    main()
