"""Clusters and the proposed portfolio: limits, ease floor, quick wins, shared data, overrides and lock."""

from __future__ import annotations

import itertools
import random

import pytest

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import ConflictError, InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.usecases import canvas, portfolio, scoring, workshop
from shipyard.usecases.matrix import Matrix, MatrixPoint, rank_points
from shipyard.usecases.portfolio import MAX_CLUSTERS, MAX_USE_CASES, find_clusters, propose
from shipyard.usecases.scoring import Vote, default_weights, summarise


def point(
    key: str,
    value: float | None,
    ease: float | None,
    *,
    data: tuple[str, ...] = (),
    capability: str = "",
    product: str = "",
    selection: str = "auto",
    status: str = "assessed",
) -> MatrixPoint:
    votes = [] if value is None else [Vote("a", "economic_value", value), Vote("a", "know_how", ease or 0.0)]
    scores = summarise(votes, default_weights())
    from shipyard.usecases.matrix import quadrant_of

    return MatrixPoint(
        use_case_id=key,
        key=key,
        title=key.title(),
        business_unit="",
        product=product,
        ai_capability=capability,
        input_data=data,
        status=status,
        selection=selection,
        scores=scores,
        quadrant=None if value is None or ease is None else quadrant_of(value, ease),
        rank=None,
    )


def make(points: list[MatrixPoint]) -> Matrix:
    return Matrix("p", "test", 2.5, 2.5, tuple(rank_points(points)))


def test_clusters_group_shared_data_capability_and_product() -> None:
    points = [
        point("a", 4, 4, data=("CRM", "Tickets"), capability="language"),
        point("b", 3, 3, data=("crm ",), capability="classification", product="Portal"),
        point("c", 3, 3, data=("Sensors",), capability="language", product="portal"),
        point("d", 3, 3, data=("Images",)),
    ]
    clusters = {(c.kind, c.label.casefold()): set(c.use_case_ids) for c in find_clusters(points)}
    assert clusters == {
        ("input_data", "crm"): {"a", "b"},
        ("ai_capability", "language"): {"a", "c"},
        ("product", "portal"): {"b", "c"},
    }


def test_proposal_prefers_quick_wins_and_shared_data_and_explains() -> None:
    points = [
        point("route", 4.0, 4.0, data=("Tickets",)),
        point("reply", 3.5, 3.0, data=("Tickets",)),
        point("churn", 4.5, 3.5, data=("CRM",), product="Portal"),
        point("offer", 3.0, 3.0, data=("CRM",), product="Portal"),
        point("moonshot", 5.0, 1.0, data=("CRM",)),
        point("fraud", 3.0, 2.2, capability="anomaly"),
        point("sensor", 2.0, 2.2, capability="anomaly"),
        point("new", None, None, data=("Tickets",)),
    ]
    selection = propose(make(points), ease_floor=2.0)
    assert [c.label for c in selection.clusters] == ["CRM", "Tickets", "anomaly"]
    assert set(selection.use_case_ids) == {"churn", "offer", "route", "reply", "fraud", "sensor"}
    text = "\n".join(selection.explanation)
    assert "Moonshot is left out: its ease 1.0 is below the ease floor 2.0." in text
    assert "New is left out: it has no value and ease scores yet." in text
    assert "one data pipeline serves them all" in selection.clusters[0].reason
    assert all(c.reason.startswith(f"Round {i}:") for i, c in enumerate(selection.clusters, start=1))


def test_room_left_limits_the_last_cluster_and_says_so() -> None:
    points = [point(f"t{i}", 4.0, 4.0, data=("Tickets",)) for i in range(5)]
    points += [point(f"c{i}", 3.0, 3.0, data=("CRM",)) for i in range(3)]
    selection = propose(make(points), ease_floor=2.0)
    assert len(selection.use_case_ids) == MAX_USE_CASES
    assert [len(c.use_case_ids) for c in selection.clusters] == [5, 1]
    assert "the portfolio holds at most 6 use cases" in selection.clusters[1].reason


@pytest.mark.parametrize("seed", range(25))
def test_never_more_than_three_clusters_or_six_use_cases(seed: int) -> None:
    rng = random.Random(seed)
    sources, capabilities = ["CRM", "ERP", "Tickets", "GPS", "Images"], ["language", "vision", "forecasting"]
    points = [
        point(
            f"u{i}",
            rng.choice([None, *[x / 2 for x in range(11)]]),
            rng.choice([x / 2 for x in range(11)]),
            data=tuple(rng.sample(sources, rng.randint(0, 2))),
            capability=rng.choice(capabilities),
            product=rng.choice(["", "Portal", "ERP"]),
            status=rng.choice(["idea", "assessed", "retired"]),
        )
        for i in range(rng.randint(0, 20))
    ]
    selection = propose(make(points), ease_floor=2.0)
    assert len(selection.clusters) <= MAX_CLUSTERS and len(selection.use_case_ids) <= MAX_USE_CASES
    assert len(set(selection.use_case_ids)) == len(selection.use_case_ids)
    chosen = {p.use_case_id: p for p in points if p.use_case_id in selection.use_case_ids}
    assert all(p.scored and (p.ease or 0) >= 2.0 and p.status != "retired" for p in chosen.values())
    assert selection.explanation, "a proposal always explains itself"
    assert all(c.reason for c in selection.clusters)
    members = set(itertools.chain.from_iterable(c.use_case_ids for c in selection.clusters))
    assert members == set(selection.use_case_ids)


def test_too_few_use_cases_is_explained() -> None:
    selection = propose(
        make([point("a", 4, 4, data=("CRM",)), point("b", 3, 3, data=("CRM",))]), ease_floor=2
    )
    assert len(selection.clusters) == 1
    assert "short of the 2-3 clusters and 3-6 use cases" in selection.explanation[-1]


def test_user_overrides_may_exceed_the_limits() -> None:
    points = [point(f"t{i}", 4.0, 4.0, data=("Tickets",)) for i in range(6)]
    points += [
        point("pet", 1.0, 1.0, selection="include"),
        point("t9", 5, 5, data=("Tickets",), selection="exclude"),
    ]
    selection = propose(make(points), ease_floor=2.0)
    assert "pet" in selection.use_case_ids and "t9" not in selection.use_case_ids
    assert "Pet is in: a user included it." in selection.explanation
    assert "T9 is left out: a user excluded it." in selection.explanation
    assert len(selection.use_case_ids) == 6  # 1 forced + 5 from the cluster


def test_wider_limits_when_asked() -> None:
    points = [point(f"t{i}", 4.0, 4.0, data=("Tickets",)) for i in range(8)]
    assert len(propose(make(points), ease_floor=2.0, max_use_cases=8).use_case_ids) == 8


def test_lock_freezes_the_selection_until_unlocked(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        imported = workshop.import_yaml(session, actor=LOCAL_ADMIN, text=workshop.example_portfolio())
        portfolio_id = imported.portfolio.id
        proposed = portfolio.get_selection(session, portfolio_id=portfolio_id)
        assert 2 <= len(proposed.clusters) <= 3 and 3 <= len(proposed.use_case_ids) <= 6
        locked = portfolio.lock_selection(session, actor=LOCAL_ADMIN, portfolio_id=portfolio_id)
        assert locked.locked and locked.use_case_ids == proposed.use_case_ids and locked.locked_by == "local"
        with pytest.raises(ConflictError):
            portfolio.lock_selection(session, actor=LOCAL_ADMIN, portfolio_id=portfolio_id)
    with platform.database.session(write=True) as session:
        first = proposed.use_case_ids[0]
        for voter in ("ana", "ben", "chloe", "deniz"):
            scoring.cast_votes(
                session,
                actor=LOCAL_ADMIN,
                use_case_id=first,
                voter=voter,
                scores=dict.fromkeys(
                    ("data_availability", "technology_maturity", "process_integration", "know_how"), 0
                ),
            )
        still = portfolio.get_selection(session, portfolio_id=portfolio_id)
        assert still.locked and first in still.use_case_ids
        with pytest.raises(ConflictError, match="locked"):
            portfolio.set_choice(session, actor=LOCAL_ADMIN, use_case_id=first, choice="exclude")
        unlocked = portfolio.unlock_selection(session, actor=LOCAL_ADMIN, portfolio_id=portfolio_id)
        assert not unlocked.locked and first not in unlocked.use_case_ids
        assert any("below the ease floor" in line for line in unlocked.explanation)


def test_bad_choice(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        created = canvas.create_portfolio(session, actor=LOCAL_ADMIN, name="c")
        case = canvas.create_use_case(
            session, actor=LOCAL_ADMIN, portfolio_id=created.id, values={"title": "X"}
        )
        with pytest.raises(InvalidParameterError, match="include, exclude"):
            portfolio.set_choice(session, actor=LOCAL_ADMIN, use_case_id=case.id, choice="maybe")


def test_forced_includes_can_pass_six() -> None:
    points = [point(f"f{i}", 3.0, 3.0, selection="include") for i in range(7)]
    selection = propose(make(points), ease_floor=2.0)
    assert len(selection.use_case_ids) == 7 and not selection.clusters
