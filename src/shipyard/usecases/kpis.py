"""KPIs of a use case: name, unit, target, direction, optional binding to an endpoint metric.

The binding (``endpoint`` and ``metric``) is stored as a reference for the monitoring stage, which will
fill bound KPIs live; until then values are recorded by hand with the time they were observed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.usecases._lookup import flush_or_conflict, get_use_case
from shipyard.usecases.tables import Kpi, KpiValue

__all__ = [
    "DIRECTIONS",
    "add_kpi",
    "check_kpi",
    "get_kpi",
    "kpi_values",
    "latest_values",
    "list_kpis",
    "record_kpi_value",
]

DIRECTIONS = ("increase", "decrease")


def _finite(value: Any, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameterError(f"{field} must be a finite number; got {value!r}", field=field)
    if abs(value) > 1e15:
        raise InvalidParameterError(f"{field} must be within ±1e15; got {value}", field=field)
    return float(value)


def check_kpi(values: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    allowed = {"name", "unit", "target", "direction", "endpoint", "metric"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise InvalidParameterError(f"{prefix}{unknown[0]}: unknown KPI field", field=f"{prefix}{unknown[0]}")
    result: dict[str, Any] = {
        "name": check_text(
            values.get("name", ""), field=f"{prefix}name", max_length=200, allow_empty=False
        ).strip(),
        "unit": check_text(values.get("unit") or "", field=f"{prefix}unit", max_length=50),
        "target": None
        if values.get("target") is None
        else _finite(values["target"], field=f"{prefix}target"),
        "direction": values.get("direction") or "increase",
    }
    if result["direction"] not in DIRECTIONS:
        raise InvalidParameterError(
            f"{prefix}direction must be increase or decrease; got {result['direction']!r}",
            field=f"{prefix}direction",
        )
    for name in ("endpoint", "metric"):
        given = values.get(name)
        result[name] = None if not given else check_text(given, field=f"{prefix}{name}", max_length=200)
    if (result["endpoint"] is None) != (result["metric"] is None):
        raise InvalidParameterError(
            f"{prefix}endpoint and metric bind a KPI together: give both or neither", field=f"{prefix}metric"
        )
    return result


def add_kpi(session: Session, *, actor: Principal, use_case_id: str, values: Mapping[str, Any]) -> Kpi:
    require_role(actor, Role.EDITOR)
    use_case = get_use_case(session, use_case_id)
    fields = check_kpi(values)
    if session.scalar(select(Kpi.id).where(Kpi.use_case_id == use_case.id, Kpi.name == fields["name"])):
        raise ConflictError(f"use case {use_case.title!r} already has a KPI {fields['name']!r}", field="name")
    kpi = Kpi(use_case_id=use_case.id, created_at=utcnow(), **fields)
    session.add(kpi)
    flush_or_conflict(
        session, f"use case {use_case.title!r} already has a KPI {fields['name']!r}", field="name"
    )
    audit.record(
        session,
        actor=actor,
        action="usecase.kpi.add",
        object_type="kpi",
        object_id=str(kpi.id),
        after={"use_case_id": use_case.id, **fields},
    )
    return kpi


def list_kpis(session: Session, *, use_case_id: str) -> list[Kpi]:
    use_case = get_use_case(session, use_case_id)
    return list(session.scalars(select(Kpi).where(Kpi.use_case_id == use_case.id).order_by(Kpi.id)))


def get_kpi(session: Session, *, use_case_id: str, kpi_id: int) -> Kpi:
    kpi = session.get(Kpi, kpi_id) if -(2**63) < kpi_id < 2**63 else None
    if kpi is None or kpi.use_case_id != use_case_id:
        get_use_case(session, use_case_id)
        raise NotFoundError(f"KPI {kpi_id} does not exist on use case {use_case_id!r}", field="kpi_id")
    return kpi


def record_kpi_value(
    session: Session,
    *,
    actor: Principal,
    use_case_id: str,
    kpi_id: int,
    value: float,
    observed_at: datetime | None = None,
    note: str = "",
) -> KpiValue:
    """Record a manual observation of a KPI (now, unless ``observed_at`` says when)."""
    require_role(actor, Role.EDITOR)
    kpi = get_kpi(session, use_case_id=use_case_id, kpi_id=kpi_id)
    if observed_at is not None and observed_at.tzinfo is None:
        raise InvalidParameterError(
            "observed_at must include a time zone, e.g. 2026-01-31T00:00:00Z", field="observed_at"
        )
    row = KpiValue(
        kpi_id=kpi.id,
        value=_finite(value, field="value"),
        observed_at=observed_at or utcnow(),
        recorded_by=actor.name,
        note=check_text(note or "", field="note", max_length=2000),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="usecase.kpi.record",
        object_type="kpi",
        object_id=str(kpi.id),
        after={"value": row.value, "observed_at": row.observed_at},
    )
    return row


def kpi_values(session: Session, *, use_case_id: str, kpi_id: int) -> list[KpiValue]:
    kpi = get_kpi(session, use_case_id=use_case_id, kpi_id=kpi_id)
    return list(
        session.scalars(
            select(KpiValue).where(KpiValue.kpi_id == kpi.id).order_by(KpiValue.observed_at, KpiValue.id)
        )
    )


def latest_values(session: Session, kpis: list[Kpi]) -> dict[int, KpiValue]:
    """The most recent observation of each KPI that has one."""
    latest: dict[int, KpiValue] = {}
    if not kpis:
        return latest
    rows = session.scalars(
        select(KpiValue)
        .where(KpiValue.kpi_id.in_([k.id for k in kpis]))
        .order_by(KpiValue.observed_at, KpiValue.id)
    )
    for row in rows:
        latest[row.kpi_id] = row
    return latest
