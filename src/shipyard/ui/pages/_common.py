"""Helpers shared by the page modules: sessions off the event loop, form errors, redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core.errors import InvalidParameterError, ShipyardError
from shipyard.ui.session import platform_of

__all__ = ["FormErrors", "form_text", "read", "redirect", "root", "write"]

T = TypeVar("T")


class FormErrors(dict[str, str]):
    """Messages by field name, shown next to the field ('' for the form as a whole)."""

    @classmethod
    def of(cls, exc: ShipyardError, *, known: set[str]) -> FormErrors:
        field = (exc.field or "").split(".")[0]
        return cls({field if field in known else "": exc.message})


def root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def redirect(request: Request, path: str, *, anchor: str = "") -> RedirectResponse:
    """POST-redirect-GET, so a reload never repeats a form."""
    return RedirectResponse(root(request) + path + (f"#{anchor}" if anchor else ""), status_code=303)


async def read(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` with a read session in the threadpool."""

    def _run() -> T:
        with platform_of(request).database.session() as session:
            return work(session)

    return await run_in_threadpool(_run)


async def write(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one write transaction: it commits whole or, on any error, not at all."""

    def _run() -> T:
        with platform_of(request).database.session(write=True) as session:
            return work(session)

    return await run_in_threadpool(_run)


def form_text(form: Any, name: str, *, max_length: int = 10_000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InvalidParameterError(f"{name} must be text", field=name)
    if len(value) > max_length:
        raise InvalidParameterError(f"{name} must be at most {max_length} characters", field=name)
    return value
