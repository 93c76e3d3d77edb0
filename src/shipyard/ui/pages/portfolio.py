"""Portfolio pages: the prioritisation matrix, the ranked list, and a use case's canvas and reviews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shipyard.core.auth import Role, require_role
from shipyard.core.errors import InvalidParameterError, ShipyardError
from shipyard.registry.groups import models_of_use_case
from shipyard.ui.pages._common import FormErrors, form_text, read, redirect, write
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import PosterDep, ViewerDep
from shipyard.usecases import canvas, kpis, redflags, scoring
from shipyard.usecases.canvas import STATUSES
from shipyard.usecases.dimensions import ALL_DIMENSIONS, MAX_SCORE, VALUE_DIMENSIONS
from shipyard.usecases.matrix import Matrix, MatrixPoint, matrix_of
from shipyard.usecases.roi import compute_roi
from shipyard.usecases.tables import UseCase

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Portfolio", "/portfolio", "portfolio"))

# Matrix geometry (SVG user units): ease on x, value on y, both 0..MAX_SCORE.
WIDTH, HEIGHT, PAD = 640, 480, 48
TEXT_FIELDS = ("title", "owner", "business_unit", "product", "ai_capability")
LONG_FIELDS = ("what", "why", "integration", "challenges", "evaluation")
LIST_FIELDS = ("decision_makers", "users", "people_affected", "input_data")
CANVAS_FORM = {*TEXT_FIELDS, *LONG_FIELDS, *LIST_FIELDS, "status"}


@dataclass(frozen=True)
class PlacedPoint:
    point: MatrixPoint
    x: float
    y: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float


def _sx(ease: float) -> float:
    return PAD + ease / MAX_SCORE * (WIDTH - 2 * PAD)


def _sy(value: float) -> float:
    return HEIGHT - PAD - value / MAX_SCORE * (HEIGHT - 2 * PAD)


def place(matrix: Matrix) -> dict[str, Any]:
    """Screen positions of the scored points, their voter spread and the quadrant boxes."""
    placed = []
    for p in matrix.points:
        if not p.scored or p.ease is None or p.value is None:
            continue
        ease, value = p.scores.ease, p.scores.value
        placed.append(
            PlacedPoint(
                p,
                _sx(p.ease),
                _sy(p.value),
                _sx(ease.low if ease.low is not None else p.ease),
                _sx(ease.high if ease.high is not None else p.ease),
                _sy(value.low if value.low is not None else p.value),
                _sy(value.high if value.high is not None else p.value),
            )
        )
    tx, ty = _sx(matrix.ease_threshold), _sy(matrix.value_threshold)
    left, right, top, bottom = _sx(0), _sx(MAX_SCORE), _sy(MAX_SCORE), _sy(0)
    boxes = [
        ("quick_win", tx, top, right - tx, ty - top, "Quick wins"),
        ("strategic_bet", left, top, tx - left, ty - top, "Strategic bets"),
        ("fill_in", tx, ty, right - tx, bottom - ty, "Fill-ins"),
        ("avoid", left, ty, tx - left, bottom - ty, "Avoid"),
    ]
    ticks = [(i, _sx(i), _sy(i)) for i in range(int(MAX_SCORE) + 1)]
    return {"points": placed, "boxes": boxes, "ticks": ticks, "width": WIDTH, "height": HEIGHT, "pad": PAD}


def _index(session: Session) -> dict[str, Any]:
    portfolios = canvas.list_portfolios(session)
    counts = dict(
        session.execute(select(UseCase.portfolio_id, func.count()).group_by(UseCase.portfolio_id)).all()
    )
    return {"portfolios": portfolios, "counts": counts}


@router.get("/portfolio", include_in_schema=False)
async def portfolio_index(request: Request, viewer: ViewerDep) -> Response:
    data = await read(request, _index)
    if len(data["portfolios"]) == 1:
        return redirect(request, f"/portfolio/{data['portfolios'][0].id}")
    return render(request, viewer, "portfolio/index.html", data, section="portfolio", title="Portfolio")


def _portfolio(session: Session, portfolio_id: str) -> dict[str, Any]:
    portfolio = canvas.get_portfolio(session, portfolio_id)
    matrix = matrix_of(session, portfolio)
    return {"portfolio": portfolio, "matrix": matrix, "chart": place(matrix)}


@router.get("/portfolio/{portfolio_id}", include_in_schema=False)
async def portfolio_page(request: Request, viewer: ViewerDep, portfolio_id: str) -> Response:
    data = await read(request, lambda s: _portfolio(s, portfolio_id))
    title = data["portfolio"].name
    return render(request, viewer, "portfolio/matrix.html", data, section="portfolio", title=title)


def _use_case(session: Session, use_case_id: str) -> dict[str, Any]:
    use_case = canvas.get_use_case(session, use_case_id)
    portfolio = canvas.get_portfolio(session, use_case.portfolio_id)
    votes = scoring.list_votes(session, use_case_id=use_case.id)
    summary = scoring.summarise(
        [scoring.Vote(v.voter, v.dimension, v.score, v.comment) for v in votes],
        portfolio.weights,
        disagreement_range=portfolio.disagreement_range,
    )
    spread: dict[str, list[Any]] = {d: [] for d in ALL_DIMENSIONS}
    for vote in votes:
        spread.setdefault(vote.dimension, []).append(vote)
    kpi_rows = kpis.list_kpis(session, use_case_id=use_case.id)
    checks = redflags.list_checks(session, use_case_id=use_case.id)
    return {
        "use_case": use_case,
        "portfolio": portfolio,
        "fields": canvas.snapshot(use_case),
        "summary": summary,
        "spread": spread,
        "dimensions": ALL_DIMENSIONS,
        "value_dimensions": VALUE_DIMENSIONS,
        "checks": checks,
        "open_flags": [c for c in checks if c.red_flag and c.status != "signed_off"],
        "kpis": kpi_rows,
        "kpi_latest": kpis.latest_values(session, kpi_rows),
        "roi": compute_roi(use_case.roi) if use_case.roi else None,
        "models": models_of_use_case(session, use_case.id),
        "history": canvas.list_history(session, use_case_id=use_case.id)[-10:][::-1],
        "statuses": STATUSES,
        "max_score": int(MAX_SCORE),
    }


async def _use_case_page(
    request: Request,
    viewer: Any,
    use_case_id: str,
    *,
    errors: dict[str, FormErrors] | None = None,
    status_code: int = 200,
    submitted: dict[str, Any] | None = None,
) -> Response:
    data = await read(request, lambda s: _use_case(s, use_case_id))
    if submitted:
        data["fields"] = {**data["fields"], **submitted}
    data["errors"] = errors or {}
    return render(
        request,
        viewer,
        "portfolio/use_case.html",
        data,
        status_code=status_code,
        section="portfolio",
        title=data["use_case"].title,
    )


@router.get("/usecases/{use_case_id}", include_in_schema=False)
async def use_case_page(request: Request, viewer: ViewerDep, use_case_id: str) -> Response:
    return await _use_case_page(request, viewer, use_case_id)


def _canvas_changes(form: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *LONG_FIELDS, "status"):
        if name in form:
            changes[name] = form_text(form, name)
    for name in LIST_FIELDS:
        if name in form:
            changes[name] = [part.strip() for part in form_text(form, name).split(";") if part.strip()]
    return changes


@router.post("/usecases/{use_case_id}/canvas", include_in_schema=False)
async def edit_canvas(request: Request, viewer: PosterDep, use_case_id: str) -> Response:
    require_role(viewer.principal, Role.EDITOR)
    form = await request.form()
    try:
        changes = _canvas_changes(form)
        await write(
            request,
            lambda s: canvas.update_use_case(
                s, actor=viewer.principal, use_case_id=use_case_id, changes=changes
            ),
        )
    except InvalidParameterError as exc:
        submitted = {k: form_text(form, k) for k in CANVAS_FORM if isinstance(form.get(k), str)}
        for name in LIST_FIELDS:
            if name in submitted:
                submitted[name] = [p.strip() for p in submitted[name].split(";") if p.strip()]
        errors = {"canvas": FormErrors.of(exc, known=CANVAS_FORM)}
        return await _use_case_page(
            request, viewer, use_case_id, errors=errors, status_code=exc.status_code, submitted=submitted
        )
    return redirect(request, f"/usecases/{use_case_id}", anchor="canvas")


@router.post("/usecases/{use_case_id}/votes", include_in_schema=False)
async def vote(request: Request, viewer: PosterDep, use_case_id: str) -> Response:
    require_role(viewer.principal, Role.EDITOR)
    form = await request.form()
    try:
        scores: dict[str, Any] = {}
        for dimension in ALL_DIMENSIONS:
            raw = form_text(form, f"score_{dimension}", max_length=20).strip()
            if raw:
                try:
                    scores[dimension] = float(raw)
                except ValueError:
                    raise InvalidParameterError(
                        f"scores.{dimension} must be a number from 0 to {MAX_SCORE:g}; got {raw!r}",
                        field=f"scores.{dimension}",
                    ) from None
        if not scores:
            raise InvalidParameterError("pick a score for at least one dimension", field="scores")
        await write(
            request,
            lambda s: scoring.cast_votes(
                s, actor=viewer.principal, use_case_id=use_case_id, voter=viewer.principal.name, scores=scores
            ),
        )
    except ShipyardError as exc:
        field = (exc.field or "").removeprefix("scores.").split(".")[0]
        errors = {"votes": FormErrors({field if field in ALL_DIMENSIONS else "": exc.message})}
        return await _use_case_page(request, viewer, use_case_id, errors=errors, status_code=exc.status_code)
    return redirect(request, f"/usecases/{use_case_id}", anchor="votes")


@router.post("/usecases/{use_case_id}/checks/{check_id}/signoff", include_in_schema=False)
async def sign_off(request: Request, viewer: PosterDep, use_case_id: str, check_id: int) -> Response:
    require_role(viewer.principal, Role.APPROVER)
    form = await request.form()
    try:
        reason = form_text(form, "reason", max_length=4000)
        await write(
            request,
            lambda s: redflags.sign_off(
                s, actor=viewer.principal, use_case_id=use_case_id, check_id=check_id, reason=reason
            ),
        )
    except ShipyardError as exc:
        errors = {f"check-{check_id}": FormErrors({"reason" if exc.field == "reason" else "": exc.message})}
        return await _use_case_page(request, viewer, use_case_id, errors=errors, status_code=exc.status_code)
    return redirect(request, f"/usecases/{use_case_id}", anchor=f"check-{check_id}")
