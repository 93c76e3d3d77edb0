"""Monitoring: reference profiles, drift tests with Evidently's semantics, sketches and drift types."""

from __future__ import annotations

__all__: list[str] = []
