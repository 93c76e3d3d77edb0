"""The linear predictor gives a linear model's (or scaler pipeline's) answers bit for bit, or is not used."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from shipyard.models.flavors._fastpaths import predictor_for
from shipyard.models.flavors._linear import LinearPredictor
from shipyard.models.flavors.sklearn import SklearnFlavor

RNG = np.random.default_rng(11)
X_TRAIN = RNG.normal(loc=3.0, scale=[1.0, 5.0, 0.1, 2.0, 1.0], size=(300, 5))
COLUMNS = [f"f{i}" for i in range(5)]
Y_BINARY = (X_TRAIN[:, 0] - 3 + (X_TRAIN[:, 2] - 3) * 4 > 0.2).astype(int)
Y_THREE = np.where(X_TRAIN[:, 1] > 4, "high", np.where(X_TRAIN[:, 3] > 3, "mid", "low"))
Y_VALUE = X_TRAIN @ np.array([1.5, -0.3, 4.0, 0.0, 2.0]) + RNG.normal(scale=0.1, size=300)

MODELS: dict[str, Any] = {
    "logistic-binary": LogisticRegression(max_iter=1000).fit(X_TRAIN, Y_BINARY),
    "logistic-three-classes": LogisticRegression(max_iter=1000).fit(X_TRAIN, Y_THREE),
    "scaler-logistic": make_pipeline(StandardScaler(), LogisticRegression()).fit(X_TRAIN, Y_BINARY),
    "scaler-logistic-three": make_pipeline(StandardScaler(), LogisticRegression()).fit(X_TRAIN, Y_THREE),
    "scaler-logistic-on-a-frame": make_pipeline(StandardScaler(), LogisticRegression()).fit(
        pd.DataFrame(X_TRAIN, columns=COLUMNS), Y_BINARY
    ),
    "linear-regression": LinearRegression().fit(X_TRAIN, Y_VALUE),
    "two-scalers-ridge": make_pipeline(
        StandardScaler(with_mean=False), StandardScaler(with_std=False), Ridge(alpha=0.5)
    ).fit(X_TRAIN, Y_VALUE),
    "multi-output-regression": LinearRegression().fit(X_TRAIN, np.c_[Y_VALUE, -2 * Y_VALUE]),
}


# The model server's worker passes a bare array to a model fitted on a frame (proven equal, see
# serving/worker.py) and silences this warning there; the same input is what is compared here.
NAMES_WARNING = "ignore:X does not have valid feature names:UserWarning"


@pytest.mark.filterwarnings(NAMES_WARNING)
@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(sorted(MODELS)),
    rows=st.integers(min_value=1, max_value=64),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    scale=st.sampled_from([0.001, 1.0, 1000.0]),
)
def test_answers_are_bit_identical_to_the_models_own(name: str, rows: int, seed: int, scale: float) -> None:
    model = MODELS[name]
    data = np.random.default_rng(seed).normal(loc=3.0, scale=scale, size=(rows, 5))
    predictor = LinearPredictor.of(model)
    assert predictor is not None and predictor.accepts(data)
    with np.errstate(over="ignore"):  # exp of huge scores in softmax/expit, as in the model itself
        want, got = model.predict(data), predictor.predict(data)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        if hasattr(model, "predict_proba"):
            want_p, got_p = model.predict_proba(data), predictor.predict_proba(data)
            assert got_p.dtype == want_p.dtype and np.array_equal(got_p, want_p)


@pytest.mark.filterwarnings(NAMES_WARNING)
def test_the_flavor_decides_on_the_first_array_and_leaves_the_callers_data_alone() -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(pd.DataFrame(X_TRAIN, columns=COLUMNS), Y_THREE)
    flavor = SklearnFlavor()
    frame = pd.DataFrame(X_TRAIN[:8], columns=COLUMNS)
    assert np.array_equal(flavor.predict(model, frame), model.predict(frame))
    assert predictor_for(model, frame)[0] is None  # a frame proves nothing: still undecided
    batch = X_TRAIN[:16].copy()
    assert np.array_equal(flavor.predict(model, batch), model.predict(batch))  # decided here
    predictor, decided = predictor_for(model, batch)
    assert isinstance(predictor, LinearPredictor) and decided is None
    later = X_TRAIN[100:140].copy()
    assert np.array_equal(flavor.predict(model, later), model.predict(later))
    assert np.array_equal(flavor.predict_proba(model, later), model.predict_proba(later))
    assert np.array_equal(later, X_TRAIN[100:140])  # scaled on a copy


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(MinMaxScaler(), LogisticRegression()),
        make_pipeline(PCA(n_components=3), LinearRegression()),
        Lasso(alpha=0.1),
        type("MyLogistic", (LogisticRegression,), {})(),
        make_pipeline(StandardScaler()),
    ],
    ids=["other-scaler", "pca", "lasso", "subclass", "no-estimator"],
)
def test_other_models_keep_their_own_predict(model: Any) -> None:
    target = Y_VALUE if isinstance(model, Lasso) or "pca" in str(model).lower() else Y_BINARY
    model.fit(X_TRAIN, target)
    assert LinearPredictor.of(model) is None


@pytest.mark.parametrize(
    "data",
    [
        np.array([[1.0, np.nan, 3.0, 4.0, 5.0]]),
        np.array([[1.0, 2.0, np.inf, 4.0, 5.0]]),
        X_TRAIN[:3, :4],
        X_TRAIN[:3].astype(np.float32),
        X_TRAIN[:3].astype(int),
        pd.DataFrame(X_TRAIN[:3], columns=COLUMNS),
    ],
    ids=["nan", "inf", "too-few-columns", "float32", "integers", "frame"],
)
@pytest.mark.filterwarnings(NAMES_WARNING)
def test_input_the_checks_would_touch_goes_to_the_model(data: Any) -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(pd.DataFrame(X_TRAIN, columns=COLUMNS), Y_BINARY)
    predictor = LinearPredictor.of(model)
    assert predictor is not None and not predictor.suits(data)
    flavor = SklearnFlavor()
    flavor.predict(model, X_TRAIN[:4])  # decided: the fast way from here on where it suits
    try:
        want: Any = model.predict(data)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc).split("\n")[0][:30]):
            flavor.predict(model, data)
    else:
        assert np.array_equal(flavor.predict(model, data), want)


def test_data_the_fast_way_does_not_take_is_predicted_once() -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(pd.DataFrame(X_TRAIN, columns=COLUMNS), Y_BINARY)
    calls: list[str] = []
    own_predict = model.predict
    model.predict = lambda data: calls.append("predict") or own_predict(data)  # type: ignore[method-assign]
    frame, flavor = pd.DataFrame(X_TRAIN[:8], columns=COLUMNS), SklearnFlavor()
    for _ in range(3):  # undecided all along: each call predicts once, probabilities add no predict
        flavor.predict(model, frame)
        flavor.predict_proba(model, frame)
    assert calls == ["predict"] * 3
