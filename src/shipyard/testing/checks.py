"""Common checks run over every route of the application, discovered rather than listed.

A new stage gets these for free: each of its routes must be documented in OpenAPI, demand a token
when auth is on, and demand at least the editor role when it changes anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from shipyard.core.auth import Role
from shipyard.core.deps import RoleRequirement

__all__ = ["PUBLIC_PATHS", "RouteInfo", "iter_routes", "required_role", "sample_path"]

# Reachable without a token even when auth is on.
PUBLIC_PATHS = frozenset({"/health", "/ready", "/version"})
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    route: APIRoute

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def data_plane(self) -> bool:
        """An inference-protocol route (V2, MLflow scoring, native predict, feedback, metrics)."""
        return bool((self.route.openapi_extra or {}).get("x-data-plane"))

    @property
    def mutating(self) -> bool:
        read_only = bool((self.route.openapi_extra or {}).get("x-read-only"))
        return self.method in MUTATING and not read_only


def required_role(route: APIRoute) -> Role | None:
    """The role a route demands through ``requires(...)``, searched through nested dependencies."""
    found: list[Role] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, RoleRequirement):
            found.append(dependant.call.role)
        stack.extend(dependant.dependencies)
    return max(found, key=lambda role: role.rank) if found else None


def _flatten(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            # FastAPI >= 0.16x includes routers lazily; our routers carry their full prefix themselves,
            # and ``test_discovery_matches_openapi`` fails should a prefix ever be added at include time.
            yield from _flatten(route.original_router.routes)


def iter_routes(app: FastAPI) -> Iterator[RouteInfo]:
    for route in _flatten(app.routes):
        for method in sorted(route.methods):
            yield RouteInfo(method, route.path, route)


# Path parameters that are not plain ids get a well-formed value that names nothing that exists.
SAMPLE_VALUES = {"digest": "0" * 64, "artifact_path": f"0/{'0' * 32}/artifacts/file.txt"}


def sample_path(path: str) -> str:
    """The route path with every ``{param}`` filled by a value that names nothing that exists."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return SAMPLE_VALUES.get(name, "0" * 32)

    return re.sub(r"\{([^}]+)\}", fill, path)
