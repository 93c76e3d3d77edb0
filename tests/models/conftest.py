"""Fixtures for the model tests: a client in both modes, and the MLflow client fixture of tests/compat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shipyard import Client
from shipyard._client.base import BaseClient
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.platform import Platform
from tests.compat.conftest import mlflow_url  # noqa: F401  (the fixture, shared)


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, platform: Platform, server_url: str) -> Iterator[BaseClient]:
    if request.param == "embedded":
        with EmbeddedClient(platform, owns_platform=False) as embedded:
            yield embedded
    else:
        with Client(server_url) as remote:
            yield remote
