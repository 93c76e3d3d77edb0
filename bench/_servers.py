"""The servers of bench/serving.py: how each is set up, started in its own session and stopped.

Every server gets ``start_new_session=True`` (setsid), so its process id is also its process-group id
and ``killpg`` reaches the workers it forks (MLServer's inference process, uvicorn's reloader...).
Stopping sends TERM to the group, then KILL after a grace period, and waits until no member is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "MLSERVER_SPEC",
    "ServerSpec",
    "echo_spec",
    "ensure_mlserver_venv",
    "free_port",
    "mlflow_body",
    "mlflow_spec",
    "mlserver_spec",
    "register_in_shipyard",
    "running",
    "shipyard_available",
    "shipyard_spec",
    "v2_body",
]

BENCH_DIR = Path(__file__).resolve().parent
# uvloop 0.23 breaks MLServer 1.7's inference worker at start ("There is no current event loop" in
# mlserver/parallel/worker.py); with 0.21.0 it works.
MLSERVER_SPEC = ("mlserver==1.7.*", "mlserver-sklearn==1.7.*", "uvloop==0.21.0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerSpec:
    """How to start one server and where to send its traffic."""

    name: str
    command: list[str]
    port: int
    ready_path: str
    infer_path: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a pid reused by someone else's group: not ours any more
        return False
    return True


def stop_group(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """TERM the process group, KILL it after ``grace_s``; returns once the leader is reaped and no
    member of the group is left (bounded: a few seconds after KILL)."""
    pgid = process.pid
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    deadline = time.monotonic() + grace_s
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
        process.poll()
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=10)
    for _ in range(50):  # KILLed children are reaped by init; give it a moment
        if not _group_alive(pgid):
            return
        time.sleep(0.1)


def _wait_ready(spec: ServerSpec, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    url = spec.base_url + spec.ready_path
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{spec.name} exited with {process.returncode}: {_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{spec.name} was not ready at {url} after {timeout_s:.0f} s: {_tail(log)}")


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


@contextmanager
def running(spec: ServerSpec, log: Path, *, timeout_s: float = 180.0) -> Iterator[ServerSpec]:
    """Start ``spec`` in a new session, wait until its ready path answers 200, and always stop the
    whole process group on the way out (also when starting fails)."""
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            spec.command,
            env={**os.environ, **spec.env},
            cwd=spec.cwd,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_ready(spec, process, log, timeout_s)
            yield spec
        finally:
            stop_group(process)


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_mlserver_venv(venv: Path, pins: list[str], *, timeout_s: float = 900.0) -> tuple[Path, str]:
    """A venv with MLServer, reused while its requirement list is unchanged; returns its ``mlserver``
    executable and version. Raises RuntimeError with pip's last lines when the install fails."""
    wanted = "\n".join([*MLSERVER_SPEC, *pins])
    marker = venv / ".bench-requirements"
    executable = venv / "bin" / "mlserver"
    if not (executable.exists() and marker.exists() and marker.read_text() == wanted):
        venv.parent.mkdir(parents=True, exist_ok=True)
        # The base interpreter, not this venv's: the peer must not see Shipyard's packages.
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        log = venv / "pip-install.log"
        with open(log, "wb") as handle:
            done = subprocess.run(
                [str(_venv_python(venv)), "-m", "pip", "install", "--quiet", *MLSERVER_SPEC, *pins],
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
            )
        if done.returncode != 0:
            raise RuntimeError(f"pip install into {venv} failed ({done.returncode}): {_tail(log, 3)}")
        marker.write_text(wanted)
    version = subprocess.run(
        [str(_venv_python(venv)), "-c", "import mlserver; print(mlserver.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    return executable, version


# ---- the servers of bench/serving.py ------------------------------------------------------


def v2_body(row: list[float]) -> bytes:
    tensor = {"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}
    return json.dumps({"inputs": [tensor]}).encode()


def mlflow_body(columns: list[str], row: list[float]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": [row]}}).encode()


def echo_spec() -> ServerSpec:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "_echo_app:app", "--app-dir", str(BENCH_DIR)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop"]
    command += ["--http", "httptools", "--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    return ServerSpec("echo", command, port, "/", "/")


def mlflow_spec(model: Any, folder: Path) -> ServerSpec:
    import logging

    import mlflow.sklearn

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its pickle-format notice, once per model
    # Like the reference measurement: cloudpickle, no signature or input example (no schema check).
    mlflow.sklearn.save_model(model, str(folder), serialization_format="cloudpickle")
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(folder)]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    # The serve command runs a bare `uvicorn`, found on PATH only when this venv's bin/ is on it.
    path = f"{Path(sys.executable).parent}:{_env_path()}"
    return ServerSpec("mlflow", command, port, "/ping", "/invocations", env={"PATH": path})


def mlserver_spec(mlserver: Path, model: Any, name: str, folder: Path) -> ServerSpec:
    import joblib

    model_dir = folder / name
    model_dir.mkdir(parents=True)
    joblib.dump(model, model_dir / "model.joblib")
    port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": grpc_port, "metrics_port": metrics_port}
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "max_batch_size": 64,
        "max_batch_time": 0.005,
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (model_dir / "model-settings.json").write_text(json.dumps(model_settings))
    env = {"PATH": f"{mlserver.parent}:{_env_path()}"}
    return ServerSpec(
        "mlserver",
        [str(mlserver), "start", str(folder)],
        port,
        f"/v2/models/{name}/ready",
        f"/v2/models/{name}/infer",
        env=env,
        cwd=folder,
    )


def shipyard_available() -> str | None:
    """None when ``shipyard serve`` exists in this checkout, else why not."""
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "serve", "--help"], capture_output=True, text=True, timeout=120
    )
    return None if done.returncode == 0 else "`shipyard serve` is not in this checkout yet"


def register_in_shipyard(home: Path, name: str, model: Any, example: Any) -> str:
    """Log ``model`` and register it as ``name`` in the embedded store at ``home``, with the alias
    ``champion`` on that version; returns ``models:/NAME@champion``."""
    from shipyard import Client
    from shipyard.registry.aliases import set_alias

    # tracking_uri="": always the embedded store at ``home``, whatever the shell exports.
    with Client(home=home, tracking_uri="") as client:
        info = client.log_model(model, name="model", input_example=example, registered_model_name=name)  # type: ignore[attr-defined]
        platform, actor = client.platform, client.actor  # type: ignore[attr-defined]
        with platform.database.session(write=True) as session:
            set_alias(session, actor=actor, name=name, alias="champion", version=info.version)
    return f"models:/{name}@champion"


def shipyard_spec(home: Path, uri: str, name: str, *, prediction_log: bool) -> ServerSpec:
    port = free_port()
    command = [sys.executable, "-m", "shipyard", "serve", uri, "--host", "127.0.0.1", "--port", str(port)]
    if not prediction_log:
        command.append("--no-prediction-log")
    env = {"SHIPYARD_HOME": str(home), "SHIPYARD_LOG_LEVEL": "WARNING", "SHIPYARD_TRACKING_URI": ""}
    return ServerSpec(
        "shipyard" if prediction_log else "shipyard-nolog",
        command,
        port,
        "/v2/health/ready",
        f"/v2/models/{name}/infer",
        env=env,
    )


def _env_path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")
