"""The use-case SDK in-process: calls the stage's services on the local store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.usecases.schemas import (
    CheckPublic,
    ClusterPublic,
    ImportPublic,
    KpiPublic,
    KpiValuePublic,
    MatrixPublic,
    PortfolioPublic,
    PromotionCheckPublic,
    RoiPublic,
    SelectionPublic,
    UseCasePublic,
    UseCaseVersionPublic,
    VotePublic,
)

if TYPE_CHECKING:
    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform

from shipyard.usecases._sdk_base import Scores, UseCaseMethods, given

__all__ = [
    "EmbeddedUseCaseMethods",
]


class EmbeddedUseCaseMethods(UseCaseMethods):
    platform: Platform
    actor: Principal

    def _read(self) -> Any:
        return self.platform.database.session()

    def _write(self) -> Any:
        return self.platform.database.session(write=True)

    def create_portfolio(
        self,
        name: str,
        *,
        description: str | None = None,
        weights: Mapping[str, Mapping[str, float]] | None = None,
        value_threshold: float | None = None,
        ease_threshold: float | None = None,
        disagreement_range: float | None = None,
        ease_floor: float | None = None,
    ) -> PortfolioPublic:
        from shipyard.usecases import canvas, views

        settings = given(
            description=description,
            weights=weights,
            value_threshold=value_threshold,
            ease_threshold=ease_threshold,
            disagreement_range=disagreement_range,
            ease_floor=ease_floor,
        )
        with self._write() as session:
            return views.portfolio_public(
                canvas.create_portfolio(session, actor=self.actor, name=name, **settings)
            )

    def list_portfolios(self) -> list[PortfolioPublic]:
        from shipyard.usecases import canvas, views

        with self._read() as session:
            return [views.portfolio_public(p) for p in canvas.list_portfolios(session)]

    def get_portfolio(self, portfolio_id: str) -> PortfolioPublic:
        from shipyard.usecases import canvas, views

        with self._read() as session:
            return views.portfolio_public(canvas.get_portfolio(session, portfolio_id))

    def update_portfolio(
        self,
        portfolio_id: str,
        *,
        description: str | None = None,
        weights: Mapping[str, Mapping[str, float]] | None = None,
        value_threshold: float | None = None,
        ease_threshold: float | None = None,
        disagreement_range: float | None = None,
        ease_floor: float | None = None,
    ) -> PortfolioPublic:
        from shipyard.usecases import canvas, views

        changes = given(
            description=description,
            weights=weights,
            value_threshold=value_threshold,
            ease_threshold=ease_threshold,
            disagreement_range=disagreement_range,
            ease_floor=ease_floor,
        )
        with self._write() as session:
            updated = canvas.update_portfolio(
                session, actor=self.actor, portfolio_id=portfolio_id, changes=changes
            )
            return views.portfolio_public(updated)

    def matrix(self, portfolio_id: str) -> MatrixPublic:
        from shipyard.usecases import matrix, views

        with self._read() as session:
            return views.matrix_public(matrix.build_matrix(session, portfolio_id=portfolio_id))

    def matrix_image(self, portfolio_id: str, *, format: str = "png") -> bytes:
        from shipyard.usecases import matrix, plot

        with self._read() as session:
            built = matrix.build_matrix(session, portfolio_id=portfolio_id)
        return plot.render_matrix(built, fmt=format)

    def clusters(self, portfolio_id: str) -> list[ClusterPublic]:
        from shipyard.usecases import portfolio, views

        with self._read() as session:
            return views.clusters_public(portfolio.list_clusters(session, portfolio_id=portfolio_id)).clusters

    def selection(self, portfolio_id: str) -> SelectionPublic:
        from shipyard.usecases import portfolio, views

        with self._read() as session:
            return views.selection_public(portfolio.get_selection(session, portfolio_id=portfolio_id))

    def lock_selection(self, portfolio_id: str) -> SelectionPublic:
        from shipyard.usecases import portfolio, views

        with self._write() as session:
            return views.selection_public(
                portfolio.lock_selection(session, actor=self.actor, portfolio_id=portfolio_id)
            )

    def unlock_selection(self, portfolio_id: str) -> SelectionPublic:
        from shipyard.usecases import portfolio, views

        with self._write() as session:
            unlocked = portfolio.unlock_selection(session, actor=self.actor, portfolio_id=portfolio_id)
            return views.selection_public(unlocked)

    def import_portfolio(
        self, content: str, *, format: str = "yaml", name: str | None = None
    ) -> ImportPublic:
        from shipyard.core.errors import InvalidParameterError
        from shipyard.usecases import views, workshop

        with self._write() as session:
            if format == "csv":
                result = workshop.import_csv(session, actor=self.actor, text=content, name=name or "")
            elif format == "yaml":
                result = workshop.import_yaml(session, actor=self.actor, text=content, name=name)
            else:
                raise InvalidParameterError(f"format must be yaml or csv; got {format!r}", field="format")
            return views.import_public(result)

    def export_portfolio(self, portfolio_id: str, *, format: str = "yaml") -> str:
        from shipyard.core.errors import InvalidParameterError
        from shipyard.usecases import workshop

        if format not in ("yaml", "csv"):
            raise InvalidParameterError(f"format must be yaml or csv; got {format!r}", field="format")
        with self._read() as session:
            exporter = workshop.export_csv if format == "csv" else workshop.export_yaml
            return exporter(session, portfolio_id=portfolio_id)

    def portfolio_report(self, portfolio_id: str, *, format: str = "markdown") -> str:
        from shipyard.usecases import report

        with self._read() as session:
            return report.render(session, portfolio_id=portfolio_id, fmt=format)

    def create_use_case(
        self, portfolio_id: str, title: str, *, key: str | None = None, **fields: Any
    ) -> UseCasePublic:
        from shipyard.usecases import canvas, views

        with self._write() as session:
            created = canvas.create_use_case(
                session,
                actor=self.actor,
                portfolio_id=portfolio_id,
                values={"title": title, **fields},
                key=key,
            )
            return views.use_case_public(created)

    def list_use_cases(
        self, *, portfolio_id: str | None = None, status: str | None = None
    ) -> list[UseCasePublic]:
        from shipyard.usecases import canvas, views

        with self._read() as session:
            found = canvas.list_use_cases(session, portfolio_id=portfolio_id, status=status)
            return [views.use_case_public(u) for u in found]

    def get_use_case(self, use_case_id: str) -> UseCasePublic:
        from shipyard.usecases import canvas, views

        with self._read() as session:
            return views.use_case_public(canvas.get_use_case(session, use_case_id))

    def update_use_case(self, use_case_id: str, **changes: Any) -> UseCasePublic:
        from shipyard.usecases import canvas, views

        with self._write() as session:
            changed = canvas.update_use_case(
                session, actor=self.actor, use_case_id=use_case_id, changes=changes
            )
            return views.use_case_public(changed)

    def use_case_history(self, use_case_id: str) -> list[UseCaseVersionPublic]:
        from shipyard.usecases import canvas

        with self._read() as session:
            return [
                UseCaseVersionPublic.model_validate(v)
                for v in canvas.list_history(session, use_case_id=use_case_id)
            ]

    def set_selection_choice(self, use_case_id: str, choice: str) -> UseCasePublic:
        from shipyard.usecases import portfolio, views

        with self._write() as session:
            changed = portfolio.set_choice(session, actor=self.actor, use_case_id=use_case_id, choice=choice)
            return views.use_case_public(changed)

    def vote(self, use_case_id: str, scores: Scores, *, voter: str | None = None) -> list[VotePublic]:
        from shipyard.usecases import scoring

        with self._write() as session:
            rows = scoring.cast_votes(
                session,
                actor=self.actor,
                use_case_id=use_case_id,
                voter=voter or self.actor.name,
                scores=scores,
            )
            return [VotePublic.model_validate(r) for r in rows]

    def list_votes(self, use_case_id: str) -> list[VotePublic]:
        from shipyard.usecases import scoring

        with self._read() as session:
            return [
                VotePublic.model_validate(r) for r in scoring.list_votes(session, use_case_id=use_case_id)
            ]

    def list_checks(self, use_case_id: str, *, red_flags_only: bool = False) -> list[CheckPublic]:
        from shipyard.usecases import redflags

        with self._read() as session:
            rows = redflags.list_checks(session, use_case_id=use_case_id, red_flags_only=red_flags_only)
            return [CheckPublic.model_validate(r) for r in rows]

    def add_check(
        self,
        use_case_id: str,
        category: str,
        question: str,
        *,
        stakeholder: str | None = None,
        phase: str | None = None,
        answer: str = "",
        owner: str = "",
        status: str = "open",
        red_flag: bool = False,
    ) -> CheckPublic:
        from shipyard.usecases import redflags

        values = {
            "category": category,
            "question": question,
            "stakeholder": stakeholder,
            "phase": phase,
            "answer": answer,
            "owner": owner,
            "status": status,
            "red_flag": red_flag,
        }
        with self._write() as session:
            return CheckPublic.model_validate(
                redflags.add_check(session, actor=self.actor, use_case_id=use_case_id, values=values)
            )

    def update_check(
        self,
        use_case_id: str,
        check_id: int,
        *,
        answer: str | None = None,
        owner: str | None = None,
        status: str | None = None,
        red_flag: bool | None = None,
    ) -> CheckPublic:
        from shipyard.usecases import redflags

        changes = given(answer=answer, owner=owner, status=status, red_flag=red_flag)
        with self._write() as session:
            changed = redflags.update_check(
                session, actor=self.actor, use_case_id=use_case_id, check_id=check_id, changes=changes
            )
            return CheckPublic.model_validate(changed)

    def sign_off(self, use_case_id: str, check_id: int, reason: str) -> CheckPublic:
        from shipyard.usecases import redflags

        with self._write() as session:
            signed = redflags.sign_off(
                session, actor=self.actor, use_case_id=use_case_id, check_id=check_id, reason=reason
            )
            return CheckPublic.model_validate(signed)

    def promotion_check(self, use_case_id: str) -> PromotionCheckPublic:
        from shipyard.usecases import views

        with self._read() as session:
            return views.promotion_check(session, use_case_id=use_case_id)

    def roi(self, use_case_id: str) -> RoiPublic:
        from shipyard.usecases import views

        with self._read() as session:
            return views.roi_public(session, use_case_id=use_case_id)

    def list_kpis(self, use_case_id: str) -> list[KpiPublic]:
        from shipyard.usecases import views

        with self._read() as session:
            return views.kpis_public(session, use_case_id=use_case_id).kpis

    def add_kpi(
        self,
        use_case_id: str,
        name: str,
        *,
        unit: str = "",
        target: float | None = None,
        direction: str = "increase",
        endpoint: str | None = None,
        metric: str | None = None,
    ) -> KpiPublic:
        from shipyard.usecases import kpis, views

        values = {
            "name": name,
            "unit": unit,
            "target": target,
            "direction": direction,
            "endpoint": endpoint,
            "metric": metric,
        }
        with self._write() as session:
            return views.kpi_public(
                kpis.add_kpi(session, actor=self.actor, use_case_id=use_case_id, values=values)
            )

    def record_kpi_value(
        self,
        use_case_id: str,
        kpi_id: int,
        value: float,
        *,
        observed_at: datetime | None = None,
        note: str = "",
    ) -> KpiValuePublic:
        from shipyard.usecases import kpis

        with self._write() as session:
            row = kpis.record_kpi_value(
                session,
                actor=self.actor,
                use_case_id=use_case_id,
                kpi_id=kpi_id,
                value=value,
                observed_at=observed_at,
                note=note,
            )
            return KpiValuePublic.model_validate(row)

    def kpi_values(self, use_case_id: str, kpi_id: int) -> list[KpiValuePublic]:
        from shipyard.usecases import kpis

        with self._read() as session:
            rows = kpis.kpi_values(session, use_case_id=use_case_id, kpi_id=kpi_id)
            return [KpiValuePublic.model_validate(r) for r in rows]
