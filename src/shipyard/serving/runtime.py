"""A loaded model version ready to serve: its batcher, its outputs and its warm-up.

``ModelRuntime.infer`` takes one request's validated rows and returns that request's slice of
the batch result. Probabilities are computed only when some request in the batch asks for them:
for a forest, ``predict`` already costs one ``predict_proba``, so computing both would double the
model's time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.models.flavors._fastpaths import FastPredictor
from shipyard.models.package import INPUT_EXAMPLE, LoadedModel
from shipyard.models.signature import Signature
from shipyard.serving.batching import AdaptiveBatcher, BatchStats
from shipyard.serving.blocks import Block, BlockInputs
from shipyard.serving.rows import Rows, concat, to_model_input, validate_array, validate_columns
from shipyard.serving.worker import ModelWorker

__all__ = ["INLINE_MAX_CELLS", "ModelRef", "ModelRuntime", "Prediction", "Request"]

logger = logging.getLogger(__name__)

#: The largest batch (rows x columns) predicted on the event loop by an arithmetic-only fast way:
#: 64 rows of 256 columns, some tens of microseconds.
INLINE_MAX_CELLS = 64 * 256


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


#: Given a batch's answers (per request, and for the whole batch: predictions and probabilities or
#: None), submit the batch to the log; returns what to wait on (None: nothing).
LogCommit = Callable[[Sequence[Prediction], Any, Any], "Future[None] | None"]
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
        #: The model's thread, when it predicts in this process.
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{ref.name}-v{ref.version}")
            if worker is None
            else None
        )
        self._inline: tuple[tuple[str, ...], FastPredictor] | None = None  # see _adopt_inline
        self._inline_asked: set[tuple[str, ...]] = set()
        self.inline_seconds = 0.0  # spent predicting on the event loop
        self.batcher: AdaptiveBatcher[Request, Prediction] = AdaptiveBatcher(
            self._run,
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

    # -- the model call: on the event loop, on the model's thread, or in the worker process ------------
    async def _run(self, requests: Sequence[Request]) -> list[Prediction]:
        merged, want = self._merge(requests)
        block = self._inline_block(merged)
        if block is not None:
            return self._run_inline(requests, merged, block, want)
        if self.worker is not None:
            return await self._run_in_worker(requests, merged, want)
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._executor, self._run_here, requests, merged, want)
        names, blocks = merged.names, self._blocks
        # Decided with this column list's first block: asked once, not every batch.
        if (
            blocks is not None
            and merged.block is not None
            and names is not None
            and names not in self._inline_asked
        ):
            self._adopt_inline(names, blocks.inline_predictor(names))
        return results

    def _inline_block(self, merged: Rows) -> np.ndarray | None:
        """The batch's float block if the proven arithmetic way (see ``_adopt_inline``) takes it."""
        inline, block = self._inline, merged.block
        if inline is None or block is None or merged.names != inline[0] or block.size > INLINE_MAX_CELLS:
            return None
        return block if inline[1].accepts(block) else None

    def _run_inline(
        self, requests: Sequence[Request], merged: Rows, block: np.ndarray, want: bool
    ) -> list[Prediction]:
        assert self._inline is not None
        predictor = self._inline[1]
        started = time.perf_counter()
        predictions = predictor.predict(block)
        probabilities = predictor.predict_proba(block) if want and predictor.classifier else None
        self.inline_seconds += time.perf_counter() - started
        return self._split(requests, merged, predictions, probabilities, self._prepare_log(requests, merged))

    def _adopt_inline(self, names: tuple[str, ...], predictor: FastPredictor | None) -> None:
        """Predict blocks named ``names`` on the event loop from now on, with ``predictor``.

        Only a fast way that is arithmetic alone is offered (a linear model behind scalers: it runs none
        of the model's code, and 64 rows cost it ~10 us): handing such a batch to the model's thread or
        worker costs the event loop more than the arithmetic does, and the answers wait for the
        hand-off. It was proven against the model where it was built; ``INLINE_MAX_CELLS`` bounds what
        one call may take of the loop's time."""
        self._inline_asked.add(names)
        if predictor is not None and self._inline is None:
            self._inline = (names, predictor)

    async def _run_in_worker(self, requests: Sequence[Request], merged: Rows, want: bool) -> list[Prediction]:
        assert self.worker is not None
        names = merged.names
        data = (
            Block(merged.block, names)
            if merged.block is not None and names is not None
            else to_model_input(merged, self.signature)
        )
        commit: list[LogCommit | Exception | None] = []

        def meanwhile() -> None:  # the event loop would idle while the worker predicts
            commit.append(self._prepare_log(requests, merged))

        predictions, probabilities = await self.worker.predict(data, want, meanwhile=meanwhile)
        if isinstance(data, Block) and names is not None and names not in self._inline_asked:
            await self._ask_inline(data, predictions, probabilities)
        return self._split(requests, merged, predictions, probabilities, commit[0] if commit else None)

    async def _ask_inline(self, block: Block, predictions: Any, probabilities: Any) -> None:
        """Ask the worker, once per column list, for its arithmetic way (see ``_adopt_inline``)."""
        assert self.worker is not None
        try:
            offered = await self.worker.inline_predictor(block.names)
        except Exception:  # the batch has its answers; a worker that died is restarted by the next one
            logger.warning("model worker of %s: could not ask for its fast way", self.ref.name, exc_info=True)
            return
        # Built in the worker and proven there; here it must also give the worker's answers.
        if offered is not None and not _same_answers(offered, block.values, predictions, probabilities):
            offered = None
        self._adopt_inline(block.names, offered)

    def _run_here(self, requests: Sequence[Request], merged: Rows, want: bool) -> list[Prediction]:
        if merged.block is not None and merged.names is not None and self._blocks is not None:
            data = self._blocks.prepare(Block(merged.block, merged.names))  # the bare array, if proven
        else:
            data = to_model_input(merged, self.signature)
        predictions, probabilities = self._predict_here(data, want)
        commit = self._prepare_log(requests, merged)
        return self._split(requests, merged, predictions, probabilities, commit)

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
            logged = commit(results, predictions, probabilities)
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
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self.worker is not None:
            await asyncio.to_thread(self.worker.close)


def _same_answers(predictor: FastPredictor, block: np.ndarray, predictions: Any, probabilities: Any) -> bool:
    """Whether ``predictor`` gives the answers the model gave for ``block``: the same labels, and
    numbers within 1e-12 of the largest one (the same arithmetic on a copy of the block at another
    address can round differently in the last bit: NumPy's vector loops depend on alignment)."""
    try:
        if not predictor.accepts(block):
            return False
        pairs = [(np.asarray(predictions), predictor.predict(block))]
        if probabilities is not None:
            pairs.append((np.asarray(probabilities), predictor.predict_proba(block)))
    except Exception:  # it fails where the model did not: the worker keeps predicting
        return False
    return all(_agree(want, got) for want, got in pairs)


def _agree(want: np.ndarray, got: np.ndarray) -> bool:
    if want.shape != got.shape or want.dtype != got.dtype:
        return False
    if want.dtype.kind != "f":
        return bool(np.array_equal(want, got))
    scale = float(np.abs(want).max()) if want.size else 0.0
    return bool(np.allclose(want, got, rtol=0.0, atol=1e-12 * max(scale, 1e-300)))
