"""The flavor interface and the registry of flavors."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar

from shipyard.core.errors import InvalidParameterError

__all__ = ["FLAVORS", "Flavor", "flavor_for", "get_flavor", "register"]

FLAVORS: dict[str, Flavor] = {}


class Flavor(abc.ABC):
    """Saves a kind of model into a folder and loads it back into something that predicts."""

    name: ClassVar[str]
    #: True when loading runs code from the files (pickle): allowed only for trusted packages.
    executes_code: ClassVar[bool] = False

    def runs_code(self, conf: dict[str, Any]) -> bool:
        """Whether loading the package described by ``conf`` can run code (a pickle file)."""
        return self.executes_code

    @abc.abstractmethod
    def accepts(self, model: Any) -> bool:
        """Whether this flavor can save ``model``."""

    @abc.abstractmethod
    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        """Write the model's files into ``folder``; return the flavor's MLmodel section."""

    @abc.abstractmethod
    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        """Load what ``save`` wrote."""

    @abc.abstractmethod
    def predict(self, model: Any, data: Any) -> Any: ...

    def predict_with_params(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        """``predict`` with inference parameters; flavors whose models take none ignore them."""
        return self.predict(model, data)

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        """Class probabilities, or None when the model has none."""
        return None

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        """The ``python_function`` section MLflow needs to load this flavor, if it can."""
        return None


def register(cls: type[Flavor]) -> type[Flavor]:
    """Class decorator: make a flavor available by name (``get_flavor``) and to ``flavor_for``."""
    FLAVORS[cls.name] = cls()
    return cls


def get_flavor(name: str) -> Flavor:
    flavor = FLAVORS.get(name)
    if flavor is None:
        raise InvalidParameterError(
            f"unknown model flavor {name!r}; known: {', '.join(sorted(FLAVORS))}", field="flavor"
        )
    return flavor


def flavor_for(model: Any) -> Flavor:
    """The flavor that can save ``model`` (first match in registration order)."""
    for flavor in FLAVORS.values():
        if flavor.accepts(model):
            return flavor
    raise InvalidParameterError(
        f"no flavor can save a {type(model).__module__}.{type(model).__name__}; wrap it in a "
        "shipyard.models.PythonModel subclass (python_function flavor)",
        field="model",
    )
