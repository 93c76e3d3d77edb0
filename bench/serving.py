"""Serving benchmark: one-row requests at 16 and 64 connections, Shipyard against its peers, in one run.

For a 100-tree random forest and a scaler + logistic-regression pipeline, both fitted on scikit-learn's
breast-cancer data, wrk (one thread, loopback) drives:

1. a bare ASGI echo app under uvicorn with uvloop + httptools: the HTTP ceiling;
2. ``mlflow models serve --env-manager local`` (the model saved with ``mlflow.sklearn.save_model``);
3. MLServer 1.7 + mlserver-sklearn with adaptive batching (max_batch_size 64, max_batch_time 5 ms, its
   other settings at their defaults: one inference worker process, debug on), installed into its own
   cached venv with uvloop 0.21.0 (0.23 crashes its worker at start); its rows read "n/a" with the
   reason when it cannot install or start;
4. ``shipyard serve`` with the prediction log on, and 5. with it off.

It also times, in this process, t(c): predicting c rows at once (the same fitted model, as a DataFrame
or as the bare array, whichever is faster). With c requests in flight no server can answer more than
c / t(c) requests/s: that physical bound is printed beside the table, with each row's share of it
and of the echo ceiling, and the goals of issue #5 are checked (PASS/MISS). Every server is warmed
up before it is measured, runs in its own process group on 127.0.0.1, and is stopped at the end of
its cells.

The goals are judged on paired rounds, not on single cells measured minutes apart: the echo, Shipyard
with the log on and off, and MLServer run side by side and take turns, 5 s each per round; each ratio
is the median of the per-round ratios and the p99 the median of the rounds' (see bench/_paired.py;
``--rounds 0`` judges them on the cells instead). The table shows the cells.

    python bench/serving.py                  # ~11 minutes: 3 s warm-up and 10 s per cell, 5 rounds
    python bench/serving.py --quick          # ~4 minutes: 1 s warm-up, 3 s per cell, 3 rounds of 2 s
    python bench/serving.py --json out.json  # also write the results as JSON
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _paired import Paired, paired_rounds
from _servers import (
    ServerSpec,
    echo_spec,
    ensure_mlserver_venv,
    mlflow_body,
    mlflow_spec,
    mlserver_spec,
    register_in_shipyard,
    running,
    shipyard_available,
    shipyard_spec,
    v2_body,
)
from _wrk import LUA_SCRIPT, WrkResult, percent, physical_bound, ratio, run_wrk, wrk_version
from rich.console import Console
from rich.table import Table

# A wide console when piped (make bench, tee): the table has eleven columns.
console = Console(width=None if sys.stdout.isatty() else 200)
CONNECTIONS = (16, 64)
BOUND_ROWS = (1, *CONNECTIONS)
GOAL_CONNECTIONS = 16
MAX_LOG_COST = 0.10
SERVERS = {  # the rows, as the docstring above describes them
    "echo": "echo (uvicorn+uvloop)",
    "mlflow": "mlflow models serve",
    "mlserver": "MLServer, batch 64/5ms",
    "shipyard": "Shipyard, log on",
    "shipyard-nolog": "Shipyard, log off",
}
SHIPYARD_ROWS = ("shipyard", "shipyard-nolog")
DEFAULT_CACHE = Path.home() / ".cache" / "shipyard-bench" / "mlserver"


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarked model and the goals issue #5 sets for it at c=16."""

    key: str
    label: str
    min_x_mlserver: float
    min_bound_pct: float | None = None
    min_echo_pct: float | None = None
    p99_max_ms: float | None = None
    p99_max_t16: float | None = None  # p99 limit as a multiple of t(16)


MODELS = {
    "rf": ModelSpec("rf", "random forest (100 trees)", 4.0, min_bound_pct=80.0, p99_max_t16=3.0),
    "lr": ModelSpec("lr", "scaler + logistic regression", 8.0, min_echo_pct=40.0, p99_max_ms=10.0),
}


@dataclass(frozen=True)
class Goal:
    model: str
    goal: str
    value: str
    passed: bool | None  # None: not measurable in this run (a row is missing)


Results = dict[tuple[str, int], WrkResult | None]


def fit_models(keys: list[str]) -> tuple[Any, dict[str, Any]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer(as_frame=True)
    factories: dict[str, Callable[[], Any]] = {
        "rf": lambda: RandomForestClassifier(n_estimators=100, random_state=0),
        "lr": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    }
    return data.data, {key: factories[key]().fit(data.data, data.target) for key in keys}


def time_rows(
    model: Any, frame: Any, *, repeats: int, budget_s: float
) -> tuple[dict[int, float], dict[int, float]]:
    """t(c) for every c in BOUND_ROWS: median seconds of ``model.predict`` on the first c rows, given
    as a DataFrame and as the bare float array, whichever is faster (Shipyard's model worker passes the
    array when the model was fitted on those column names; a faster input must not inflate the share
    of the bound). The sizes and forms take turns, so a burst of load elsewhere hits them all alike.

    Also returns t(c) of Shipyard's own way to the same answers (the scikit-learn flavor's predict: for
    a forest, tree by tree without joblib, see shipyard.models.flavors._forests): the issue's bound is
    the model's own ``predict``, and this one says how near the server comes to what it could do."""
    import warnings

    from shipyard.models.flavors.sklearn import SklearnFlavor

    flavor = SklearnFlavor()
    batches = {
        (rows, form): frame.iloc[:rows] if form == "frame" else frame.iloc[:rows].to_numpy(dtype="float64")
        for rows in BOUND_ROWS
        for form in ("frame", "array", "shipyard")
    }
    predict = {
        "frame": model.predict,
        "array": model.predict,
        "shipyard": lambda batch: flavor.predict(model, batch),
    }
    timings: dict[tuple[int, str], list[float]] = {key: [] for key in batches}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        for (_, form), batch in batches.items():
            predict[form](batch)
        deadline = time.perf_counter() + budget_s
        for done in range(repeats):
            if done >= 5 and time.perf_counter() > deadline:
                break
            for (rows, form), batch in batches.items():
                started = time.perf_counter()
                predict[form](batch)
                timings[(rows, form)].append(time.perf_counter() - started)
    medians = {key: statistics.median(values) for key, values in timings.items()}
    own = {rows: min(medians[(rows, "frame")], medians[(rows, "array")]) for rows in BOUND_ROWS}
    return own, {rows: min(own[rows], medians[(rows, "shipyard")]) for rows in BOUND_ROWS}


def evaluate_goals(
    spec: ModelSpec, results: Results, t_s: dict[int, float], paired: Paired | None = None
) -> list[Goal]:
    """Issue #5's goals at c=16 for Shipyard with the prediction log on (the default). With ``paired``
    rounds (see bench/_paired.py) every goal but "no errors" is judged on them: each ratio is the
    median of the per-round ratios, the p99 the median of the rounds' p99."""
    c = GOAL_CONNECTIONS
    ours, off = results.get(("shipyard", c)), results.get(("shipyard-nolog", c))
    mlserver, echo = results.get(("mlserver", c)), results.get(("echo", c))
    if ours is None:
        return [Goal(spec.key, "Shipyard measured", "not available", None)]
    goals = [
        Goal(
            spec.key,
            "no errors",
            f"{ours.non_2xx} non-2xx, {ours.socket_errors} socket",
            ours.non_2xx + ours.socket_errors == 0,
        )
    ]
    if spec.min_bound_pct is not None:
        label = f">= {spec.min_bound_pct:.0f} % of the bound"
        bound = physical_bound(c, t_s[c])
        if paired is not None:
            ours_rps = paired.median("shipyard")
            share = 100 * ours_rps / bound
            value = f"{share:.0f} % ({ours_rps:,.0f} of {bound:,.0f} req/s, {_median_of(paired)})"
            goals.append(Goal(spec.key, label, value, share >= spec.min_bound_pct))
        else:
            goals.append(_at_least(spec.key, label, ours, bound, spec.min_bound_pct))
    if spec.min_echo_pct is not None:
        label = f">= {spec.min_echo_pct:.0f} % of the echo"
        if paired is not None:
            goals.append(_paired_goal(spec.key, label, paired, "echo", spec.min_echo_pct / 100))
        else:
            goals.append(
                _at_least(spec.key, label, ours, echo.requests_per_s if echo else None, spec.min_echo_pct)
            )
    label = f">= {spec.min_x_mlserver:.0f}x MLServer"
    if paired is not None and "mlserver" in paired.rounds:
        goals.append(_paired_goal(spec.key, label, paired, "mlserver", spec.min_x_mlserver))
    else:
        times = ratio(ours.requests_per_s, mlserver.requests_per_s if mlserver else None)
        value = "MLServer n/a" if times is None else f"{times:.1f}x"
        goals.append(Goal(spec.key, label, value, None if times is None else times >= spec.min_x_mlserver))
    limit = spec.p99_max_ms if spec.p99_max_ms is not None else (spec.p99_max_t16 or 0) * t_s[c] * 1000
    label = f"p99 <= {limit:.1f} ms" + (f" (= {spec.p99_max_t16:.0f} x t(16))" if spec.p99_max_t16 else "")
    if paired is not None:
        p99 = statistics.median(r.p99_ms for r in paired.rounds["shipyard"])
        goals.append(Goal(spec.key, label, f"{p99:.1f} ms ({_median_of(paired)})", p99 <= limit))
    else:
        goals.append(Goal(spec.key, label, f"{ours.p99_ms:.1f} ms", ours.p99_ms <= limit))
    label = f"prediction log costs <= {MAX_LOG_COST:.0%}"
    if paired is not None:
        goals.append(_paired_goal(spec.key, label, paired, "shipyard-nolog", 1 - MAX_LOG_COST))
        return goals
    kept = ratio(ours.requests_per_s, off.requests_per_s if off else None)
    goals.append(
        Goal(
            spec.key,
            label,
            "log-off row n/a" if kept is None else f"{1 - kept:+.1%}",
            None if kept is None else 1 - kept <= MAX_LOG_COST,
        )
    )
    return goals


def _median_of(paired: Paired) -> str:
    return f"median of {len(paired.rounds['shipyard'])} paired rounds"


def _paired_goal(model: str, label: str, paired: Paired, reference: str, floor: float) -> Goal:
    """A goal on Shipyard's (log on) req/s over ``reference``'s, the median of the paired rounds."""
    share = paired.ratio("shipyard", reference)
    low, high = paired.spread("shipyard", reference)
    if reference == "shipyard-nolog":  # told as the cost: 1 - share
        value = f"{1 - share:+.1%} ({_median_of(paired)}; {1 - high:+.1%} to {1 - low:+.1%})"
    elif reference == "mlserver":
        value = f"{share:.1f}x ({_median_of(paired)}; {low:.1f}x to {high:.1f}x)"
    else:
        value = f"{share:.0%} ({_median_of(paired)}; {low:.0%} to {high:.0%})"
    return Goal(model, label, value, share >= floor)


def paired_line(paired: Paired) -> str:
    """The paired rounds' medians, for the text under a table."""
    medians = ", ".join(f"{SERVERS[name]} {paired.median(name):,.0f}" for name in paired.rounds)
    return (
        f"paired rounds at c={paired.connections} (req/s, medians of {len(paired.rounds['echo'])}): {medians}"
    )


def own_bound_line(results: Results, t_ours: dict[int, float]) -> str:
    """How near Shipyard comes to the bound of its own in-process predict (informational: the issue's
    goals use the model's own ``predict``)."""
    c = GOAL_CONNECTIONS
    bound, ours = physical_bound(c, t_ours[c]), results.get(("shipyard", c))
    share = percent(ours.requests_per_s, bound) if ours else None
    return (
        f"with Shipyard's in-process predict t({c}) = {_ms(t_ours[c] * 1000)}, bound {bound:,.0f} req/s: "
        f"Shipyard reaches {_pct(share)}"
    )


def _at_least(model: str, label: str, ours: WrkResult, reference: float | None, floor_pct: float) -> Goal:
    share = percent(ours.requests_per_s, reference)
    if share is None or reference is None:
        return Goal(model, label, "n/a", None)
    return Goal(
        model,
        label,
        f"{share:.0f} % ({ours.requests_per_s:,.0f} of {reference:,.0f} req/s)",
        share >= floor_pct,
    )


def goal_cell(goals: list[Goal]) -> str:
    """One table cell: PASS, MISS naming what missed, or n/a naming what could not be judged."""
    missed = [g.goal for g in goals if g.passed is False]
    unknown = [g.goal for g in goals if g.passed is None]
    if missed:
        return "[red]MISS[/]: " + "; ".join(missed)
    if unknown:
        return "[yellow]n/a[/]: " + "; ".join(unknown)
    return "[green]PASS[/]"


# ---- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    warmup_s: float
    measure_s: float


def first_prediction(payload: Any) -> Any:
    """The first prediction in an Open Inference V2 or MLflow scoring response.

    >>> first_prediction({"outputs": [{"name": "predict", "shape": [1], "data": [1]}]})
    1
    >>> first_prediction({"predictions": [0]})
    0
    """
    if isinstance(payload, dict) and "outputs" in payload:
        named = {output.get("name"): output for output in payload["outputs"]}
        return (named.get("predict") or payload["outputs"][0])["data"][0]
    if isinstance(payload, dict) and "predictions" in payload:
        return payload["predictions"][0]
    raise ValueError(f"no prediction in {str(payload)[:200]}")


def measure(
    spec: ServerSpec,
    body: bytes,
    folder: Path,
    timing: Timing,
    connections: tuple[int, ...],
    expected: Any = None,
) -> dict[int, WrkResult]:
    """Start the server, check that one request gets a 200 with the ``expected`` prediction (a fast
    wrong answer is no answer), then warm up and measure each ``c``."""
    body_path, script = folder / f"{spec.name}-body.json", folder / "post.lua"
    body_path.write_bytes(body)
    script.write_text(LUA_SCRIPT)
    url = spec.base_url + spec.infer_path
    results: dict[int, WrkResult] = {}
    with running(spec, folder / f"{spec.name}-{spec.port}.log"):
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"one request got {answer.status_code}: {answer.text[:200]}")
        if expected is not None and first_prediction(answer.json()) != expected:
            raise RuntimeError(f"predicted {answer.text[:200]}; in-process the model predicts {expected}")
        for c in connections:
            run_wrk(url, body_path, connections=c, seconds=timing.warmup_s, script=script)
            results[c] = run_wrk(url, body_path, connections=c, seconds=timing.measure_s, script=script)
    return results


def run_row(
    results: Results,
    notes: dict[str, str],
    name: str,
    build: Callable[[], ServerSpec],
    body: bytes,
    folder: Path,
    timing: Timing,
    expected: Any = None,
) -> None:
    """Measure one server for every ``c``; a failure becomes an "n/a" row with the reason, never a crash."""
    with console.status(f"{SERVERS[name]}: starting, warming up, measuring"):
        try:
            measured = measure(build(), body, folder, timing, CONNECTIONS, expected)
        except Exception as error:  # any peer failure is reported; the bench goes on
            notes[name] = f"{type(error).__name__}: {error}"
            console.print(f"[red]{SERVERS[name]}: n/a[/] ({notes[name][:400]})")
            measured = {}
    for c in CONNECTIONS:
        results[(name, c)] = measured.get(c)


@dataclass
class Context:
    """What every model's rows share: timing, scratch folder, data, and why a server is unavailable."""

    timing: Timing
    workdir: Path
    frame: Any
    mlserver: Path | None
    notes: dict[str, str] = field(default_factory=dict)
    rounds: int = 5  # paired rounds of echo, log on and log off (0: none; the goals use the cells)
    round_s: float = 5.0

    @property
    def row(self) -> list[float]:
        return [float(x) for x in self.frame.iloc[0]]


def skip(results: Results, notes: dict[str, str], name: str, why: str) -> None:
    notes[name] = why
    results.update({(name, c): None for c in CONNECTIONS})


def measure_model(
    key: str, model: Any, context: Context, echo: Results, echo_notes: dict[str, str]
) -> tuple[Results, dict[str, str], Paired | None]:
    """Every server's cells for one model (the echo's are shared), each server started and stopped;
    then the paired rounds of the echo and Shipyard with the log on and off."""
    results, notes = dict(echo), dict(echo_notes)
    folder = context.workdir / key
    folder.mkdir()
    expected = model.predict(context.frame.iloc[:1])[0].item()
    timing, v2 = context.timing, v2_body(context.row)
    columns = [str(c) for c in context.frame.columns]
    build: Callable[[], ServerSpec] = lambda: mlflow_spec(model, folder / "mlflow")  # noqa: E731
    run_row(results, notes, "mlflow", build, mlflow_body(columns, context.row), folder, timing, expected)
    mlserver = context.mlserver
    if mlserver is None:
        skip(results, notes, "mlserver", context.notes["mlserver"])
    else:
        build = lambda: mlserver_spec(mlserver, model, key, folder / "mlserver")  # noqa: E731
        run_row(results, notes, "mlserver", build, v2, folder, timing, expected)
    name, why, uri = f"bench-{key}", context.notes["shipyard"], None
    if not why:
        try:
            uri = register_in_shipyard(context.workdir / "shipyard-home", name, model, context.frame.iloc[:5])
        except Exception as error:  # a registration failure is reported like a server that fails to start
            why = f"registering {name} failed: {type(error).__name__}: {error}"
    for label, log_on in (("shipyard", True), ("shipyard-nolog", False)):
        if uri is None:
            skip(results, notes, label, why)
            continue
        build = lambda u=uri, on=log_on: shipyard_spec(  # noqa: E731
            context.workdir / "shipyard-home", u, name, prediction_log=on
        )
        run_row(results, notes, label, build, v2, folder, timing, expected)
    if (
        uri is None
        or context.rounds < 1
        or any(results.get((n, GOAL_CONNECTIONS)) is None for n in SHIPYARD_ROWS)
    ):
        return results, notes, None
    home = context.workdir / "shipyard-home"
    specs = [
        echo_spec(),
        *(shipyard_spec(home, uri, name, prediction_log=n == "shipyard") for n in SHIPYARD_ROWS),
    ]
    if mlserver is not None and results.get(("mlserver", GOAL_CONNECTIONS)) is not None:
        specs.append(mlserver_spec(mlserver, model, key, folder / "mlserver-paired"))
    body, script = folder / "paired-body.json", folder / "paired.lua"
    body.write_bytes(v2)
    script.write_text(LUA_SCRIPT)
    with console.status(
        f"{key}: {context.rounds} paired rounds of the echo, Shipyard (log on, off), MLServer"
    ):
        try:
            paired = paired_rounds(
                specs,
                body,
                script,
                folder,
                connections=GOAL_CONNECTIONS,
                rounds=context.rounds,
                warmup_s=timing.warmup_s,
                seconds=context.round_s,
            )
        except Exception as error:  # reported; the goals then use the cells
            notes["paired"] = f"paired rounds failed: {type(error).__name__}: {error}"
            return results, notes, None
    return results, notes, paired


def prepare_mlserver(cache: Path, skip: bool) -> tuple[Path | None, str]:
    """The ``mlserver`` executable and version, or None and why not."""
    if skip:
        return None, "skipped (--no-mlserver)"
    import numpy
    import sklearn

    pins = [f"scikit-learn=={sklearn.__version__}", f"numpy=={numpy.__version__}"]
    with console.status(f"MLServer: preparing the venv in {cache} (the first time takes minutes)"):
        try:
            return ensure_mlserver_venv(cache, pins)
        except Exception as error:  # the peer may not install here: say why
            return None, f"{type(error).__name__}: {error}"


# ---- reporting ---------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} %"


def render(spec: ModelSpec, results: Results, t_s: dict[int, float], paired: Paired | None) -> Table:
    bounds = {c: physical_bound(c, t_s[c]) for c in CONNECTIONS}
    title = (
        f"{spec.label}: one-row requests; in-process t(c) = "
        + ", ".join(f"t({c}) {_ms(t_s[c] * 1000)}" for c in BOUND_ROWS)
        + "; bound c/t(c) = "
        + ", ".join(f"{bounds[c]:,.0f} req/s at c={c}" for c in CONNECTIONS)
    )
    table = Table(title=title, title_justify="left")
    for column in ("server", "c", "req/s", "p50", "p99", "non-2xx", "x MLServer", "x mlflow"):
        table.add_column(column, justify="left" if column == "server" else "right")
    for column in ("% bound", "% echo", "goal (c=16)"):
        table.add_column(column, justify="right" if column != "goal (c=16)" else "left")
    goals = evaluate_goals(spec, results, t_s, paired)
    for name, label in SERVERS.items():
        for c in CONNECTIONS:
            result = results.get((name, c))
            if result is None:
                why = "not available" if name.startswith("shipyard") else "n/a"
                table.add_row(label, str(c), why, *["-"] * 8)
                continue
            mlserver, mlflow, echo = (results.get((peer, c)) for peer in ("mlserver", "mlflow", "echo"))
            goal = ""
            if name == "shipyard" and c == GOAL_CONNECTIONS:
                goal = goal_cell(goals)
            errors = f"{result.non_2xx}" + (
                f" +{result.socket_errors} socket" if result.socket_errors else ""
            )
            table.add_row(
                label,
                str(c),
                f"{result.requests_per_s:,.0f}",
                _ms(result.p50_ms),
                _ms(result.p99_ms),
                f"[red]{errors}[/]" if result.non_2xx or result.socket_errors else "0",
                _x(ratio(result.requests_per_s, mlserver.requests_per_s if mlserver else None)),
                _x(ratio(result.requests_per_s, mlflow.requests_per_s if mlflow else None)),
                "-" if name == "echo" else _pct(percent(result.requests_per_s, bounds[c])),
                _pct(percent(result.requests_per_s, echo.requests_per_s if echo else None)),
                goal,
            )
    return table


def summary(
    spec: ModelSpec, results: Results, versions: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The cells as JSON rows, and the Shipyard-vs-peer ratios in bench/run_all.py's shape."""
    cells, ratios = [], []
    for (name, c), result in sorted(results.items()):
        cells.append(
            {"model": spec.key, "server": name, "connections": c, **(result.as_dict() if result else {})}
        )
    peers = {"mlserver": f"MLServer {versions.get('mlserver', '')}".strip(), "mlflow": "mlflow models serve"}
    for c in CONNECTIONS:
        ours = results.get(("shipyard", c))
        for peer, peer_label in peers.items():
            theirs = results.get((peer, c))
            if ours is None or theirs is None:
                continue
            ratios.append(
                {
                    "case": f"{spec.label}, one-row requests, c={c}, prediction log on",
                    "metric": "req/s",
                    "better": "higher",
                    "peer": peer_label,
                    "shipyard": round(ours.requests_per_s, 1),
                    "peer_value": round(theirs.requests_per_s, 1),
                    "speedup": round(ours.requests_per_s / theirs.requests_per_s, 2),
                }
            )
    return cells, ratios


def collect_versions(mlserver_version: str | None) -> dict[str, str]:
    from importlib.metadata import version

    found = {"wrk": wrk_version() or "missing"}
    for package in ("shipyard-ml", "mlflow", "scikit-learn", "uvicorn", "uvloop", "httptools"):
        found[package] = version(package)
    if mlserver_version:
        found["mlserver"] = mlserver_version
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 s warm-up and 3 s per cell")
    parser.add_argument("--seconds", type=float, help="seconds measured per cell (default 10; quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per cell (default 3; quick 1)")
    parser.add_argument("--models", default="rf,lr", help="comma-separated subset of: rf, lr")
    parser.add_argument("--no-mlserver", action="store_true", help="leave the MLServer rows out")
    parser.add_argument("--mlserver-venv", type=Path, default=DEFAULT_CACHE, help="the cached MLServer venv")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--rounds",
        type=int,
        help="paired rounds of echo, log on, log off at c=16 (default 5; quick 3; 0: none)",
    )
    args = parser.parse_args()
    # SIGTERM ends the run through the ``finally`` blocks, which stop every server group.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        console.print("[red]wrk is not installed[/]: apt-get install -y wrk")
        return 2
    keys = [key.strip() for key in args.models.split(",") if key.strip()]
    unknown = sorted(set(keys) - set(MODELS))
    if unknown:
        parser.error(f"--models takes rf and/or lr; got {', '.join(unknown)}")
    timing = Timing(
        args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0),
        args.seconds if args.seconds is not None else (3.0 if args.quick else 10.0),
    )
    started = time.perf_counter()
    frame, models = fit_models(keys)
    with console.status("timing t(c) in-process"):
        repeats = 15 if args.quick else 51
        timed = {
            key: time_rows(model, frame, repeats=repeats, budget_s=15.0) for key, model in models.items()
        }
        t_s = {key: own for key, (own, _) in timed.items()}
        t_ours = {key: ours for key, (_, ours) in timed.items()}
    mlserver, version_or_why = prepare_mlserver(args.mlserver_venv, args.no_mlserver)
    versions = collect_versions(version_or_why if mlserver else None)
    context = Context(timing, Path(tempfile.mkdtemp(prefix="shipyard-bench-serving-")), frame, mlserver)
    context.notes = {"mlserver": "" if mlserver else version_or_why, "shipyard": shipyard_available() or ""}
    context.rounds = args.rounds if args.rounds is not None else (3 if args.quick else 5)
    context.round_s = 2.0 if args.quick else 5.0
    per_model: dict[str, tuple[Results, dict[str, str], Paired | None]] = {}
    try:
        echo: Results = {}
        echo_notes: dict[str, str] = {}
        run_row(echo, echo_notes, "echo", echo_spec, v2_body(context.row), context.workdir, timing)
        for key, model in models.items():
            per_model[key] = measure_model(key, model, context, echo, echo_notes)
    finally:
        shutil.rmtree(context.workdir, ignore_errors=True)
    report: dict[str, Any] = {"versions": versions, "bounds": {}, "cells": [], "goals": [], "ratios": []}
    report["notes"] = {key: notes for key, (_, notes, _) in per_model.items()}
    report["paired"] = {}
    for key, (results, notes, paired) in per_model.items():
        spec = MODELS[key]
        console.print(render(spec, results, t_s[key], paired))
        for name, note in notes.items():
            console.print(f"  [yellow]{SERVERS.get(name, name)} n/a[/]: {note[:300]}")
        if paired is not None:
            console.print("  " + paired_line(paired))
            report["paired"][key] = {
                name: [r.as_dict() for r in rounds] for name, rounds in paired.rounds.items()
            }
        goals = evaluate_goals(spec, results, t_s[key], paired)
        for goal in goals:
            verdict = {True: "[green]PASS[/]", False: "[red]MISS[/]", None: "[yellow]n/a[/]"}[goal.passed]
            console.print(f"  {spec.label}, c={GOAL_CONNECTIONS}: {goal.goal}: {goal.value} {verdict}")
        console.print("  " + own_bound_line(results, t_ours[key]))
        cells, ratios = summary(spec, results, versions)
        report["cells"] += cells
        report["ratios"] += ratios
        report["goals"] += [
            {
                "case": f"{spec.label}, c={GOAL_CONNECTIONS}",
                "goal": g.goal,
                "value": g.value,
                "passed": g.passed,
            }
            for g in goals
        ]
        report["bounds"][key] = {
            "t_ms": {str(rows): t_s[key][rows] * 1000 for rows in BOUND_ROWS},
            "bound_rps": {str(c): physical_bound(c, t_s[key][c]) for c in CONNECTIONS},
            "shipyard_predict_t_ms": {str(rows): t_ours[key][rows] * 1000 for rows in BOUND_ROWS},
            "shipyard_predict_bound_rps": {str(c): physical_bound(c, t_ours[key][c]) for c in CONNECTIONS},
        }
    console.print(
        f"wrk -t1, {timing.warmup_s:.0f} s warm-up + {timing.measure_s:.0f} s per cell, 127.0.0.1; "
        f"{time.perf_counter() - started:.0f} s in all; the machine is shared, so compare ratios"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
