"""Votes on value and ease, and their aggregation into one point of the prioritisation matrix.

Each voter scores a use case from 0 to 5 on the *value* dimensions (economic value, strategic
alignment) and the *ease* dimensions (data availability and quality, technology maturity, process and
systems integration, in-house know-how), with an optional comment. A second vote by the same voter
on the same dimension replaces the first.

Notes
-----
For an axis with dimension weights ``w_d`` (per portfolio, equal by default):

* the dimension mean ``m_d`` is the mean of the voters' scores on ``d``;
* the axis score is ``sum(w_d * m_d) / sum(w_d)`` over the dimensions that received at least one
  vote (weights renormalise when a dimension has no vote yet; no vote at all gives ``None``);
* the voter spread is the lowest and highest of the voters' own axis scores (each voter's weighted
  mean over the dimensions they scored): the error bar of the matrix;
* a use case is flagged for disagreement when on any dimension the range between voters (highest
  minus lowest score) reaches the portfolio's ``disagreement_range`` (3 by default).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text
from shipyard.usecases._lookup import flush_or_conflict, get_use_case
from shipyard.usecases.dimensions import ALL_DIMENSIONS, AXES, EASE_DIMENSIONS, MAX_SCORE, VALUE_DIMENSIONS
from shipyard.usecases.tables import UseCaseScore

__all__ = [
    "AxisScore",
    "ScoreSummary",
    "Vote",
    "cast_votes",
    "check_dimension",
    "check_score",
    "check_weights",
    "default_weights",
    "list_votes",
    "summarise",
    "weighted_mean",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vote:
    voter: str
    dimension: str
    score: float
    comment: str = ""


@dataclass(frozen=True)
class AxisScore:
    """The weighted mean of an axis and the lowest and highest voter's own axis score."""

    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ScoreSummary:
    value: AxisScore
    ease: AxisScore
    dimension_means: dict[str, float]
    dimension_ranges: dict[str, float]
    voters: int
    disagreement: bool
    disagreement_dimensions: tuple[str, ...]


def default_weights() -> dict[str, dict[str, float]]:
    """Equal weights on every dimension of both axes."""
    return {axis: dict.fromkeys(dimensions, 1.0) for axis, dimensions in AXES.items()}


def check_weights(weights: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """Validate weights (``{"value": {dim: w}, "ease": {dim: w}}``); missing entries weigh 1.

    >>> check_weights({"value": {"economic_value": 2}})["value"]
    {'economic_value': 2.0, 'strategic_alignment': 1.0}
    """
    result = default_weights()
    if weights is None:
        return result
    if not isinstance(weights, Mapping):
        raise InvalidParameterError("weights must be a mapping of axis to dimension weights", field="weights")
    for axis, given in weights.items():
        if axis not in AXES:
            raise InvalidParameterError(
                f"weights: unknown axis {axis!r}; expected value or ease", field=f"weights.{axis}"
            )
        if not isinstance(given, Mapping):
            raise InvalidParameterError(f"weights.{axis} must be a mapping", field=f"weights.{axis}")
        for dimension, weight in given.items():
            field = f"weights.{axis}.{dimension}"
            if dimension not in AXES[axis]:
                raise InvalidParameterError(
                    f"{field}: unknown {axis} dimension {dimension!r}; expected one of "
                    f"{', '.join(AXES[axis])}",
                    field=field,
                )
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
                raise InvalidParameterError(f"{field} must be a number; got {weight!r}", field=field)
            if not 0 <= weight <= 100:
                raise InvalidParameterError(f"{field} must be between 0 and 100; got {weight}", field=field)
            result[axis][dimension] = float(weight)
        if sum(result[axis].values()) <= 0:
            raise InvalidParameterError(
                f"weights.{axis}: at least one weight must be above 0", field=f"weights.{axis}"
            )
    return result


def weighted_mean(values: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Weighted mean over the keys present in ``values``; ``None`` when none carries weight.

    >>> weighted_mean({"a": 4.0, "b": 1.0}, {"a": 2.0, "b": 1.0, "c": 5.0})
    3.0
    """
    total = sum(weights.get(key, 0.0) for key in values)
    if total <= 0:
        return None
    return sum(value * weights.get(key, 0.0) for key, value in values.items()) / total


def _axis(votes: list[Vote], dimension_means: dict[str, float], weights: Mapping[str, float]) -> AxisScore:
    mean = weighted_mean({d: m for d, m in dimension_means.items() if d in weights}, weights)
    by_voter: dict[str, dict[str, float]] = {}
    for vote in votes:
        if vote.dimension in weights:
            by_voter.setdefault(vote.voter, {})[vote.dimension] = vote.score
    own = [m for m in (weighted_mean(scores, weights) for scores in by_voter.values()) if m is not None]
    return AxisScore(mean=mean, low=min(own) if own else None, high=max(own) if own else None)


def summarise(
    votes: Iterable[Vote], weights: Mapping[str, Mapping[str, float]], *, disagreement_range: float = 3.0
) -> ScoreSummary:
    """Aggregate votes into axis scores, voter spread and the disagreement flag.

    >>> votes = [Vote("ana", "economic_value", 5), Vote("ben", "economic_value", 1),
    ...          Vote("ana", "strategic_alignment", 3), Vote("ben", "strategic_alignment", 3)]
    >>> summary = summarise(votes, default_weights())
    >>> summary.value, summary.disagreement, summary.ease.mean
    (AxisScore(mean=3.0, low=2.0, high=4.0), True, None)
    """
    votes = list(votes)
    by_dimension: dict[str, list[float]] = {}
    for vote in votes:
        by_dimension.setdefault(vote.dimension, []).append(vote.score)
    means = {d: sum(scores) / len(scores) for d, scores in by_dimension.items()}
    ranges = {d: max(scores) - min(scores) for d, scores in by_dimension.items()}
    split = tuple(d for d in ALL_DIMENSIONS if ranges.get(d, 0.0) >= disagreement_range)
    return ScoreSummary(
        value=_axis(votes, means, weights["value"]),
        ease=_axis(votes, means, weights["ease"]),
        dimension_means=means,
        dimension_ranges=ranges,
        voters=len({vote.voter for vote in votes}),
        disagreement=bool(split),
        disagreement_dimensions=split,
    )


def check_score(score: Any, *, field: str) -> float:
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise InvalidParameterError(f"{field} must be a number from 0 to 5; got {score!r}", field=field)
    if not 0 <= score <= MAX_SCORE:
        raise InvalidParameterError(f"{field} must be between 0 and 5; got {score}", field=field)
    return float(score)


def check_dimension(dimension: Any, *, field: str) -> str:
    if dimension not in ALL_DIMENSIONS:
        raise InvalidParameterError(
            f"{field}: unknown dimension {dimension!r}; value dimensions are {', '.join(VALUE_DIMENSIONS)}, "
            f"ease dimensions are {', '.join(EASE_DIMENSIONS)}",
            field=field,
        )
    return str(dimension)


def cast_votes(
    session: Session,
    *,
    actor: Principal,
    use_case_id: str,
    voter: str,
    scores: Mapping[str, float | Mapping[str, Any]],
) -> list[UseCaseScore]:
    """Record one voter's scores (``{dimension: score}`` or ``{dimension: {score, comment}}``).

    A dimension the voter scored before is updated in place, never duplicated.
    """
    require_role(actor, Role.EDITOR)
    use_case = get_use_case(session, use_case_id)
    voter = check_text(voter, field="voter", max_length=200, allow_empty=False).strip()
    if not isinstance(scores, Mapping) or not scores:
        raise InvalidParameterError("scores must map at least one dimension to a score", field="scores")
    parsed: list[Vote] = []
    for dimension, entry in scores.items():
        field = f"scores.{dimension}"
        check_dimension(dimension, field=field)
        comment: Any = ""
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"score", "comment"}
            if unknown:
                raise InvalidParameterError(f"{field}: unknown keys {sorted(unknown)}", field=field)
            if "score" not in entry:
                raise InvalidParameterError(f"{field}.score is missing", field=f"{field}.score")
            score, comment = entry["score"], entry.get("comment") or ""
            field = f"{field}.score"
        else:
            score = entry
        comment = check_text(comment, field=f"scores.{dimension}.comment", max_length=2000)
        parsed.append(Vote(voter, dimension, check_score(score, field=field), comment))
    existing = {
        row.dimension: row
        for row in session.scalars(
            select(UseCaseScore).where(UseCaseScore.use_case_id == use_case.id, UseCaseScore.voter == voter)
        )
    }
    before = {d: existing[d].score for d in existing if d in scores}
    rows: list[UseCaseScore] = []
    now = utcnow()
    for vote in parsed:
        row = existing.get(vote.dimension)
        if row is None:
            row = UseCaseScore(use_case_id=use_case.id, voter=voter, dimension=vote.dimension)
            session.add(row)
        row.score, row.comment, row.updated_at = vote.score, vote.comment, now
        rows.append(row)
    flush_or_conflict(
        session, f"another vote by {voter} was recorded at the same time; try again", field="voter"
    )
    audit.record(
        session,
        actor=actor,
        action="usecase.vote",
        object_type="use_case",
        object_id=use_case.id,
        before={"voter": voter, "scores": before} if before else None,
        after={"voter": voter, "scores": {v.dimension: v.score for v in parsed}},
    )
    logger.info("use case %s: %s scored %d dimensions", use_case.id, voter, len(parsed))
    return rows


def list_votes(session: Session, *, use_case_id: str) -> list[UseCaseScore]:
    use_case = get_use_case(session, use_case_id)
    return list(
        session.scalars(
            select(UseCaseScore)
            .where(UseCaseScore.use_case_id == use_case.id)
            .order_by(UseCaseScore.voter, UseCaseScore.dimension)
        )
    )
