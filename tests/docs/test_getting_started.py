"""Every command block of docs/getting-started.md runs for real, in order, as a reader would run it.

Each ```bash block on the page follows a marker comment that says how to run it:

- ``<!-- test: run -->``: in a shell that continues the previous ``run`` blocks (variables carry over,
  as in the reader's second terminal); it must exit 0.
- ``<!-- test: background, ready at URL -->``: a long-running command (the server in the reader's
  first terminal), started in its own process group, waited for until URL answers 200, and stopped
  with SIGTERM at the end.
- ``<!-- test: skip, ... -->``: only ``make demo`` and ``make test``. tests/test_demo.py runs the demo
  and CI (``.ci/run``) runs ``make test``; running ``make test`` here would run the suite inside itself.

What differs from the page, and nothing else:

- the page's server address ``127.0.0.1:7400`` becomes ``127.0.0.1:<free port>`` in every block and
  readiness URL, and ``SHIPYARD_PORT`` carries that port to ``shipyard server``;
- ``HOME`` is a temporary folder (so ``~/shipyard-first-hour`` starts empty), and the blocks run in a
  temporary folder holding links to the repository's ``docs/`` and, as ``.venv``, to the virtual
  environment running this test;
- on PostgreSQL, ``SHIPYARD_DATABASE_URL`` names an empty database (the server migrates it at start);
  on SQLite the page's default, a file under ``SHIPYARD_HOME``, is used.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shipyard.testing.servers import free_port
from tests import live_http

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "getting-started.md"
PAGE_ADDRESS = "127.0.0.1:7400"
BLOCK = re.compile(
    r"<!-- test: (?P<kind>run|background|skip)(?:, (?P<note>[^>]*?))? -->\n```bash\n(?P<body>.*?)\n```", re.S
)
SKIPPED_COMMANDS = {"make demo", "make test"}
BLOCK_TIMEOUT_S = 240
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Block:
    kind: str
    note: str
    body: str


def page_blocks(text: str) -> list[Block]:
    """The page's shell blocks in order; every one must carry a marker."""
    blocks = [Block(m["kind"], m["note"] or "", m["body"]) for m in BLOCK.finditer(text)]
    fences = len(re.findall(r"^```bash$", text, re.M))
    assert fences == len(blocks), f"{fences - len(blocks)} bash block(s) lack a '<!-- test: ... -->' marker"
    return blocks


def test_markers_are_complete_and_only_make_is_skipped() -> None:
    blocks = page_blocks(PAGE.read_text())
    kinds = [block.kind for block in blocks]
    assert kinds.count("background") == 1 and kinds.count("run") >= 5
    for block in blocks:
        if block.kind == "skip":
            commands = {line.split("#")[0].strip() for line in block.body.splitlines() if line.strip()}
            assert commands <= SKIPPED_COMMANDS, f"only make demo/make test may be skipped: {commands}"
        if block.kind == "background":
            assert block.note.startswith("ready at http://"), block.note


class Reader:
    """Runs blocks the way the page tells a reader to, with the translations in the module docstring."""

    def __init__(self, tmp_path: Path, port: int, database_url: str | None) -> None:
        self.port = port
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        (self.workspace / "docs").symlink_to(ROOT / "docs")
        (self.workspace / ".venv").symlink_to(Path(sys.prefix))
        if not (Path(sys.prefix) / "bin" / "activate").is_file():
            pytest.fail(f"{sys.prefix} is not a virtual environment; run the tests from .venv (make test)")
        self.state = tmp_path / "state.sh"
        self.state.write_text("")
        home = tmp_path / "home"
        home.mkdir()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SHIPYARD_", "MLFLOW_", "VIRTUAL_ENV", "PYTEST_"))
        }
        self.env.update({"HOME": str(home), "SHIPYARD_PORT": str(port)})
        if database_url is not None:
            self.env["SHIPYARD_DATABASE_URL"] = database_url
        self.background: list[subprocess.Popen[bytes]] = []
        self.logs = tmp_path / "logs"
        self.logs.mkdir()

    def translate(self, text: str) -> str:
        return text.replace(PAGE_ADDRESS, f"127.0.0.1:{self.port}")

    def script(self, body: str, *, keep_state: bool) -> str:
        # allexport: every assignment in a block is visible to the next, as in one terminal session.
        lines = ["set -euo pipefail", "set -a", f'source "{self.state}"', f'cd "{self.workspace}"']
        lines.append(self.translate(body))
        if keep_state:
            lines.append(f'export -p > "{self.state}"')
        return "\n".join(lines) + "\n"

    def run(self, block: Block) -> str:
        result = subprocess.run(
            ["bash", "-c", self.script(block.body, keep_state=True)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, (
            f"block failed (exit {result.returncode}):\n{block.body}\n---\n{output}"
        )
        return output

    def start(self, block: Block) -> None:
        log = self.logs / f"background-{len(self.background)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                ["bash", "-c", self.script(block.body, keep_state=False)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append(process)
        url = self.translate(block.note.removeprefix("ready at ").strip())
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert process.poll() is None, f"{block.body} exited early:\n{log.read_text()}"
            try:
                if live_http.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{url} did not answer:\n{log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def variable(self, name: str) -> str:
        found = re.search(rf'^declare -x {name}="(.*)"$', self.state.read_text(), re.M)
        assert found, f"the page never set {name}"
        return found[1]


@pytest.fixture
def reader(backend: str, empty_database_url: str, tmp_path: Path) -> Iterator[Reader]:
    opened = Reader(tmp_path, free_port(), empty_database_url if backend == "postgresql" else None)
    try:
        yield opened
    finally:
        opened.stop()


# Bounded: 240 s per block; the whole walk-through took 4.5 (SQLite) to 8 (PostgreSQL) minutes on a loaded
# 2-core machine, most of it loading scikit-learn and mlflow in each fresh process.
@pytest.mark.timeout(900)
def test_every_command_of_the_first_hour_runs(reader: Reader) -> None:
    outputs = []
    for block in page_blocks(PAGE.read_text()):
        if block.kind == "background":
            reader.start(block)
        elif block.kind == "run":
            outputs.append(reader.run(block))
    everything = "\n".join(outputs)
    # What the page says happened, checked against the server.
    from shipyard import Client

    url = f"http://127.0.0.1:{reader.port}"
    with Client(url, token=reader.variable("SHIPYARD_TOKEN")) as client:
        (event,) = client.alias_history("iris", alias="champion")
        assert (event.version, event.requested_by, event.approved_by) == (1, "training", "me")
        assert client.get_endpoint("iris").status.version == "1"
        results = client.monitor_results(reader.variable("MONITOR")).results
        by_time = sorted(results, key=lambda result: result.window_end)
        assert [result.rows for result in by_time] == [50, 50, 50, 50]
        assert [result.dataset_drift for result in by_time] == [False, False, True, True]
        assert by_time[-1].performance["accuracy"] < 0.8 <= by_time[0].performance["accuracy"]
        events = client.alert_events(reader.variable("MONITOR")).events
        assert len({event.rule_id for event in events if event.to_state == "firing"}) == 2
    assert "firing" in everything  # the page's `alerts events` shows them too
