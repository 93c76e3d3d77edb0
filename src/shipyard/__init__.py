"""Shipyard: a self-hosted ML lifecycle platform, from use-case canvas to self-improving model."""

from typing import TYPE_CHECKING, Any

from shipyard._version import __version__
from shipyard.core.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    IntegrityError,
    InvalidParameterError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ShipyardError,
    StateConflictError,
    StoreUnavailableError,
    UnsafePathError,
    UnsupportedMediaTypeError,
)

if TYPE_CHECKING:
    from shipyard.client import Client
    from shipyard.tracking.evaluation import beats, evaluate


def __getattr__(name: str) -> Any:
    # Lazy, so that light commands (``shipyard drift``) do not import the ORM and web stack.
    if name == "Client":
        from shipyard.client import Client

        return Client
    if name in ("evaluate", "beats"):
        from shipyard.tracking import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'shipyard' has no attribute {name!r}")


__all__ = [
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "IntegrityError",
    "InvalidParameterError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ShipyardError",
    "StateConflictError",
    "StoreUnavailableError",
    "UnsafePathError",
    "UnsupportedMediaTypeError",
    "__version__",
    "beats",
    "evaluate",
]
