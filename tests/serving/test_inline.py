"""Float batches of a model whose proven fast way is arithmetic alone are predicted on the event loop:
the same answers, bit for bit, as the model (in the worker or on the model's thread); everything else
still goes to the model."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest

from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.models.flavors._linear import LinearPredictor
from shipyard.serving.manager import EndpointSpec, ServingManager
from shipyard.serving.rows import validate_array
from shipyard.serving.runtime import INLINE_MAX_CELLS, ModelRuntime, Request, _same_answers
from shipyard.serving.sources import PlatformSource
from shipyard.testing.serving import breast_cancer, forest, pipeline, register_package

pytestmark = pytest.mark.slow


def _serve(
    settings: Settings,
    tmp_path: Path,
    model: object,
    check: Callable[[ModelRuntime], Awaitable[None]],
    *,
    model_processes: bool = True,
) -> None:
    """Register ``model``, serve it (warm, unlogged) and run ``check`` on its runtime."""
    x, _ = breast_cancer()
    with Platform.open(settings) as platform:
        register_package(platform, "cancer", model, input_example=x.head(3), alias="live")
        source = PlatformSource(platform, tmp_path / "cache")
        manager = ServingManager(source, model_processes=model_processes)

        async def main() -> None:
            await manager.start([EndpointSpec("cancer", "models:/cancer@live", log_predictions=False)])
            try:
                await check((await manager.wait_ready("cancer")).runtime())
            finally:
                await manager.stop()

        asyncio.run(main())


def _bare(model: object, method: str, rows: np.ndarray) -> np.ndarray:
    """The model's answer for the bare array, which is what the worker predicts from once proven (a
    frame can be multiplied in another memory order, so its probabilities may differ in the last bit)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return getattr(model, method)(rows)


async def _predict(
    runtime: ModelRuntime, rows: np.ndarray, proba: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    prediction = await runtime.infer(Request(validate_array(runtime.signature, rows.tolist()), proba))
    return prediction.predictions, prediction.probabilities


@pytest.mark.parametrize("model_processes", [True, False], ids=["worker", "in-process"])
def test_a_warm_pipeline_predicts_floats_on_the_event_loop_with_the_models_answers(
    settings: Settings, tmp_path: Path, model_processes: bool
) -> None:
    x, _ = breast_cancer()
    expected = pipeline()
    rows = x.to_numpy(dtype=np.float64)

    async def check(runtime: ModelRuntime) -> None:
        assert runtime._inline is not None, "the warm-up should have proven the arithmetic way"
        seconds = runtime.inline_seconds
        for start, size in ((0, 1), (5, 16), (100, 64), (300, 7)):
            batch = rows[start : start + size]
            for proba in (False, True):
                predictions, probabilities = await _predict(runtime, batch, proba)
                assert predictions.tolist() == expected.predict(x.iloc[start : start + size]).tolist()
                if proba:
                    want = _bare(expected, "predict_proba", batch)
                    assert probabilities is not None and np.allclose(probabilities, want, rtol=0, atol=1e-12)
                else:
                    assert probabilities is None
        assert runtime.inline_seconds > seconds, "no batch was predicted on the event loop"

    _serve(settings, tmp_path, expected, check, model_processes=model_processes)


def test_a_batch_the_arithmetic_way_does_not_take_goes_to_the_model(
    settings: Settings, tmp_path: Path
) -> None:
    """Too large for the event loop, or rows it does not accept (a NaN): the worker predicts (or
    refuses, as the model would)."""
    x, _ = breast_cancer()
    rows = x.to_numpy(dtype=np.float64)
    large = np.tile(rows, (INLINE_MAX_CELLS // rows.size + 1, 1))[: INLINE_MAX_CELLS // rows.shape[1] + 1]

    async def check(runtime: ModelRuntime) -> None:
        seconds = runtime.inline_seconds
        big = await runtime.infer(Request(validate_array(runtime.signature, large.tolist(), max_rows=10**6)))
        assert big.predictions.tolist() == _bare(pipeline(), "predict", large).tolist()
        assert runtime.inline_seconds == seconds
        with_nan = rows[:2].copy()
        with_nan[1, 3] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            await runtime.infer(Request(validate_array(runtime.signature, with_nan.tolist())))
        assert runtime.inline_seconds == seconds

    _serve(settings, tmp_path, pipeline(), check)


def test_a_forest_is_never_predicted_on_the_event_loop(settings: Settings, tmp_path: Path) -> None:
    """Its fast way runs the model's own code (scikit-learn's trees): that stays in the worker."""
    x, _ = breast_cancer()

    async def check(runtime: ModelRuntime) -> None:
        predictions, _ = await _predict(runtime, x.to_numpy(dtype=np.float64)[:16], False)
        assert predictions.tolist() == forest().predict(x.iloc[:16]).tolist()
        assert runtime._inline is None and runtime.inline_seconds == 0.0

    _serve(settings, tmp_path, forest(), check)


def test_an_offered_way_that_disagrees_with_the_worker_is_refused() -> None:
    x, _ = breast_cancer()
    model = pipeline()
    rows = np.ascontiguousarray(x.to_numpy(dtype=np.float64)[:16])
    honest = LinearPredictor.of(model)
    assert honest is not None
    labels, proba = _bare(model, "predict", rows), _bare(model, "predict_proba", rows)
    assert _same_answers(honest, rows, labels, proba)
    assert _same_answers(honest, rows, labels, None)
    tampered = LinearPredictor.of(model)
    assert tampered is not None
    tampered.intercept = tampered.intercept + 1e-6  # probabilities move, most labels do not
    assert not _same_answers(tampered, rows, labels, proba)
    assert not _same_answers(honest, rows[:, :5], labels, None)  # not a batch it takes
