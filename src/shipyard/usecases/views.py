"""Public views of the stage's rows and results, shared by the routes and the embedded SDK.

Each function runs inside a caller's session and returns a pydantic schema, so that REST and the
embedded client answer with the very same objects.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from shipyard.core.errors import ConflictError
from shipyard.usecases import kpis, redflags
from shipyard.usecases._lookup import get_use_case
from shipyard.usecases.matrix import Matrix
from shipyard.usecases.portfolio import Cluster, Selection
from shipyard.usecases.roi import compute_roi
from shipyard.usecases.schemas import (
    AxisPublic,
    CheckPublic,
    ClusterPublic,
    ClustersPublic,
    ImportPublic,
    KpiPublic,
    KpisPublic,
    KpiValuePublic,
    MatrixPointPublic,
    MatrixPublic,
    PortfolioPublic,
    PromotionCheckPublic,
    RoiPublic,
    SelectedClusterPublic,
    SelectionPublic,
    UseCasePublic,
)
from shipyard.usecases.tables import Kpi, KpiValue, Portfolio, UseCase
from shipyard.usecases.workshop import ImportResult

__all__ = [
    "clusters_public",
    "import_public",
    "kpi_public",
    "kpis_public",
    "matrix_public",
    "portfolio_public",
    "promotion_check",
    "roi_public",
    "selection_public",
    "use_case_public",
]


def portfolio_public(portfolio: Portfolio) -> PortfolioPublic:
    return PortfolioPublic(
        id=portfolio.id,
        name=portfolio.name,
        description=portfolio.description,
        weights=portfolio.weights,
        value_threshold=portfolio.value_threshold,
        ease_threshold=portfolio.ease_threshold,
        disagreement_range=portfolio.disagreement_range,
        ease_floor=portfolio.ease_floor,
        selection_locked=portfolio.locked_selection is not None,
        created_at=portfolio.created_at,
        updated_at=portfolio.updated_at,
    )


def use_case_public(use_case: UseCase) -> UseCasePublic:
    canvas = use_case.canvas or {}
    return UseCasePublic(
        id=use_case.id,
        portfolio_id=use_case.portfolio_id,
        key=use_case.key,
        version=use_case.version,
        title=use_case.title,
        owner=use_case.owner,
        status=use_case.status,
        business_unit=use_case.business_unit,
        product=use_case.product,
        ai_capability=use_case.ai_capability,
        what=canvas.get("what", ""),
        why=canvas.get("why", ""),
        decision_makers=canvas.get("decision_makers", []),
        users=canvas.get("users", []),
        people_affected=canvas.get("people_affected", []),
        input_data=canvas.get("input_data", []),
        integration=canvas.get("integration", ""),
        challenges=canvas.get("challenges", ""),
        evaluation=canvas.get("evaluation", ""),
        roi=use_case.roi,
        selection=use_case.selection,
        created_at=use_case.created_at,
        updated_at=use_case.updated_at,
        updated_by=use_case.updated_by,
    )


def matrix_public(matrix: Matrix) -> MatrixPublic:
    return MatrixPublic(
        portfolio_id=matrix.portfolio_id,
        portfolio_name=matrix.portfolio_name,
        value_threshold=matrix.value_threshold,
        ease_threshold=matrix.ease_threshold,
        points=[
            MatrixPointPublic(
                use_case_id=p.use_case_id,
                key=p.key,
                title=p.title,
                business_unit=p.business_unit,
                status=p.status,
                value=AxisPublic(**asdict(p.scores.value)),
                ease=AxisPublic(**asdict(p.scores.ease)),
                voters=p.scores.voters,
                disagreement=p.scores.disagreement,
                disagreement_dimensions=list(p.scores.disagreement_dimensions),
                dimension_means=p.scores.dimension_means,
                dimension_ranges=p.scores.dimension_ranges,
                quadrant=p.quadrant.value if p.quadrant else None,
                rank=p.rank,
            )
            for p in matrix.points
        ],
    )


def clusters_public(clusters: list[Cluster]) -> ClustersPublic:
    return ClustersPublic(
        clusters=[
            ClusterPublic(kind=c.kind, label=c.label, use_case_ids=list(c.use_case_ids)) for c in clusters
        ]
    )


def selection_public(selection: Selection) -> SelectionPublic:
    return SelectionPublic(
        clusters=[
            SelectedClusterPublic(
                kind=c.kind,
                label=c.label,
                use_case_ids=list(c.use_case_ids),
                total_value=c.total_value,
                quick_wins=c.quick_wins,
                reason=c.reason,
            )
            for c in selection.clusters
        ],
        use_case_ids=list(selection.use_case_ids),
        explanation=list(selection.explanation),
        locked=selection.locked,
        locked_by=selection.locked_by,
        locked_at=selection.locked_at,
    )


def roi_public(session: Session, *, use_case_id: str) -> RoiPublic:
    """The computed ROI of a use case; ``ConflictError`` while it has no ROI inputs."""
    use_case = get_use_case(session, use_case_id)
    if not use_case.roi:
        raise ConflictError(
            f"use case {use_case.title!r} has no ROI inputs yet; set them with "
            "'shipyard usecases update --roi ...' or PATCH its roi",
            field="roi",
        )
    return RoiPublic(inputs=use_case.roi, **asdict(compute_roi(use_case.roi)))


def kpi_public(kpi: Kpi, latest: KpiValue | None = None) -> KpiPublic:
    public = KpiPublic.model_validate(kpi)
    public.latest = KpiValuePublic.model_validate(latest) if latest is not None else None
    return public


def kpis_public(session: Session, *, use_case_id: str) -> KpisPublic:
    rows = kpis.list_kpis(session, use_case_id=use_case_id)
    latest = kpis.latest_values(session, rows)
    return KpisPublic(kpis=[kpi_public(k, latest.get(k.id)) for k in rows])


def import_public(result: ImportResult) -> ImportPublic:
    return ImportPublic(
        portfolio=portfolio_public(result.portfolio),
        use_cases=result.use_cases,
        votes=result.votes,
        checks=result.checks,
        kpis=result.kpis,
    )


def promotion_check(session: Session, *, use_case_id: str) -> PromotionCheckPublic:
    """Whether a model of this use case may become champion, and what blocks it (never raises 409)."""
    flags = redflags.open_red_flags(session, use_case_id=use_case_id)
    try:
        redflags.assert_promotion_allowed(session, use_case_id=use_case_id)
        message = "no open red flags: promotion is allowed"
    except ConflictError as exc:
        message = exc.message
    return PromotionCheckPublic(
        use_case_id=use_case_id,
        allowed=not flags,
        open_red_flags=[CheckPublic.model_validate(f) for f in flags],
        message=message,
    )
