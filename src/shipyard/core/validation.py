"""Checks for plain text that clients send: names, keys, filters.

PostgreSQL refuses NUL bytes in text and control characters make names unprintable, so both are
rejected at the edge with the field named, on SQLite too (so both databases behave the same).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from shipyard.core.errors import InvalidParameterError

__all__ = ["CleanText", "check_text"]


def check_text(value: str, *, field: str, max_length: int | None = None, allow_empty: bool = True) -> str:
    """Return ``value`` when it has no NUL or control characters (and fits), else raise.

    >>> check_text("churn-model", field="name")
    'churn-model'
    """
    if not isinstance(value, str):
        raise InvalidParameterError(f"{field} must be a string; got {type(value).__name__}", field=field)
    if not allow_empty and not value.strip():
        raise InvalidParameterError(f"{field} must not be empty", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidParameterError(
            f"{field} is {len(value)} characters long; the limit is {max_length}", field=field
        )
    if value.isprintable():  # in C: no "Other" character at all, so no control one (the usual case)
        return value
    for position, char in enumerate(value):
        if char == "\x00" or unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidParameterError(
                f"{field} must not contain control characters; found {char!r} at position {position}",
                field=field,
            )
    return value


def _clean(value: str) -> str:
    # Inside pydantic the field name is added by the location, so the message says what is wrong.
    if value.isprintable():
        return value
    for char in value:
        if char == "\x00" or unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"must not contain control characters; found {char!r}")
    return value


CleanText = Annotated[str, AfterValidator(_clean)]
