"""What every data-plane route shares: reading a bounded body, content types, timing, request ids."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from starlette.requests import Request

from shipyard.core.errors import PayloadTooLargeError
from shipyard.serving.manager import Endpoint, ServingManager
from shipyard.serving.rows import Rows
from shipyard.serving.runtime import ModelRuntime, Prediction
from shipyard.serving.runtime import Request as InferRequest

__all__ = ["BodyLimit", "Call", "new_request_id", "read_body", "run_inference"]


#: The endpoint label of requests naming no endpoint served here: names from clients must not mint
#: new metric series (that would let any caller grow the metrics without bound).
UNKNOWN = "(unknown)"


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex`` (which costs a UUID object per request)."""
    return os.urandom(16).hex()


class BodyLimit:
    """Counts a body's bytes as they arrive and refuses (413) past ``limit``, before reading it all."""

    def __init__(self, limit: int, declared: str | None) -> None:
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLargeError(
                f"request body of {declared} bytes is over the {limit}-byte limit", field="body"
            )
        self.limit, self.size = limit, 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise PayloadTooLargeError(f"request body is over the {self.limit}-byte limit", field="body")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` bytes before reading it all."""
    counter = BodyLimit(limit, request.headers.get("content-length"))
    chunks = []
    async for chunk in request.stream():
        counter.add(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Call:
    """One inference call's bookkeeping, for the response and the metrics."""

    endpoint: str
    protocol: str
    received_at: float
    started: float
    runtime: ModelRuntime | None = None
    _released: bool = False

    @classmethod
    def begin(cls, endpoint: str, protocol: str) -> Call:
        return cls(endpoint, protocol, time.time(), time.perf_counter())

    def use(self, runtime: ModelRuntime) -> ModelRuntime:
        """Hold ``runtime`` for this call: a swapped-out version is unloaded only once nobody holds it.

        Taken before the first ``await`` of the handler, so no swap can slip in between."""
        runtime.users += 1
        self.runtime = runtime
        return runtime

    def finish(self, manager: ServingManager, status: int) -> None:
        runtime = self.runtime
        if runtime is not None and not self._released:
            runtime.users -= 1
            self._released = True
        manager.metrics.observe_request(
            endpoint=self.endpoint if self.endpoint in manager.endpoints else UNKNOWN,
            model=runtime.ref.name if runtime else "",
            version=runtime.ref.version if runtime else "",
            protocol=self.protocol,
            status=status,
            seconds=time.perf_counter() - self.started,
        )


async def run_inference(
    call: Call,
    endpoint: Endpoint,
    runtime: ModelRuntime,
    rows: Rows,
    *,
    request_id: str,
    want_probabilities: bool,
) -> Prediction:
    """Predict through the batcher and wait until the prediction log holds the result."""
    call.runtime = runtime
    prediction = await runtime.infer(
        InferRequest(
            rows, want_probabilities, request_id, call.protocol, call.received_at, endpoint.should_log()
        )
    )
    if prediction.logged is not None:
        await runtime.until_logged(prediction.logged)
    return prediction
