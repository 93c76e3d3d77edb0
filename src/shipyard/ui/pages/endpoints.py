"""Endpoint pages: what serves where, live request numbers, the served model's versions and aliases,
recent predictions with their feedback, and the endpoint's monitors."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core.auth import Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import ShipyardError
from shipyard.monitoring.tables import AlertRule, Monitor
from shipyard.monitoring.views import prediction_log_reader
from shipyard.registry.tables import AliasEvent, ModelVersion, RegisteredModelAlias
from shipyard.serving import endpoints
from shipyard.serving.endpoint_routes import check_resolves, status_of
from shipyard.serving.manager import ServingManager
from shipyard.serving.predlog import PredictionLog
from shipyard.serving.tables import ServingEndpoint
from shipyard.ui.live import live_numbers
from shipyard.ui.pages._common import FormErrors, form_text, read, redirect, write
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import PosterDep, ViewerDep, platform_of

__all__ = ["manager_of", "predlog_of", "router"]

router = APIRouter()
navigation(NavItem("Endpoints", "/endpoints", "endpoints"))

PAGE = 50
RECENT = 20
# Look back this far, widening until enough predictions are found (each scan reads only overlapping files).
LOOKBACK = (timedelta(minutes=10), timedelta(hours=6), timedelta(days=7), timedelta(days=400))
_REGISTRY_URI = re.compile(r"^models:/([^/@\s]+)(?:/([0-9]+|latest)|@([A-Za-z0-9_.-]+))$")
Page = Annotated[int, Query(ge=0, le=100_000)]


def manager_of(request: Request) -> ServingManager | None:
    """The serving manager of this server process, when it hosts the data plane."""
    return getattr(request.app.state.parent.state, "serving", None)


def predlog_of(request: Request) -> PredictionLog:
    """This process's running prediction log, or a reader of the configured folder."""
    manager = manager_of(request)
    if manager is not None and manager.predlog is not None:
        return manager.predlog
    return prediction_log_reader(platform_of(request))


def registered_name(model_uri: str) -> str | None:
    """The registered model a URI follows, if it names one by name.

    >>> registered_name("models:/churn@champion"), registered_name("runs:/0123/model")
    ('churn', None)
    """
    match = _REGISTRY_URI.match(model_uri)
    return match.group(1) if match else None


def _endpoints(session: Session, page: int) -> dict[str, Any]:
    rows = list(
        session.scalars(
            select(ServingEndpoint).order_by(ServingEndpoint.name).offset(page * PAGE).limit(PAGE + 1)
        )
    )
    names = [row.name for row in rows[:PAGE]]
    monitors = dict(
        session.execute(
            select(Monitor.endpoint, func.count())
            .where(Monitor.endpoint.in_(names))
            .group_by(Monitor.endpoint)
        ).all()
    )
    firing = dict(
        session.execute(
            select(Monitor.endpoint, func.count())
            .join(AlertRule, AlertRule.monitor_id == Monitor.id)
            .where(Monitor.endpoint.in_(names), AlertRule.state == "firing")
            .group_by(Monitor.endpoint)
        ).all()
    )
    for row in rows:
        session.expunge(row)
    return {"rows": rows[:PAGE], "has_next": len(rows) > PAGE, "monitors": monitors, "firing": firing}


@router.get("/endpoints", include_in_schema=False)
async def endpoints_page(request: Request, viewer: ViewerDep, page: Page = 0) -> Response:
    data = await read(request, lambda s: _endpoints(s, page))
    manager = manager_of(request)
    data.update(
        page=page,
        statuses={row.name: status_of(manager, row.name) for row in data["rows"]},
        hosted=manager is not None,
    )
    return render(request, viewer, "endpoints/index.html", data, section="endpoints", title="Endpoints")


def _endpoint(session: Session, name: str) -> dict[str, Any]:
    row = endpoints.get_endpoint(session, name)
    session.expunge(row)
    model = registered_name(row.model_uri)
    versions: list[ModelVersion] = []
    current_aliases: dict[str, int] = {}
    moves: list[AliasEvent] = []
    if model is not None:
        versions = list(
            session.scalars(
                select(ModelVersion)
                .where(ModelVersion.name == model)
                .order_by(ModelVersion.version.desc())
                .limit(10)
            )
        )
        current_aliases = dict(
            session.execute(
                select(RegisteredModelAlias.alias, RegisteredModelAlias.version).where(
                    RegisteredModelAlias.name == model
                )
            ).all()
        )
        moves = list(
            session.scalars(
                select(AliasEvent).where(AliasEvent.name == model).order_by(AliasEvent.id.desc()).limit(10)
            )
        )
    monitors = list(
        session.scalars(select(Monitor).where(Monitor.endpoint == row.name).order_by(Monitor.name))
    )
    for found in (*versions, *moves, *monitors):
        session.expunge(found)
    return {
        "endpoint": row,
        "model": model,
        "versions": versions,
        "aliases": current_aliases,
        "moves": moves,
        "monitors": monitors,
    }


def recent_predictions(predlog: PredictionLog, endpoint: str, limit: int = RECENT) -> list[dict[str, Any]]:
    """The latest ``limit`` logged rows, newest first, with the latest feedback label of each."""
    now = utcnow()
    table = None
    for span in LOOKBACK:
        table = predlog.labelled(endpoint, since=now - span)
        if table.num_rows >= limit:
            break
    if table is None or table.num_rows == 0:
        return []
    tail = table.slice(max(0, table.num_rows - limit)).to_pylist()
    rows = []
    for entry in reversed(tail):
        inputs = {k.removeprefix("input."): v for k, v in entry.items() if k.startswith("input.")}
        outputs = {k.removeprefix("output."): v for k, v in entry.items() if k.startswith("output.")}
        rows.append({**entry, "inputs": inputs, "outputs": outputs})
    return rows


async def _endpoint_page(
    request: Request, viewer: Any, name: str, errors: FormErrors | None = None, status: int = 200
) -> Response:
    data = await read(request, lambda s: _endpoint(s, name))
    manager = manager_of(request)
    predictions = await run_in_threadpool(recent_predictions, predlog_of(request), name)
    data.update(
        endpoint_name=data["endpoint"].name,
        status=status_of(manager, name),
        hosted=manager is not None,
        live=live_numbers(manager.metrics, name) if manager is not None else None,
        predictions=predictions,
        errors=errors or FormErrors(),
    )
    return render(
        request, viewer, "endpoints/endpoint.html", data, status_code=status, section="endpoints", title=name
    )


@router.get("/endpoints/{name}", include_in_schema=False)
async def endpoint_page(request: Request, viewer: ViewerDep, name: str) -> Response:
    return await _endpoint_page(request, viewer, name)


@router.get("/endpoints/{name}/live", include_in_schema=False)
async def endpoint_live(request: Request, viewer: ViewerDep, name: str) -> Response:
    """The part of the endpoint page that htmx refreshes: status and live numbers."""
    endpoints.check_endpoint_name(name)
    manager = manager_of(request)
    if manager is None or name not in manager.endpoints:
        await read(request, lambda s: endpoints.get_endpoint(s, name))  # 404 for an endpoint that is gone
    data = {
        "endpoint_name": name,
        "status": status_of(manager, name),
        "hosted": manager is not None,
        "live": live_numbers(manager.metrics, name) if manager is not None else None,
        "checked_at": time.time() * 1000,
    }
    return render(request, viewer, "endpoints/_live.html", data, section="endpoints")


@router.post("/endpoints/{name}/model", include_in_schema=False)
async def change_model(request: Request, viewer: PosterDep, name: str) -> Response:
    """Point the endpoint at another model URI; the new version loads while the old one serves."""
    require_role(viewer.principal, Role.EDITOR)
    form = await request.form()
    manager = manager_of(request)
    try:
        uri = endpoints.check_model_uri(form_text(form, "model_uri", max_length=600).strip())
        await check_resolves(manager, uri)

        def change(session: Session) -> ServingEndpoint:
            row = endpoints.update_endpoint(session, actor=viewer.principal, name=name, model_uri=uri)
            session.flush()
            session.expunge(row)
            return row

        row = await write(request, change)
    except ShipyardError as exc:
        errors = FormErrors.of(exc, known={"model_uri"})
        return await _endpoint_page(request, viewer, name, errors=errors, status=exc.status_code)
    if manager is not None:
        await manager.put(endpoints.spec_of(row))
    return redirect(request, f"/endpoints/{name}", anchor="serving")
