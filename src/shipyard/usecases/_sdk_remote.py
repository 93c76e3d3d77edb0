"""The use-case SDK over REST."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.usecases.schemas import (
    CheckPublic,
    ChecksPublic,
    ClusterPublic,
    ClustersPublic,
    ImportPublic,
    KpiPublic,
    KpisPublic,
    KpiValuePublic,
    KpiValuesPublic,
    MatrixPublic,
    PortfolioPublic,
    PortfoliosPublic,
    PromotionCheckPublic,
    RoiPublic,
    SelectionPublic,
    UseCasePublic,
    UseCasesPublic,
    UseCaseVersionPublic,
    UseCaseVersionsPublic,
    VotePublic,
    VotesPublic,
)

if TYPE_CHECKING:
    import httpx


from shipyard.usecases._sdk_base import Scores, UseCaseMethods, given

__all__ = [
    "RemoteUseCaseMethods",
]


class RemoteUseCaseMethods(UseCaseMethods):
    if TYPE_CHECKING:

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

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
        body = given(
            name=name,
            description=description,
            weights=weights,
            value_threshold=value_threshold,
            ease_threshold=ease_threshold,
            disagreement_range=disagreement_range,
            ease_floor=ease_floor,
        )
        return PortfolioPublic.model_validate(self._request("POST", "/api/v1/portfolios", json=body).json())

    def list_portfolios(self) -> list[PortfolioPublic]:
        return PortfoliosPublic.model_validate(self._request("GET", "/api/v1/portfolios").json()).portfolios

    def get_portfolio(self, portfolio_id: str) -> PortfolioPublic:
        return PortfolioPublic.model_validate(self._request("GET", _p(portfolio_id)).json())

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
        body = given(
            description=description,
            weights=weights,
            value_threshold=value_threshold,
            ease_threshold=ease_threshold,
            disagreement_range=disagreement_range,
            ease_floor=ease_floor,
        )
        return PortfolioPublic.model_validate(self._request("PATCH", _p(portfolio_id), json=body).json())

    def matrix(self, portfolio_id: str) -> MatrixPublic:
        return MatrixPublic.model_validate(self._request("GET", _p(portfolio_id, "matrix")).json())

    def matrix_image(self, portfolio_id: str, *, format: str = "png") -> bytes:
        return self._request("GET", _p(portfolio_id, "matrix/image"), params={"format": format}).content

    def clusters(self, portfolio_id: str) -> list[ClusterPublic]:
        return ClustersPublic.model_validate(
            self._request("GET", _p(portfolio_id, "clusters")).json()
        ).clusters

    def selection(self, portfolio_id: str) -> SelectionPublic:
        return SelectionPublic.model_validate(self._request("GET", _p(portfolio_id, "selection")).json())

    def lock_selection(self, portfolio_id: str) -> SelectionPublic:
        return SelectionPublic.model_validate(
            self._request("POST", _p(portfolio_id, "selection/lock")).json()
        )

    def unlock_selection(self, portfolio_id: str) -> SelectionPublic:
        return SelectionPublic.model_validate(
            self._request("DELETE", _p(portfolio_id, "selection/lock")).json()
        )

    def import_portfolio(
        self, content: str, *, format: str = "yaml", name: str | None = None
    ) -> ImportPublic:
        body = given(content=content, format=format, name=name)
        return ImportPublic.model_validate(
            self._request("POST", "/api/v1/portfolios/import", json=body).json()
        )

    def export_portfolio(self, portfolio_id: str, *, format: str = "yaml") -> str:
        return self._request("GET", _p(portfolio_id, "export"), params={"format": format}).text

    def portfolio_report(self, portfolio_id: str, *, format: str = "markdown") -> str:
        return self._request("GET", _p(portfolio_id, "report"), params={"format": format}).text

    def create_use_case(
        self, portfolio_id: str, title: str, *, key: str | None = None, **fields: Any
    ) -> UseCasePublic:
        body = {"portfolio_id": portfolio_id, "title": title, **given(key=key), **fields}
        return UseCasePublic.model_validate(self._request("POST", "/api/v1/usecases", json=body).json())

    def list_use_cases(
        self, *, portfolio_id: str | None = None, status: str | None = None
    ) -> list[UseCasePublic]:
        params = given(portfolio_id=portfolio_id, status=status)
        return UseCasesPublic.model_validate(
            self._request("GET", "/api/v1/usecases", params=params).json()
        ).use_cases

    def get_use_case(self, use_case_id: str) -> UseCasePublic:
        return UseCasePublic.model_validate(self._request("GET", _u(use_case_id)).json())

    def update_use_case(self, use_case_id: str, **changes: Any) -> UseCasePublic:
        return UseCasePublic.model_validate(self._request("PATCH", _u(use_case_id), json=changes).json())

    def use_case_history(self, use_case_id: str) -> list[UseCaseVersionPublic]:
        response = self._request("GET", _u(use_case_id, "history"))
        return UseCaseVersionsPublic.model_validate(response.json()).versions

    def set_selection_choice(self, use_case_id: str, choice: str) -> UseCasePublic:
        response = self._request("PUT", _u(use_case_id, "selection"), json={"choice": choice})
        return UseCasePublic.model_validate(response.json())

    def vote(self, use_case_id: str, scores: Scores, *, voter: str | None = None) -> list[VotePublic]:
        body = {"scores": dict(scores), **given(voter=voter)}
        return VotesPublic.model_validate(
            self._request("PUT", _u(use_case_id, "votes"), json=body).json()
        ).votes

    def list_votes(self, use_case_id: str) -> list[VotePublic]:
        return VotesPublic.model_validate(self._request("GET", _u(use_case_id, "votes")).json()).votes

    def list_checks(self, use_case_id: str, *, red_flags_only: bool = False) -> list[CheckPublic]:
        response = self._request("GET", _u(use_case_id, "checks"), params={"red_flags_only": red_flags_only})
        return ChecksPublic.model_validate(response.json()).checks

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
        body = {
            "category": category,
            "question": question,
            "stakeholder": stakeholder,
            "phase": phase,
            "answer": answer,
            "owner": owner,
            "status": status,
            "red_flag": red_flag,
        }
        return CheckPublic.model_validate(self._request("POST", _u(use_case_id, "checks"), json=body).json())

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
        body = given(answer=answer, owner=owner, status=status, red_flag=red_flag)
        response = self._request("PATCH", _u(use_case_id, f"checks/{check_id}"), json=body)
        return CheckPublic.model_validate(response.json())

    def sign_off(self, use_case_id: str, check_id: int, reason: str) -> CheckPublic:
        response = self._request(
            "POST", _u(use_case_id, f"checks/{check_id}/signoff"), json={"reason": reason}
        )
        return CheckPublic.model_validate(response.json())

    def promotion_check(self, use_case_id: str) -> PromotionCheckPublic:
        return PromotionCheckPublic.model_validate(
            self._request("GET", _u(use_case_id, "promotion-check")).json()
        )

    def roi(self, use_case_id: str) -> RoiPublic:
        return RoiPublic.model_validate(self._request("GET", _u(use_case_id, "roi")).json())

    def list_kpis(self, use_case_id: str) -> list[KpiPublic]:
        return KpisPublic.model_validate(self._request("GET", _u(use_case_id, "kpis")).json()).kpis

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
        body = {
            "name": name,
            "unit": unit,
            "target": target,
            "direction": direction,
            "endpoint": endpoint,
            "metric": metric,
        }
        return KpiPublic.model_validate(self._request("POST", _u(use_case_id, "kpis"), json=body).json())

    def record_kpi_value(
        self,
        use_case_id: str,
        kpi_id: int,
        value: float,
        *,
        observed_at: datetime | None = None,
        note: str = "",
    ) -> KpiValuePublic:
        body = {
            "value": value,
            "note": note,
            **given(observed_at=observed_at.isoformat() if observed_at else None),
        }
        response = self._request("POST", _u(use_case_id, f"kpis/{kpi_id}/values"), json=body)
        return KpiValuePublic.model_validate(response.json())

    def kpi_values(self, use_case_id: str, kpi_id: int) -> list[KpiValuePublic]:
        response = self._request("GET", _u(use_case_id, f"kpis/{kpi_id}/values"))
        return KpiValuesPublic.model_validate(response.json()).values


def _p(portfolio_id: str, tail: str = "") -> str:
    from urllib.parse import quote

    return f"/api/v1/portfolios/{quote(portfolio_id, safe='')}" + (f"/{tail}" if tail else "")


def _u(use_case_id: str, tail: str = "") -> str:
    from urllib.parse import quote

    return f"/api/v1/usecases/{quote(use_case_id, safe='')}" + (f"/{tail}" if tail else "")
