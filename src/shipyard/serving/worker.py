"""A model version in a process of its own, so predicting never competes with HTTP for the GIL.

In one process the event loop (parsing, validating, answering) and the model thread take turns on
the interpreter lock: a forest then predicts 1.5x slower than alone and a small pipeline 4x. A
worker process runs the model on another core; the batcher's thread sends it one merged batch (a
float block and its column names, or the model input itself) over a pipe and waits on the answer
with the lock released.

The worker loads the package (verifying its hashes) and the server keeps only what it needs of it
(signature, flavor, classes), so a model is loaded once; the warm-up goes through the worker before
the version takes traffic, so hot swap is unchanged. It leaves when told to, when its pipe closes,
or when its parent is gone (checked every half second), so a ``kill -9`` of the server leaves no
orphan behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.core.errors import ShipyardError
from shipyard.models.flavors.base import get_flavor
from shipyard.models.package import LoadedModel
from shipyard.models.signature import Signature

__all__ = ["ModelWorker", "WorkerDiedError"]

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 300.0
_PARENT_CHECK_S = 0.5


class WorkerDiedError(ShipyardError):
    """The model's worker process is gone; the batch is answered 503 and the worker restarted."""

    status_code = 503
    error_code = "TEMPORARILY_UNAVAILABLE"


@dataclass(frozen=True)
class WorkerInfo:
    """What the server needs to know of the model the worker loaded (it does not load its own copy)."""

    flavor: str
    signature: Signature | None
    manifest: dict[str, Any]
    classes: list[Any] | None
    has_probabilities: bool

    def loaded_model(self) -> LoadedModel:
        """The package without its model object: signature, flavor and manifest for the server."""
        return LoadedModel(get_flavor(self.flavor), None, self.signature, self.manifest)


@dataclass(frozen=True)
class Block:
    """A batch of float64 columns: the (rows, columns) array and the names, rebuilt as a frame there."""

    values: np.ndarray
    names: tuple[str, ...]


class ModelWorker:
    """The parent's handle on one worker process. ``predict`` is called from one thread at a time."""

    def __init__(self, folder: Path, *, trusted: bool, name: str) -> None:
        self.folder, self.trusted, self.name = folder, trusted, name
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._closed = False
        self.info: WorkerInfo | None = None

    def start(self) -> None:
        """Start the worker and wait until its model is loaded; raises what loading raised."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the worker process; it loads the model while the caller does something else."""
        # A fresh interpreter running this module (not multiprocessing's spawn, which re-imports the
        # parent's main script), talking over a socket pair with multiprocessing's framing.
        parent_sock, child_sock = socket.socketpair()
        command = [sys.executable, "-m", "shipyard.serving.worker", str(child_sock.fileno())]
        command += [str(self.folder), "1" if self.trusted else "0", str(os.getpid())]
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, pass_fds=(child_sock.fileno(),))
        finally:
            child_sock.close()
        self._process, self._conn = process, Connection(parent_sock.detach())

    def wait_ready(self) -> None:
        """Wait until the launched worker has loaded its model; raises what loading raised."""
        conn = self._conn
        assert conn is not None, "launch() first"
        if not conn.poll(_START_TIMEOUT_S):
            self._stop()
            raise RuntimeError(
                f"the model worker of {self.name} did not load within {_START_TIMEOUT_S:.0f} s"
            )
        try:
            status, detail = conn.recv()
        except (EOFError, OSError):
            self._stop()
            raise RuntimeError(f"the model worker of {self.name} exited while loading") from None
        if status != "ready":
            self._stop()
            raise RuntimeError(detail)
        self.info = detail

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def predict(self, data: Any, want_probabilities: bool) -> tuple[Any, Any]:
        """``(predictions, probabilities or None)`` of the worker's model for ``data``."""
        with self._lock:
            if self._closed:
                raise WorkerDiedError(f"the model worker of {self.name} was stopped")
            if self._conn is None:  # died before: start a fresh one for this batch
                logger.warning("model worker of %s: restarting", self.name)
                self.start()
            assert self._conn is not None
            try:
                self._conn.send((data, want_probabilities))
                status, payload = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                code = self._process.poll() if self._process is not None else None
                self._stop()
                logger.error("model worker of %s died (exit code %s)", self.name, code)
                raise WorkerDiedError(
                    f"the model process of {self.name} died (exit code {code}); "
                    "it restarts on the next request"
                ) from None
        if status == "error":
            raise payload
        return payload

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        conn, process = self._conn, self._process
        self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)  # "leave": the worker exits after its current call
            conn.close()
        if process is not None:
            try:
                process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5.0)
            self._process = None


# -- the worker process -------------------------------------------------------------------------------


def _main(conn: Connection, folder: str, trusted: bool, parent_pid: int) -> None:
    if os.getppid() != parent_pid:  # the parent died while this one was starting
        return
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    try:
        from shipyard.models.package import load_model

        loaded = load_model(Path(folder), trusted=trusted)  # verifies every file's hash first
    except Exception as exc:  # reported to the parent, which fails the load
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    flavor, model = loaded.flavor, loaded.model
    classes = getattr(model, "classes_", None)
    info = WorkerInfo(
        flavor.name,
        loaded.signature,
        loaded.manifest,
        np.asarray(classes).tolist() if classes is not None else None,
        classes is not None and hasattr(model, "predict_proba"),
    )
    conn.send(("ready", info))
    indexes: dict[tuple[str, ...], Any] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        data, want_probabilities = message
        try:
            if isinstance(data, Block):
                data = _frame(data, indexes)
            predictions = np.asarray(flavor.predict(model, data))
            probabilities = None
            if want_probabilities:
                found = flavor.predict_proba(model, data)
                probabilities = None if found is None else np.asarray(found)
            reply: tuple[str, Any] = ("ok", (predictions, probabilities))
        except Exception as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # the model's exception (or output) does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _frame(block: Block, indexes: dict[tuple[str, ...], Any]) -> Any:
    import pandas as pd

    index = indexes.get(block.names)
    if index is None:
        index = indexes[block.names] = pd.Index(block.names)
    return pd.DataFrame(block.values, columns=index, copy=False)


def _exit_with_parent(parent_pid: int) -> None:
    """A worker must not outlive its server, even one killed with SIGKILL."""
    while True:
        time.sleep(_PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


if __name__ == "__main__":
    # Through the package's module, not this ``__main__`` copy: the parent pickles ``Block`` under
    # its package name, and ``isinstance`` must see that same class.
    from shipyard.serving import worker as _module

    _fd, _folder, _trusted, _parent = sys.argv[1:5]
    _module._main(Connection(int(_fd)), _folder, _trusted == "1", int(_parent))
