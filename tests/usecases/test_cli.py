"""``shipyard usecases`` as users run it: a subprocess, exit codes, one-line errors, the report files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core.platform import Platform


def shipyard(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k.startswith("SHIPYARD_TEST")
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "usecases", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture
def local_env(settings, platform: Platform) -> dict[str, str]:
    return {
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_DATABASE_URL": settings.database_url,
        "SHIPYARD_ARTIFACT_ROOT": settings.artifact_root,
    }


def test_workshop_flow_on_the_local_store(local_env: dict[str, str], tmp_path: Path) -> None:
    imported = shipyard("import", "--example", "--json", env=local_env)
    assert imported.returncode == 0, imported.stderr
    portfolio_id = json.loads(imported.stdout)["portfolio"]["id"]
    points = json.loads(shipyard("matrix", portfolio_id, "--json", env=local_env).stdout)["points"]
    churn = next(p for p in points if p["key"] == "churn-alerts")
    assert churn["rank"] == 1 and churn["quadrant"] == "quick_win"

    voted = shipyard(
        "vote",
        churn["use_case_id"],
        "economic_value=1",
        "know_how=2",
        "--voter",
        "ana",
        "--comment",
        "economic_value=budget cut",
        "--json",
        env=local_env,
    )
    assert voted.returncode == 0, voted.stderr
    assert {v["dimension"]: v["comment"] for v in json.loads(voted.stdout)} == {
        "economic_value": "budget cut",
        "know_how": "",
    }
    table = shipyard("select", portfolio_id, env=local_env)
    assert table.returncode == 0 and "Round 1: chose the cluster" in table.stdout

    flagged = shipyard(
        "flag",
        churn["use_case_id"],
        "--category",
        "regulation_ethics",
        "--question",
        "Profiling needs consent",
        "--json",
        env=local_env,
    )
    flag_id = str(json.loads(flagged.stdout)["id"])
    blocked = shipyard("promotion-check", churn["use_case_id"], env=local_env)
    assert blocked.returncode == 1 and "Profiling needs consent" in blocked.stderr
    signed = shipyard(
        "signoff", churn["use_case_id"], flag_id, "--reason", "Consent in the contract", env=local_env
    )
    assert signed.returncode == 0, signed.stderr
    assert shipyard("promotion-check", churn["use_case_id"], env=local_env).returncode == 0

    updated = shipyard(
        "update",
        churn["use_case_id"],
        "--status",
        "in_development",
        "--roi",
        "build_cost=1000",
        "--json",
        env=local_env,
    )
    assert updated.returncode == 0 and json.loads(updated.stdout)["roi"]["build_cost"] == 1000
    history = json.loads(shipyard("history", churn["use_case_id"], "--json", env=local_env).stdout)
    assert history[-1]["changed_fields"] == ["roi", "status"]

    out = tmp_path / "export.csv"
    assert (
        shipyard("export", portfolio_id, "--format", "csv", "--out", str(out), env=local_env).returncode == 0
    )
    copy = shipyard("import", str(out), "--name", "copy", "--json", env=local_env)
    assert copy.returncode == 0 and json.loads(copy.stdout)["use_cases"] == 12


def test_bad_input_exits_non_zero_with_one_line(local_env: dict[str, str], tmp_path: Path) -> None:
    created = shipyard("new-portfolio", "p", "--json", env=local_env)
    assert created.returncode == 0, created.stderr
    case = json.loads(shipyard("create", "p", "Routing", "--json", env=local_env).stdout)
    out_of_range = shipyard("vote", case["id"], "economic_value=7", env=local_env)
    assert out_of_range.returncode == 1
    assert out_of_range.stderr.strip() == "error: scores.economic_value must be between 0 and 5; got 7.0"
    unknown = shipyard("vote", case["id"], "charm=3", env=local_env)
    assert unknown.returncode == 1 and "unknown dimension 'charm'" in unknown.stderr
    not_a_number = shipyard("vote", case["id"], "economic_value=lots", env=local_env)
    assert not_a_number.returncode == 2 and "must be a number" in not_a_number.stderr
    sheet = tmp_path / "bad.csv"
    sheet.write_text("key,title,know_how@ana\na,A,3\nb,B,9\n")
    bad_csv = shipyard("import", str(sheet), "--name", "sheet", env=local_env)
    assert bad_csv.returncode == 1 and "CSV row 3, column 'know_how@ana'" in bad_csv.stderr
    assert len(bad_csv.stderr.strip().splitlines()) == 1 and "Traceback" not in bad_csv.stderr
    broken = tmp_path / "bad.yaml"
    broken.write_text("portfolio: {name: y\n")
    bad_yaml = shipyard("import", str(broken), env=local_env)
    assert bad_yaml.returncode == 1 and "YAML line 2" in bad_yaml.stderr
    listed = json.loads(shipyard("portfolios", "--json", env=local_env).stdout)
    assert [p["name"] for p in listed] == ["p"]


def test_report_on_the_bundled_portfolio(tmp_path: Path) -> None:
    result = shipyard(
        "report", "--out", str(tmp_path / "report"), env={"SHIPYARD_HOME": str(tmp_path / "home")}
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "report"
    assert sorted(p.name for p in folder.iterdir()) == [
        "matrix.png",
        "matrix.svg",
        "report.html",
        "report.md",
    ]
    assert (folder / "matrix.png").read_bytes().startswith(b"\x89PNG")
    assert "Churn early warning" in (folder / "matrix.svg").read_text()
    markdown = (folder / "report.md").read_text()
    assert "![Prioritisation matrix](matrix.png)" in markdown and "## Red flags" in markdown
    assert not (tmp_path / "home" / "shipyard.db").exists()  # the example used a throw-away store
