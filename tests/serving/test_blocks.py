"""How a float block reaches a model predicting in the server's own process: the bare array only where
that is proven to give the frame's answers and never reaches scikit-learn's checks (which would warn
that the names are missing); the frame everywhere else. Warnings are errors in these tests, so one
that escaped would fail them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.models.flavors.base import get_flavor
from shipyard.serving.blocks import Block, BlockInputs
from shipyard.testing.serving import breast_cancer

SKLEARN = get_flavor("sklearn")


def _block(x: pd.DataFrame, start: int, rows: int) -> Block:
    values = np.ascontiguousarray(x.iloc[start : start + rows].to_numpy(dtype=np.float64))
    return Block(values, tuple(str(c) for c in x.columns))


def _answers(inputs: BlockInputs, block: Block) -> tuple[Any, np.ndarray]:
    data = inputs.prepare(block)
    return data, np.asarray(SKLEARN.predict(inputs.model, data))


def test_a_linear_pipeline_takes_the_bare_array_with_the_frames_answers() -> None:
    x, y = breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    inputs = BlockInputs(SKLEARN, model, process_wide=False)
    for start, rows in [(0, 16), (100, 1), (300, 40)]:
        data, predictions = _answers(inputs, _block(x, start, rows))
        assert isinstance(data, np.ndarray)
        assert predictions.tolist() == model.predict(x.iloc[start : start + rows]).tolist()


@pytest.mark.parametrize("case", ["no-fast-way", "selects-by-name"])
def test_everything_else_keeps_the_frame(case: str) -> None:
    x, y = breast_cancer()
    names = tuple(str(c) for c in x.columns)
    model: Any
    if case == "no-fast-way":  # bare would be the same, but every call would reach sklearn's checks
        model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(x, y)
    else:
        picked = ColumnTransformer([("some", StandardScaler(), list(names[:5]))])
        model = make_pipeline(picked, LogisticRegression(max_iter=1000)).fit(x, y)
    block = _block(x, 10, 8)
    data, predictions = _answers(BlockInputs(SKLEARN, model, process_wide=False), block)
    assert isinstance(data, pd.DataFrame)
    assert list(data.columns) == list(block.names)
    assert predictions.tolist() == model.predict(data).tolist()
