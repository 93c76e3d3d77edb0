"""Scoring maths (weights, spread, disagreement), quadrant boundaries and ranking ties; vote storage."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.errors import InvalidParameterError, PermissionDeniedError
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.usecases import canvas, matrix, scoring
from shipyard.usecases.matrix import Quadrant, quadrant_of, rank_points
from shipyard.usecases.scoring import Vote, check_weights, default_weights, summarise, weighted_mean
from shipyard.usecases.tables import UseCaseScore


def votes(voter: str, **scores: float) -> list[Vote]:
    return [Vote(voter, dimension, score) for dimension, score in scores.items()]


def test_equal_weights_by_default() -> None:
    summary = summarise(
        votes("ana", economic_value=4, strategic_alignment=2, data_availability=5, know_how=1),
        default_weights(),
    )
    assert summary.value.mean == pytest.approx(3.0)
    assert summary.ease.mean == pytest.approx(3.0)  # only the two ease dimensions with votes count
    assert summary.voters == 1 and not summary.disagreement


def test_weights_change_the_mean() -> None:
    weights = check_weights({"value": {"economic_value": 3, "strategic_alignment": 1}})
    summary = summarise(votes("ana", economic_value=4, strategic_alignment=0), weights)
    assert summary.value.mean == pytest.approx(3.0)  # (3*4 + 1*0) / 4
    zero = check_weights({"value": {"strategic_alignment": 0}})
    assert summarise(votes("ana", economic_value=1, strategic_alignment=5), zero).value.mean == 1.0


def test_mean_of_voters_then_weighted_and_spread_per_voter() -> None:
    weights = check_weights({"value": {"economic_value": 2, "strategic_alignment": 1}})
    cast = votes("ana", economic_value=5, strategic_alignment=2) + votes(
        "ben", economic_value=2, strategic_alignment=5
    )
    summary = summarise(cast, weights)
    # dimension means 3.5 and 3.5 -> 3.5; ana's own value (2*5+2)/3 = 4, ben's (2*2+5)/3 = 3
    assert summary.value.mean == pytest.approx(3.5)
    assert (summary.value.low, summary.value.high) == (pytest.approx(3.0), pytest.approx(4.0))
    assert summary.dimension_ranges == {"economic_value": 3.0, "strategic_alignment": 3.0}


def test_disagreement_flag_at_the_range() -> None:
    close = votes("ana", economic_value=4) + votes("ben", economic_value=2)
    split = votes("ana", economic_value=5) + votes("ben", economic_value=2)
    assert not summarise(close, default_weights()).disagreement
    flagged = summarise(split, default_weights())
    assert flagged.disagreement and flagged.disagreement_dimensions == ("economic_value",)
    assert summarise(close, default_weights(), disagreement_range=2).disagreement


def test_no_votes_gives_no_score() -> None:
    summary = summarise([], default_weights())
    assert summary.value.mean is None and summary.ease.low is None and summary.voters == 0
    assert weighted_mean({}, {"a": 1.0}) is None


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ({"value": {"reach": 1}}, "weights.value.reach"),
        ({"impact": {}}, "weights.impact"),
        ({"value": {"economic_value": -1}}, "weights.value.economic_value"),
        ({"value": {"economic_value": 0, "strategic_alignment": 0}}, "weights.value"),
        ({"ease": {"know_how": "high"}}, "weights.ease.know_how"),
    ],
)
def test_bad_weights_name_the_field(weights: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_weights(weights)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("value", "ease", "expected"),
    [
        (2.5, 2.5, Quadrant.QUICK_WIN),
        (2.5, 2.4999, Quadrant.STRATEGIC_BET),
        (2.4999, 2.5, Quadrant.FILL_IN),
        (2.4999, 2.4999, Quadrant.AVOID),
        (5, 5, Quadrant.QUICK_WIN),
        (0, 0, Quadrant.AVOID),
    ],
)
def test_quadrant_boundaries(value: float, ease: float, expected: Quadrant) -> None:
    assert quadrant_of(value, ease) is expected


def test_custom_thresholds() -> None:
    assert quadrant_of(3.0, 3.0, value_threshold=3.5, ease_threshold=2.0) is Quadrant.FILL_IN
    assert quadrant_of(3.5, 1.9, value_threshold=3.5, ease_threshold=2.0) is Quadrant.STRATEGIC_BET


def _point(key: str, value: float | None, ease: float | None) -> matrix.MatrixPoint:
    scores = summarise(
        [] if value is None else [Vote("a", "economic_value", value), Vote("a", "know_how", ease or 0)],
        default_weights(),
    )
    return matrix.MatrixPoint(
        use_case_id=key,
        key=key,
        title=key.upper(),
        business_unit="",
        product="",
        ai_capability="",
        input_data=(),
        status="idea",
        selection="auto",
        scores=scores,
        quadrant=None,
        rank=None,
    )


def test_ranking_ties_share_a_rank_and_unscored_come_last() -> None:
    points = [
        _point("d", 3.0, 2.0),
        _point("b", 4.0, 3.0),
        _point("z", None, None),
        _point("a", 4.0, 3.0),
        _point("c", 4.0, 1.0),
    ]
    ranked = rank_points(points)
    assert [(p.key, p.rank) for p in ranked] == [("a", 1), ("b", 1), ("c", 3), ("d", 4), ("z", None)]


def test_float_noise_does_not_split_a_tie() -> None:
    ranked = rank_points([_point("a", 0.1 + 0.2, 1.0), _point("b", 0.3, 1.0)])
    assert [p.rank for p in ranked] == [1, 1]


# -- stored votes -----------------------------------------------------------------------------------
@pytest.fixture
def use_case_id(platform: Platform) -> str:
    with platform.database.session(write=True) as session:
        portfolio = canvas.create_portfolio(session, actor=LOCAL_ADMIN, name="scoring")
        return canvas.create_use_case(
            session, actor=LOCAL_ADMIN, portfolio_id=portfolio.id, values={"title": "Churn alerts"}
        ).id


def test_second_vote_by_the_same_voter_updates(platform: Platform, use_case_id: str) -> None:
    with platform.database.session(write=True) as session:
        scoring.cast_votes(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=use_case_id,
            voter="ana",
            scores={"economic_value": 2, "know_how": 3},
        )
    with platform.database.session(write=True) as session:
        scoring.cast_votes(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=use_case_id,
            voter="ana",
            scores={"economic_value": {"score": 4.5, "comment": "after the demo"}},
        )
    with platform.database.session() as session:
        rows = scoring.list_votes(session, use_case_id=use_case_id)
        assert [(r.voter, r.dimension, r.score, r.comment) for r in rows] == [
            ("ana", "economic_value", 4.5, "after the demo"),
            ("ana", "know_how", 3.0, ""),
        ]
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None and last.action == "usecase.vote"
        assert last.before == {"voter": "ana", "scores": {"economic_value": 2.0}}


@pytest.mark.parametrize(
    ("scores", "field", "words"),
    [
        ({"economic_value": 6}, "scores.economic_value", "between 0 and 5; got 6"),
        ({"economic_value": -0.5}, "scores.economic_value", "between 0 and 5"),
        ({"economic_value": float("nan")}, "scores.economic_value", "must be a number"),
        ({"economic_value": True}, "scores.economic_value", "must be a number"),
        ({"charisma": 3}, "scores.charisma", "unknown dimension 'charisma'"),
        ({"know_how": {"score": 3, "weight": 2}}, "scores.know_how", "unknown keys"),
        ({}, "scores", "at least one dimension"),
    ],
)
def test_bad_votes_are_refused_and_nothing_is_stored(
    platform: Platform, use_case_id: str, scores: dict, field: str, words: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught, platform.database.session(write=True) as session:
        scoring.cast_votes(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=use_case_id,
            voter="ana",
            scores={"know_how": 2, **scores} if scores else {},
        )
    assert caught.value.field == field and words in caught.value.message
    with platform.database.session() as session:
        assert session.scalar(select(func.count()).select_from(UseCaseScore)) == 0


def test_viewers_cannot_vote(platform: Platform, use_case_id: str) -> None:
    viewer = Principal(name="val", role=Role.VIEWER)
    with pytest.raises(PermissionDeniedError), platform.database.session(write=True) as session:
        scoring.cast_votes(
            session, actor=viewer, use_case_id=use_case_id, voter="val", scores={"know_how": 2}
        )


def test_matrix_uses_the_portfolio_weights(platform: Platform, use_case_id: str) -> None:
    with platform.database.session(write=True) as session:
        scoring.cast_votes(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=use_case_id,
            voter="ana",
            scores={"economic_value": 5, "strategic_alignment": 1, "know_how": 2},
        )
        portfolio_id = canvas.get_use_case(session, use_case_id).portfolio_id
        assert matrix.build_matrix(session, portfolio_id=portfolio_id).points[0].value == 3.0
        canvas.update_portfolio(
            session,
            actor=LOCAL_ADMIN,
            portfolio_id=portfolio_id,
            changes={"weights": {"value": {"economic_value": 3}}, "value_threshold": 4.5},
        )
        point = matrix.build_matrix(session, portfolio_id=portfolio_id).points[0]
        assert point.value == 4.0 and point.quadrant is Quadrant.AVOID and point.rank == 1
