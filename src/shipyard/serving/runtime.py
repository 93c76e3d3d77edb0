"""A loaded model version ready to serve: its batcher, its outputs and its warm-up.

``ModelRuntime.infer`` takes one request's validated rows and returns that request's slice of
the batch result. Probabilities are computed only when some request in the batch asks for them:
for a forest, ``predict`` already costs one ``predict_proba``, so computing both would double the
model's time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.models.package import INPUT_EXAMPLE, LoadedModel
from shipyard.models.signature import Signature
from shipyard.serving.batching import AdaptiveBatcher, BatchStats
from shipyard.serving.blocks import Block, BlockInputs
from shipyard.serving.rows import Rows, concat, to_model_input, validate_array, validate_columns
from shipyard.serving.worker import ModelWorker

__all__ = ["ModelRef", "ModelRuntime", "Prediction", "Request"]


@dataclass(frozen=True)
class ModelRef:
    """One registered model version (or a run's package) as the serving layer knows it."""

    name: str
    version: str
    uri: str
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """One caller's rows, with what the prediction log needs to know about them."""

    rows: Rows
    want_probabilities: bool = False
    request_id: str = ""
    protocol: str = "native"
    received_at: float = 0.0  # epoch seconds
    log: bool = True


@dataclass(frozen=True, slots=True)
class Prediction:
    predictions: np.ndarray
    probabilities: np.ndarray | None
    #: Resolves when the batch this came from is in the prediction log (None: not logged).
    logged: Future[None] | None = None


#: Given a batch's predictions, submit the batch to the log; returns what to wait on (None: nothing).
LogCommit = Callable[[Sequence[Prediction]], "Future[None] | None"]
#: Given the batch's requests and merged rows, prepare its log record (None: nothing to log). Called
#: while the model predicts, so that only the outputs are left to do between predictions and answers.
BatchLogger = Callable[["ModelRuntime", Sequence[Request], Rows], LogCommit | None]


class ModelRuntime:
    def __init__(
        self,
        ref: ModelRef,
        loaded: LoadedModel,
        *,
        folder: Path | None = None,
        max_batch_rows: int = 64,
        max_delay: float = 0.010,
        on_batch: Callable[[ModelRuntime, BatchStats], None] | None = None,
        log_batch: BatchLogger | None = None,
        worker: ModelWorker | None = None,
    ) -> None:
        self.ref = ref
        self.loaded = loaded
        self.signature: Signature | None = loaded.signature
        self.folder = folder
        self.loaded_at = time.time()
        self.load_seconds = 0.0
        if worker is not None and worker.info is not None:  # the model object lives in the worker
            self.classes: list[Any] | None = worker.info.classes
            self.has_probabilities = worker.info.has_probabilities
        else:
            classes = getattr(loaded.model, "classes_", None)
            self.classes = np.asarray(classes).tolist() if classes is not None else None
            self.has_probabilities = self.classes is not None and hasattr(loaded.model, "predict_proba")
        self.predict_dtype: np.dtype | None = None
        self._log_batch = log_batch
        #: When set, the model runs in this process of its own (see serving.worker), not here.
        self.worker = worker
        #: How float blocks reach the model here (the worker has its own).
        self._blocks = (
            None if worker is not None else BlockInputs(loaded.flavor, loaded.model, process_wide=False)
        )
        self._logged: tuple[Future[None], asyncio.Future[None]] | None = None
        self.users = 0  # calls holding this runtime (see serving.http.Call.use)
        self.batcher: AdaptiveBatcher[Request, Prediction] = AdaptiveBatcher(
            self._run_in_worker if worker is not None else self._run_here,
            name=f"{ref.name}-v{ref.version}",
            max_batch_rows=max_batch_rows,
            max_delay=max_delay,
            on_batch=(lambda stats: on_batch(self, stats)) if on_batch else None,
        )

    @property
    def flavor(self) -> str:
        return self.loaded.flavor.name

    @property
    def in_flight(self) -> int:
        """Requests holding this version: reading their body, queued, predicting or being answered."""
        return max(self.users, self.batcher.in_flight)

    async def infer(self, request: Request) -> Prediction:
        return await self.batcher.submit(request, request.rows.n)

    def until_logged(self, logged: Future[None]) -> Awaitable[None]:
        """Wait for a batch's log write. The requests of one batch share one asyncio future, so the
        log's writer wakes the event loop once per batch rather than once per request; each request
        waits through a shield, so one cancelled caller cannot cancel its neighbours' wait."""
        last = self._logged
        if last is None or last[0] is not logged:
            last = self._logged = (logged, asyncio.wrap_future(logged))
        return asyncio.shield(last[1])

    # -- the model call: on the batcher's thread, or awaited from the worker process ------------------
    def _run_here(self, requests: Sequence[Request]) -> list[Prediction]:
        merged, want = self._merge(requests)
        if merged.block is not None and merged.names is not None and self._blocks is not None:
            data = self._blocks.prepare(Block(merged.block, merged.names))  # the bare array, if proven
        else:
            data = to_model_input(merged, self.signature)
        predictions, probabilities = self._predict_here(data, want)
        commit = self._prepare_log(requests, merged)
        return self._split(requests, merged, predictions, probabilities, commit)

    async def _run_in_worker(self, requests: Sequence[Request]) -> list[Prediction]:
        assert self.worker is not None
        merged, want = self._merge(requests)
        data = (
            Block(merged.block, merged.names)
            if merged.block is not None and merged.names is not None
            else to_model_input(merged, self.signature)
        )
        commit: list[LogCommit | Exception | None] = []

        def meanwhile() -> None:  # the event loop would idle while the worker predicts
            commit.append(self._prepare_log(requests, merged))

        predictions, probabilities = await self.worker.predict(data, want, meanwhile=meanwhile)
        return self._split(requests, merged, predictions, probabilities, commit[0] if commit else None)

    def _prepare_log(self, requests: Sequence[Request], merged: Rows) -> LogCommit | Exception | None:
        if self._log_batch is None:
            return None
        try:
            return self._log_batch(self, requests, merged)
        except Exception as exc:  # raised with the predictions, as a failed submit would be
            return exc

    def _merge(self, requests: Sequence[Request]) -> tuple[Rows, bool]:
        parts = [r.rows for r in requests]
        merged = parts[0] if len(parts) == 1 else concat(parts)
        return merged, self.has_probabilities and any(r.want_probabilities for r in requests)

    def _split(
        self,
        requests: Sequence[Request],
        merged: Rows,
        predictions: Any,
        probabilities: Any,
        commit: LogCommit | Exception | None,
    ) -> list[Prediction]:
        """Each request's slice of the batch result, submitted to the prediction log."""
        if len(predictions) != merged.n:
            raise RuntimeError(f"the model returned {len(predictions)} predictions for {merged.n} rows")
        results, start = [], 0
        for request in requests:
            stop = start + request.rows.n
            proba = (
                probabilities[start:stop]
                if probabilities is not None and request.want_probabilities
                else None
            )
            results.append(Prediction(predictions[start:stop], proba))
            start = stop
        if isinstance(commit, Exception):
            raise commit
        if commit is not None:
            logged = commit(results)
            if logged is not None:
                results = [Prediction(r.predictions, r.probabilities, logged) for r in results]
        return results

    def _predict_here(self, data: Any, want_probabilities: bool) -> tuple[np.ndarray, np.ndarray | None]:
        flavor, model = self.loaded.flavor, self.loaded.model
        predictions = np.asarray(flavor.predict(model, data))
        probabilities = None
        if want_probabilities:
            found = flavor.predict_proba(model, data)
            probabilities = None if found is None else np.asarray(found)
        return predictions, probabilities

    # -- life cycle ---------------------------------------------------------------------------------
    def example_rows(self) -> Rows | None:
        """The package's input example as validated rows, if it has one."""
        if self.folder is None or not (self.folder / INPUT_EXAMPLE).is_file():
            return None
        example = json.loads((self.folder / INPUT_EXAMPLE).read_text())
        columns, data = example.get("columns"), example.get("data")
        if columns and isinstance(self.signature.inputs if self.signature else None, tuple):
            return validate_columns(
                self.signature, {c: [row[i] for row in data] for i, c in enumerate(columns)}
            )
        return validate_array(self.signature, data, names=columns)

    async def warm(self) -> None:
        """Predict the input example through the batcher; raises what the model raises."""
        rows = self.example_rows()
        if rows is None:
            return
        # Not logged: a warm-up is not a prediction anyone asked for.
        prediction = await self.infer(Request(rows, self.has_probabilities, protocol="warmup", log=False))
        self.predict_dtype = prediction.predictions.dtype

    async def close(self, *, timeout: float = 30.0) -> None:
        await self.batcher.close(timeout=timeout)
        if self.worker is not None:
            await asyncio.to_thread(self.worker.close)
