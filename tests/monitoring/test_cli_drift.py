"""``shipyard drift``: output, bad input (a clear message or a skipped column, never a traceback), HTML."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setattr(sys, "argv", ["shipyard", "drift", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    g = np.random.default_rng(0)
    ref = pd.DataFrame({"x": g.normal(size=800), "c": g.choice(list("ab"), 800), "k": g.integers(0, 3, 800)})
    cur = pd.DataFrame(
        {"x": g.normal(1, size=600), "c": g.choice(list("ab"), 600), "k": g.integers(0, 3, 600)}
    )
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet")
    return tmp_path / "ref.csv", tmp_path / "cur.parquet"


def test_table_and_verdict(files: tuple[Path, Path], capsys, monkeypatch) -> None:
    code, out, _ = run_cli([str(f) for f in files], capsys, monkeypatch)
    assert code == 0
    assert re.search(r"x\s+.*numerical.*ks", out)
    assert "columns drifted" in out


def test_json_options(files: tuple[Path, Path], capsys, monkeypatch) -> None:
    args = [*map(str, files), "--json", "--stattest", "x=psi", "--threshold", "c=0.2", "--columns", "x,c"]
    code, out, _ = run_cli(args, capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert [c["column"] for c in data["columns"]] == ["x", "c"]
    assert data["columns"][0]["stattest"] == "psi"
    assert data["columns"][1]["threshold"] == 0.2
    assert data["drifted_columns"] == sum(c["drifted"] for c in data["columns"])


def test_target_and_prediction_roles(files: tuple[Path, Path], capsys, monkeypatch) -> None:
    code, out, _ = run_cli(
        [*map(str, files), "--json", "--target", "k", "--prediction", "x"], capsys, monkeypatch
    )
    assert code == 0
    roles = {c["column"]: (c.get("role"), c["type"]) for c in json.loads(out)["columns"]}
    assert roles["k"] == ("target", "categorical")
    assert roles["x"] == ("prediction", "numerical")


def test_mismatched_columns_are_listed(tmp_path: Path, files, capsys, monkeypatch) -> None:
    pd.DataFrame({"x": [1.0, 2.0], "extra": [1, 2]}).to_csv(tmp_path / "other.csv", index=False)
    code, _, err = run_cli([str(files[0]), str(tmp_path / "other.csv")], capsys, monkeypatch)
    assert code == 1
    assert "only in reference: 'c', 'k'" in err and "only in current: 'extra'" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"x,c\n", "has no rows"), (b"PAR1 not really parquet", "cannot read")],
)
def test_unreadable_or_empty_current(
    tmp_path, files, capsys, monkeypatch, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code, _, err = run_cli([str(files[0]), str(bad)], capsys, monkeypatch)
    assert code == 1 and message in err


def test_missing_file(files, capsys, monkeypatch) -> None:
    code, _, err = run_cli([str(files[0]), "/nonexistent/cur.csv"], capsys, monkeypatch)
    assert code == 1 and "no such file" in err


def test_empty_and_mixed_columns_are_skipped_with_reasons(tmp_path, capsys, monkeypatch) -> None:
    g = np.random.default_rng(1)
    ref = pd.DataFrame({"ok": g.normal(size=50), "nan": np.full(50, np.nan), "s": ["a", "b"] * 25})
    cur = pd.DataFrame({"ok": g.normal(size=50), "nan": g.normal(size=50), "s": ["a", "b"] * 25})
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    code, out, _ = run_cli(
        [str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"), "--json"], capsys, monkeypatch
    )
    assert code == 0
    data = json.loads(out)
    assert [c["column"] for c in data["columns"]] == ["ok", "s"]
    assert "empty in the reference data" in data["skipped_columns"][0]["reason"]


def test_numbers_with_stray_text_are_refused(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "r.csv").write_text("x\n" + "\n".join(str(i * 0.5) for i in range(30)) + "\n")
    (tmp_path / "c.csv").write_text("x\n" + "\n".join(str(i * 0.5) for i in range(30)) + "\noops\n")
    code, _, err = run_cli([str(tmp_path / "r.csv"), str(tmp_path / "c.csv")], capsys, monkeypatch)
    assert code == 1 and "mixes numbers and text" in err and "'oops'" in err


def test_nothing_testable_is_an_error(tmp_path, capsys, monkeypatch) -> None:
    pd.DataFrame({"a": [np.nan, np.inf]}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(tmp_path / "c.csv", index=False)
    code, _, err = run_cli([str(tmp_path / "r.csv"), str(tmp_path / "c.csv")], capsys, monkeypatch)
    assert code == 1 and "no column could be tested" in err


def test_constant_columns_are_tested_as_evidently_does(tmp_path, capsys, monkeypatch) -> None:
    pd.DataFrame({"a": [1.0] * 30, "s": ["x"] * 30}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"a": [1.0] * 20, "s": ["x"] * 20}).to_csv(tmp_path / "c.csv", index=False)
    code, out, _ = run_cli([str(tmp_path / "r.csv"), str(tmp_path / "c.csv"), "--json"], capsys, monkeypatch)
    assert code == 0
    columns = json.loads(out)["columns"]
    assert [(c["stattest"], c["score"], c["drifted"]) for c in columns] == [("z", 1.0, False)] * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stattest", "nope"], "unknown drift test 'nope'"),
        (["--stattest", "c=ks"], "does not apply to categorical column 'c'"),
        (["--threshold", "x=abc"], "expects a number"),
        (["--type", "x=weird"], "expected numerical or categorical"),
        (["--columns", "zzz"], "unknown columns: 'zzz'"),
        (["--drift-share", "0"], "drift share must be in (0, 1]"),
    ],
)
def test_bad_options(files, capsys, monkeypatch, args: list[str], message: str) -> None:
    code, _, err = run_cli([*map(str, files), *args], capsys, monkeypatch)
    assert code == 1 and message in err


def test_text_column_is_skipped_with_reason(tmp_path, capsys, monkeypatch) -> None:
    words = [f"free text {i}" for i in range(40)]
    pd.DataFrame({"t": words, "v": np.arange(40.0)}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"t": words, "v": np.arange(40.0)}).to_csv(tmp_path / "c.csv", index=False)
    code, out, _ = run_cli([str(tmp_path / "r.csv"), str(tmp_path / "c.csv"), "--json"], capsys, monkeypatch)
    assert code == 0
    assert "domain classifier" in json.loads(out)["skipped_columns"][0]["reason"]
    code, out, _ = run_cli(
        [str(tmp_path / "r.csv"), str(tmp_path / "c.csv"), "--json", "--type", "t=categorical"],
        capsys,
        monkeypatch,
    )
    assert [c["column"] for c in json.loads(out)["columns"]] == ["t", "v"]


def test_html_report_is_self_contained(tmp_path, files, capsys, monkeypatch) -> None:
    report = tmp_path / "report.html"
    code, _, _ = run_cli([*map(str, files), "--html", str(report)], capsys, monkeypatch)
    assert code == 0
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 3
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script" not in text and "@import" not in text


def test_saved_profile_reused_as_reference(tmp_path, files, capsys, monkeypatch) -> None:
    profile = tmp_path / "ref.profile"
    _, direct, _ = run_cli([*map(str, files), "--json", "--save-profile", str(profile)], capsys, monkeypatch)
    code, stored, _ = run_cli([str(profile), str(files[1]), "--json"], capsys, monkeypatch)
    assert code == 0 and json.loads(stored) == json.loads(direct)


def test_command_imports_no_server_stack(files) -> None:
    probe = (
        "import sys, io, contextlib\n"
        f"sys.argv = ['shipyard', 'drift', {str(files[0])!r}, {str(files[1])!r}, '--json']\n"
        "from shipyard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main()\n"
    )
    code = (
        probe.replace("    main()\n", "    try:\n        main()\n    except SystemExit:\n        pass\n")
        + "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'uvicorn', 'alembic', 'starlette', 'psycopg') or m == 'shipyard.server')\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_sketch_mode_reads_batches_and_states_error(files, capsys, monkeypatch) -> None:
    code, out, _ = run_cli([*map(str, files), "--json", "--sketch"], capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "sketch" and data["notes"]
    code, exact, _ = run_cli([*map(str, files), "--json"], capsys, monkeypatch)
    for approx, truth in zip(data["columns"], json.loads(exact)["columns"], strict=True):
        assert approx["stattest"] == truth["stattest"] and approx["drifted"] == truth["drifted"]
        assert abs(approx["score"] - truth["score"]) <= approx["error_bound"] + 1e-12
