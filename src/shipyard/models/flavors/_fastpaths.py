"""Faster ways to predict common scikit-learn models, used only once proven on the model's own answers.

``ForestPredictor`` (``_forests``) and ``LinearPredictor`` (``_linear``) skip per-call overhead that
scikit-learn pays on small batches. Neither is trusted on its description alone: ``predictor_for``
predicts a model's first batch that the fast way can take both ways, and keeps the fast way for
that model only if predictions (and probabilities) agree, bit for bit where the arithmetic is the
same (within 1e-12 relative where the model itself sums in a thread-dependent order).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol

import numpy as np

from shipyard.models.flavors._forests import ForestPredictor
from shipyard.models.flavors._linear import LinearPredictor

__all__ = ["FastPredictor", "fast_predictor_of", "predictor_for", "proven_predictor"]


class FastPredictor(Protocol):
    classifier: bool
    exact: bool  # answers must match bit for bit (else within 1e-12 relative)
    model_checks: bool  # the model's own input checks run (say, warning of an array without names)

    def accepts(self, data: Any) -> bool:
        """Whether this predictor computes the model's answer on ``data`` at all."""
        ...

    def suits(self, data: Any) -> bool:
        """Whether it is the faster way for ``data`` (implies ``accepts``)."""
        ...

    def predict(self, data: Any) -> np.ndarray: ...

    def predict_proba(self, data: Any) -> np.ndarray: ...


def fast_predictor_of(model: Any) -> FastPredictor | None:
    return ForestPredictor.of(model) or LinearPredictor.of(model)


# Keyed by the model object: a model's decision is taken once, on the first data that can prove it;
# until then its candidate is kept, so data the fast way does not take costs a dict lookup, not a rebuild.
_DECIDED: weakref.WeakKeyDictionary[Any, FastPredictor | None] = weakref.WeakKeyDictionary()
_CANDIDATES: weakref.WeakKeyDictionary[Any, FastPredictor] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def proven_predictor(model: Any) -> FastPredictor | None:
    """The fast way of ``model`` once proven on its own answers (see ``predictor_for``), else None."""
    try:
        return _DECIDED.get(model)
    except TypeError:  # not weak-referenceable
        return None


def predictor_for(model: Any, data: Any) -> tuple[FastPredictor | None, Any]:
    """The proven fast predictor of ``model`` (or None), and, when this call predicted with the model
    itself, its predictions for ``data`` (else None): the caller returns those rather than predict again."""
    try:
        return _DECIDED[model], None
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: never fast
        return None, None
    predictor = _CANDIDATES.get(model) or fast_predictor_of(model)
    if predictor is not None and not predictor.accepts(data):
        # Nothing to prove on this data: the caller predicts it its own way (once), and a later batch
        # that the fast way takes decides.
        with _LOCK:
            _CANDIDATES[model] = predictor
        return None, None
    expected = model.predict(data)
    if predictor is not None and not _agrees(predictor, model, data, expected):
        predictor = None
    with _LOCK:
        _DECIDED[model] = predictor
        _CANDIDATES.pop(model, None)
    return predictor, expected


def _agrees(predictor: FastPredictor, model: Any, data: Any, expected: Any) -> bool:
    try:
        pairs = [(np.asarray(expected), predictor.predict(data))]
        if predictor.classifier and hasattr(model, "predict_proba"):
            pairs.append((np.asarray(model.predict_proba(data)), predictor.predict_proba(data)))
    except Exception:  # the fast way fails where the model does not: keep the model's way
        return False
    for want, got in pairs:
        if want.shape != got.shape or want.dtype != got.dtype:
            return False
        if predictor.exact or want.dtype.kind not in "fc":
            if not np.array_equal(want, got):
                return False
        elif not np.allclose(want, got, rtol=1e-12, atol=0.0):
            return False
    return True
