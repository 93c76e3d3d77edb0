"""Pydantic schemas of the use-case stage's HTTP and SDK edges (services validate again)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from shipyard.core.validation import CleanText

__all__ = [
    "AxisPublic",
    "CheckCreate",
    "CheckPublic",
    "CheckUpdate",
    "ChecksPublic",
    "ChoiceUpdate",
    "ClusterPublic",
    "ClustersPublic",
    "ImportPublic",
    "KpiCreate",
    "KpiPublic",
    "KpiValueCreate",
    "KpiValuePublic",
    "KpiValuesPublic",
    "KpisPublic",
    "MatrixPointPublic",
    "MatrixPublic",
    "PortfolioCreate",
    "PortfolioImport",
    "PortfolioPublic",
    "PortfolioUpdate",
    "PortfoliosPublic",
    "PromotionCheckPublic",
    "RoiInputs",
    "RoiPublic",
    "ScoreEntry",
    "SelectedClusterPublic",
    "SelectionPublic",
    "SignOff",
    "UseCaseCreate",
    "UseCasePublic",
    "UseCaseUpdate",
    "UseCaseVersionPublic",
    "UseCaseVersionsPublic",
    "UseCasesPublic",
    "VotePublic",
    "VotesCreate",
    "VotesPublic",
]

Status = Literal["idea", "assessed", "selected", "in_development", "in_production", "retired"]
Score = float
Text = CleanText


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- portfolios -------------------------------------------------------------------------------------
class Weights(_Strict):
    value: dict[str, float] = Field(default_factory=dict, description="economic_value, strategic_alignment")
    ease: dict[str, float] = Field(
        default_factory=dict,
        description="data_availability, technology_maturity, process_integration, know_how",
    )


class PortfolioUpdate(_Strict):
    description: Text | None = Field(default=None, max_length=4000)
    weights: Weights | None = None
    value_threshold: float | None = Field(default=None, ge=0, le=5)
    ease_threshold: float | None = Field(default=None, ge=0, le=5)
    disagreement_range: float | None = Field(default=None, ge=0.5, le=5)
    ease_floor: float | None = Field(default=None, ge=0, le=5)


class PortfolioCreate(PortfolioUpdate):
    name: Text = Field(min_length=1, max_length=200)


class PortfolioPublic(_FromRow):
    id: str
    name: str
    description: str
    weights: dict[str, dict[str, float]]
    value_threshold: float
    ease_threshold: float
    disagreement_range: float
    ease_floor: float
    selection_locked: bool = False
    created_at: datetime
    updated_at: datetime


class PortfoliosPublic(BaseModel):
    portfolios: list[PortfolioPublic]


# -- use cases --------------------------------------------------------------------------------------
class RoiInputs(_Strict):
    minutes_saved_per_task: float = Field(default=0, ge=0, le=1e12)
    tasks_per_period: float = Field(default=0, ge=0, le=1e12)
    hourly_cost: float = Field(default=0, ge=0, le=1e12)
    error_cost_avoided: float = Field(default=0, ge=0, le=1e12)
    build_cost: float = Field(default=0, ge=0, le=1e12)
    running_cost: float = Field(default=0, ge=0, le=1e12)
    horizon: int = Field(default=36, ge=1, le=600)
    period: Text = Field(default="month", min_length=1, max_length=20)
    currency: Text = Field(default="EUR", min_length=1, max_length=10)


class _CanvasFields(_Strict):
    owner: Text | None = Field(default=None, max_length=200)
    business_unit: Text | None = Field(default=None, max_length=200)
    product: Text | None = Field(default=None, max_length=200)
    ai_capability: Text | None = Field(
        default=None,
        max_length=100,
        description="e.g. classification, regression, forecasting, ranking, anomaly detection, language, "
        "vision",
    )
    what: Text | None = Field(default=None, max_length=4000)
    why: Text | None = Field(default=None, max_length=4000)
    decision_makers: list[Text] | None = Field(default=None, max_length=50)
    users: list[Text] | None = Field(default=None, max_length=50)
    people_affected: list[Text] | None = Field(default=None, max_length=50)
    input_data: list[Text] | None = Field(default=None, max_length=50)
    integration: Text | None = Field(default=None, max_length=4000)
    challenges: Text | None = Field(default=None, max_length=4000)
    evaluation: Text | None = Field(default=None, max_length=4000)
    roi: RoiInputs | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"portfolio_id", "key"})


class UseCaseCreate(_CanvasFields):
    portfolio_id: Text = Field(min_length=1, max_length=200, description="Portfolio id or name")
    key: Text | None = Field(default=None, max_length=100, description="Short id within the portfolio")
    title: Text = Field(min_length=1, max_length=200)
    status: Status | None = None


class UseCaseUpdate(_CanvasFields):
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    status: Status | None = None


class UseCasePublic(BaseModel):
    id: str
    portfolio_id: str
    key: str
    version: int
    title: str
    owner: str
    status: str
    business_unit: str
    product: str
    ai_capability: str
    what: str
    why: str
    decision_makers: list[str]
    users: list[str]
    people_affected: list[str]
    input_data: list[str]
    integration: str
    challenges: str
    evaluation: str
    roi: dict[str, Any] | None
    selection: str
    created_at: datetime
    updated_at: datetime
    updated_by: str


class UseCasesPublic(BaseModel):
    use_cases: list[UseCasePublic]


class UseCaseVersionPublic(_FromRow):
    version: int
    snapshot: dict[str, Any]
    changed_fields: list[str]
    changed_by: str
    changed_at: datetime


class UseCaseVersionsPublic(BaseModel):
    versions: list[UseCaseVersionPublic]


class ChoiceUpdate(_Strict):
    choice: Literal["auto", "include", "exclude"]


# -- votes ------------------------------------------------------------------------------------------
class ScoreEntry(_Strict):
    score: float = Field(ge=0, le=5)
    comment: Text = Field(default="", max_length=2000)


def _as_entry(value: Any) -> Any:
    return {"score": value} if isinstance(value, int | float) and not isinstance(value, bool) else value


# A bare number or {score, comment}; one model underneath, so errors point at the dimension itself.
ScoreInput = Annotated[
    ScoreEntry,
    BeforeValidator(_as_entry),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {
                    "type": "object",
                    "properties": {
                        "score": {"type": "number"},
                        "comment": {"type": "string", "maxLength": 2000},
                    },
                    "required": ["score"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class VotesCreate(_Strict):
    voter: Text | None = Field(
        default=None, min_length=1, max_length=200, description="Defaults to the caller's token name"
    )
    scores: dict[str, ScoreInput] = Field(
        description="dimension → score (0-5) or {score, comment}; dimensions: economic_value, "
        "strategic_alignment, data_availability, technology_maturity, process_integration, know_how"
    )


class VotePublic(_FromRow):
    voter: str
    dimension: str
    score: float
    comment: str
    updated_at: datetime


class VotesPublic(BaseModel):
    votes: list[VotePublic]


# -- matrix, clusters, selection ----------------------------------------------------------------------
class AxisPublic(BaseModel):
    mean: float | None
    low: float | None
    high: float | None


class MatrixPointPublic(BaseModel):
    use_case_id: str
    key: str
    title: str
    business_unit: str
    status: str
    value: AxisPublic
    ease: AxisPublic
    voters: int
    disagreement: bool
    disagreement_dimensions: list[str]
    dimension_means: dict[str, float]
    dimension_ranges: dict[str, float]
    quadrant: str | None
    rank: int | None


class MatrixPublic(BaseModel):
    portfolio_id: str
    portfolio_name: str
    value_threshold: float
    ease_threshold: float
    points: list[MatrixPointPublic]


class ClusterPublic(BaseModel):
    kind: str
    label: str
    use_case_ids: list[str]


class ClustersPublic(BaseModel):
    clusters: list[ClusterPublic]


class SelectedClusterPublic(ClusterPublic):
    total_value: float
    quick_wins: int
    reason: str


class SelectionPublic(BaseModel):
    clusters: list[SelectedClusterPublic]
    use_case_ids: list[str]
    explanation: list[str]
    locked: bool
    locked_by: str | None
    locked_at: str | None


# -- checklists and red flags -------------------------------------------------------------------------
Category = Literal["regulation_ethics", "cybersecurity", "human_aspect", "stakeholders"]
Stakeholder = Literal["decision_makers", "users", "people_affected"]
Phase = Literal["before", "during", "after"]
EditableStatus = Literal["open", "answered", "not_applicable"]


class CheckUpdate(_Strict):
    answer: Text | None = Field(default=None, max_length=4000)
    owner: Text | None = Field(default=None, max_length=200)
    status: EditableStatus | None = None
    red_flag: bool | None = None


class CheckCreate(_Strict):
    category: Category
    question: Text = Field(min_length=1, max_length=2000)
    stakeholder: Stakeholder | None = None
    phase: Phase | None = None
    answer: Text = Field(default="", max_length=4000)
    owner: Text = Field(default="", max_length=200)
    status: EditableStatus = "open"
    red_flag: bool = False


class CheckPublic(_FromRow):
    id: int
    use_case_id: str
    category: str
    stakeholder: str | None
    phase: str | None
    question: str
    answer: str
    owner: str
    status: str
    red_flag: bool
    signed_off_by: str | None
    signed_off_at: datetime | None
    signoff_reason: str | None
    updated_at: datetime


class ChecksPublic(BaseModel):
    checks: list[CheckPublic]


class SignOff(_Strict):
    reason: Text = Field(min_length=1, max_length=4000)


class PromotionCheckPublic(BaseModel):
    use_case_id: str
    allowed: bool
    open_red_flags: list[CheckPublic]
    message: str


# -- ROI and KPIs -----------------------------------------------------------------------------------
class RoiPublic(BaseModel):
    inputs: dict[str, Any]
    period: str
    currency: str
    horizon: int
    benefit_per_period: float
    net_per_period: float
    total_cost: float
    total_benefit: float
    net_value: float
    roi: float | None
    payback_periods: float | None


class KpiCreate(_Strict):
    name: Text = Field(min_length=1, max_length=200)
    unit: Text = Field(default="", max_length=50)
    target: float | None = Field(default=None, ge=-1e15, le=1e15)
    direction: Literal["increase", "decrease"] = "increase"
    endpoint: Text | None = Field(default=None, min_length=1, max_length=200)
    metric: Text | None = Field(default=None, min_length=1, max_length=200)


class KpiValuePublic(_FromRow):
    value: float
    observed_at: datetime
    recorded_by: str
    note: str


class KpiPublic(_FromRow):
    id: int
    use_case_id: str
    name: str
    unit: str
    target: float | None
    direction: str
    endpoint: str | None
    metric: str | None
    latest: KpiValuePublic | None = None


class KpisPublic(BaseModel):
    kpis: list[KpiPublic]


class KpiValuesPublic(BaseModel):
    values: list[KpiValuePublic]


class KpiValueCreate(_Strict):
    value: float = Field(ge=-1e15, le=1e15)
    observed_at: datetime | None = Field(default=None, description="With a time zone; now when omitted")
    note: Text = Field(default="", max_length=2000)


# -- workshop I/O -------------------------------------------------------------------------------------
class PortfolioImport(_Strict):
    format: Literal["yaml", "csv"] = "yaml"
    content: str = Field(max_length=10_000_000, description="The YAML or CSV document")
    name: Text | None = Field(
        default=None, min_length=1, max_length=200, description="Portfolio name (required for CSV)"
    )


class ImportPublic(BaseModel):
    portfolio: PortfolioPublic
    use_cases: int
    votes: int
    checks: int
    kpis: int
