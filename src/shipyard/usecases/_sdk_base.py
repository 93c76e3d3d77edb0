"""The abstract method set of the use-case SDK (see ``shipyard.usecases.sdk``)."""

from __future__ import annotations

import abc
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
    pass

__all__ = [
    "Scores",
    "UseCaseMethods",
    "given",
]

Scores = Mapping[str, float | Mapping[str, Any]]


def given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class UseCaseMethods(abc.ABC):
    """Portfolios, use cases, votes, matrix, selection, checklists, ROI, KPIs and workshop I/O."""

    # portfolios
    @abc.abstractmethod
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
    ) -> PortfolioPublic: ...

    @abc.abstractmethod
    def list_portfolios(self) -> list[PortfolioPublic]: ...

    @abc.abstractmethod
    def get_portfolio(self, portfolio_id: str) -> PortfolioPublic: ...

    @abc.abstractmethod
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
    ) -> PortfolioPublic: ...

    @abc.abstractmethod
    def matrix(self, portfolio_id: str) -> MatrixPublic: ...

    @abc.abstractmethod
    def matrix_image(self, portfolio_id: str, *, format: str = "png") -> bytes: ...

    @abc.abstractmethod
    def clusters(self, portfolio_id: str) -> list[ClusterPublic]: ...

    @abc.abstractmethod
    def selection(self, portfolio_id: str) -> SelectionPublic: ...

    @abc.abstractmethod
    def lock_selection(self, portfolio_id: str) -> SelectionPublic: ...

    @abc.abstractmethod
    def unlock_selection(self, portfolio_id: str) -> SelectionPublic: ...

    @abc.abstractmethod
    def import_portfolio(
        self, content: str, *, format: str = "yaml", name: str | None = None
    ) -> ImportPublic: ...

    @abc.abstractmethod
    def export_portfolio(self, portfolio_id: str, *, format: str = "yaml") -> str: ...

    @abc.abstractmethod
    def portfolio_report(self, portfolio_id: str, *, format: str = "markdown") -> str: ...

    # use cases
    @abc.abstractmethod
    def create_use_case(
        self, portfolio_id: str, title: str, *, key: str | None = None, **fields: Any
    ) -> UseCasePublic: ...

    @abc.abstractmethod
    def list_use_cases(
        self, *, portfolio_id: str | None = None, status: str | None = None
    ) -> list[UseCasePublic]: ...

    @abc.abstractmethod
    def get_use_case(self, use_case_id: str) -> UseCasePublic: ...

    @abc.abstractmethod
    def update_use_case(self, use_case_id: str, **changes: Any) -> UseCasePublic: ...

    @abc.abstractmethod
    def use_case_history(self, use_case_id: str) -> list[UseCaseVersionPublic]: ...

    @abc.abstractmethod
    def set_selection_choice(self, use_case_id: str, choice: str) -> UseCasePublic: ...

    @abc.abstractmethod
    def vote(self, use_case_id: str, scores: Scores, *, voter: str | None = None) -> list[VotePublic]: ...

    @abc.abstractmethod
    def list_votes(self, use_case_id: str) -> list[VotePublic]: ...

    # checklists and red flags
    @abc.abstractmethod
    def list_checks(self, use_case_id: str, *, red_flags_only: bool = False) -> list[CheckPublic]: ...

    @abc.abstractmethod
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
    ) -> CheckPublic: ...

    @abc.abstractmethod
    def update_check(
        self,
        use_case_id: str,
        check_id: int,
        *,
        answer: str | None = None,
        owner: str | None = None,
        status: str | None = None,
        red_flag: bool | None = None,
    ) -> CheckPublic: ...

    @abc.abstractmethod
    def sign_off(self, use_case_id: str, check_id: int, reason: str) -> CheckPublic: ...

    @abc.abstractmethod
    def promotion_check(self, use_case_id: str) -> PromotionCheckPublic: ...

    # ROI and KPIs
    @abc.abstractmethod
    def roi(self, use_case_id: str) -> RoiPublic: ...

    @abc.abstractmethod
    def list_kpis(self, use_case_id: str) -> list[KpiPublic]: ...

    @abc.abstractmethod
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
    ) -> KpiPublic: ...

    @abc.abstractmethod
    def record_kpi_value(
        self,
        use_case_id: str,
        kpi_id: int,
        value: float,
        *,
        observed_at: datetime | None = None,
        note: str = "",
    ) -> KpiValuePublic: ...

    @abc.abstractmethod
    def kpi_values(self, use_case_id: str, kpi_id: int) -> list[KpiValuePublic]: ...
