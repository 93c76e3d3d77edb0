"""Registry pages: models, versions, aliases and their history, the approval queue, evaluation tables."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core import files
from shipyard.core.auth import Role, require_role
from shipyard.core.errors import NotFoundError, ShipyardError
from shipyard.registry import aliases
from shipyard.registry.models import get_registered_model, load_model_records, search_registered_models
from shipyard.registry.tables import ApprovalRequest, ModelVersion, RegisteredModelAlias
from shipyard.registry.versions import get_model_version, load_version_records
from shipyard.tracking.experiments import encode_offset
from shipyard.tracking.runs import load_records
from shipyard.tracking.tables import Run
from shipyard.ui.pages._common import FormErrors, form_text, read, redirect, write
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import PosterDep, ViewerDep, platform_of

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Registry", "/registry", "registry"))

PAGE = 50
EVALUATION_JSON = "evaluation/evaluation.json"
EVALUATION_LIMIT = 2 * 1024 * 1024
Page = Annotated[int, Query(ge=0, le=100_000)]


def _models(session: Session, q: str | None, page: int) -> dict[str, Any]:
    filter_string = None
    if q:
        escaped = q.replace("\\", "\\\\").replace("'", "\\'")
        filter_string = f"name ILIKE '%{escaped}%'"
    records, token = search_registered_models(
        session,
        filter_string=filter_string,
        max_results=PAGE,
        order_by=["last_updated_timestamp DESC"],
        page_token=encode_offset(page * PAGE) if page else None,
    )
    names = [r.model.name for r in records]
    counts = dict(
        session.execute(
            select(ModelVersion.name, func.count())
            .where(ModelVersion.name.in_(names))
            .group_by(ModelVersion.name)
        ).all()
    )
    pending = session.scalar(select(func.count()).where(ApprovalRequest.status == "pending")) or 0
    return {"models": records, "counts": counts, "has_next": token is not None, "pending": pending}


@router.get("/registry", include_in_schema=False)
async def models_page(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Page = 0,
) -> Response:
    data = await read(request, lambda s: _models(s, q, page))
    data.update(q=q or "", page=page)
    return render(request, viewer, "registry/index.html", data, section="registry", title="Registry")


def _model(session: Session, name: str, page: int) -> dict[str, Any]:
    model = get_registered_model(session, name)
    record = load_model_records(session, [model])[0]
    rows = list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.name == model.name)
            .order_by(ModelVersion.version.desc())
            .offset(page * PAGE)
            .limit(PAGE + 1)
        )
    )
    versions = load_version_records(session, rows[:PAGE])
    return {
        "model": model,
        "record": record,
        "versions": versions,
        "has_next": len(rows) > PAGE,
        "history": aliases.alias_history(session, name=model.name)[-50:][::-1],
        "requests": aliases.list_requests(session, status=None, name=model.name)[:20],
    }


async def _model_page(
    request: Request,
    viewer: Any,
    name: str,
    page: int = 0,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    data = await read(request, lambda s: _model(s, name, page))
    data.update(page=page, errors=errors or FormErrors())
    return render(
        request, viewer, "registry/model.html", data, status_code=status, section="registry", title=name
    )


@router.get("/registry/models/{name}", include_in_schema=False)
async def model_page(request: Request, viewer: ViewerDep, name: str, page: Page = 0) -> Response:
    return await _model_page(request, viewer, name, page)


@router.post("/registry/models/{name}/requests", include_in_schema=False)
async def request_promotion(request: Request, viewer: PosterDep, name: str) -> Response:
    require_role(viewer.principal, Role.EDITOR)
    form = await request.form()
    try:
        alias, version = form_text(form, "alias", max_length=255), form_text(form, "version", max_length=20)
        reason = form_text(form, "reason", max_length=4000) or None
        await write(
            request,
            lambda s: aliases.request_alias(
                s, actor=viewer.principal, name=name, alias=alias, version=version, reason=reason
            ),
        )
    except ShipyardError as exc:
        errors = FormErrors.of(exc, known={"alias", "version", "reason"})
        return await _model_page(request, viewer, name, errors=errors, status=exc.status_code)
    return redirect(request, "/registry/approvals")


def _evaluation(session: Session, run_id: str) -> tuple[Any, str | None, list[str]]:
    rows = files.list_files(session, owner_type="run", owner_id=run_id, prefix="evaluation")
    report = next((r for r in rows if r.path == EVALUATION_JSON), None)
    images = [r.path for r in rows if r.path.endswith(".png")]
    return report, report.digest if report else None, images


def _version(session: Session, name: str, version: int) -> dict[str, Any]:
    found = get_model_version(session, name, version)
    record = load_version_records(session, [found])[0]
    run_record = None
    evaluation_file, images = None, []
    if found.run_id:
        run = session.get(Run, found.run_id)
        if run is not None:
            run_record = load_records(session, [run])[0]
            evaluation_file, _, images = _evaluation(session, run.id)
    requests = [
        r for r in aliases.list_requests(session, status=None, name=found.name) if r.version == version
    ]
    return {
        "version": found,
        "record": record,
        "run": run_record,
        "evaluation_file": evaluation_file,
        "images": images,
        "requests": requests,
    }


def _read_report(store: Any, digest: str, size: int) -> dict[str, Any] | None:
    if size > EVALUATION_LIMIT:
        return None
    try:
        report = json.loads(store.read_bytes(digest))
    except (ValueError, UnicodeDecodeError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("candidates"), list) else None


@router.get("/registry/models/{name}/versions/{version}", include_in_schema=False)
async def version_page(request: Request, viewer: ViewerDep, name: str, version: int) -> Response:
    if not 0 < version < 2**31:
        raise NotFoundError(f"Model Version (name={name}, version={version}) not found", field="version")
    data = await read(request, lambda s: _version(s, name, version))
    report = None
    if data["evaluation_file"] is not None:
        row = data["evaluation_file"]
        report = await run_in_threadpool(_read_report, platform_of(request).artifacts, row.digest, row.size)
    data["report"] = report
    title = f"{name} v{version}"
    return render(request, viewer, "registry/version.html", data, section="registry", title=title)


def _approvals(session: Session, status: str) -> dict[str, Any]:
    found = aliases.list_requests(session, status=None if status == "all" else status)
    keys = {(r.name, r.version) for r in found}
    names = sorted({name for name, _ in keys})
    # Only the aliases: where each requested alias points now (the models' other details are not shown).
    current: dict[str, dict[str, int]] = {name: {} for name in names}
    for row in session.scalars(select(RegisteredModelAlias).where(RegisteredModelAlias.name.in_(names))):
        current[row.name][row.alias] = row.version
    return {"requests": found, "current": current}


@router.get("/registry/approvals", include_in_schema=False)
async def approvals_page(
    request: Request,
    viewer: ViewerDep,
    status: Annotated[str, Query(pattern="^(pending|approved|rejected|cancelled|all)$")] = "pending",
) -> Response:
    data = await read(request, lambda s: _approvals(s, status))
    data.update(status=status, errors={})
    return render(request, viewer, "registry/approvals.html", data, section="registry", title="Approvals")


@router.post("/registry/approvals/{request_id}/{decision}", include_in_schema=False)
async def decide(request: Request, viewer: PosterDep, request_id: int, decision: str) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFoundError(f"there is no decision {decision!r}; use approve or reject", field="decision")
    require_role(viewer.principal, Role.APPROVER)
    form = await request.form()
    try:
        reason = form_text(form, "reason", max_length=4000)
        await write(
            request,
            lambda s: aliases.decide_request(
                s, actor=viewer.principal, request_id=request_id, approve=decision == "approve", reason=reason
            ),
        )
    except ShipyardError as exc:
        data = await read(request, lambda s: _approvals(s, "pending"))
        field = "reason" if exc.field == "reason" else ""
        data.update(status="pending", errors={request_id: FormErrors({field: exc.message})})
        return render(
            request,
            viewer,
            "registry/approvals.html",
            data,
            status_code=exc.status_code,
            section="registry",
            title="Approvals",
        )
    return redirect(request, "/registry/approvals", anchor="decided")
