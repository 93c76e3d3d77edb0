"""The adaptive batcher: merging, bounds, isolation of failures, no waiting when idle."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from shipyard.serving.batching import AdaptiveBatcher, BatcherClosedError, BatchStats, CostModel


class SlowDouble:
    """A 'model' whose call costs ``seconds`` whatever the batch size (like a forest)."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.calls: list[list[int]] = []
        self.threads: set[str] = set()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.calls.append(list(items))
        self.threads.add(threading.current_thread().name)
        if any(i < 0 for i in items):
            raise ValueError("negative input")
        time.sleep(self.seconds)
        return [2 * i for i in items]


def run(coro):
    return asyncio.run(coro)


def test_concurrent_requests_share_model_calls_and_get_their_own_slice() -> None:
    model = SlowDouble(0.02)
    stats: list[BatchStats] = []

    async def main() -> list[int]:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=8, on_batch=stats.append)
        results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
        await batcher.close()
        return list(results)

    assert run(main()) == [2 * i for i in range(20)]
    assert len(model.calls) <= 5  # 20 requests, batches of at most 8: far fewer calls than requests
    assert all(len(call) <= 8 for call in model.calls)
    assert sorted(i for call in model.calls for i in call) == list(range(20))
    assert sum(s.rows for s in stats) == 20 and all(s.model_seconds > 0 for s in stats)
    assert not any(name == threading.main_thread().name for name in model.threads)  # off the event loop


def test_one_bad_input_fails_only_its_own_request() -> None:
    model = SlowDouble(0.005)

    async def main() -> list[object]:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=16)
        results = await asyncio.gather(*(batcher.submit(i) for i in (1, 2, -3, 4, 5)), return_exceptions=True)
        await batcher.close()
        return results

    results = run(main())
    assert results[0] == 2 and results[1] == 4 and results[3] == 8 and results[4] == 10
    assert isinstance(results[2], ValueError) and "negative" in str(results[2])


def test_a_lone_request_does_not_wait_for_company() -> None:
    model = SlowDouble(0.0)

    async def main() -> float:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=64, max_delay=0.5)
        await batcher.submit(1)  # first call teaches the cost model
        started = time.perf_counter()
        for i in range(5):
            await batcher.submit(i)
            await asyncio.sleep(0.01)  # idle gaps between requests
        await batcher.close()
        return time.perf_counter() - started

    # With max_delay 0.5 s, waiting for company would take seconds; a lone caller is answered at once.
    assert run(main()) < 0.5
    assert all(len(call) == 1 for call in model.calls)


def test_a_request_larger_than_the_batch_runs_alone_and_others_still_merge() -> None:
    model = SlowDouble(0.01)

    async def main() -> list[int]:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=4)
        jobs = [batcher.submit(100, rows=10)] + [batcher.submit(i) for i in range(6)]
        results = await asyncio.gather(*jobs)
        await batcher.close()
        return list(results)

    assert run(main()) == [200] + [2 * i for i in range(6)]
    assert [100] in model.calls
    assert max(len(c) for c in model.calls if c != [100]) <= 4


def test_close_finishes_queued_requests_then_refuses_new_ones() -> None:
    model = SlowDouble(0.01)

    async def main() -> tuple[list[int], BaseException | None]:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=2)
        jobs = [asyncio.ensure_future(batcher.submit(i)) for i in range(6)]
        await asyncio.sleep(0)  # let them queue
        await batcher.close()
        done = [await job for job in jobs]
        try:
            await batcher.submit(1)
        except BatcherClosedError as exc:
            return done, exc
        return done, None

    done, refused = run(main())
    assert done == [0, 2, 4, 6, 8, 10]
    assert isinstance(refused, BatcherClosedError)


def test_cost_model_fits_intercept_and_slope() -> None:
    model = CostModel()
    for rows in (1, 2, 4, 8, 16, 32):
        model.observe(rows, 0.002 + 0.0001 * rows)
    assert model.intercept == pytest.approx(0.002, rel=1e-6)
    assert model.slope == pytest.approx(0.0001, rel=1e-6)
    constant = CostModel()
    for _ in range(3):
        constant.observe(5, 0.01)
    assert constant.predict(50) == pytest.approx(0.01)


def test_closed_loop_callers_keep_their_batches_whole() -> None:
    """Eight callers that each send again as soon as answered: after warm-up, batches hold all eight
    rather than splitting into a big and a small batch that each pay the model's full cost."""
    model = SlowDouble(0.01)

    async def caller(batcher: AdaptiveBatcher, index: int) -> None:
        for step in range(15):
            assert await batcher.submit(index * 100 + step) == 2 * (index * 100 + step)
            await asyncio.sleep(0.001 * (index % 4))  # answers travel back at different speeds

    async def main() -> None:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=64, max_delay=0.05)
        await asyncio.gather(*(caller(batcher, i) for i in range(8)))
        await batcher.close()

    run(main())
    sizes = [len(call) for call in model.calls[4:]]  # after the cost model and the target settle
    assert sizes.count(8) >= 0.8 * len(sizes), sizes


def test_a_split_batch_heals_when_the_model_is_slower_than_max_delay() -> None:
    """Six callers, then two more while the first call runs: the two queue behind it. The model takes
    longer than ``max_delay``, so were the queued pair's wait counted from arrival they would always go
    alone, and the six returning callers after them, for ever; counted from when the model came free,
    the batcher waits for the six and the batches become whole."""
    model = SlowDouble(0.03)

    async def caller(batcher: AdaptiveBatcher, index: int, start: float) -> None:
        await asyncio.sleep(start)
        for step in range(12):
            assert await batcher.submit(index * 100 + step) == 2 * (index * 100 + step)
            await asyncio.sleep(0.001 * (index % 3))

    async def main() -> None:
        batcher = AdaptiveBatcher(model, name="t", max_batch_rows=64, max_delay=0.01)
        await batcher.submit(0)  # teach the cost model
        starts = [0.0] * 6 + [0.01, 0.01]
        await asyncio.gather(*(caller(batcher, i, s) for i, s in enumerate(starts)))
        await batcher.close()

    run(main())
    sizes = [len(call) for call in model.calls[4:-3]]  # after settling, before callers finish
    assert sizes.count(8) >= 0.7 * len(sizes), sizes
