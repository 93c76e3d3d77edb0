"""The tree-by-tree forest predictor gives a one-job forest's answers bit for bit, or is not used."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import is_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.models.flavors._fastpaths import predictor_for
from shipyard.models.flavors._forests import ForestPredictor
from shipyard.models.flavors.sklearn import SklearnFlavor

RNG = np.random.default_rng(7)
X_TRAIN = RNG.normal(size=(300, 6))
COLUMNS = [f"f{i}" for i in range(6)]
Y_CLASS = np.where(X_TRAIN[:, 0] + X_TRAIN[:, 1] > 0, "yes", np.where(X_TRAIN[:, 2] > 0.5, "maybe", "no"))
Y_VALUE = X_TRAIN[:, 0] * 3 - X_TRAIN[:, 3] + RNG.normal(scale=0.1, size=300)


def _fitted(factory: Any, *, frame: bool = False, n_jobs: int | None = None) -> Any:
    model = factory(n_estimators=25, random_state=0, n_jobs=n_jobs)
    data = pd.DataFrame(X_TRAIN, columns=COLUMNS) if frame else X_TRAIN
    target = Y_CLASS if is_classifier(model) else Y_VALUE
    return model.fit(data, target)


FORESTS = {
    "random-forest-classifier": lambda: _fitted(RandomForestClassifier),
    "extra-trees-classifier": lambda: _fitted(ExtraTreesClassifier),
    "random-forest-regressor": lambda: _fitted(RandomForestRegressor),
    "extra-trees-regressor": lambda: _fitted(ExtraTreesRegressor),
    "fitted-on-a-frame": lambda: _fitted(RandomForestClassifier, frame=True),
}
_MODELS = {name: factory() for name, factory in FORESTS.items()}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(FORESTS)),
    rows=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    scale=st.sampled_from([0.01, 1.0, 100.0]),
)
def test_answers_are_bit_identical_to_the_forests_own(name: str, rows: int, seed: int, scale: float) -> None:
    model = _MODELS[name]
    data = np.random.default_rng(seed).normal(scale=scale, size=(rows, 6))
    if name == "fitted-on-a-frame":
        data = pd.DataFrame(data, columns=COLUMNS)
    predictor = ForestPredictor.of(model)
    assert predictor is not None
    want, got = model.predict(data), predictor.predict(data)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    if hasattr(model, "predict_proba"):
        assert np.array_equal(predictor.predict_proba(data), model.predict_proba(data))


def test_the_flavor_decides_on_the_first_batch_and_then_predicts_tree_by_tree() -> None:
    model, flavor = _fitted(RandomForestClassifier), SklearnFlavor()
    batch = X_TRAIN[:16]
    assert np.array_equal(flavor.predict(model, batch), model.predict(batch))  # decided here
    predictor, decided = predictor_for(model, batch)
    assert isinstance(predictor, ForestPredictor) and decided is None
    later = X_TRAIN[100:130]
    assert np.array_equal(flavor.predict(model, later), model.predict(later))
    assert np.array_equal(flavor.predict_proba(model, later), model.predict_proba(later))


def test_a_multi_job_forest_agrees_within_its_own_summing_order() -> None:
    model = _fitted(RandomForestRegressor, n_jobs=2)
    predictor, decided = predictor_for(model, X_TRAIN[:16])
    assert predictor is not None and decided is not None
    np.testing.assert_allclose(predictor.predict(X_TRAIN), model.predict(X_TRAIN), rtol=1e-12, atol=0)
    # Its threads pay off on large batches: those keep the forest's own predict.
    assert predictor.suits(X_TRAIN[:16]) and not predictor.suits(X_TRAIN)
    assert ForestPredictor.of(_fitted(RandomForestRegressor)).suits(X_TRAIN)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)),
        GradientBoostingClassifier(n_estimators=5, random_state=0),
        type("MyForest", (RandomForestClassifier,), {})(n_estimators=5, random_state=0),
    ],
    ids=["pipeline", "boosting", "subclass"],
)
def test_other_models_keep_their_own_predict(model: Any) -> None:
    model.fit(X_TRAIN, Y_CLASS)
    assert ForestPredictor.of(model) is None
    predictor, decided = predictor_for(model, X_TRAIN[:5])
    assert predictor is None and np.array_equal(decided, model.predict(X_TRAIN[:5]))


def test_a_multi_output_forest_keeps_its_own_predict() -> None:
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X_TRAIN, np.c_[Y_VALUE, -Y_VALUE])
    assert ForestPredictor.of(model) is None


def test_bad_input_fails_as_the_forest_itself_fails() -> None:
    model, flavor = _fitted(RandomForestClassifier), SklearnFlavor()
    flavor.predict(model, X_TRAIN[:4])
    with pytest.raises(ValueError, match="features"):
        flavor.predict(model, X_TRAIN[:4, :5])
    with pytest.raises(ValueError, match="features"):
        model.predict(X_TRAIN[:4, :5])


def test_missing_values_follow_the_forests_rules() -> None:
    model, flavor = _fitted(RandomForestClassifier), SklearnFlavor()
    with_nan = X_TRAIN[:8].copy()
    with_nan[2, 3] = np.nan
    flavor.predict(model, X_TRAIN[:8])
    # scikit-learn's forests route NaN down a learned side; the tree-by-tree path does the same.
    assert np.array_equal(flavor.predict(model, with_nan), model.predict(with_nan))
