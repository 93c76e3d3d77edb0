"""Direct dispatch of hot routes: one dict lookup instead of FastAPI's per-request routing.

A training loop calls the MLflow API hundreds of times per run (create, log, update, get). For each
call FastAPI walks its route list and re-solves the route's dependency graph; together that cost
more than the database work behind the call. This middleware serves the routes it is given from a
table keyed by (method, path): each route's dependencies are resolved by the very functions FastAPI
would call (platform, caller and role check, request fields), in the same order, and the endpoint
runs in the thread pool as FastAPI would run it. A route is taken only when every parameter is one
of those dependencies and it returns a ``Response`` itself; anything else (path parameters, other
dependencies, other methods or paths) goes down the normal FastAPI path, as does the OpenAPI
document. Errors are answered by the application's own exception handlers, so their shape is one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard.core.deps import RoleRequirement, current_principal, get_platform

__all__ = ["DirectRoutes", "compile_route", "in_thread"]

Resolver = Callable[[Request, dict[str, Any]], Awaitable[Any]]
Handler = Callable[[Request], Awaitable[Response]]


async def _platform(request: Request, _: dict[str, Any]) -> Any:
    return await get_platform(request)


def _role(requirement: RoleRequirement) -> Resolver:
    async def resolve(request: Request, resolved: dict[str, Any]) -> Any:
        # FastAPI caches a dependency per request; the caller is looked up once even if two params ask.
        principal = resolved.get(_PRINCIPAL)
        if principal is None:
            principal = resolved[_PRINCIPAL] = await current_principal(request, await get_platform(request))
        return await requirement(principal)

    return resolve


def _plain(call: Callable[[Request], Awaitable[Any]]) -> Resolver:
    async def resolve(request: Request, _: dict[str, Any]) -> Any:
        return await call(request)

    return resolve


_PRINCIPAL = "\x00principal"  # a key no parameter can have


def _resolver(dependency: Any, request_dependencies: dict[Any, Resolver]) -> Resolver | None:
    call = dependency.dependency
    if call is get_platform:
        return _platform
    if isinstance(call, RoleRequirement):
        return _role(call)
    return request_dependencies.get(call)


def compile_route(
    route: APIRoute, request_dependencies: Iterable[Callable[[Request], Awaitable[Any]]] = ()
) -> Handler | None:
    """A handler equivalent to FastAPI's for ``route``, or None when the route needs FastAPI itself.

    ``request_dependencies`` are the other dependencies allowed: async functions of the request alone
    (such as the MLflow field reader).
    """
    if "{" in route.path or route.dependencies or route.status_code not in (None, 200):
        return None
    endpoint = route.endpoint
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except (NameError, TypeError):
        return None
    if hints.get("return") is not Response:
        return None
    plain = {call: _plain(call) for call in request_dependencies}
    resolvers: list[tuple[str, Resolver]] = []
    for name in inspect.signature(endpoint).parameters:
        hint = hints.get(name)
        marks = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Depends)]
        if len(marks) != 1 or not marks[0].use_cache:
            return None
        resolver = _resolver(marks[0], plain)
        if resolver is None:
            return None
        resolvers.append((name, resolver))
    is_async = inspect.iscoroutinefunction(endpoint)

    async def handle(request: Request) -> Response:
        resolved: dict[str, Any] = {}
        kwargs = {name: await resolve(request, resolved) for name, resolve in resolvers}
        if is_async:
            return await endpoint(**kwargs)  # type: ignore[no-any-return]
        return await in_thread(functools.partial(endpoint, **kwargs))

    return handle


_THREADS = concurrent.futures.ThreadPoolExecutor(
    max_workers=40,
    thread_name_prefix="shipyard-direct",  # as many as FastAPI's pool lends
)


async def in_thread(call: Callable[[], Any]) -> Any:
    """``call()`` in a worker thread, with the caller's context variables (the request id).

    The event loop's own executor hop costs about half of anyio's, which FastAPI uses: per request,
    anyio's capacity limiter, cancel scopes and checkpoints were a tenth of the server's time.
    """
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_THREADS, context.run, call)


class DirectRoutes:
    """ASGI middleware serving ``routes`` (those that compile) by exact method and path.

    It sits inside the request-context middleware (request ids, size and NUL checks, access log all
    still apply) and answers errors through ``owner``'s exception handlers, as FastAPI would. The
    routes must be included in ``owner`` as they are (no prefix or dependencies added at inclusion).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        owner: FastAPI,
        routes: Iterable[Any],
        request_dependencies: Iterable[Callable[[Request], Awaitable[Any]]] = (),
    ) -> None:
        self.app = app
        self.owner = owner
        self.table: dict[tuple[str, str], Handler] = {}
        request_dependencies = tuple(request_dependencies)
        # Application-wide dependencies would be skipped here: then nothing is served directly.
        for route in routes if not owner.router.dependencies else ():
            if not isinstance(route, APIRoute):
                continue
            handler = compile_route(route, request_dependencies)
            if handler is not None:
                for method in route.methods:
                    self.table[(method, route.path)] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self.table.get((scope.get("method", ""), scope["path"])) if scope["type"] == "http" else None
        )
        if handler is None or self.owner.dependency_overrides:  # overrides (tests) are FastAPI's to apply
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as exc:
            answer = self._handler_for(exc)
            if answer is None:
                raise
            if inspect.iscoroutinefunction(answer):
                response = await answer(request, exc)
            else:
                response = await run_in_threadpool(answer, request, exc)
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
        # As Starlette's ExceptionMiddleware: the closest class in the MRO; Exception itself is left to
        # the outer middleware, which answers 500 with the request id.
        handlers = self.owner.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]  # type: ignore[return-value]
        return None
