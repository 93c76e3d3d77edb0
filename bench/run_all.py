"""Run every benchmark in bench/ and write BENCHMARKS.md: ratios against the peers, machine, versions, date.

    python bench/run_all.py                      # every script, full sizes (what `make bench` runs)
    python bench/run_all.py --quick              # every script with its quick arguments
    python bench/run_all.py --only serving,drift --output /tmp/B.md

Each script (every ``bench/*.py`` but this one and ``_*.py`` helpers) runs in turn with
``--json PATH``, bounded by ``--timeout`` seconds, its own table printed as it goes. The JSON it writes
may hold, besides its own details:

- ``ratios``: ``[{case, metric, better, peer, shipyard, peer_value, speedup}]``, ``speedup`` being how
  many times better Shipyard did (ours / peer when higher is better, peer / ours when lower is);
- ``goals``: ``[{case, goal, value, passed}]`` for targets without a peer (``passed`` may be null);
- ``versions``: ``{package: version}`` of the peers it ran.

A script that fails or times out is listed as such; the others still count, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["ScriptOutcome", "discover", "machine_info", "render_report"]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Arguments for --quick: smaller sizes and shorter runs, for a smoke run of the whole set.
QUICK_ARGS: dict[str, list[str]] = {
    "drift": ["--quick"],
    "drift_types": ["--streams-per-type", "4", "--seconds", "60"],
    "predlog": ["--quick"],
    "serving": ["--quick"],
    "tracking": ["--quick"],
    "tracking_sdk": ["--points", "50000"],
    "tracking_search": ["--runs", "10000", "--repeats", "3"],
}


@dataclass
class ScriptOutcome:
    name: str
    arguments: list[str]
    status: str  # "ok", "failed (exit N)", "timed out after N s", "no JSON written"
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)


def discover(folder: Path = BENCH_DIR) -> list[str]:
    """The benchmark scripts' names, sorted: every ``*.py`` but helpers (``_*``) and this runner."""
    return sorted(
        path.stem for path in folder.glob("*.py") if not path.name.startswith("_") and path.stem != "run_all"
    )


def run_script(name: str, arguments: list[str], folder: Path, timeout_s: float) -> ScriptOutcome:
    """Run one script with ``--json``. On timeout it gets SIGINT, which Python turns into
    KeyboardInterrupt so the script's ``finally`` blocks stop its servers; a minute later, SIGKILL."""
    output = folder / f"{name}.json"
    command = [sys.executable, str(BENCH_DIR / f"{name}.py"), *arguments, "--json", str(output)]
    print(f"\n=== bench/{name}.py {' '.join(arguments)}".rstrip(), flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        return ScriptOutcome(
            name, arguments, f"timed out after {timeout_s:.0f} s", time.perf_counter() - started
        )
    except BaseException:
        process.send_signal(signal.SIGINT)  # an error here: let the script clean up
        process.wait(timeout=60)
        raise
    seconds = time.perf_counter() - started
    if code != 0:
        return ScriptOutcome(name, arguments, f"failed (exit {code})", seconds)
    if not output.is_file():
        return ScriptOutcome(name, arguments, "no JSON written", seconds)
    return ScriptOutcome(name, arguments, "ok", seconds, json.loads(output.read_text()))


def machine_info() -> dict[str, str]:
    """CPU model, core count, RAM and OS of this machine (Linux /proc, with portable fallbacks)."""
    cpu = platform.processor() or platform.machine()
    memory = "unknown"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
            cpu,
        )
        meminfo = Path("/proc/meminfo").read_text()
        kib = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:"))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "cores": str(cores),
        "RAM": memory,
        "OS": f"{platform.system()} {platform.release()}",
    }


def base_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"Python": platform.python_version()}
    for package in ("shipyard-ml", "numpy", "pandas", "scikit-learn", "mlflow", "evidently"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def _number(value: Any) -> str:
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _speedup(value: Any) -> str:
    return f"**{value:.2f}x**" if isinstance(value, int | float) else "-"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_report(
    outcomes: list[ScriptOutcome],
    *,
    machine: dict[str, str],
    versions: dict[str, str],
    when: datetime,
    quick: bool = False,
) -> str:
    """BENCHMARKS.md: what the scripts measured, as ratios and goals, with the machine and versions."""
    for outcome in outcomes:
        versions = {**versions, **{str(k): str(v) for k, v in outcome.data.get("versions", {}).items()}}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`bench/run_all.py`) on {when:%Y-%m-%d %H:%M} UTC"
        + (", in quick mode (smaller sizes, shorter runs)." if quick else "."),
        "Every script runs Shipyard and the peer tool in the same run on the same machine, one after the",
        "other. Absolute numbers depend on the machine; compare the ratios.",
        "",
        "## Shipyard vs peers",
        "",
        "| benchmark | case | metric | Shipyard | peer | peer value | Shipyard's advantage |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    if not any(outcome.data.get("ratios") for outcome in outcomes):
        lines.append("| (no script in this run compared with a peer) | | | | | | |")
    for outcome in outcomes:
        for row in outcome.data.get("ratios", []):
            direction = "higher is better" if row.get("better", "higher") == "higher" else "lower is better"
            lines.append(
                f"| {outcome.name} | {_cell(row['case'])} | {_cell(row['metric'])} ({direction}) | "
                f"{_number(row['shipyard'])} | {_cell(row['peer'])} | {_number(row['peer_value'])} | "
                f"{_speedup(row.get('speedup'))} |"
            )
    goals = [(outcome.name, goal) for outcome in outcomes for goal in outcome.data.get("goals", [])]
    if goals:
        lines += [
            "",
            "## Goals",
            "",
            "| benchmark | case | goal | measured | verdict |",
            "|---|---|---|---|---|",
        ]
        for name, goal in goals:
            verdict = {True: "PASS", False: "MISS"}.get(goal.get("passed"), "n/a")
            cells = [name, _cell(goal["case"]), _cell(goal["goal"]), _cell(goal["value"]), verdict]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Runs", "", "| script | arguments | status | seconds |", "|---|---|---|---:|"]
    for outcome in outcomes:
        arguments = " ".join(outcome.arguments) or "(defaults)"
        lines.append(
            f"| bench/{outcome.name}.py | `{arguments}` | {outcome.status} | {outcome.seconds:.0f} |"
        )
    lines += ["", "## Machine", ""] + [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", "## Versions", "", "| package | version |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in versions.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="each script's quick arguments")
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per script")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    names = discover()
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"no bench script called {', '.join(unknown)}; there are {', '.join(names)}")
        names = [name for name in names if name in wanted]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-all-") as folder:
        for name in names:
            arguments = QUICK_ARGS.get(name, []) if args.quick else []
            outcomes.append(run_script(name, arguments, Path(folder), args.timeout))
    report = render_report(
        outcomes, machine=machine_info(), versions=base_versions(), when=datetime.now(UTC), quick=args.quick
    )
    args.output.write_text(report)
    print(f"\nwrote {args.output}")
    for outcome in outcomes:
        print(f"  bench/{outcome.name}.py: {outcome.status} ({outcome.seconds:.0f} s)")
    return 0 if all(outcome.status == "ok" for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
