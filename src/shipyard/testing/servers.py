"""A real uvicorn server on a random loopback port, in a background thread (for tests and demos)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

__all__ = ["ServerProcess", "free_port", "live_server", "process_memory", "server_process"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: FastAPI | Any, *, startup_timeout: float = 30.0, http: Any = "auto") -> Iterator[str]:
    """Serve ``app`` (any ASGI app) on 127.0.0.1 until the block ends; yields the base URL. ``http`` is
    uvicorn's HTTP protocol: a name, or a protocol class such as ``serving.wire.inference_protocol``'s."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        http=http,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="shipyard-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class ServerProcess:
    """A running ``shipyard server``: its URL, the process, and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __iter__(self) -> Iterator[Any]:  # allows ``url, process = ...``
        return iter((self.url, self.process))


@contextmanager
def server_process(
    env: dict[str, str],
    *,
    args: tuple[str, ...] = (),
    startup_timeout: float = 60.0,
    log_path: Path | None = None,
    command: tuple[str, ...] = ("server",),
) -> Iterator[ServerProcess]:
    """``shipyard server`` (or ``command``, e.g. ``("serve", URI)``) in its own process on a random
    loopback port, stopped with SIGTERM."""
    port = free_port()
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k.startswith("SHIPYARD_TEST")
    }
    full_env.update(env)
    argv = [sys.executable, "-m", "shipyard", *command, "--host", "127.0.0.1", "--port", str(port), *args]
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix="shipyard-server-", suffix=".log")[1])
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    running = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + startup_timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"shipyard {command[0]} exited with {process.returncode}: {running.output()[-2000:]}"
                )
            try:
                if httpx.get(f"{running.url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("shipyard server did not become healthy in time")
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def process_memory(pid: int) -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a Linux process, in bytes."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values
