"""A model version in a process of its own, so predicting never competes with HTTP for the GIL.

In one process the event loop (parsing, validating, answering) and the model thread take turns on
the interpreter lock: a forest then predicts 1.5x slower than alone and a small pipeline 4x. A
worker process runs the model on another core; the batcher sends it one merged batch (a float block
and its column names, or the model input itself) and awaits the answer.

The worker loads the package (verifying its hashes) and the server keeps only what it needs of it
(signature, flavor, classes), so a model is loaded once; the warm-up goes through the worker before
the version takes traffic, so hot swap is unchanged. Batches travel on the event loop itself (a
non-blocking socket, multiprocessing's framing): a thread in between would have to win the
interpreter lock back from a busy event loop twice per batch. It leaves when told to, when its pipe closes,
or when its parent is gone (checked every half second), so a ``kill -9`` of the server leaves no
orphan behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import socket
import struct
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.core.errors import ShipyardError
from shipyard.models.flavors._fastpaths import FastPredictor
from shipyard.models.flavors.base import get_flavor
from shipyard.models.package import LoadedModel
from shipyard.models.signature import Signature
from shipyard.serving.blocks import Block, BlockInputs
from shipyard.serving.children import launch, watch_parent

__all__ = ["Block", "ModelWorker", "WorkerDiedError"]

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 300.0


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


class ModelWorker:
    """The parent's handle on one worker process; ``predict`` runs on the serving event loop."""

    def __init__(self, folder: Path, *, trusted: bool, name: str) -> None:
        self.folder, self.trusted, self.name = folder, trusted, name
        self._lock = threading.Lock()  # start and stop
        self._turn: asyncio.Lock | None = None  # one batch at a time on the socket
        self._process: Any = None
        self._conn: Connection | None = None  # blocking: the start-up handshake and the stop message
        self._sock: socket.socket | None = None  # the same socket, non-blocking, for the event loop
        self._received = bytearray()
        self._closed = False
        self.info: WorkerInfo | None = None

    def start(self) -> None:
        """Start the worker and wait until its model is loaded; raises what loading raised."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the worker process; it loads the model while the caller does something else."""
        trusted = "1" if self.trusted else "0"
        process, parent_sock = launch(f"{__name__}:serve_model", str(self.folder), trusted)
        self._process, self._conn = process, Connection(os.dup(parent_sock.fileno()))
        self._sock, self._received = parent_sock, bytearray()

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
        assert self._sock is not None
        self._sock.setblocking(False)  # from here on only the event loop reads it

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def predict(
        self, data: Any, want_probabilities: bool, *, meanwhile: Callable[[], None] | None = None
    ) -> tuple[Any, Any]:
        """``(predictions, probabilities or None)`` of the worker's model for ``data``.

        ``meanwhile`` (which must not raise) runs once the batch is sent, while the worker predicts.
        """
        return await self._exchange((data, want_probabilities), meanwhile)

    async def inline_predictor(self, names: tuple[str, ...]) -> FastPredictor | None:
        """The worker's proven fast way for blocks named ``names`` if it is arithmetic alone (see
        ``BlockInputs.inline_predictor``), for the server to run itself; None if there is none (yet)."""
        return await self._exchange(_InlineQuery(names), None)

    async def _exchange(self, message: Any, meanwhile: Callable[[], None] | None) -> Any:
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            if self._closed:
                raise WorkerDiedError(f"the model worker of {self.name} was stopped")
            if self._sock is None:  # died before: start a fresh one for this batch
                logger.warning("model worker of %s: restarting", self.name)
                await asyncio.to_thread(self.start)
            sock = self._sock
            assert sock is not None
            loop = asyncio.get_running_loop()
            payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                await loop.sock_sendall(sock, _header(len(payload)) + payload)
                if meanwhile is not None:
                    meanwhile()
                status, result = pickle.loads(await self._receive(loop, sock))  # noqa: S301 (our own child process)
            except (EOFError, OSError):
                code = self._process.poll() if self._process is not None else None
                await asyncio.to_thread(self._stop_locked)
                logger.error("model worker of %s died (exit code %s)", self.name, code)
                raise WorkerDiedError(
                    f"the model process of {self.name} died (exit code {code}); "
                    "it restarts on the next request"
                ) from None
            except BaseException:
                # Cancelled (or failed) between sending the batch and reading its answer: that answer
                # would be read as the next batch's, so this worker is dropped and the next call starts
                # a fresh one.
                self._abandon()
                raise
        if status == "error":
            raise result
        return result

    async def _receive(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
        """One message in multiprocessing's framing (a signed 32-bit length, -1 then 64 bits if long)."""
        buffer = self._received
        while True:
            if len(buffer) >= 4:
                (size,) = _INT.unpack_from(buffer)
                start = 4
                if size == -1 and len(buffer) >= 12:
                    (size,) = _LONG.unpack_from(buffer, 4)
                    start = 12
                if size >= 0 and len(buffer) >= start + size:
                    message = bytes(buffer[start : start + size])
                    del buffer[: start + size]
                    return message
            chunk = await loop.sock_recv(sock, 1 << 18)
            if not chunk:
                raise EOFError("the model worker closed its pipe")
            buffer += chunk

    def close(self) -> None:
        self._closed = True
        self._stop_locked()

    def _abandon(self) -> None:
        """Drop the worker at once, from the event loop (no waiting): kill it and close its pipe."""
        process, conn, sock = self._process, self._conn, self._sock
        self._process = self._conn = self._sock = None
        for channel in (sock, conn):
            if channel is not None:
                channel.close()
        if process is not None:
            process.kill()
            threading.Thread(target=process.wait, name="reap-model-worker", daemon=True).start()

    def _stop_locked(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        conn, process, sock = self._conn, self._process, self._sock
        self._conn = self._sock = None
        if sock is not None:
            sock.close()
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


@dataclass(frozen=True)
class _InlineQuery:
    names: tuple[str, ...]


_INT = struct.Struct("!i")
_LONG = struct.Struct("!Q")


def _header(size: int) -> bytes:
    """multiprocessing.connection's length prefix, so the worker reads with ``Connection.recv``."""
    return _INT.pack(size) if size <= 0x7FFFFFFF else _INT.pack(-1) + _LONG.pack(size)


# -- the worker process -------------------------------------------------------------------------------


def serve_model(conn: Connection, parent_pid: int, folder: str, trusted: str) -> None:
    """The worker process: load the package at ``folder`` (``trusted`` "1": pickle files allowed), then
    predict what the parent sends until told to leave."""
    if not watch_parent(parent_pid):
        return
    try:
        from shipyard.models.package import load_model

        loaded = load_model(Path(folder), trusted=trusted == "1")  # verifies every file's hash first
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
    inputs = BlockInputs(flavor, model, process_wide=True)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if isinstance(message, _InlineQuery):
            conn.send(("ok", inputs.inline_predictor(message.names)))
            continue
        data, want_probabilities = message
        try:
            if isinstance(data, Block):
                data = inputs.prepare(data)
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
