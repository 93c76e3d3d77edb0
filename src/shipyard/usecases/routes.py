"""REST routes of the use-case stage: portfolios (matrix, clusters, selection, workshop I/O, report)
and use cases (canvas, history, votes, checklists and red flags, ROI, KPIs).

Viewers read; editors change canvases, vote, raise flags and import; approvers sign flags off.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from shipyard.core.deps import ApproverDep, EditorDep, PlatformDep, ViewerDep
from shipyard.core.schemas import API_ERRORS
from shipyard.usecases import (
    canvas,
    kpis,
    matrix,
    plot,
    portfolio,
    redflags,
    report,
    scoring,
    views,
    workshop,
)
from shipyard.usecases.schemas import (
    CheckCreate,
    CheckPublic,
    ChecksPublic,
    CheckUpdate,
    ChoiceUpdate,
    ClustersPublic,
    ImportPublic,
    KpiCreate,
    KpiPublic,
    KpisPublic,
    KpiValueCreate,
    KpiValuePublic,
    KpiValuesPublic,
    MatrixPublic,
    PortfolioCreate,
    PortfolioImport,
    PortfolioPublic,
    PortfoliosPublic,
    PortfolioUpdate,
    PromotionCheckPublic,
    RoiPublic,
    SelectionPublic,
    SignOff,
    UseCaseCreate,
    UseCasePublic,
    UseCasesPublic,
    UseCaseUpdate,
    UseCaseVersionPublic,
    UseCaseVersionsPublic,
    VotePublic,
    VotesCreate,
    VotesPublic,
)

__all__ = [
    "portfolio_router",
    "usecase_router",
]

portfolio_router = APIRouter(prefix="/api/v1/portfolios", tags=["use-case portfolios"], responses=API_ERRORS)
usecase_router = APIRouter(prefix="/api/v1/usecases", tags=["use cases"], responses=API_ERRORS)

_TEXT_TYPES = {
    "yaml": "application/yaml",
    "csv": "text/csv; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def _content(*media_types: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type.split(";")[0]: {} for media_type in media_types}}}


# -- portfolios -------------------------------------------------------------------------------------
@portfolio_router.post("", status_code=201, summary="Create a portfolio")
def create_portfolio(body: PortfolioCreate, platform: PlatformDep, actor: EditorDep) -> PortfolioPublic:
    settings = body.model_dump(exclude_unset=True, exclude={"name"})
    with platform.database.session(write=True) as session:
        created = canvas.create_portfolio(session, actor=actor, name=body.name, **settings)
        return views.portfolio_public(created)


@portfolio_router.get("", summary="List portfolios")
def list_portfolios(platform: PlatformDep, _: ViewerDep) -> PortfoliosPublic:
    with platform.database.session() as session:
        return PortfoliosPublic(
            portfolios=[views.portfolio_public(p) for p in canvas.list_portfolios(session)]
        )


@portfolio_router.post(
    "/import", status_code=201, summary="Import a portfolio from YAML or CSV (all or nothing)"
)
def import_portfolio(body: PortfolioImport, platform: PlatformDep, actor: EditorDep) -> ImportPublic:
    with platform.database.session(write=True) as session:
        if body.format == "csv":
            result = workshop.import_csv(session, actor=actor, text=body.content, name=body.name or "")
        else:
            result = workshop.import_yaml(session, actor=actor, text=body.content, name=body.name)
        return views.import_public(result)


@portfolio_router.get("/{portfolio_id}", summary="Get a portfolio by id or name")
def get_portfolio(portfolio_id: str, platform: PlatformDep, _: ViewerDep) -> PortfolioPublic:
    with platform.database.session() as session:
        return views.portfolio_public(canvas.get_portfolio(session, portfolio_id))


@portfolio_router.patch("/{portfolio_id}", summary="Change a portfolio's weights, thresholds or floor")
def update_portfolio(
    portfolio_id: str, body: PortfolioUpdate, platform: PlatformDep, actor: EditorDep
) -> PortfolioPublic:
    with platform.database.session(write=True) as session:
        changed = canvas.update_portfolio(
            session, actor=actor, portfolio_id=portfolio_id, changes=body.model_dump(exclude_unset=True)
        )
        return views.portfolio_public(changed)


@portfolio_router.get("/{portfolio_id}/matrix", summary="Prioritisation matrix: scores, quadrants, ranking")
def get_matrix(portfolio_id: str, platform: PlatformDep, _: ViewerDep) -> MatrixPublic:
    with platform.database.session() as session:
        return views.matrix_public(matrix.build_matrix(session, portfolio_id=portfolio_id))


@portfolio_router.get(
    "/{portfolio_id}/matrix/image",
    summary="The matrix as a PNG or SVG picture",
    response_class=Response,
    responses=_content(*plot.MEDIA_TYPES.values()),
)
def get_matrix_image(
    portfolio_id: str, platform: PlatformDep, _: ViewerDep, format: Literal["png", "svg"] = "png"
) -> Response:
    with platform.database.session() as session:
        built = matrix.build_matrix(session, portfolio_id=portfolio_id)
    return Response(plot.render_matrix(built, fmt=format), media_type=plot.MEDIA_TYPES[format])


@portfolio_router.get(
    "/{portfolio_id}/clusters", summary="Clusters of use cases sharing data, capability or product"
)
def get_clusters(portfolio_id: str, platform: PlatformDep, _: ViewerDep) -> ClustersPublic:
    with platform.database.session() as session:
        return views.clusters_public(portfolio.list_clusters(session, portfolio_id=portfolio_id))


@portfolio_router.get("/{portfolio_id}/selection", summary="The proposed (or locked) portfolio, explained")
def get_selection(portfolio_id: str, platform: PlatformDep, _: ViewerDep) -> SelectionPublic:
    with platform.database.session() as session:
        return views.selection_public(portfolio.get_selection(session, portfolio_id=portfolio_id))


@portfolio_router.post("/{portfolio_id}/selection/lock", summary="Lock the current proposal")
def lock_selection(portfolio_id: str, platform: PlatformDep, actor: EditorDep) -> SelectionPublic:
    with platform.database.session(write=True) as session:
        return views.selection_public(
            portfolio.lock_selection(session, actor=actor, portfolio_id=portfolio_id)
        )


@portfolio_router.delete(
    "/{portfolio_id}/selection/lock", summary="Unlock the selection (proposals follow scores again)"
)
def unlock_selection(portfolio_id: str, platform: PlatformDep, actor: EditorDep) -> SelectionPublic:
    with platform.database.session(write=True) as session:
        return views.selection_public(
            portfolio.unlock_selection(session, actor=actor, portfolio_id=portfolio_id)
        )


@portfolio_router.get(
    "/{portfolio_id}/export",
    summary="Export a portfolio as YAML (everything) or CSV (canvas, ROI, votes)",
    response_class=Response,
    responses=_content(_TEXT_TYPES["yaml"], _TEXT_TYPES["csv"]),
)
def export_portfolio(
    portfolio_id: str, platform: PlatformDep, _: ViewerDep, format: Literal["yaml", "csv"] = "yaml"
) -> Response:
    with platform.database.session() as session:
        exporter = workshop.export_csv if format == "csv" else workshop.export_yaml
        return Response(exporter(session, portfolio_id=portfolio_id), media_type=_TEXT_TYPES[format])


@portfolio_router.get(
    "/{portfolio_id}/report",
    summary="Workshop report (Markdown or self-contained HTML)",
    response_class=Response,
    responses=_content(_TEXT_TYPES["markdown"], _TEXT_TYPES["html"]),
)
def get_report(
    portfolio_id: str, platform: PlatformDep, _: ViewerDep, format: Literal["markdown", "html"] = "markdown"
) -> Response:
    with platform.database.session() as session:
        text = report.render(session, portfolio_id=portfolio_id, fmt=format)
    return Response(text, media_type=_TEXT_TYPES[format])


# -- use cases --------------------------------------------------------------------------------------
@usecase_router.post("", status_code=201, summary="Create a use case (with the standard checklist)")
def create_use_case(body: UseCaseCreate, platform: PlatformDep, actor: EditorDep) -> UseCasePublic:
    with platform.database.session(write=True) as session:
        created = canvas.create_use_case(
            session, actor=actor, portfolio_id=body.portfolio_id, values=body.changes(), key=body.key
        )
        return views.use_case_public(created)


@usecase_router.get("", summary="List use cases")
def list_use_cases(
    platform: PlatformDep,
    _: ViewerDep,
    portfolio_id: Annotated[str | None, Query(description="Portfolio id or name")] = None,
    status: str | None = None,
) -> UseCasesPublic:
    with platform.database.session() as session:
        found = canvas.list_use_cases(session, portfolio_id=portfolio_id, status=status)
        return UseCasesPublic(use_cases=[views.use_case_public(u) for u in found])


@usecase_router.get("/{use_case_id}", summary="Get a use case's canvas")
def get_use_case(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> UseCasePublic:
    with platform.database.session() as session:
        return views.use_case_public(canvas.get_use_case(session, use_case_id))


@usecase_router.patch("/{use_case_id}", summary="Change canvas fields or status (a new version)")
def update_use_case(
    use_case_id: str, body: UseCaseUpdate, platform: PlatformDep, actor: EditorDep
) -> UseCasePublic:
    with platform.database.session(write=True) as session:
        changed = canvas.update_use_case(
            session, actor=actor, use_case_id=use_case_id, changes=body.changes()
        )
        return views.use_case_public(changed)


@usecase_router.get("/{use_case_id}/history", summary="Every version of the canvas, oldest first")
def get_history(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> UseCaseVersionsPublic:
    with platform.database.session() as session:
        versions = canvas.list_history(session, use_case_id=use_case_id)
        return UseCaseVersionsPublic(versions=[UseCaseVersionPublic.model_validate(v) for v in versions])


@usecase_router.put("/{use_case_id}/selection", summary="Override the proposal: include, exclude or auto")
def set_choice(
    use_case_id: str, body: ChoiceUpdate, platform: PlatformDep, actor: EditorDep
) -> UseCasePublic:
    with platform.database.session(write=True) as session:
        changed = portfolio.set_choice(session, actor=actor, use_case_id=use_case_id, choice=body.choice)
        return views.use_case_public(changed)


@usecase_router.put("/{use_case_id}/votes", summary="Cast or update one voter's 0-5 scores")
def cast_votes(use_case_id: str, body: VotesCreate, platform: PlatformDep, actor: EditorDep) -> VotesPublic:
    scores = {dimension: entry.model_dump() for dimension, entry in body.scores.items()}
    with platform.database.session(write=True) as session:
        rows = scoring.cast_votes(
            session, actor=actor, use_case_id=use_case_id, voter=body.voter or actor.name, scores=scores
        )
        return VotesPublic(votes=[VotePublic.model_validate(r) for r in rows])


@usecase_router.get("/{use_case_id}/votes", summary="All votes on a use case")
def list_votes(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> VotesPublic:
    with platform.database.session() as session:
        rows = scoring.list_votes(session, use_case_id=use_case_id)
        return VotesPublic(votes=[VotePublic.model_validate(r) for r in rows])


@usecase_router.get("/{use_case_id}/checks", summary="Checklist items and red flags")
def list_checks(
    use_case_id: str, platform: PlatformDep, _: ViewerDep, red_flags_only: bool = False
) -> ChecksPublic:
    with platform.database.session() as session:
        rows = redflags.list_checks(session, use_case_id=use_case_id, red_flags_only=red_flags_only)
        return ChecksPublic(checks=[CheckPublic.model_validate(r) for r in rows])


@usecase_router.post(
    "/{use_case_id}/checks", status_code=201, summary="Add a checklist item or raise a red flag"
)
def add_check(use_case_id: str, body: CheckCreate, platform: PlatformDep, actor: EditorDep) -> CheckPublic:
    with platform.database.session(write=True) as session:
        created = redflags.add_check(session, actor=actor, use_case_id=use_case_id, values=body.model_dump())
        return CheckPublic.model_validate(created)


@usecase_router.patch("/{use_case_id}/checks/{check_id}", summary="Answer, assign, reopen or flag an item")
def update_check(
    use_case_id: str, check_id: int, body: CheckUpdate, platform: PlatformDep, actor: EditorDep
) -> CheckPublic:
    with platform.database.session(write=True) as session:
        changed = redflags.update_check(
            session,
            actor=actor,
            use_case_id=use_case_id,
            check_id=check_id,
            changes=body.model_dump(exclude_unset=True, exclude_none=True),
        )
        return CheckPublic.model_validate(changed)


@usecase_router.post(
    "/{use_case_id}/checks/{check_id}/signoff", summary="Sign an item off with a reason (approver)"
)
def sign_off(
    use_case_id: str, check_id: int, body: SignOff, platform: PlatformDep, actor: ApproverDep
) -> CheckPublic:
    with platform.database.session(write=True) as session:
        signed = redflags.sign_off(
            session, actor=actor, use_case_id=use_case_id, check_id=check_id, reason=body.reason
        )
        return CheckPublic.model_validate(signed)


@usecase_router.get(
    "/{use_case_id}/promotion-check", summary="Whether open red flags block promotion to champion"
)
def promotion_check(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> PromotionCheckPublic:
    with platform.database.session() as session:
        return views.promotion_check(session, use_case_id=use_case_id)


@usecase_router.get("/{use_case_id}/roi", summary="ROI, payback period and net value from the ROI inputs")
def get_roi(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> RoiPublic:
    with platform.database.session() as session:
        return views.roi_public(session, use_case_id=use_case_id)


@usecase_router.get("/{use_case_id}/kpis", summary="KPIs with their latest value")
def list_kpis(use_case_id: str, platform: PlatformDep, _: ViewerDep) -> KpisPublic:
    with platform.database.session() as session:
        return views.kpis_public(session, use_case_id=use_case_id)


@usecase_router.post("/{use_case_id}/kpis", status_code=201, summary="Add a KPI")
def add_kpi(use_case_id: str, body: KpiCreate, platform: PlatformDep, actor: EditorDep) -> KpiPublic:
    with platform.database.session(write=True) as session:
        return views.kpi_public(
            kpis.add_kpi(session, actor=actor, use_case_id=use_case_id, values=body.model_dump())
        )


@usecase_router.post(
    "/{use_case_id}/kpis/{kpi_id}/values", status_code=201, summary="Record a KPI value by hand"
)
def record_kpi_value(
    use_case_id: str, kpi_id: int, body: KpiValueCreate, platform: PlatformDep, actor: EditorDep
) -> KpiValuePublic:
    with platform.database.session(write=True) as session:
        row = kpis.record_kpi_value(
            session,
            actor=actor,
            use_case_id=use_case_id,
            kpi_id=kpi_id,
            value=body.value,
            observed_at=body.observed_at,
            note=body.note,
        )
        return KpiValuePublic.model_validate(row)


@usecase_router.get("/{use_case_id}/kpis/{kpi_id}/values", summary="Recorded values of a KPI, oldest first")
def list_kpi_values(use_case_id: str, kpi_id: int, platform: PlatformDep, _: ViewerDep) -> KpiValuesPublic:
    with platform.database.session() as session:
        rows = kpis.kpi_values(session, use_case_id=use_case_id, kpi_id=kpi_id)
        return KpiValuesPublic(values=[KpiValuePublic.model_validate(r) for r in rows])
