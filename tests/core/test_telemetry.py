"""FastAPI's OpenTelemetry hooks: off without a configured provider, left alone with one."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI

from shipyard.core.telemetry import fastapi_telemetry

trace = pytest.importorskip("opentelemetry.trace")
pytestmark = pytest.mark.skipif(
    "telemetry" not in inspect.signature(FastAPI).parameters, reason="this FastAPI has no native telemetry"
)


class TracerProvider:  # what an SDK's provider looks like to the check: any type but the placeholders
    pass


def test_hooks_are_off_when_no_provider_is_configured() -> None:
    assert fastapi_telemetry() == {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    assert fastapi_telemetry([trace.ProxyTracerProvider()])["telemetry"]["tracing"] is False


def test_a_configured_provider_keeps_fastapis_defaults() -> None:
    assert fastapi_telemetry([trace.ProxyTracerProvider(), TracerProvider()]) == {}


def test_the_options_are_accepted_by_fastapi() -> None:
    app = FastAPI(**fastapi_telemetry())
    assert app.title == "FastAPI"
