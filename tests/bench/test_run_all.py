"""bench/run_all.py without running any benchmark: discovery and the BENCHMARKS.md it writes."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from run_all import ScriptOutcome, discover, machine_info, render_report

from tests.bench.conftest import BENCH_DIR

SERVING = {
    "ratios": [
        {
            "case": "random forest, c=16",
            "metric": "req/s",
            "better": "higher",
            "peer": "MLServer 1.7.1",
            "shipyard": 1500.0,
            "peer_value": 348.0,
            "speedup": 4.31,
        }
    ],
    "goals": [{"case": "random forest, c=16", "goal": ">= 4x MLServer", "value": "4.3x", "passed": True}],
    "versions": {"mlserver": "1.7.1"},
}


def test_discover_lists_scripts_but_not_helpers_or_the_runner(tmp_path: Path) -> None:
    for name in ("serving.py", "drift.py", "_wrk.py", "run_all.py", "notes.md"):
        (tmp_path / name).write_text("")
    assert discover(tmp_path) == ["drift", "serving"]


def test_report_has_ratios_goals_runs_machine_versions_and_date() -> None:
    outcomes = [
        ScriptOutcome("serving", ["--quick"], "ok", 200.4, SERVING),
        ScriptOutcome("drift", [], "failed (exit 1)", 3.0),
    ]
    text = render_report(
        outcomes,
        machine={"CPU": "Test CPU", "cores": "2", "RAM": "7.8 GiB"},
        versions={"Python": "3.11.7", "shipyard-ml": "0.1.0"},
        when=datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
        quick=True,
    )
    assert "2026-11-23 17:00 UTC, in quick mode" in text
    row = "| serving | random forest, c=16 | req/s (higher is better) | 1,500 | MLServer 1.7.1 | 348 |"
    assert row + " **4.31x** |" in text
    assert "| serving | random forest, c=16 | >= 4x MLServer | 4.3x | PASS |" in text
    assert "| bench/serving.py | `--quick` | ok | 200 |" in text
    assert "| bench/drift.py | `(defaults)` | failed (exit 1) | 3 |" in text
    assert "- CPU: Test CPU" in text and "- cores: 2" in text
    assert "| mlserver | 1.7.1 |" in text and "| Python | 3.11.7 |" in text


def test_report_escapes_pipes_and_shows_unknown_verdicts() -> None:
    data = {"goals": [{"case": "a | b", "goal": "g", "value": "v", "passed": None}]}
    text = render_report(
        [ScriptOutcome("x", [], "ok", 1.0, data)], machine={}, versions={}, when=datetime.now(UTC)
    )
    assert "| x | a \\| b | g | v | n/a |" in text


def test_machine_info_names_cpu_cores_and_memory() -> None:
    info = machine_info()
    assert set(info) == {"CPU", "cores", "RAM", "OS"}
    assert int(info["cores"]) >= 1


def _load_script(name: str) -> ModuleType:
    """A bench script as a module under another name (bench/codecs.py would shadow the stdlib's)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_codecs_json_gives_ratios_for_peered_rows_and_goals_for_the_rest(tmp_path: Path) -> None:
    codecs = _load_script("codecs")
    rows: list[dict] = []
    codecs._row(rows, "cancer", "/invocations dataframe_split", 20.0, 6000.0, codecs.MLFLOW_PEER)
    codecs._row(rows, "cancer", "V2 tritonclient binary", 22.5)
    codecs.write_json(tmp_path / "codecs.json", rows)
    data = json.loads((tmp_path / "codecs.json").read_text())
    assert [r["speedup"] for r in data["ratios"]] == [300.0]
    assert data["goals"][0]["passed"] is None and "mlflow" in data["versions"]
    text = render_report(
        [ScriptOutcome("codecs", [], "ok", 40.0, data)], machine={}, versions={}, when=datetime.now(UTC)
    )
    assert "| codecs | cancer: /invocations dataframe_split | CPU µs per one-row request" in text
    assert "| 20 | MLflow scoring-server parsing + _enforce_schema | 6,000 | **300.00x** |" in text
    assert "| codecs | cancer: V2 tritonclient binary | measured (no peer here) | 22.5 µs | n/a |" in text


def test_predlog_compares_group_commit_with_one_fsync_per_entry() -> None:
    row = _load_script("predlog")._versus_fsync("16 async producers, 1-row entries", 8000.0, 0.001)
    assert row["better"] == "higher" and row["peer_value"] == 1000.0 and row["speedup"] == 8.0
    text = render_report(
        [ScriptOutcome("predlog", [], "ok", 60.0, {"ratios": [row]})],
        machine={},
        versions={},
        when=datetime.now(UTC),
    )
    assert "| predlog | 16 async producers, 1-row entries | entries/s, fsync on (higher is better) |" in text
