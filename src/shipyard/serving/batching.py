"""Adaptive batching: concurrent requests for one model become one model call.

One batch per model is in flight at a time; while it runs, new requests queue and form the next
batch, so under load batches grow by themselves and nothing waits when traffic is light. When the
model is free and the queue is short, the batcher waits a little longer only when that pays: it
keeps a running estimate of the arrival rate and of the model's cost ``t(n) = a + b·n`` (refitted
from the batches it ran) and waits when the rows expected to arrive raise rows per second more
than the wait costs. The wait never exceeds ``max_delay`` for the oldest request (counted from
when the model came free) nor half a model call, and it ends as soon as arrivals pause. A
synchronous model call runs on a dedicated thread, off the event loop; an asynchronous one (a model
in a worker process) is awaited on the loop. If a batch fails, each request is retried alone so
that one bad input fails only itself.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["AdaptiveBatcher", "BatchStats", "BatcherClosedError", "CostModel"]

In = TypeVar("In")
Out = TypeVar("Out")


class BatcherClosedError(RuntimeError):
    """The batcher stopped (its model was unloaded) before the request ran."""


class CostModel:
    """Least-squares fit of batch duration against batch rows over the last ``window`` batches.

    >>> model = CostModel()
    >>> for rows, seconds in [(1, 0.010), (8, 0.011), (16, 0.012), (4, 0.0105)]:
    ...     model.observe(rows, seconds)
    >>> round(model.predict(32) * 1000, 1)
    14.1
    """

    def __init__(self, window: int = 64) -> None:
        self._samples: collections.deque[tuple[int, float]] = collections.deque(maxlen=window)
        # Running sums over the window: each batch updates the fit in O(1), on the event loop.
        self._n = self._sx = self._sy = self._sxx = self._sxy = 0.0
        self.intercept = 0.0
        self.slope = 0.0

    def observe(self, rows: int, seconds: float) -> None:
        if len(self._samples) == self._samples.maxlen:
            self._add(*self._samples[0], sign=-1.0)
        self._samples.append((rows, seconds))
        self._add(rows, seconds, sign=1.0)
        n, sx, sy = self._n, self._sx, self._sy
        spread = n * self._sxx - sx * sx
        if spread > 1e-9 * max(n * self._sxx, 1.0):
            slope = (n * self._sxy - sx * sy) / spread
            self.slope = max(slope, 0.0)
            self.intercept = max((sy - slope * sx) / n, 0.0)
        else:  # every batch the same size: the cost is their mean
            self.slope, self.intercept = 0.0, sy / n

    def _add(self, rows: float, seconds: float, *, sign: float) -> None:
        self._n += sign
        self._sx += sign * rows
        self._sy += sign * seconds
        self._sxx += sign * rows * rows
        self._sxy += sign * rows * seconds

    @property
    def samples(self) -> int:
        return len(self._samples)

    def predict(self, rows: float) -> float:
        return self.intercept + self.slope * rows


@dataclass
class BatchStats:
    """What one model call looked like, for metrics."""

    rows: int
    requests: int
    queue_seconds: list[float]
    model_seconds: float


@dataclass
class _Pending(Generic[In, Out]):
    item: In
    rows: int
    arrived: float
    future: asyncio.Future[Out] = field(repr=False)


Run = Callable[[Sequence[In]], Sequence[Out]] | Callable[[Sequence[In]], Awaitable[Sequence[Out]]]


class AdaptiveBatcher(Generic[In, Out]):
    """Merge concurrent ``submit`` calls into calls of ``run(items) -> outputs`` (same length, same order).

    A synchronous ``run`` runs on the batcher's own thread; a coroutine function is awaited on the
    event loop. ``on_batch`` (optional) gets the stats of every model call, on the event loop.
    """

    def __init__(
        self,
        run: Run[In, Out],
        *,
        name: str,
        max_batch_rows: int = 64,
        max_delay: float = 0.010,
        on_batch: Callable[[BatchStats], None] | None = None,
    ) -> None:
        self._run = run
        self.name = name
        self.max_batch_rows = max_batch_rows
        self.max_delay = max_delay
        self._on_batch = on_batch
        self._queue: collections.deque[_Pending[In, Out]] = collections.deque()
        self._queued_rows = 0
        self._arrived = asyncio.Event()
        self._waiter: asyncio.Future[None] | None = None  # set while gathering (see _next_arrival)
        self._woken = False
        self._executor = (
            None
            if inspect.iscoroutinefunction(run)
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")
        )
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.cost = CostModel()
        self._gap = 1.0  # smoothed seconds between arrivals; starts "idle"
        self._last_arrival = 0.0
        self._last_rows = 1
        self._free_since = 0.0  # when the last model call ended
        self.in_flight = 0

    # -- submitting ---------------------------------------------------------------------------------
    async def submit(self, item: In, rows: int = 1) -> Out:
        if self._closed:
            raise BatcherClosedError(f"model {self.name} is unloading")
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = loop.create_task(self._dispatch(), name=f"batcher-{self.name}")
        now = time.perf_counter()
        if self._last_arrival:
            gap = now - self._last_arrival
            if gap < 1.0:  # idle periods say nothing about the rate under load
                self._gap += 0.2 * (gap - self._gap)
        self._last_arrival = now
        pending: _Pending[In, Out] = _Pending(item, rows, now, loop.create_future())
        self._queue.append(pending)
        self._queued_rows += rows
        self.in_flight += 1
        self._arrived.set()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._woken = True
            waiter.set_result(None)
        try:
            return await pending.future
        finally:
            self.in_flight -= 1

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- dispatching --------------------------------------------------------------------------------
    def _wait_budget(self) -> float:
        """Seconds worth waiting for more rows now (0 = dispatch)."""
        rows = self._queued_rows
        if rows >= self.max_batch_rows:
            return 0.0
        # The added latency is the wait while the model is free: a request that queued behind a
        # running batch waited for the model, not for company, so its clock starts when the model
        # came free (else, whenever a model call outlasts ``max_delay``, the queued few always go
        # alone while the rest of the callers are on their way back, and batches stay split).
        age = time.perf_counter() - max(self._queue[0].arrived, self._free_since)
        budget = min(self.max_delay - age, 0.5 * self.cost.predict(rows))
        if budget <= 0:
            return 0.0
        if rows < self._last_rows:
            # Under steady concurrency the callers the last batch answered are on their way back:
            # waiting for them keeps batches whole instead of splitting them into a large and a
            # small one that each pay the model's full cost.
            return budget
        expected = budget / max(self._gap, 1e-6)  # rows likely to arrive within the budget
        if expected < 1.0:
            return 0.0
        more = min(rows + expected, self.max_batch_rows)
        now_rate = rows / max(self.cost.predict(rows), 1e-9)
        later_rate = more / max(self.cost.predict(more) + budget, 1e-9)
        return budget if later_rate > now_rate else 0.0

    async def _gather(self) -> None:
        """Wait while waiting pays; once the last batch's size is reached, stop when arrivals pause."""
        deadline = time.perf_counter() + self._wait_budget()
        while self._queued_rows < self.max_batch_rows:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            pause = remaining if self._queued_rows < self._last_rows else max(2 * self._gap, 0.001)
            if not await self._next_arrival(min(remaining, pause)):
                return

    async def _next_arrival(self, timeout: float) -> bool:
        """Wait for the next submit, at most ``timeout`` seconds; whether one came.

        A future and a timer rather than ``asyncio.wait_for``, which creates a task per call: this
        runs once per arriving request under load."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(timeout, lambda: waiter.done() or waiter.set_result(None))
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return self._arrivals_since_wait()

    def _arrivals_since_wait(self) -> bool:
        arrived, self._woken = self._woken, False
        return arrived

    def _take(self) -> list[_Pending[In, Out]]:
        batch = [self._queue.popleft()]
        rows = batch[0].rows
        while self._queue and rows + self._queue[0].rows <= self.max_batch_rows:
            pending = self._queue.popleft()
            batch.append(pending)
            rows += pending.rows
        self._queued_rows -= rows
        return batch

    async def _dispatch(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            await self._gather()
            batch = self._take()
            live = [p for p in batch if not p.future.done()]  # a caller may have gone away
            if not live:
                continue
            started = time.perf_counter()
            items = [p.item for p in live]
            try:
                outputs = await self._run_isolated(items)
            except BaseException as exc:
                for pending in live:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            self._free_since = time.perf_counter()
            elapsed = self._free_since - started
            rows = sum(p.rows for p in live)
            self.cost.observe(rows, elapsed)
            self._last_rows = rows
            for pending, output in zip(live, outputs, strict=True):
                if pending.future.done():
                    continue
                if isinstance(output, _Failure):
                    pending.future.set_exception(output.error)
                else:
                    pending.future.set_result(output)
            if self._on_batch is not None:
                self._on_batch(BatchStats(rows, len(live), [started - p.arrived for p in live], elapsed))

    async def _run_isolated(self, items: list[In]) -> list[Any]:
        """Run the batch; if it fails, run each item alone so only the culprit fails."""
        try:
            outputs = await self._call(items)
        except Exception as exc:
            if len(items) == 1:
                return [_Failure(exc)]
        else:
            return self._checked(items, outputs)
        results: list[Any] = []
        for item in items:
            try:
                results.extend(await self._call([item]))
            except Exception as exc:
                results.append(_Failure(exc))
        return results

    def _call(self, items: list[In]) -> Awaitable[Sequence[Out]]:
        """One call of ``run``: awaited on the loop, or on the batcher's thread for a synchronous one."""
        if self._executor is None:
            return self._run(items)  # type: ignore[return-value]
        return asyncio.get_running_loop().run_in_executor(self._executor, self._run, items)  # type: ignore[arg-type]

    def _checked(self, items: list[In], outputs: Sequence[Any]) -> list[Any]:
        outputs = list(outputs)
        if len(outputs) != len(items):
            raise RuntimeError(f"model {self.name} returned {len(outputs)} results for {len(items)} inputs")
        return outputs

    # -- stopping -----------------------------------------------------------------------------------
    async def close(self, *, timeout: float = 30.0) -> None:
        """Stop taking requests, finish the queued ones (bounded by ``timeout``), free the thread."""
        self._closed = True
        self._arrived.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
            except TimeoutError:
                self._task.cancel()
            for pending in self._queue:
                if not pending.future.done():
                    pending.future.set_exception(BatcherClosedError(f"model {self.name} was unloaded"))
            self._queue.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class _Failure:
    error: Exception
