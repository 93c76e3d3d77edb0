"""Direct dispatch of hot routes answers exactly as FastAPI's own routing would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from shipyard.compat.mlflow import registry as mlflow_registry
from shipyard.compat.mlflow import tracking as mlflow_tracking
from shipyard.compat.mlflow._wire import read_params
from shipyard.core.direct import DirectRoutes, compile_route
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from tests import live_http

API = "/api/2.0/mlflow"


def _routes() -> list[APIRoute]:
    return [
        r for r in [*mlflow_tracking.router.routes, *mlflow_registry.router.routes] if isinstance(r, APIRoute)
    ]


def _without_direct(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not DirectRoutes]
    return app


def test_hot_routes_compile_and_others_are_left_to_fastapi() -> None:
    table = DirectRoutes(None, owner=FastAPI(), routes=_routes(), request_dependencies=[read_params]).table  # type: ignore[arg-type]
    for method, path in [
        ("POST", "runs/create"),
        ("POST", "runs/log-parameter"),
        ("POST", "runs/log-metric"),
        ("POST", "runs/log-batch"),
        ("POST", "runs/update"),
        ("GET", "runs/get"),
        ("POST", "runs/search"),
        ("GET", "metrics/get-history"),
        ("POST", "registered-models/create"),
    ]:
        assert (method, f"{API}/{path}") in table
    # Path parameters are FastAPI's to parse.
    assert not any("{" in path for _, path in table)
    with_path = next(r for r in _routes() if "{" in r.path)
    assert compile_route(with_path, [read_params]) is None
    # A dependency it does not know (here the field reader itself) keeps a route on FastAPI's path.
    assert compile_route(next(r for r in _routes() if r.path.endswith("runs/create"))) is None


@contextmanager
def _clients(platform: Platform) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of two live servers on one platform: with direct dispatch, and with FastAPI's routing only."""
    # The second server shares the database; hosted serving (which owns its folder) stays with the first.
    with (
        Platform.open(platform.settings.model_copy(update={"serving_enabled": False})) as second,
        live_server(create_app(platform=platform)) as direct_url,
        live_server(_without_direct(create_app(platform=second))) as routed_url,
        live_http.Client(base_url=direct_url) as direct,
        live_http.Client(base_url=routed_url) as routed,
    ):
        yield direct, routed


def _exchange(client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = client.request(method, f"{API}/{path}", **kwargs)
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, body


def test_answers_match_fastapi_routing(platform: Platform) -> None:
    with _clients(platform) as (direct, routed):
        _compare(direct, routed)


def _compare(direct: httpx.Client, routed: httpx.Client) -> None:
    experiment_id = direct.post(f"{API}/experiments/create", json={"name": "direct"}).json()["experiment_id"]
    run_id = direct.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"][
        "run_id"
    ]
    direct.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.1"})
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "runs/get", {"params": {"run_id": run_id}}),
        ("GET", "runs/get", {"params": {"run_id": "0" * 32}}),
        ("GET", "runs/get", {"params": {"run_id": "../etc"}}),
        ("GET", "runs/get", {}),
        ("POST", "runs/log-parameter", {"json": {"run_id": run_id, "key": "lr", "value": "0.2"}}),
        ("POST", "runs/log-metric", {"json": {"run_id": run_id, "key": "m", "value": "x", "timestamp": 1}}),
        ("POST", "runs/log-metric", {"json": {"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1}}),
        ("POST", "runs/update", {"json": {"run_id": run_id, "status": "NAPPING"}}),
        ("POST", "runs/create", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("POST", "runs/create", {"content": b"[]", "headers": {"content-type": "application/json"}}),
        ("POST", "runs/create", {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        ("POST", "runs/create", {"json": {"experiment_id": "999999"}}),
        ("POST", "runs/search", {"json": {"experiment_ids": [experiment_id], "filter": "metrics.m >"}}),
        ("POST", "runs/search", {"json": {"experiment_ids": [experiment_id], "max_results": 0}}),
        ("PUT", "runs/create", {"json": {}}),
    ]
    for method, path, kwargs in cases:
        expected = _exchange(routed, method, path, **kwargs)
        assert _exchange(direct, method, path, **kwargs) == expected, (method, path, kwargs)
        assert expected[0] != 500
    status, body = _exchange(direct, "GET", "runs/get", params={"run_id": "0" * 32})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    run = direct.get(f"{API}/runs/get", params={"run_id": run_id})
    assert run.headers["x-request-id"] and run.json()["run"]["data"]["params"] == [
        {"key": "lr", "value": "0.1"}
    ]


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (None, "POST", "runs/search", {"experiment_ids": ["0"]}),
        ("viewer", "POST", "runs/search", {"experiment_ids": ["0"]}),
        (None, "POST", "runs/create", {"experiment_id": "0"}),
        ("viewer", "POST", "runs/create", {"experiment_id": "0"}),
        ("editor", "POST", "runs/create", {"experiment_id": "0"}),
        ("bogus", "POST", "runs/create", {"experiment_id": "0"}),
    ],
)
def test_roles_are_checked_alike(
    auth_platform: Platform, tokens: dict[str, str], role: str | None, method: str, path: str, body: Any
) -> None:
    headers = {} if role is None else {"Authorization": f"Bearer {tokens.get(role, 'not-a-token')}"}
    with _clients(auth_platform) as (direct, routed):
        direct_status, direct_body = _exchange(direct, method, path, json=body, headers=headers)
        routed_status, routed_body = _exchange(routed, method, path, json=body, headers=headers)
    assert direct_status == routed_status
    if direct_status != 200:  # a created run has its own id
        assert direct_body == routed_body
    assert direct_status == {None: 401, "bogus": 401, "viewer": 403 if path == "runs/create" else 200}.get(
        role, 200
    )
