"""The documentation site builds with ``mkdocs build --strict``, and its generated references are complete.

The CLI and REST reference pages are generated at build time by docs/hooks/reference.py; here the
built pages are checked against the live command tree and the live app: every command and every
route path of the OpenAPI document must be on them.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_reference_hooks", ROOT / "docs" / "hooks" / "reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _page(site: Path, name: str) -> str:
    return html.unescape((site / name / "index.html").read_text())


def test_cli_reference_has_every_command(site: Path) -> None:
    page = _page(site, "reference/cli")
    commands = _hooks().cli_commands()
    assert len(commands) > 60 and "shipyard monitors alerts add" in commands
    missing = [command for command in commands if f"<code>{command}</code>" not in page]
    assert not missing, f"commands missing from the CLI reference: {missing}"


def test_rest_reference_has_every_route_path(site: Path) -> None:
    from shipyard.core.config import Settings
    from shipyard.server import create_app
    from shipyard.testing.checks import iter_routes

    page = _page(site, "reference/rest")
    app = create_app(Settings(home=ROOT / ".no-home", database_url="sqlite://", serving_enabled=True))
    routes = [r for r in iter_routes(app) if r.route.include_in_schema]
    assert len(routes) > 100
    # OpenAPI writes a path converter ({name:path}) as a plain parameter ({name}).
    missing = [r.id for r in routes if f"{r.method} {re.sub(r':[a-z]+}', '}', r.path)}" not in page]
    assert not missing, f"routes missing from the REST reference: {missing}"


def test_pictures_and_sdk_reference_are_on_the_site(site: Path) -> None:
    for picture in ("prioritisation-matrix.png", "drift-report.png", "serving-throughput.png"):
        assert (site / "images" / picture).stat().st_size > 10_000
    sdk = _page(site, "reference/sdk")
    for name in ("shipyard.client.Client", "BaseClient.start_run", "BaseClient.create_endpoint", "RunHandle"):
        assert name in sdk
