"""Shipyard's one error tree.

Services raise these and never an HTTP exception; ``server.py`` maps each class once to a status
code and the body ``{"error_code", "message", "field"}``, and the CLI prints one red line.

    ShipyardError                      500  INTERNAL_ERROR (never raised for user input)
    ├── InvalidParameterError          400  INVALID_PARAMETER_VALUE   (also ValueError)
    │   └── UnsafePathError            400  UNSAFE_PATH
    ├── AuthenticationError            401  UNAUTHENTICATED
    ├── PermissionDeniedError          403  PERMISSION_DENIED
    ├── NotFoundError                  404  RESOURCE_DOES_NOT_EXIST   (also LookupError)
    ├── ConflictError                  409  RESOURCE_ALREADY_EXISTS
    │   └── StateConflictError         409  RESOURCE_CONFLICT   (state forbids it: open red flags ...)
    ├── PayloadTooLargeError           413  PAYLOAD_TOO_LARGE
    ├── UnsupportedMediaTypeError      415  UNSUPPORTED_MEDIA_TYPE
    ├── IntegrityError                 500  INTEGRITY_ERROR     (stored bytes do not match their hash)
    ├── ConfigurationError             ---  BAD_CONFIGURATION   (startup only: one line, exit 2)
    └── StoreUnavailableError          503  STORE_UNAVAILABLE
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
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
]


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose.

    ``field`` names the offending input (a setting, a request field, a column) when there is one.
    """

    status_code = 500
    error_code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str | None]:
        return {"error_code": self.error_code, "message": self.message, "field": self.field}


class InvalidParameterError(ShipyardError, ValueError):
    status_code = 400
    error_code = "INVALID_PARAMETER_VALUE"


class UnsafePathError(InvalidParameterError):
    """A client-supplied name that could escape its folder or smuggle a scheme."""

    error_code = "UNSAFE_PATH"


class AuthenticationError(ShipyardError):
    status_code = 401
    error_code = "UNAUTHENTICATED"


class PermissionDeniedError(ShipyardError):
    status_code = 403
    error_code = "PERMISSION_DENIED"


class NotFoundError(ShipyardError, LookupError):
    status_code = 404
    error_code = "RESOURCE_DOES_NOT_EXIST"


class ConflictError(ShipyardError):
    status_code = 409
    error_code = "RESOURCE_ALREADY_EXISTS"


class StateConflictError(ConflictError):
    """The object's state forbids the action now (e.g. open red flags, a request already decided)."""

    error_code = "RESOURCE_CONFLICT"


class PayloadTooLargeError(ShipyardError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(ShipyardError):
    status_code = 415
    error_code = "UNSUPPORTED_MEDIA_TYPE"


class IntegrityError(ShipyardError):
    """Stored bytes no longer match the hash they were stored under."""

    error_code = "INTEGRITY_ERROR"


class ConfigurationError(ShipyardError):
    """A setting is missing, malformed or unusable; raised at startup, never per request."""

    error_code = "BAD_CONFIGURATION"


class StoreUnavailableError(ShipyardError):
    status_code = 503
    error_code = "STORE_UNAVAILABLE"
