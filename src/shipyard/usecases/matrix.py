"""The prioritisation matrix: one point per use case, its quadrant and its rank.

Quadrants by the portfolio's thresholds (2.5 by default); a score equal to a threshold counts as high:

====================  ==========  ==========
quadrant              value       ease
====================  ==========  ==========
``quick_win``         ≥ value t.  ≥ ease t.
``strategic_bet``     ≥ value t.  < ease t.
``fill_in``           < value t.  ≥ ease t.
``avoid``             < value t.  < ease t.
====================  ==========  ==========

Ranking: by value, then ease, both descending; use cases with equal value and ease share a rank
(competition ranking: 1, 2, 2, 4) and are listed by title. Unscored use cases come last, unranked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.usecases._lookup import get_portfolio
from shipyard.usecases.scoring import ScoreSummary, Vote, summarise
from shipyard.usecases.tables import Portfolio, UseCase, UseCaseScore

__all__ = [
    "Matrix",
    "MatrixPoint",
    "Quadrant",
    "build_matrix",
    "quadrant_of",
    "rank_points",
]


class Quadrant(StrEnum):
    QUICK_WIN = "quick_win"
    STRATEGIC_BET = "strategic_bet"
    FILL_IN = "fill_in"
    AVOID = "avoid"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def quadrant_of(
    value: float, ease: float, *, value_threshold: float = 2.5, ease_threshold: float = 2.5
) -> Quadrant:
    """The quadrant of a point; on a threshold counts as high.

    >>> quadrant_of(2.5, 2.5), quadrant_of(4.0, 2.49), quadrant_of(1.0, 5.0), quadrant_of(0, 0)
    (<Quadrant.QUICK_WIN: 'quick_win'>, <Quadrant.STRATEGIC_BET: 'strategic_bet'>, \
<Quadrant.FILL_IN: 'fill_in'>, <Quadrant.AVOID: 'avoid'>)
    """
    high_value, high_ease = value >= value_threshold, ease >= ease_threshold
    if high_value:
        return Quadrant.QUICK_WIN if high_ease else Quadrant.STRATEGIC_BET
    return Quadrant.FILL_IN if high_ease else Quadrant.AVOID


@dataclass(frozen=True)
class MatrixPoint:
    use_case_id: str
    key: str
    title: str
    business_unit: str
    product: str
    ai_capability: str
    input_data: tuple[str, ...]
    status: str
    selection: str
    scores: ScoreSummary
    quadrant: Quadrant | None
    rank: int | None

    @property
    def value(self) -> float | None:
        return self.scores.value.mean

    @property
    def ease(self) -> float | None:
        return self.scores.ease.mean

    @property
    def scored(self) -> bool:
        return self.value is not None and self.ease is not None


@dataclass(frozen=True)
class Matrix:
    portfolio_id: str
    portfolio_name: str
    value_threshold: float
    ease_threshold: float
    points: tuple[MatrixPoint, ...]

    def by_id(self) -> dict[str, MatrixPoint]:
        return {point.use_case_id: point for point in self.points}


def rank_points(points: list[MatrixPoint]) -> list[MatrixPoint]:
    """Points in rank order with ranks filled in (ties share a rank; unscored last, unranked).

    Ranks compare scores rounded to 6 decimals, so float noise never splits a tie.
    """
    scored = sorted(
        (p for p in points if p.scored),
        key=lambda p: (-round(p.value or 0.0, 6), -round(p.ease or 0.0, 6), p.title.lower(), p.key),
    )
    ranked: list[MatrixPoint] = []
    previous: tuple[float, float] | None = None
    rank = 0
    for position, point in enumerate(scored, start=1):
        current = (round(point.value or 0.0, 6), round(point.ease or 0.0, 6))
        if current != previous:
            rank, previous = position, current
        ranked.append(_replace(point, rank=rank))
    unscored = sorted((p for p in points if not p.scored), key=lambda p: (p.title.lower(), p.key))
    return ranked + [_replace(p, rank=None) for p in unscored]


def _replace(point: MatrixPoint, **changes: object) -> MatrixPoint:
    from dataclasses import replace

    return replace(point, **changes)


def build_matrix(session: Session, *, portfolio_id: str) -> Matrix:
    """Score, place and rank every use case of a portfolio."""
    portfolio = get_portfolio(session, portfolio_id)
    return matrix_of(session, portfolio)


def matrix_of(session: Session, portfolio: Portfolio) -> Matrix:
    use_cases = list(session.scalars(select(UseCase).where(UseCase.portfolio_id == portfolio.id)))
    votes: dict[str, list[Vote]] = defaultdict(list)
    rows = session.scalars(
        select(UseCaseScore)
        .join(UseCase, UseCase.id == UseCaseScore.use_case_id)
        .where(UseCase.portfolio_id == portfolio.id)
    )
    for row in rows:
        votes[row.use_case_id].append(Vote(row.voter, row.dimension, row.score, row.comment))
    points = []
    for use_case in use_cases:
        summary = summarise(
            votes[use_case.id], portfolio.weights, disagreement_range=portfolio.disagreement_range
        )
        value, ease = summary.value.mean, summary.ease.mean
        points.append(
            MatrixPoint(
                use_case_id=use_case.id,
                key=use_case.key,
                title=use_case.title,
                business_unit=use_case.business_unit,
                product=use_case.product,
                ai_capability=use_case.ai_capability,
                input_data=tuple(use_case.canvas.get("input_data", [])),
                status=use_case.status,
                selection=use_case.selection,
                scores=summary,
                quadrant=None
                if value is None or ease is None
                else quadrant_of(
                    value,
                    ease,
                    value_threshold=portfolio.value_threshold,
                    ease_threshold=portfolio.ease_threshold,
                ),
                rank=None,
            )
        )
    return Matrix(
        portfolio_id=portfolio.id,
        portfolio_name=portfolio.name,
        value_threshold=portfolio.value_threshold,
        ease_threshold=portfolio.ease_threshold,
        points=tuple(rank_points(points)),
    )
