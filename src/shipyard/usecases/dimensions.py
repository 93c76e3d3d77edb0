"""The scoring dimensions of the two axes of the prioritisation matrix, and the score range."""

from __future__ import annotations

__all__ = ["ALL_DIMENSIONS", "AXES", "EASE_DIMENSIONS", "MAX_SCORE", "VALUE_DIMENSIONS"]

VALUE_DIMENSIONS = ("economic_value", "strategic_alignment")
EASE_DIMENSIONS = ("data_availability", "technology_maturity", "process_integration", "know_how")
AXES: dict[str, tuple[str, ...]] = {"value": VALUE_DIMENSIONS, "ease": EASE_DIMENSIONS}
ALL_DIMENSIONS = VALUE_DIMENSIONS + EASE_DIMENSIONS
MAX_SCORE = 5.0
