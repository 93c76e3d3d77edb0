"""Drift speed and memory: Shipyard vs Evidently 0.7.x ``Report([DataDriftPreset()])``, numbers checked equal.

Usage: ``.venv/bin/python bench/drift.py [--quick]`` (about 3 minutes; ``--quick`` skips 100k rows).

Prints three tables:
  (a) in-process compute, data in memory, imports excluded: Evidently ``Report.run`` vs Shipyard
      ``compute_drift`` on data frames (reference profile built inside the timing), vs one SciPy call per
      column (``wasserstein_distance`` + ``np.std``), and Shipyard scoring a window against a stored profile;
  (b) the whole command, cold: ``shipyard drift ref.parquet cur.parquet --json`` vs a Python script running
      Evidently on the same files;
  (c) peak resident memory growth over the process's own baseline (data loaded, imports done, peak reset
      through /proc/self/clear_refs), as a multiple of the input data size.
Every data set is also checked: each column's score within 1e-9 relative of Evidently's, same decisions.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHIPYARD = Path(sys.executable).with_name("shipyard")
EVIDENTLY_SCRIPT = """
import sys, json, warnings
warnings.simplefilter("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(cur, ref).dict()
print(json.dumps([m["value"] for m in snapshot["metrics"]], default=str)[:200])
"""


def make_numeric(
    n: int, cols: int = 25, shifted: int = 10, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = np.random.default_rng(seed)
    names = [f"f{i}" for i in range(cols)]
    ref = pd.DataFrame(g.normal(0, 1, (n, cols)), columns=names)
    cur = pd.DataFrame(g.normal(0, 1, (n, cols)), columns=names)
    cur.iloc[:, :shifted] += 0.3
    return ref, cur


def make_mixed(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Floats, low- and high-cardinality ints, strings, booleans, NaN and ±inf: every default test."""
    g = np.random.default_rng(seed)

    def frame(shift: float, p: list[float]) -> pd.DataFrame:
        data: dict[str, object] = {f"num{i}": g.normal(shift * (i % 2), 1, n) for i in range(8)}
        data |= {f"code{i}": g.integers(0, 4 + i, n) for i in range(4)}
        data |= {f"count{i}": g.integers(0, 500 + int(100 * shift), n) for i in range(3)}
        data |= {f"cat{i}": g.choice(["a", "b", "c", "d"], n, p=p) for i in range(4)}
        data |= {f"flag{i}": g.random(n) < 0.3 + shift * i for i in range(2)}
        data["low_float"] = g.choice([0.0, 0.5, 1.0, 1.5], n)
        noisy = g.normal(shift, 1, n)
        noisy[g.random(n) < 0.02] = np.nan
        noisy[:5] = np.inf
        data["noisy"] = noisy
        return pd.DataFrame(data)

    return frame(0.0, [0.4, 0.3, 0.2, 0.1]), frame(0.2, [0.3, 0.3, 0.2, 0.2])


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, tuple[str, float, bool]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset()], include_tests=True).run(cur, ref).dict()
    status = {
        t["metric_config"]["params"]["column"]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["metric_config"]["params"]["type"].endswith("ValueDrift")
    }
    return {
        m["config"]["column"]: (m["config"]["method"], float(m["value"]), status[m["config"]["column"]])
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }


def check_equal(ref: pd.DataFrame, cur: pd.DataFrame, evidently: dict[str, tuple[str, float, bool]]) -> str:
    from shipyard.monitoring.drift import compute_drift
    from shipyard.monitoring.stattests import STATTESTS

    names = {t.display_name: n for n, t in STATTESTS.items()}
    ours = compute_drift(ref, cur)
    worst, same = 0.0, True
    for column in ours.columns:
        method, score, drifted = evidently[column.column]
        same &= names.get(method, method) == column.stattest and drifted == column.drifted
        worst = max(worst, abs(column.score - score) / max(abs(score), 1e-300))
    same &= len(ours.columns) == len(evidently)
    return f"{'same' if same else 'DIFFERENT'} decisions, max rel diff {worst:.1e}"


def best_of(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def compute_table(
    sets: dict[str, tuple[pd.DataFrame, pd.DataFrame]], records: list[dict[str, object]]
) -> list[list[str]]:
    from scipy import stats

    from shipyard.monitoring.drift import compute_drift
    from shipyard.monitoring.profile import ReferenceProfile

    rows = []
    for label, (ref, cur) in sets.items():
        small_ref, small_cur = ref.iloc[:300], cur.iloc[:300]
        run_evidently(small_ref, small_cur)  # warm-up: lazy imports out of the timing
        compute_drift(small_ref, small_cur)
        start = time.perf_counter()
        evidently = run_evidently(ref, cur)
        evidently_s = time.perf_counter() - start
        verdict = check_equal(ref, cur, evidently)
        ours_s = best_of(lambda r=ref, c=cur: compute_drift(r, c), 3)
        numeric = [c for c in ref.columns if ref[c].dtype.kind == "f"]
        scipy_s = best_of(
            lambda r=ref, c=cur, numeric=numeric: [
                stats.wasserstein_distance(r[k].dropna(), c[k].dropna()) / max(float(np.std(r[k])), 0.001)
                for k in numeric
            ],
            3,
        )
        profile = ReferenceProfile.from_frame(ref)
        stored_s = best_of(lambda p=profile, c=cur: compute_drift(p, c), 5)
        timings = {"evidently": evidently_s, "shipyard": ours_s, "numbers": verdict}
        records.append({"table": "compute", "data": label, **timings})
        rows.append(
            [
                label,
                f"{evidently_s:.2f}",
                f"{ours_s:.3f}",
                f"{evidently_s / ours_s:.0f}x",
                f"{scipy_s:.3f} ({len(numeric)} cols)",
                f"{stored_s:.3f}",
                verdict,
            ]
        )
        print(f"  measured {label}", file=sys.stderr, flush=True)
    return rows


def cold_table(
    sets: dict[str, tuple[pd.DataFrame, pd.DataFrame]], folder: Path, records: list[dict[str, object]]
) -> list[list[str]]:
    rows = []
    for label, (ref, cur) in sets.items():
        ref_path, cur_path = folder / f"{label}-ref.parquet", folder / f"{label}-cur.parquet"
        ref.to_parquet(ref_path)
        cur.to_parquet(cur_path)
        ours = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(
                [str(SHIPYARD), "drift", str(ref_path), str(cur_path), "--json"],
                check=True,
                capture_output=True,
                timeout=300,
            )
            ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", EVIDENTLY_SCRIPT, str(ref_path), str(cur_path)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        theirs = time.perf_counter() - start
        ours_s = statistics.median(ours)
        records.append({"table": "cold", "data": label, "evidently": theirs, "shipyard": ours_s})
        rows.append([label, f"{theirs:.2f}", f"{ours_s:.2f}", f"{theirs / ours_s:.1f}x"])
        print(f"  measured cold {label}", file=sys.stderr, flush=True)
    return rows


def _status(field: str) -> float:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) / 1024 for line in handle if line.startswith(field))


def memory_child(tool: str, label: str, n: int) -> None:
    """Run in a fresh process: data built, imports done, peak reset; then one run; print the growth."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, cur = make_numeric(n) if label == "numeric" else make_mixed(n)
        if tool == "evidently":
            run_evidently(ref.iloc[:300], cur.iloc[:300])
            runner = run_evidently
        else:
            from shipyard.monitoring.drift import compute_drift

            compute_drift(ref.iloc[:300], cur.iloc[:300])
            runner = compute_drift  # type: ignore[assignment]
        size = (ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum()) / 2**20
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset VmHWM to the current RSS: the baseline includes data and imports
        baseline = _status("VmRSS:")
        runner(ref, cur)
        growth = _status("VmHWM:") - baseline
    print(json.dumps({"growth_MiB": growth, "data_MiB": size, "baseline_MiB": baseline}))


def memory_table(specs: list[tuple[str, int]], records: list[dict[str, object]]) -> list[list[str]]:
    rows = []
    for label, n in specs:
        result = {}
        for tool in ("shipyard", "evidently"):
            done = subprocess.run(
                [sys.executable, __file__, "--memory-child", tool, label, str(n)],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
            result[tool] = json.loads(done.stdout.strip().splitlines()[-1])
        data = result["shipyard"]["data_MiB"]
        growth = {tool: result[tool]["growth_MiB"] for tool in ("evidently", "shipyard")}
        records.append({"table": "memory", "data": f"{label} {n // 1000}k", **growth})
        rows.append(
            [
                f"{label} {n // 1000}k",
                f"{data:.1f}",
                f"{result['evidently']['growth_MiB']:.1f} ({result['evidently']['growth_MiB'] / data:.2f}x)",
                f"{result['shipyard']['growth_MiB']:.1f} ({result['shipyard']['growth_MiB'] / data:.2f}x)",
            ]
        )
        print(f"  measured memory {label} {n}", file=sys.stderr, flush=True)
    return rows


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k-row sets")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--memory-child", nargs=3, metavar=("TOOL", "SET", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        tool, label, n = args.memory_child
        memory_child(tool, label, int(n))
        return
    warnings.simplefilter("ignore")
    sets = {"10k x 25 numeric": make_numeric(10_000), "mixed 20k x 25": make_mixed(20_000)}
    if not args.quick:
        sets["100k x 25 numeric"] = make_numeric(100_000)
    started = time.perf_counter()
    records: list[dict[str, object]] = []
    compute = compute_table(sets, records)
    print_table(
        "(a) in-process compute, seconds (best of 3; Evidently one run)",
        ["data", "Evidently", "Shipyard", "speed-up", "SciPy per column", "stored profile", "numbers"],
        compute,
    )
    with tempfile.TemporaryDirectory() as folder:
        cold_sets = {k: v for k, v in sets.items() if "mixed" not in k}
        cold = cold_table(cold_sets, Path(folder), records)
    print_table(
        "(b) whole command, cold, seconds (Shipyard median of 3; Evidently one run)",
        ["data", "Evidently script", "shipyard drift", "speed-up"],
        cold,
    )
    specs = [("numeric", 10_000), ("mixed", 20_000)] + ([] if args.quick else [("numeric", 100_000)])
    print_table(
        "(c) peak RSS growth over the post-import, data-loaded baseline, MiB (multiple of data size)",
        ["data", "data MiB", "Evidently", "Shipyard"],
        memory_table(specs, records),
    )
    print(f"\nbench took {time.perf_counter() - started:.0f} s; machine shared, timings noisy")
    assert math.isfinite(started)
    if args.json:
        write_json(args.json, records)


def write_json(path: Path, records: list[dict[str, object]]) -> None:
    from importlib.metadata import version

    what = {
        "compute": ("in-process drift compute", "seconds", "Evidently Report.run"),
        "cold": ("whole command, cold", "seconds", "Evidently script"),
        "memory": ("peak RSS growth", "MiB", "Evidently Report.run"),
    }
    ratios, goals = [], []
    for record in records:
        case, metric, peer = what[str(record["table"])]
        ours, theirs = float(record["shipyard"]), float(record["evidently"])  # type: ignore[arg-type]
        ratios.append(
            {
                "case": f"{case}, {record['data']}",
                "metric": metric,
                "better": "lower",
                "peer": peer,
                "shipyard": ours,
                "peer_value": theirs,
                "speedup": theirs / ours if ours > 0 else None,
            }
        )
        if "numbers" in record:
            goals.append(
                {
                    "case": f"drift scores vs Evidently, {record['data']}",
                    "goal": "same decisions as Evidently",
                    "value": record["numbers"],
                    "passed": str(record["numbers"]).startswith("same"),
                }
            )
    report = {
        "records": records,
        "ratios": ratios,
        "goals": goals,
        "versions": {"evidently": version("evidently")},
    }
    path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
