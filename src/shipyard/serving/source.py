"""Where served models come from: a URI resolved to a version, then a verified local package.

The serving layer depends only on this protocol, so the same runtime serves from the local store,
from a remote Shipyard server, or (in tests) from packages saved on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from shipyard.serving.runtime import ModelRef

__all__ = ["ModelSource", "follows_alias"]


class ModelSource(Protocol):
    def resolve(self, uri: str) -> ModelRef:
        """The version ``uri`` names right now (``models:/NAME@ALIAS`` moves; a version does not)."""
        ...

    def fetch(self, ref: ModelRef) -> tuple[Path, bool]:
        """A local folder holding the version's package with every file's hash checked, and whether
        it is trusted (its bytes came from the platform's own registry, so pickle formats may load)."""
        ...


def follows_alias(uri: str) -> bool:
    """Whether the version behind ``uri`` can change without the URI changing.

    >>> follows_alias("models:/churn@champion"), follows_alias("models:/churn/latest")
    (True, True)
    >>> follows_alias("models:/churn/3"), follows_alias("runs:/abc/model")
    (False, False)
    """
    if not uri.startswith("models:/") or uri.startswith("models:/m-"):
        return False
    rest = uri.removeprefix("models:/")
    return "@" in rest or rest.rstrip("/").endswith("/latest")
