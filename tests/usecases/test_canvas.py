"""The canvas: versioned history, status workflow, audit, validation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError, PermissionDeniedError
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.usecases import canvas

EDITOR = Principal(name="eddie", role=Role.EDITOR)


@pytest.fixture
def portfolio_id(platform: Platform) -> str:
    with platform.database.session(write=True) as session:
        return canvas.create_portfolio(session, actor=EDITOR, name="canvas").id


def test_every_change_is_a_version_with_a_snapshot_and_an_audit_row(
    platform: Platform, portfolio_id: str
) -> None:
    with platform.database.session(write=True) as session:
        case = canvas.create_use_case(
            session,
            actor=EDITOR,
            portfolio_id=portfolio_id,
            values={
                "title": "Volume forecast",
                "input_data": ["Shipments", " ", "Calendar"],
                "ai_capability": "Forecasting",
            },
        )
        case_id = case.id
        assert case.key == "volume-forecast" and case.canvas["input_data"] == ["Shipments", "Calendar"]
        assert case.ai_capability == "forecasting"
    with platform.database.session(write=True) as session:
        canvas.update_use_case(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=case_id,
            changes={"why": "Overtime costs", "owner": "Jonas"},
        )
        unchanged = canvas.update_use_case(
            session, actor=LOCAL_ADMIN, use_case_id=case_id, changes={"owner": "Jonas"}
        )
        assert unchanged.version == 2  # no real change, no new version
        canvas.update_use_case(session, actor=EDITOR, use_case_id=case_id, changes={"status": "assessed"})
    with platform.database.session() as session:
        versions = canvas.list_history(session, use_case_id=case_id)
        assert [(v.version, v.changed_fields, v.changed_by) for v in versions] == [
            (1, ["ai_capability", "input_data", "title"], "eddie"),
            (2, ["owner", "why"], "local"),
            (3, ["status"], "eddie"),
        ]
        assert versions[0].snapshot["why"] == "" and versions[1].snapshot["why"] == "Overtime costs"
        assert versions[2].snapshot["status"] == "assessed" and versions[1].snapshot["status"] == "idea"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == case_id).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["usecase.create", "usecase.update", "usecase.status"]
        assert events[1].before == {"owner": "", "why": ""}
        assert events[1].after == {"version": 2, "owner": "Jonas", "why": "Overtime costs"}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["assessed", "selected", "in_development", "in_production"], True),
        (["assessed", "idea"], True),
        (["retired", "idea"], True),
        (["selected"], False),
        (["assessed", "selected", "in_production"], False),
        (["retired", "assessed"], False),
    ],
)
def test_status_workflow(platform: Platform, portfolio_id: str, path: list[str], allowed: bool) -> None:
    with platform.database.session(write=True) as session:
        case = canvas.create_use_case(session, actor=EDITOR, portfolio_id=portfolio_id, values={"title": "T"})
        for status in path[:-1]:
            canvas.update_use_case(session, actor=EDITOR, use_case_id=case.id, changes={"status": status})
        if allowed:
            canvas.update_use_case(session, actor=EDITOR, use_case_id=case.id, changes={"status": path[-1]})
            assert case.status == path[-1]
        else:
            with pytest.raises(InvalidParameterError, match="may move to") as caught:
                canvas.update_use_case(
                    session, actor=EDITOR, use_case_id=case.id, changes={"status": path[-1]}
                )
            assert caught.value.field == "status"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "status": "shipped"}, "status"),
        ({"title": "ok", "colour": "blue"}, "colour"),
        ({"title": "ok", "input_data": "a;b", "users": 5}, "users"),
        ({"title": "ok", "why": "bad\x00byte"}, "why"),
        ({"title": "ok", "roi": {"build_cost": -5}}, "roi.build_cost"),
    ],
)
def test_bad_canvas_values(platform: Platform, portfolio_id: str, values: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as caught, platform.database.session(write=True) as session:
        canvas.create_use_case(session, actor=EDITOR, portfolio_id=portfolio_id, values=values)
    assert caught.value.field == field


def test_keys_names_and_roles(platform: Platform, portfolio_id: str) -> None:
    with platform.database.session(write=True) as session:
        canvas.create_use_case(session, actor=EDITOR, portfolio_id=portfolio_id, values={"title": "A b"})
        with pytest.raises(ConflictError, match="already has a use case 'a-b'"):
            canvas.create_use_case(session, actor=EDITOR, portfolio_id="canvas", values={"title": "A  B!"})
        with pytest.raises(InvalidParameterError, match="key must be"):
            canvas.create_use_case(
                session, actor=EDITOR, portfolio_id=portfolio_id, values={"title": "C"}, key="Bad Key"
            )
        with pytest.raises(ConflictError):
            canvas.create_portfolio(session, actor=EDITOR, name="canvas")
        with pytest.raises(PermissionDeniedError):
            canvas.create_portfolio(session, actor=Principal(name="v", role=Role.VIEWER), name="other")
        with pytest.raises(NotFoundError):
            canvas.create_use_case(session, actor=EDITOR, portfolio_id="missing", values={"title": "x"})
        with pytest.raises(InvalidParameterError) as caught:
            canvas.update_portfolio(
                session, actor=EDITOR, portfolio_id=portfolio_id, changes={"ease_floor": 7}
            )
        assert caught.value.field == "ease_floor"
        assert [u.key for u in canvas.list_use_cases(session, portfolio_id=portfolio_id)] == ["a-b"]


def test_a_unique_constraint_race_is_a_conflict_not_a_500(platform: Platform, portfolio_id: str) -> None:
    """Two writers passing the existence check at once (PostgreSQL) end in a 409 for the second."""
    from shipyard.usecases._lookup import flush_or_conflict
    from shipyard.usecases.tables import Portfolio

    with platform.database.session(write=True) as session:
        session.add(Portfolio(id="f" * 32, name="canvas", description="", weights={}))
        with pytest.raises(ConflictError, match="taken"):
            flush_or_conflict(session, "name taken", field="name")
        session.rollback()
    with platform.database.session() as session:
        assert [p.name for p in canvas.list_portfolios(session)] == ["canvas"]
