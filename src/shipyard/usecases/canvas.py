"""Portfolios and the use-case canvas: create, change (versioned history), status workflow.

The canvas holds title, owner, status, What (``what``), Why (``why``), Who (``decision_makers``,
``users``, ``people_affected``), How (``input_data``, ``ai_capability``, ``integration``),
``challenges``, ``evaluation``, ``business_unit`` and ``product``, plus the ROI inputs. Every change
bumps the use case's ``version``, stores a full snapshot in its history and writes an audit row.

Status workflow: ``idea → assessed → selected → in_development → in_production``; a use case moves one
step forward or one step back, and may be ``retired`` from any status (and revived as an ``idea``).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import ConflictError, InvalidParameterError
from shipyard.core.validation import check_text
from shipyard.usecases._lookup import flush_or_conflict, get_portfolio, get_use_case
from shipyard.usecases.redflags import seed_checklist
from shipyard.usecases.roi import check_roi_inputs
from shipyard.usecases.scoring import check_weights
from shipyard.usecases.tables import Portfolio, UseCase, UseCaseVersion

__all__ = [
    "CANVAS_FIELDS",
    "STATUSES",
    "check_canvas",
    "check_portfolio_settings",
    "check_transition",
    "create_portfolio",
    "create_use_case",
    "get_portfolio",
    "get_use_case",
    "list_history",
    "list_portfolios",
    "list_use_cases",
    "snapshot",
    "update_portfolio",
    "update_use_case",
]

logger = logging.getLogger(__name__)

STATUSES = ("idea", "assessed", "selected", "in_development", "in_production", "retired")
_COLUMN_TEXT = {"title": 200, "owner": 200, "business_unit": 200, "product": 200, "ai_capability": 100}
_CANVAS_TEXT = {"what": 4000, "why": 4000, "integration": 4000, "challenges": 4000, "evaluation": 4000}
_CANVAS_LISTS = ("decision_makers", "users", "people_affected", "input_data")
CANVAS_FIELDS = (*_COLUMN_TEXT, "status", *_CANVAS_TEXT, *_CANVAS_LISTS, "roi")
_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_SETTINGS = (
    "description",
    "weights",
    "value_threshold",
    "ease_threshold",
    "disagreement_range",
    "ease_floor",
)


def _number(value: Any, *, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidParameterError(
            f"{field} must be a number from {low:g} to {high:g}; got {value!r}", field=field
        )
    return float(value)


def check_portfolio_settings(values: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Validate the settings of a portfolio that are given (weights, thresholds, floor, range)."""
    unknown = sorted(set(values) - set(_SETTINGS))
    if unknown:
        raise InvalidParameterError(f"{prefix}{unknown[0]}: unknown setting", field=f"{prefix}{unknown[0]}")
    result: dict[str, Any] = {}
    if "description" in values:
        result["description"] = check_text(
            values["description"] or "", field=f"{prefix}description", max_length=4000
        )
    if "weights" in values:
        try:
            result["weights"] = check_weights(values["weights"])
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{prefix}{exc.message}", field=f"{prefix}{exc.field}") from None
    for name in ("value_threshold", "ease_threshold", "ease_floor"):
        if name in values:
            result[name] = _number(values[name], field=f"{prefix}{name}", low=0, high=5)
    if "disagreement_range" in values:
        result["disagreement_range"] = _number(
            values["disagreement_range"], field=f"{prefix}disagreement_range", low=0.5, high=5
        )
    return result


def create_portfolio(session: Session, *, actor: Principal, name: str, **settings: Any) -> Portfolio:
    """A new, empty portfolio; settings default to equal weights, thresholds 2.5, ease floor 2."""
    require_role(actor, Role.EDITOR)
    name = check_text(name, field="name", max_length=200, allow_empty=False).strip()
    fields = check_portfolio_settings({k: v for k, v in settings.items() if v is not None})
    if session.scalar(select(Portfolio.id).where(Portfolio.name == name)):
        raise ConflictError(f"a portfolio named {name!r} exists; pick another name", field="name")
    now = utcnow()
    portfolio = Portfolio(
        id=uuid.uuid4().hex,
        name=name,
        description=fields.pop("description", ""),
        weights=fields.pop("weights", check_weights(None)),
        value_threshold=fields.pop("value_threshold", 2.5),
        ease_threshold=fields.pop("ease_threshold", 2.5),
        disagreement_range=fields.pop("disagreement_range", 3.0),
        ease_floor=fields.pop("ease_floor", 2.0),
        created_at=now,
        updated_at=now,
    )
    session.add(portfolio)
    flush_or_conflict(session, f"a portfolio named {name!r} exists; pick another name", field="name")
    audit.record(
        session,
        actor=actor,
        action="usecase.portfolio.create",
        object_type="portfolio",
        object_id=portfolio.id,
        after={"name": name, "weights": portfolio.weights},
    )
    logger.info("portfolio %s (%s) created by %s", portfolio.id, name, actor.name)
    return portfolio


def update_portfolio(
    session: Session, *, actor: Principal, portfolio_id: str, changes: Mapping[str, Any]
) -> Portfolio:
    require_role(actor, Role.EDITOR)
    portfolio = get_portfolio(session, portfolio_id)
    fields = check_portfolio_settings(changes)
    before = {name: getattr(portfolio, name) for name in fields}
    for name, value in fields.items():
        setattr(portfolio, name, value)
    changed = {name: value for name, value in fields.items() if before[name] != value}
    if changed:
        portfolio.updated_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="usecase.portfolio.update",
            object_type="portfolio",
            object_id=portfolio.id,
            before={name: before[name] for name in changed},
            after=changed,
        )
    return portfolio


def list_portfolios(session: Session) -> list[Portfolio]:
    return list(session.scalars(select(Portfolio).order_by(Portfolio.name)))


def _text_list(value: Any, *, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(";")]
    if not isinstance(value, list | tuple):
        raise InvalidParameterError(f"{field} must be a list of texts", field=field)
    items = [check_text(item, field=f"{field}[{i}]", max_length=200).strip() for i, item in enumerate(value)]
    if len(items) > 50:
        raise InvalidParameterError(f"{field} holds {len(items)} items; the limit is 50", field=field)
    return [item for item in items if item]


def check_canvas(values: Mapping[str, Any], *, partial: bool = False, prefix: str = "") -> dict[str, Any]:
    """Validate canvas fields (only those given when ``partial``); returns them normalised."""
    unknown = sorted(set(values) - set(CANVAS_FIELDS))
    if unknown:
        raise InvalidParameterError(
            f"{prefix}{unknown[0]}: unknown canvas field; expected {', '.join(CANVAS_FIELDS)}",
            field=f"{prefix}{unknown[0]}",
        )
    result: dict[str, Any] = {}
    for name, limit in _COLUMN_TEXT.items():
        if name in values or (not partial and name == "title"):
            text = check_text(
                values.get(name) or "", field=f"{prefix}{name}", max_length=limit, allow_empty=name != "title"
            ).strip()
            result[name] = text.lower() if name == "ai_capability" else text
    for name, limit in _CANVAS_TEXT.items():
        if name in values:
            result[name] = check_text(values[name] or "", field=f"{prefix}{name}", max_length=limit).strip()
    for name in _CANVAS_LISTS:
        if name in values:
            result[name] = _text_list(values[name], field=f"{prefix}{name}")
    if "status" in values:
        if values["status"] not in STATUSES:
            raise InvalidParameterError(
                f"{prefix}status must be one of {', '.join(STATUSES)}; got {values['status']!r}",
                field=f"{prefix}status",
            )
        result["status"] = values["status"]
    if "roi" in values:
        result["roi"] = check_roi_inputs(values["roi"], field=f"{prefix}roi")
    return result


def _allowed(current: str, target: str) -> bool:
    if current == target or target == "retired" or (current == "retired" and target == "idea"):
        return True
    position = {status: i for i, status in enumerate(STATUSES[:-1])}
    return current != "retired" and abs(position[target] - position[current]) == 1


def check_transition(current: str, target: str) -> None:
    """Raise unless the workflow lets a use case move from ``current`` to ``target``.

    >>> check_transition("idea", "assessed")
    >>> check_transition("idea", "in_production")
    Traceback (most recent call last):
    shipyard.core.errors.InvalidParameterError: status cannot move from idea to in_production; \
from idea it may move to assessed, retired
    """
    if not _allowed(current, target):
        allowed = [s for s in STATUSES if s != current and _allowed(current, s)]
        raise InvalidParameterError(
            f"status cannot move from {current} to {target}; "
            f"from {current} it may move to {', '.join(allowed)}",
            field="status",
        )


def snapshot(use_case: UseCase) -> dict[str, Any]:
    """All canvas fields of a use case as plain JSON values."""
    values: dict[str, Any] = {name: getattr(use_case, name) for name in (*_COLUMN_TEXT, "status")}
    values.update({name: use_case.canvas.get(name, "") for name in _CANVAS_TEXT})
    values.update({name: list(use_case.canvas.get(name, [])) for name in _CANVAS_LISTS})
    values["roi"] = use_case.roi
    return values


def _record_version(session: Session, use_case: UseCase, *, actor: Principal, changed: list[str]) -> None:
    session.add(
        UseCaseVersion(
            use_case_id=use_case.id,
            version=use_case.version,
            snapshot=snapshot(use_case),
            changed_fields=changed,
            changed_by=actor.name,
            changed_at=use_case.updated_at,
        )
    )


def _apply(use_case: UseCase, fields: Mapping[str, Any]) -> None:
    canvas = dict(use_case.canvas or {})
    for name, value in fields.items():
        if name in _CANVAS_TEXT or name in _CANVAS_LISTS:
            canvas[name] = value
        else:
            setattr(use_case, name, value)
    use_case.canvas = canvas


def create_use_case(
    session: Session,
    *,
    actor: Principal,
    portfolio_id: str,
    values: Mapping[str, Any],
    key: str | None = None,
    checklist: bool = True,
) -> UseCase:
    """A new use case (version 1) with the standard checklist unless ``checklist`` is false."""
    require_role(actor, Role.EDITOR)
    portfolio = get_portfolio(session, portfolio_id)
    fields = check_canvas(values)
    key = key or re.sub(r"[^a-z0-9]+", "-", fields["title"].lower()).strip("-")[:100] or "use-case"
    if not _KEY.match(key):
        raise InvalidParameterError(
            f"key must be lower-case letters, digits, '.', '_' or '-' (at most 100); got {key!r}", field="key"
        )
    if session.scalar(select(UseCase.id).where(UseCase.portfolio_id == portfolio.id, UseCase.key == key)):
        raise ConflictError(f"portfolio {portfolio.name!r} already has a use case {key!r}", field="key")
    now = utcnow()
    use_case = UseCase(
        id=uuid.uuid4().hex,
        portfolio_id=portfolio.id,
        key=key,
        version=1,
        title="",
        owner="",
        status="idea",
        business_unit="",
        product="",
        ai_capability="",
        canvas={name: "" for name in _CANVAS_TEXT} | {name: [] for name in _CANVAS_LISTS},
        roi=None,
        selection="auto",
        created_at=now,
        updated_at=now,
        updated_by=actor.name,
    )
    _apply(use_case, fields)
    session.add(use_case)
    flush_or_conflict(session, f"portfolio {portfolio.name!r} already has a use case {key!r}", field="key")
    _record_version(session, use_case, actor=actor, changed=sorted(fields))
    if checklist:
        seed_checklist(session, use_case)
    audit.record(
        session,
        actor=actor,
        action="usecase.create",
        object_type="use_case",
        object_id=use_case.id,
        after={"portfolio": portfolio.name, "key": key, **snapshot(use_case)},
    )
    logger.info("use case %s (%s) created in portfolio %s by %s", use_case.id, key, portfolio.id, actor.name)
    return use_case


def update_use_case(
    session: Session, *, actor: Principal, use_case_id: str, changes: Mapping[str, Any]
) -> UseCase:
    """Change canvas fields; a real change bumps the version and adds a snapshot to the history."""
    require_role(actor, Role.EDITOR)
    use_case = get_use_case(session, use_case_id)
    fields = check_canvas(changes, partial=True)
    if "status" in fields:
        check_transition(use_case.status, fields["status"])
    before = snapshot(use_case)
    changed = sorted(name for name, value in fields.items() if before[name] != value)
    if not changed:
        return use_case
    _apply(use_case, {name: fields[name] for name in changed})
    use_case.version += 1
    use_case.updated_at = utcnow()
    use_case.updated_by = actor.name
    _record_version(session, use_case, actor=actor, changed=changed)
    after = snapshot(use_case)
    audit.record(
        session,
        actor=actor,
        action="usecase.status" if changed == ["status"] else "usecase.update",
        object_type="use_case",
        object_id=use_case.id,
        before={name: before[name] for name in changed},
        after={"version": use_case.version, **{name: after[name] for name in changed}},
    )
    logger.info("use case %s changed to version %d by %s", use_case.id, use_case.version, actor.name)
    return use_case


def list_use_cases(
    session: Session, *, portfolio_id: str | None = None, status: str | None = None
) -> list[UseCase]:
    query = select(UseCase).order_by(UseCase.key)
    if portfolio_id is not None:
        query = query.where(UseCase.portfolio_id == get_portfolio(session, portfolio_id).id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidParameterError(
                f"status must be one of {', '.join(STATUSES)}; got {status!r}", field="status"
            )
        query = query.where(UseCase.status == status)
    return list(session.scalars(query))


def list_history(session: Session, *, use_case_id: str) -> list[UseCaseVersion]:
    """Every version of a use case's canvas, oldest first."""
    use_case = get_use_case(session, use_case_id)
    return list(
        session.scalars(
            select(UseCaseVersion)
            .where(UseCaseVersion.use_case_id == use_case.id)
            .order_by(UseCaseVersion.version)
        )
    )
