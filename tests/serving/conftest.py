"""Serving fixtures: a live control plane with fast alias polling and two registered models."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from shipyard.testing.serving import breast_cancer, forest, pipeline, register_package
from tests import live_http


@pytest.fixture
def serving_platform(settings: Settings) -> Iterator[Platform]:
    with Platform.open(settings.model_copy(update={"serving_poll_seconds": 0.1})) as opened:
        yield opened


def register_models(platform: Platform) -> dict[str, int]:
    """``cancer-rf`` (a small forest) and ``cancer-lr`` (scaler + logistic regression), alias ``live``."""
    x, _ = breast_cancer()
    return {
        "cancer-rf": register_package(platform, "cancer-rf", forest(), input_example=x.head(3), alias="live"),
        "cancer-lr": register_package(
            platform, "cancer-lr", pipeline(), input_example=x.head(3), alias="live"
        ),
    }


@pytest.fixture
def registered(serving_platform: Platform) -> dict[str, int]:
    return register_models(serving_platform)


@pytest.fixture
def serving_url(serving_platform: Platform, registered: dict[str, int]) -> Iterator[str]:
    with live_server(create_app(platform=serving_platform)) as url:
        yield url


def wait_serving(
    client: httpx.Client,
    name: str,
    version: str | None = None,
    *,
    model: str | None = None,
    timeout: float = 60.0,
) -> dict:
    """Poll the endpoint until it serves ``version`` of ``model`` (any when None); fail on a load error."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/endpoints/{name}").json()
        status = body.get("status", {})
        wanted = (version is None or status.get("version") == version) and (
            model is None or status.get("model_name") == model
        )
        if status.get("state") == "ready" and wanted:
            return body
        if status.get("state") == "failed":
            raise AssertionError(f"endpoint {name} failed: {status.get('error')}")
        time.sleep(0.05)
    raise AssertionError(f"endpoint {name} not serving {version} after {timeout} s: {body}")


def create_endpoints(url: str) -> None:
    """Endpoints ``rf`` and ``lr`` following alias ``live`` of the models ``register_models`` logs."""
    with live_http.Client(base_url=url, timeout=30) as client:
        for name, model in (("rf", "cancer-rf"), ("lr", "cancer-lr")):
            response = client.post(
                "/api/v1/endpoints", json={"name": name, "model_uri": f"models:/{model}@live"}
            )
            assert response.status_code == 201, response.text
        for name in ("rf", "lr"):
            wait_serving(client, name)


@pytest.fixture
def endpoints_ready(serving_url: str) -> str:
    """Endpoints ``rf`` and ``lr`` following alias ``live``; returns the server URL."""
    create_endpoints(serving_url)
    return serving_url
