"""Checklists and red flags, and the promotion check that the model registry calls.

Every use case starts with the standard checklist: regulation and ethics, cybersecurity, the human
aspect (acceptance, job impact) and the stakeholder grid (decision makers, users, people affected x
before, during, after deployment). Each item has an answer, an owner and a status (``open``,
``answered``, ``not_applicable``, ``signed_off``).

An item marked as a *red flag* blocks the promotion to ``champion`` of any model version linked to
the use case until an approver signs it off with a reason (``sign_off``); answering it is not
enough. The registry's promotion path calls ``assert_promotion_allowed``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError, NotFoundError, StateConflictError
from shipyard.core.validation import check_text
from shipyard.usecases._lookup import get_use_case
from shipyard.usecases.tables import UseCase, UseCaseCheck

__all__ = [
    "CATEGORIES",
    "CHECK_STATUSES",
    "PHASES",
    "STAKEHOLDERS",
    "add_check",
    "assert_promotion_allowed",
    "check_fields",
    "default_checklist",
    "get_check",
    "list_checks",
    "open_red_flags",
    "seed_checklist",
    "sign_off",
    "update_check",
]

logger = logging.getLogger(__name__)

CATEGORIES = ("regulation_ethics", "cybersecurity", "human_aspect", "stakeholders")
STAKEHOLDERS = ("decision_makers", "users", "people_affected")
PHASES = ("before", "during", "after")
# ``signed_off`` is reached only through ``sign_off`` (approver role, with a reason).
CHECK_STATUSES = ("open", "answered", "not_applicable", "signed_off")
EDITABLE_STATUSES = ("open", "answered", "not_applicable")

_QUESTIONS = {
    "regulation_ethics": [
        "Does the use case process personal data, and on which legal basis (GDPR art. 6)?",
        "Is it a high-risk AI system under the EU AI Act, or does it make automated decisions about people?",
        "Could the model treat groups of people unfairly, and how will bias be measured?",
        "Can the decisions be explained to the people they affect?",
    ],
    "cybersecurity": [
        "Who can reach the model and its data, and is access logged?",
        "Could inputs be manipulated (adversarial examples, prompt injection, poisoned training data)?",
        "What happens when the model is unavailable or wrong: is there a safe fallback?",
    ],
    "human_aspect": [
        "Will the users accept and trust the recommendations? How are they involved?",
        "How does the use case change jobs and tasks, and how are people prepared for it?",
        "Who can overrule the model, and how is their feedback collected?",
    ],
}
_GRID = {
    "before": "What do {who} need to know and agree to before deployment?",
    "during": "How are {who} informed and able to react while the model is in use?",
    "after": "How are the effects on {who} reviewed after deployment?",
}
_WHO = {"decision_makers": "decision makers", "users": "users", "people_affected": "people affected"}


def default_checklist() -> list[dict[str, Any]]:
    """The standard checklist: 10 questions in three categories plus the 3 x 3 stakeholder grid.

    >>> items = default_checklist()
    >>> len(items), sum(item["category"] == "stakeholders" for item in items)
    (19, 9)
    """
    items: list[dict[str, Any]] = [
        {"category": category, "question": question}
        for category, questions in _QUESTIONS.items()
        for question in questions
    ]
    items += [
        {
            "category": "stakeholders",
            "stakeholder": who,
            "phase": phase,
            "question": template.format(who=_WHO[who]),
        }
        for who in STAKEHOLDERS
        for phase, template in _GRID.items()
    ]
    return items


def _choice(value: Any, choices: tuple[str, ...], *, field: str) -> str:
    if value not in choices:
        raise InvalidParameterError(
            f"{field} must be one of {', '.join(choices)}; got {value!r}", field=field
        )
    return str(value)


def check_fields(values: Mapping[str, Any], *, partial: bool = False, prefix: str = "") -> dict[str, Any]:
    """Validate the fields of a checklist item (all of them, or only those given when ``partial``)."""
    allowed = {"category", "stakeholder", "phase", "question", "answer", "owner", "status", "red_flag"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise InvalidParameterError(f"{prefix}{unknown[0]}: unknown field", field=f"{prefix}{unknown[0]}")
    result: dict[str, Any] = {}
    if not partial or "category" in values:
        result["category"] = _choice(values.get("category"), CATEGORIES, field=f"{prefix}category")
    if not partial or "question" in values:
        result["question"] = check_text(
            values.get("question", ""), field=f"{prefix}question", max_length=2000, allow_empty=False
        )
    for name, limit in (("answer", 4000), ("owner", 200)):
        if name in values or not partial:
            result[name] = check_text(values.get(name) or "", field=f"{prefix}{name}", max_length=limit)
    if "status" in values or not partial:
        result["status"] = _choice(values.get("status") or "open", CHECK_STATUSES, field=f"{prefix}status")
    if "red_flag" in values or not partial:
        flag = values.get("red_flag", False)
        if not isinstance(flag, bool):
            raise InvalidParameterError(f"{prefix}red_flag must be true or false", field=f"{prefix}red_flag")
        result["red_flag"] = flag
    for name, choices in (("stakeholder", STAKEHOLDERS), ("phase", PHASES)):
        if name in values or not partial:
            given = values.get(name)
            result[name] = None if given is None else _choice(given, choices, field=f"{prefix}{name}")
    category = result.get("category")
    if category == "stakeholders" and (result.get("stakeholder") is None or result.get("phase") is None):
        raise InvalidParameterError(
            f"{prefix}stakeholder and phase are required for a stakeholders item",
            field=f"{prefix}stakeholder",
        )
    if (
        category is not None
        and category != "stakeholders"
        and (result.get("stakeholder") or result.get("phase"))
    ):
        raise InvalidParameterError(
            f"{prefix}stakeholder and phase belong to stakeholders items only", field=f"{prefix}stakeholder"
        )
    return result


def seed_checklist(session: Session, use_case: UseCase) -> None:
    """Add the standard checklist to a new use case (its creation is audited by the caller)."""
    for item in default_checklist():
        session.add(UseCaseCheck(use_case_id=use_case.id, updated_at=utcnow(), **check_fields(item)))


def _summary(check: UseCaseCheck) -> dict[str, Any]:
    return {
        "category": check.category,
        "question": check.question,
        "answer": check.answer,
        "owner": check.owner,
        "status": check.status,
        "red_flag": check.red_flag,
    }


def list_checks(session: Session, *, use_case_id: str, red_flags_only: bool = False) -> list[UseCaseCheck]:
    use_case = get_use_case(session, use_case_id)
    query = select(UseCaseCheck).where(UseCaseCheck.use_case_id == use_case.id).order_by(UseCaseCheck.id)
    if red_flags_only:
        query = query.where(UseCaseCheck.red_flag.is_(True))
    return list(session.scalars(query))


def get_check(session: Session, *, use_case_id: str, check_id: int) -> UseCaseCheck:
    check = session.get(UseCaseCheck, check_id) if -(2**63) < check_id < 2**63 else None
    if check is None or check.use_case_id != use_case_id:
        get_use_case(session, use_case_id)
        raise NotFoundError(
            f"checklist item {check_id} does not exist on use case {use_case_id!r}", field="check_id"
        )
    return check


def add_check(
    session: Session, *, actor: Principal, use_case_id: str, values: Mapping[str, Any]
) -> UseCaseCheck:
    """Add a checklist item; with ``red_flag: true`` it raises a red flag."""
    require_role(actor, Role.EDITOR)
    use_case = get_use_case(session, use_case_id)
    fields = check_fields(values)
    if fields["status"] == "signed_off":
        raise InvalidParameterError(
            "status signed_off is set by an approver's sign-off, not directly", field="status"
        )
    check = UseCaseCheck(use_case_id=use_case.id, updated_at=utcnow(), **fields)
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="usecase.red_flag.raise" if check.red_flag else "usecase.check.add",
        object_type="use_case_check",
        object_id=str(check.id),
        after={"use_case_id": use_case.id, **_summary(check)},
    )
    return check


def update_check(
    session: Session, *, actor: Principal, use_case_id: str, check_id: int, changes: Mapping[str, Any]
) -> UseCaseCheck:
    """Change an item's answer, owner, status or red-flag mark.

    Raising a red flag (or changing a signed-off item) reopens it; only ``sign_off`` closes a red flag.
    """
    require_role(actor, Role.EDITOR)
    check = get_check(session, use_case_id=use_case_id, check_id=check_id)
    fields = check_fields(changes, partial=True)
    if fields.get("status") == "signed_off":
        raise InvalidParameterError(
            "status signed_off is set by an approver's sign-off (POST …/signoff with a reason)",
            field="status",
        )
    merged = {"category": check.category, "stakeholder": check.stakeholder, "phase": check.phase} | {
        k: v for k, v in fields.items() if k in ("category", "stakeholder", "phase")
    }
    check_fields({**merged, "question": check.question}, partial=True)
    before = _summary(check)
    for name, value in fields.items():
        setattr(check, name, value)
    if before["status"] == "signed_off" and _summary(check) != before:
        # A signed-off item that changes needs a new sign-off.
        check.status = fields.get("status", "open")
        check.signed_off_by = check.signoff_reason = None
        check.signed_off_at = None
    check.updated_at = utcnow()
    after = _summary(check)
    if before != after:
        audit.record(
            session,
            actor=actor,
            action="usecase.check.update",
            object_type="use_case_check",
            object_id=str(check.id),
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return check


def sign_off(
    session: Session, *, actor: Principal, use_case_id: str, check_id: int, reason: str
) -> UseCaseCheck:
    """An approver accepts an item (typically a red flag) with a reason; it no longer blocks promotion."""
    require_role(actor, Role.APPROVER)
    reason = check_text(reason, field="reason", max_length=4000, allow_empty=False).strip()
    check = get_check(session, use_case_id=use_case_id, check_id=check_id)
    if check.status == "signed_off":
        raise StateConflictError(
            f"checklist item {check.id} was already signed off by {check.signed_off_by}", field="check_id"
        )
    before = {"status": check.status}
    check.status, check.signed_off_by, check.signoff_reason = "signed_off", actor.name, reason
    check.signed_off_at = check.updated_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="usecase.red_flag.sign_off" if check.red_flag else "usecase.check.sign_off",
        object_type="use_case_check",
        object_id=str(check.id),
        before=before,
        after={"status": "signed_off", "reason": reason, "use_case_id": check.use_case_id},
    )
    logger.info("use case %s: item %s signed off by %s", check.use_case_id, check.id, actor.name)
    return check


def open_red_flags(session: Session, *, use_case_id: str) -> list[UseCaseCheck]:
    """Red flags of a use case that no approver has signed off yet."""
    use_case = get_use_case(session, use_case_id)
    return list(
        session.scalars(
            select(UseCaseCheck)
            .where(
                UseCaseCheck.use_case_id == use_case.id,
                UseCaseCheck.red_flag.is_(True),
                UseCaseCheck.status != "signed_off",
            )
            .order_by(UseCaseCheck.id)
        )
    )


def assert_promotion_allowed(session: Session, *, use_case_id: str) -> None:
    """Raise ``StateConflictError`` listing the open red flags that block promoting this use case's models.

    The registry calls this before moving the ``champion`` alias to a model version linked to the use
    case; it returns ``None`` when nothing blocks.

    >>> from shipyard.core import migrate
    >>> from shipyard.core.auth import LOCAL_ADMIN
    >>> from shipyard.core.database import Database
    >>> from shipyard.usecases import canvas
    >>> db = Database("sqlite://"); _ = migrate.upgrade(db)
    >>> with db.session(write=True) as session:
    ...     portfolio = canvas.create_portfolio(session, actor=LOCAL_ADMIN, name="demo")
    ...     case = canvas.create_use_case(session, actor=LOCAL_ADMIN, portfolio_id=portfolio.id,
    ...                                   values={"title": "Churn alerts"})
    ...     flag = add_check(session, actor=LOCAL_ADMIN, use_case_id=case.id, values={
    ...         "category": "regulation_ethics", "question": "Consent for profiling?", "red_flag": True})
    ...     try:
    ...         assert_promotion_allowed(session, use_case_id=case.id)
    ...     except StateConflictError as exc:
    ...         print(exc.message.split(":")[0])
    ...     _ = sign_off(session, actor=LOCAL_ADMIN, use_case_id=case.id, check_id=flag.id,
    ...                  reason="DPO approved the consent text")
    ...     assert_promotion_allowed(session, use_case_id=case.id)
    use case 'Churn alerts' has 1 open red flag blocking promotion to champion
    """
    flags = open_red_flags(session, use_case_id=use_case_id)
    if not flags:
        return
    use_case = get_use_case(session, use_case_id)
    listed = "; ".join(
        f"#{flag.id} [{flag.category}] {flag.question} (owner {flag.owner or 'unassigned'}, {flag.status})"
        for flag in flags
    )
    raise StateConflictError(
        f"use case {use_case.title!r} has {len(flags)} open red flag{'s' if len(flags) > 1 else ''} "
        f"blocking promotion to champion: {listed}. An approver must sign each off with a reason "
        f"('shipyard usecases signoff {use_case.id} <item> --reason ...')",
        field="use_case_id",
    )
