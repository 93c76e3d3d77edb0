"""Whether FastAPI's own OpenTelemetry hooks run: only when an OpenTelemetry provider is configured.

FastAPI 0.16x and later instrument every request natively, and ask on every request whether a
tracer, meter or logger provider has been configured: a few percent of a small request's time (an
MLflow ``log_metric``, a one-row prediction). Providers are set up before an app is built
(``opentelemetry-instrument``, or SDK setup at import), so Shipyard asks once, when it builds an
app, and leaves the hooks on exactly when one is configured.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

__all__ = ["fastapi_telemetry"]

# The API's placeholders until a real provider is set (the API has no public "is configured" query).
_PLACEHOLDERS = {"ProxyTracerProvider", "_ProxyMeterProvider", "ProxyLoggerProvider", "NoOpTracerProvider"}


def fastapi_telemetry(providers: Sequence[object] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``FastAPI(...)``: the hooks turned off when none of ``providers`` (by
    default the global tracer, meter and logger providers) is configured."""
    if "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}  # a FastAPI without native telemetry
    if providers is None:
        try:
            from opentelemetry import _logs, metrics, trace
        except ImportError:
            return {}
        providers = (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    if any(type(provider).__name__ not in _PLACEHOLDERS for provider in providers):
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
