"""Clusters of related use cases and the proposed portfolio: 2-3 clusters, 3-6 use cases.

Clusters group use cases that share an input data source, an AI capability or a product (groups of
two or more; a use case may sit in several). The proposal then picks clusters greedily:

1. Eligible use cases are scored, not retired, not excluded by a user, and at least as easy as the
   portfolio's *ease floor*. Use cases a user *included* are always in (they count toward the limits,
   and may push the total past them: that is the user's override).
2. Each round scores every remaining cluster by what it would add: the value of its new eligible
   members (best first, up to the room left of the 6), plus 1 per quick win and, for clusters of
   shared input data, 0.5 per member (one data pipeline serves them all). The best cluster is taken.
3. Rounds stop at 3 clusters, at 6 use cases, or when no cluster adds anything.

Every choice and every omission is explained in words. A user can lock the current proposal, which
then stays as it is while scores change, until it is unlocked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import ConflictError, InvalidParameterError
from shipyard.usecases._lookup import get_portfolio, get_use_case
from shipyard.usecases.matrix import Matrix, MatrixPoint, Quadrant, matrix_of
from shipyard.usecases.tables import Portfolio, UseCase

__all__ = [
    "CLUSTER_KINDS",
    "Cluster",
    "SelectedCluster",
    "Selection",
    "find_clusters",
    "get_selection",
    "list_clusters",
    "lock_selection",
    "propose",
    "set_choice",
    "unlock_selection",
]

logger = logging.getLogger(__name__)

CLUSTER_KINDS = ("input_data", "ai_capability", "product")
_KIND_WORDS = {"input_data": "input data", "ai_capability": "AI capability", "product": "product"}
MAX_CLUSTERS, MAX_USE_CASES, MIN_CLUSTERS, MIN_USE_CASES = 3, 6, 2, 3
QUICK_WIN_BONUS, SHARED_DATA_BONUS = 1.0, 0.5
CHOICES = ("auto", "include", "exclude")


@dataclass(frozen=True)
class Cluster:
    kind: str
    label: str
    use_case_ids: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{_KIND_WORDS[self.kind]}: {self.label}"


@dataclass(frozen=True)
class SelectedCluster:
    """A chosen cluster and the use cases it brought in (none chosen in an earlier round)."""

    kind: str
    label: str
    use_case_ids: tuple[str, ...]
    total_value: float
    quick_wins: int
    reason: str


@dataclass(frozen=True)
class Selection:
    clusters: tuple[SelectedCluster, ...]
    use_case_ids: tuple[str, ...]
    explanation: tuple[str, ...]
    locked: bool = False
    locked_by: str | None = None
    locked_at: str | None = None


def find_clusters(points: Iterable[MatrixPoint]) -> list[Cluster]:
    """Groups of two or more use cases sharing input data, AI capability or product.

    Labels compare case-insensitively; the largest groups come first, then by kind and label.
    """
    groups: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for point in points:
        values = {
            "input_data": list(point.input_data),
            "ai_capability": [point.ai_capability],
            "product": [point.product],
        }
        for kind, labels in values.items():
            for label in dict.fromkeys(label.strip() for label in labels if label and label.strip()):
                entry = groups.setdefault((kind, label.casefold()), (label, []))
                if point.use_case_id not in entry[1]:
                    entry[1].append(point.use_case_id)
    clusters = [
        Cluster(kind, label, tuple(members))
        for (kind, _), (label, members) in groups.items()
        if len(members) >= 2
    ]
    return sorted(
        clusters, key=lambda c: (-len(c.use_case_ids), CLUSTER_KINDS.index(c.kind), c.label.casefold())
    )


def _describe(point: MatrixPoint) -> str:
    quick = ", quick win" if point.quadrant is Quadrant.QUICK_WIN else ""
    return f"{point.title} (value {point.value:.1f}, ease {point.ease:.1f}{quick})"


def propose(
    matrix: Matrix,
    *,
    ease_floor: float,
    max_clusters: int = MAX_CLUSTERS,
    max_use_cases: int = MAX_USE_CASES,
) -> Selection:
    """The proposed portfolio for a matrix (pure: no database)."""
    points = matrix.by_id()
    explanation: list[str] = []
    eligible: dict[str, MatrixPoint] = {}
    for point in matrix.points:
        if point.selection == "exclude":
            explanation.append(f"{point.title} is left out: a user excluded it.")
        elif point.selection == "include":
            continue
        elif point.status == "retired":
            explanation.append(f"{point.title} is left out: it is retired.")
        elif not point.scored:
            explanation.append(f"{point.title} is left out: it has no value and ease scores yet.")
        elif (point.ease or 0.0) < ease_floor:
            explanation.append(
                f"{point.title} is left out: its ease {point.ease:.1f} is below "
                f"the ease floor {ease_floor:.1f}."
            )
        else:
            eligible[point.use_case_id] = point
    chosen: list[str] = [p.use_case_id for p in matrix.points if p.selection == "include"]
    for use_case_id in chosen:
        explanation.append(f"{points[use_case_id].title} is in: a user included it.")
    clusters = find_clusters(matrix.points)
    selected: list[SelectedCluster] = []
    while len(selected) < max_clusters and len(chosen) < max_use_cases:
        room = max_use_cases - len(chosen)
        best: tuple[float, Cluster, list[MatrixPoint], list[MatrixPoint]] | None = None
        for cluster in clusters:
            if any((cluster.kind, cluster.label) == (s.kind, s.label) for s in selected):
                continue
            fresh = sorted(
                (eligible[i] for i in cluster.use_case_ids if i in eligible and i not in chosen),
                key=lambda p: (p.quadrant is not Quadrant.QUICK_WIN, -(p.value or 0.0), p.rank or 0, p.key),
            )
            if not fresh:
                continue
            taken, dropped = fresh[:room], fresh[room:]
            gain = sum(p.value or 0.0 for p in taken)
            gain += QUICK_WIN_BONUS * sum(p.quadrant is Quadrant.QUICK_WIN for p in taken)
            if cluster.kind == "input_data":
                gain += SHARED_DATA_BONUS * len(taken)
            if best is None or gain > best[0] + 1e-9:
                best = (gain, cluster, taken, dropped)
        if best is None:
            break
        gain, cluster, taken, dropped = best
        chosen.extend(p.use_case_id for p in taken)
        quick_wins = sum(p.quadrant is Quadrant.QUICK_WIN for p in taken)
        reason = (
            f"Round {len(selected) + 1}: chose the cluster '{cluster.name}' because it adds the most "
            f"(score {gain:.1f}): {', '.join(_describe(p) for p in taken)}."
        )
        if quick_wins:
            reason += f" {quick_wins} of them {'is a quick win' if quick_wins == 1 else 'are quick wins'}."
        if cluster.kind == "input_data":
            reason += f" They share the input data '{cluster.label}', so one data pipeline serves them all."
        if dropped:
            reason += (
                f" Left out {', '.join(p.title for p in dropped)}: the portfolio holds at most "
                f"{max_use_cases} use cases."
            )
        selected.append(
            SelectedCluster(
                kind=cluster.kind,
                label=cluster.label,
                use_case_ids=tuple(p.use_case_id for p in taken),
                total_value=round(sum(p.value or 0.0 for p in taken), 6),
                quick_wins=quick_wins,
                reason=reason,
            )
        )
        explanation.append(reason)
    if len(selected) < MIN_CLUSTERS or len(chosen) < MIN_USE_CASES:
        explanation.append(
            f"The proposal holds {len(selected)} cluster(s) and {len(chosen)} use case(s), short of the "
            f"{MIN_CLUSTERS}-{max_clusters} clusters and {MIN_USE_CASES}-{max_use_cases} use cases aimed "
            "for: too few scored use cases above the ease floor share data, capability or product."
        )
    unpicked = [p for i, p in eligible.items() if i not in chosen]
    if unpicked:
        explanation.append(
            f"Eligible but not chosen: {', '.join(p.title for p in unpicked)} "
            f"(no room left, or their clusters added less)."
        )
    return Selection(clusters=tuple(selected), use_case_ids=tuple(chosen), explanation=tuple(explanation))


def list_clusters(session: Session, *, portfolio_id: str) -> list[Cluster]:
    portfolio = get_portfolio(session, portfolio_id)
    return find_clusters(matrix_of(session, portfolio).points)


def _from_json(data: dict[str, Any]) -> Selection:
    return Selection(
        clusters=tuple(
            SelectedCluster(**{**c, "use_case_ids": tuple(c["use_case_ids"])}) for c in data["clusters"]
        ),
        use_case_ids=tuple(data["use_case_ids"]),
        explanation=tuple(data["explanation"]),
        locked=True,
        locked_by=data.get("locked_by"),
        locked_at=data.get("locked_at"),
    )


def selection_of(session: Session, portfolio: Portfolio) -> Selection:
    if portfolio.locked_selection:
        return _from_json(portfolio.locked_selection)
    return propose(matrix_of(session, portfolio), ease_floor=portfolio.ease_floor)


def get_selection(session: Session, *, portfolio_id: str) -> Selection:
    """The locked selection if a user locked one, else the current proposal."""
    return selection_of(session, get_portfolio(session, portfolio_id))


def set_choice(session: Session, *, actor: Principal, use_case_id: str, choice: str) -> UseCase:
    """Override the proposal for one use case: ``include``, ``exclude`` or back to ``auto``."""
    require_role(actor, Role.EDITOR)
    if choice not in CHOICES:
        raise InvalidParameterError(
            f"choice must be one of {', '.join(CHOICES)}; got {choice!r}", field="choice"
        )
    use_case = get_use_case(session, use_case_id)
    portfolio = get_portfolio(session, use_case.portfolio_id)
    if portfolio.locked_selection:
        raise ConflictError(
            f"the selection of portfolio {portfolio.name!r} is locked; unlock it before changing choices",
            field="choice",
        )
    before = use_case.selection
    if before != choice:
        use_case.selection = choice
        audit.record(
            session,
            actor=actor,
            action="usecase.selection.choose",
            object_type="use_case",
            object_id=use_case.id,
            before={"selection": before},
            after={"selection": choice},
        )
    return use_case


def lock_selection(session: Session, *, actor: Principal, portfolio_id: str) -> Selection:
    """Freeze the current proposal (with the users' choices) so that score changes leave it alone."""
    require_role(actor, Role.EDITOR)
    portfolio = get_portfolio(session, portfolio_id)
    if portfolio.locked_selection:
        raise ConflictError(
            f"the selection of portfolio {portfolio.name!r} is already locked by "
            f"{portfolio.locked_selection.get('locked_by')}",
            field="portfolio_id",
        )
    proposal = propose(matrix_of(session, portfolio), ease_floor=portfolio.ease_floor)
    data = asdict(proposal)
    data.update(locked=True, locked_by=actor.name, locked_at=utcnow().isoformat())
    portfolio.locked_selection = data
    audit.record(
        session,
        actor=actor,
        action="usecase.selection.lock",
        object_type="portfolio",
        object_id=portfolio.id,
        after={"use_case_ids": list(proposal.use_case_ids), "clusters": [c.label for c in proposal.clusters]},
    )
    logger.info("portfolio %s selection locked by %s", portfolio.id, actor.name)
    return _from_json(data)


def unlock_selection(session: Session, *, actor: Principal, portfolio_id: str) -> Selection:
    require_role(actor, Role.EDITOR)
    portfolio = get_portfolio(session, portfolio_id)
    if portfolio.locked_selection:
        before = portfolio.locked_selection
        portfolio.locked_selection = None
        audit.record(
            session,
            actor=actor,
            action="usecase.selection.unlock",
            object_type="portfolio",
            object_id=portfolio.id,
            before={"use_case_ids": before.get("use_case_ids"), "locked_by": before.get("locked_by")},
        )
    return selection_of(session, portfolio)
