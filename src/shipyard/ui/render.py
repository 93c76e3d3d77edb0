"""Jinja2 environment, the navigation, and the one function every page renders through."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from shipyard._version import __version__
from shipyard.ui.session import CSRF_COOKIE, Viewer

__all__ = ["NavItem", "navigation", "render", "set_cookie", "templates"]

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """One top-level page; ``section`` marks it current for every URL under ``path``."""

    label: str
    path: str
    section: str
    role: str = "viewer"


_NAV: list[NavItem] = []


def navigation(item: NavItem) -> NavItem:
    """Register a top-level page (a page module calls this once); the order of calls is the order shown."""
    if all(existing.section != item.section for existing in _NAV):
        _NAV.append(item)
    return item


def _when(value: Any) -> str:
    """Milliseconds since the epoch or a datetime, as a compact UTC time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def _duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = max(0, (end - start) / 1000)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _json_script(value: Any) -> Markup:
    """Data for scripts, safe inside <script type="application/json">."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704  (escaped above for a JSON script element)


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes them)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    return "?" + urlencode(items) if items else "?"


templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(when=_when, num=_num, json_script=_json_script)
templates.globals.update(duration=_duration, version=__version__)


def render(
    request: Request,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    section: str = "",
    title: str = "",
) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    html = templates.get_template(template).render(
        request=request,
        viewer=viewer,
        nav=[item for item in _NAV if viewer.can(item.role)],
        section=section,
        title=title,
        ui=root,
        query=lambda **changes: _query(request, **changes),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if viewer.new_csrf:
        set_cookie(response, request, CSRF_COOKIE, viewer.csrf)
    response.headers["Cache-Control"] = "no-store"
    return response


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=(request.scope.get("root_path", "") or "/ui").rstrip("/") or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
