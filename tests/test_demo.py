"""`make demo` runs examples/demo.py; it must pass end to end on a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_DEMO_HOME"] = str(tmp_path / "demo")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "steps passed" in result.stdout
    assert "token.create" in result.stdout and "blob.upload" in result.stdout
    assert (tmp_path / "demo" / "admin-token").stat().st_mode & 0o077 == 0
