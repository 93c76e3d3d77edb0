"""Checks run over every route of the application, discovered from ``app.routes``.

A stage that adds a mutating route must add an example call to ``MUTATION_EXAMPLES`` in its
``tests/<stage>/route_examples.py`` (``test_every_mutating_route_has_an_audit_example`` fails until
it does), so that the audit check below covers it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shipyard.core.auth import Role
from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.server import create_app
from shipyard.testing.checks import PUBLIC_PATHS, RouteInfo, iter_routes, required_role, sample_path
from tests import live_http

APP = create_app(Settings(home=Path("/nonexistent-shipyard-home")))
ROUTES = list(iter_routes(APP))
PROTECTED = [r for r in ROUTES if r.path not in PUBLIC_PATHS]
MUTATING = [r for r in ROUTES if r.mutating]
# Data-plane writes (prediction feedback) are data, not configuration: stored in the prediction log.
AUDITED = [r for r in MUTATING if not r.data_plane]
# Inference protocols answer unknown models in their own error shape (V2: {"error"}).
READ_WITH_ID = [
    r for r in ROUTES if not r.mutating and "{" in r.path and r.method == "GET" and not r.data_plane
]


def _ids(routes: list[RouteInfo]) -> list[str]:
    return [r.id for r in routes]


def _discover_examples() -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """Each stage's ``tests/<stage>/route_examples.py`` maps "METHOD /path" to a valid call."""
    examples: dict[str, Callable[[httpx.Client], httpx.Response]] = {}
    for module_path in sorted(Path(__file__).parent.glob("*/route_examples.py")):
        module = importlib.import_module(f"tests.{module_path.parent.name}.route_examples")
        examples.update(module.MUTATION_EXAMPLES)
    return examples


MUTATION_EXAMPLES = _discover_examples()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_routes_were_discovered() -> None:
    assert len(ROUTES) >= 8 and MUTATING


def test_discovery_matches_openapi() -> None:
    document = APP.openapi()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    # OpenAPI drops Starlette's path convertors ({p:path} is documented as {p}).
    discovered = {(r.method, re.sub(r":\w+}", "}", r.path)) for r in ROUTES if r.route.include_in_schema}
    assert discovered == documented


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_route_is_documented(route: RouteInfo) -> None:
    assert route.route.include_in_schema, f"{route.id} is hidden from OpenAPI"
    assert route.route.summary or route.route.description, f"{route.id} has no summary"


@pytest.mark.parametrize("route", MUTATING, ids=_ids(MUTATING))
def test_mutating_route_demands_a_writing_role(route: RouteInfo) -> None:
    role = required_role(route.route)
    assert role is not None and role.rank >= Role.EDITOR.rank, f"{route.id} demands {role}"


@pytest.mark.parametrize("route", AUDITED, ids=_ids(AUDITED))
def test_every_mutating_route_has_an_audit_example(route: RouteInfo) -> None:
    assert route.id in MUTATION_EXAMPLES, f"add an example for {route.id} to tests/<stage>/route_examples.py"


def test_checks_cover_protected_routes(auth_server_url: str, tokens: dict[str, str]) -> None:
    """One live server per backend runs the auth checks over every route (cheaper than one per route)."""
    failures: list[str] = []
    viewer = bearer(tokens["viewer"])
    with live_http.Client(base_url=auth_server_url, timeout=30) as client:
        for route in PROTECTED:
            path = sample_path(route.path)
            anonymous = client.request(route.method, path, json={})
            if anonymous.status_code != 401:
                failures.append(f"{route.id} without a token gave {anonymous.status_code}, not 401")
            if route.mutating:
                as_viewer = client.request(route.method, path, json={}, headers=viewer)
                if as_viewer.status_code != 403:
                    failures.append(f"{route.id} as viewer gave {as_viewer.status_code}, not 403")
                elif as_viewer.json().get("error_code") != "PERMISSION_DENIED":
                    failures.append(f"{route.id} 403 without the error shape")
    assert not failures, "\n".join(failures)


def test_unknown_ids_are_404_with_the_error_shape(server_url: str) -> None:
    failures: list[str] = []
    with live_http.Client(base_url=server_url, timeout=30) as client:
        for route in READ_WITH_ID:
            required = {
                p.name: "file.txt" for p in route.route.dependant.query_params if p.field_info.is_required()
            }
            response = client.get(sample_path(route.path), params=required)
            if response.status_code != 404 or response.json().get("error_code") != "RESOURCE_DOES_NOT_EXIST":
                failures.append(f"{route.id}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


def test_every_mutation_leaves_an_audit_row(
    auth_server_url: str, auth_platform: Platform, tokens: dict[str, str]
) -> None:
    def audit_count() -> int:
        with auth_platform.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    with live_http.Client(base_url=auth_server_url, headers=bearer(tokens["admin"]), timeout=30) as client:
        for route in AUDITED:
            before = audit_count()
            response = MUTATION_EXAMPLES[route.id](client)
            assert response.is_success, f"{route.id}: {response.status_code} {response.text[:300]}"
            assert audit_count() > before, f"{route.id} changed state without an audit row"
            request_id = response.headers["x-request-id"]
            with auth_platform.database.session() as session:
                recorded = session.scalars(
                    select(AuditEvent).where(AuditEvent.request_id == request_id)
                ).all()
            assert recorded, f"{route.id}: no audit row carries request id {request_id}"
            assert all(e.actor == "test-admin" and e.actor_role == "admin" for e in recorded)
