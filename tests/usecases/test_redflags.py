"""Checklists, red flags and the promotion check the registry calls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError, PermissionDeniedError
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.usecases import canvas, redflags

EDITOR = Principal(name="eddie", role=Role.EDITOR)
APPROVER = Principal(name="april", role=Role.APPROVER)


@pytest.fixture
def use_case_id(platform: Platform) -> str:
    with platform.database.session(write=True) as session:
        created = canvas.create_portfolio(session, actor=LOCAL_ADMIN, name="flags")
        return canvas.create_use_case(
            session, actor=EDITOR, portfolio_id=created.id, values={"title": "Claims fraud"}
        ).id


def test_new_use_cases_get_the_standard_checklist(platform: Platform, use_case_id: str) -> None:
    with platform.database.session() as session:
        items = redflags.list_checks(session, use_case_id=use_case_id)
    assert len(items) == 19 and all(i.status == "open" and not i.red_flag for i in items)
    grid = {(i.stakeholder, i.phase) for i in items if i.category == "stakeholders"}
    assert grid == {(s, p) for s in redflags.STAKEHOLDERS for p in redflags.PHASES}
    assert {i.category for i in items} == set(redflags.CATEGORIES)


def test_open_red_flag_blocks_until_an_approver_signs_it_off(platform: Platform, use_case_id: str) -> None:
    with platform.database.session(write=True) as session:
        redflags.assert_promotion_allowed(session, use_case_id=use_case_id)  # nothing raised yet
        flag = redflags.add_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            values={
                "category": "regulation_ethics",
                "question": "Postcode may proxy ethnicity",
                "owner": "Legal",
                "red_flag": True,
            },
        )
        other = redflags.add_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            values={"category": "cybersecurity", "question": "Claims portal is public", "red_flag": True},
        )
    with platform.database.session() as session, pytest.raises(ConflictError) as caught:
        redflags.assert_promotion_allowed(session, use_case_id=use_case_id)
    message = caught.value.message
    assert "2 open red flags blocking promotion to champion" in message
    assert f"#{flag.id} [regulation_ethics] Postcode may proxy ethnicity (owner Legal, open)" in message
    assert f"#{other.id} [cybersecurity]" in message and "sign each off with a reason" in message

    with platform.database.session(write=True) as session:
        # Answering a flag is not enough, and editors cannot sign off.
        redflags.update_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            check_id=flag.id,
            changes={"answer": "Postcode removed", "status": "answered"},
        )
        with pytest.raises(PermissionDeniedError):
            redflags.sign_off(session, actor=EDITOR, use_case_id=use_case_id, check_id=flag.id, reason="ok")
        with pytest.raises(InvalidParameterError, match="sign-off"):
            redflags.update_check(
                session,
                actor=EDITOR,
                use_case_id=use_case_id,
                check_id=flag.id,
                changes={"status": "signed_off"},
            )
        with pytest.raises(InvalidParameterError, match="reason must not be empty"):
            redflags.sign_off(session, actor=APPROVER, use_case_id=use_case_id, check_id=flag.id, reason="  ")
        assert len(redflags.open_red_flags(session, use_case_id=use_case_id)) == 2
        signed = redflags.sign_off(
            session,
            actor=APPROVER,
            use_case_id=use_case_id,
            check_id=flag.id,
            reason="Bias review of 2026-11-02 passed",
        )
        assert (signed.status, signed.signed_off_by) == ("signed_off", "april")
        with pytest.raises(ConflictError, match="already signed off"):
            redflags.sign_off(session, actor=APPROVER, use_case_id=use_case_id, check_id=flag.id, reason="x")
        redflags.sign_off(session, actor=APPROVER, use_case_id=use_case_id, check_id=other.id, reason="WAF")
    with platform.database.session() as session:
        redflags.assert_promotion_allowed(session, use_case_id=use_case_id)
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("usecase.red_flag.raise") == 2 and actions.count("usecase.red_flag.sign_off") == 2


def test_changing_a_signed_off_flag_reopens_it(platform: Platform, use_case_id: str) -> None:
    with platform.database.session(write=True) as session:
        flag = redflags.add_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            values={"category": "human_aspect", "question": "Job impact", "red_flag": True},
        )
        redflags.sign_off(session, actor=APPROVER, use_case_id=use_case_id, check_id=flag.id, reason="Agreed")
        redflags.update_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            check_id=flag.id,
            changes={"answer": "Scope widened to all hubs"},
        )
        assert flag.status == "open" and flag.signed_off_by is None
        with pytest.raises(ConflictError):
            redflags.assert_promotion_allowed(session, use_case_id=use_case_id)


def test_marking_a_checklist_item_as_red_flag_blocks(platform: Platform, use_case_id: str) -> None:
    with platform.database.session(write=True) as session:
        item = redflags.list_checks(session, use_case_id=use_case_id)[0]
        redflags.update_check(
            session,
            actor=EDITOR,
            use_case_id=use_case_id,
            check_id=item.id,
            changes={"red_flag": True, "owner": "DPO"},
        )
        with pytest.raises(ConflictError, match="owner DPO"):
            redflags.assert_promotion_allowed(session, use_case_id=use_case_id)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"category": "ethics", "question": "q"}, "category"),
        ({"category": "stakeholders", "question": "q", "stakeholder": "users"}, "stakeholder"),
        ({"category": "cybersecurity", "question": "q", "phase": "before"}, "stakeholder"),
        ({"category": "cybersecurity", "question": ""}, "question"),
        ({"category": "cybersecurity", "question": "q", "status": "done"}, "status"),
        ({"category": "cybersecurity", "question": "q", "red_flag": "yes"}, "red_flag"),
        ({"category": "cybersecurity", "question": "q\x00"}, "question"),
    ],
)
def test_bad_items(platform: Platform, use_case_id: str, values: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as caught, platform.database.session(write=True) as session:
        redflags.add_check(session, actor=EDITOR, use_case_id=use_case_id, values=values)
    assert caught.value.field == field


def test_unknown_use_case_or_item(platform: Platform, use_case_id: str) -> None:
    with platform.database.session() as session:
        with pytest.raises(NotFoundError):
            redflags.assert_promotion_allowed(session, use_case_id="nope")
        with pytest.raises(NotFoundError, match="checklist item 999999"):
            redflags.get_check(session, use_case_id=use_case_id, check_id=999999)
        with pytest.raises(NotFoundError):
            redflags.get_check(session, use_case_id=use_case_id, check_id=2**70)
