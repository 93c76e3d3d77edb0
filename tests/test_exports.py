"""Every module declares ``__all__`` and every name in it exists (as sklearn and HTTPX check)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import shipyard

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(shipyard.__path__, "shipyard.")
    if ".migrations" not in info.name and not info.name.endswith("__main__")
)


def _isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions: the order ruff's RUF022 fix produces."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", MODULES)
def test_module_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    if hasattr(module, "__path__") and not hasattr(module, "__all__"):
        return  # a package may be a bare namespace; its modules carry the exports
    assert hasattr(module, "__all__"), f"{name} declares no __all__"
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names missing members {missing}"
    assert list(module.__all__) == sorted(module.__all__, key=_isort_key), f"{name}.__all__ is not sorted"


def test_top_level_namespace() -> None:
    assert shipyard.Client.__name__ == "Client"
    for name in shipyard.__all__:
        assert getattr(shipyard, name) is not None
