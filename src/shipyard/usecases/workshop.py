"""Workshop I/O: a portfolio to and from YAML (everything) and CSV (the spreadsheet of a workshop).

YAML holds the portfolio's settings and, per use case, the canvas, ROI inputs, votes (with comments),
the checklist and the KPIs with their recorded values. CSV holds one row per use case: the canvas
columns, ``roi_<input>`` columns and one ``<dimension>@<voter>`` column per voter and dimension (lists
such as ``input_data`` are separated by ``;``). History and audit rows are never exported.

An import is one transaction: the caller's session rolls back everything when any row is wrong, and
the error names the row (YAML: line, use case and field; CSV: row number and column).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import InvalidParameterError, PermissionDeniedError, ShipyardError
from shipyard.usecases import canvas, kpis, portfolio, redflags, scoring
from shipyard.usecases._lookup import get_portfolio
from shipyard.usecases.roi import ROI_INPUTS
from shipyard.usecases.tables import Portfolio, UseCase, UseCaseCheck, UseCaseScore

__all__ = [
    "FORMAT",
    "ImportResult",
    "example_portfolio",
    "export_csv",
    "export_yaml",
    "import_csv",
    "import_yaml",
    "parse_yaml",
]

logger = logging.getLogger(__name__)

FORMAT = "shipyard.usecases/v1"
MAX_IMPORT_CHARS = 10_000_000
MAX_USE_CASES = 2000
_SETTINGS = (
    "description",
    "weights",
    "value_threshold",
    "ease_threshold",
    "disagreement_range",
    "ease_floor",
)
_CSV_LISTS = ("decision_makers", "users", "people_affected", "input_data")
_CSV_CANVAS = (
    "key",
    "title",
    "owner",
    "status",
    "business_unit",
    "product",
    "ai_capability",
    "what",
    "why",
    *_CSV_LISTS,
    "integration",
    "challenges",
    "evaluation",
)


@dataclass(frozen=True)
class ImportResult:
    portfolio: Portfolio
    use_cases: int
    votes: int
    checks: int
    kpis: int


def example_portfolio() -> str:
    """The bundled example portfolio (12 invented use cases of a logistics company) as YAML text."""
    from importlib.resources import files

    return (files("shipyard.usecases") / "examples" / "portfolio.yaml").read_text(encoding="utf-8")


# -- export -----------------------------------------------------------------------------------------
def _portfolio_rows(session: Session, portfolio_id: str) -> tuple[Portfolio, list[UseCase]]:
    found = get_portfolio(session, portfolio_id)
    return found, canvas.list_use_cases(session, portfolio_id=found.id)


def _votes_of(session: Session, use_case: UseCase) -> dict[str, dict[str, Any]]:
    votes: dict[str, dict[str, Any]] = {}
    rows = session.scalars(
        select(UseCaseScore)
        .where(UseCaseScore.use_case_id == use_case.id)
        .order_by(UseCaseScore.voter, UseCaseScore.id)
    )
    for row in rows:
        entry: Any = {"score": row.score, "comment": row.comment} if row.comment else row.score
        votes.setdefault(row.voter, {})[row.dimension] = entry
    return votes


def _check_of(check: UseCaseCheck) -> dict[str, Any]:
    item: dict[str, Any] = {"category": check.category}
    if check.stakeholder:
        item.update(stakeholder=check.stakeholder, phase=check.phase)
    item.update(question=check.question, answer=check.answer, owner=check.owner, status=check.status)
    if check.red_flag:
        item["red_flag"] = True
    if check.status == "signed_off":
        item.update(signed_off_by=check.signed_off_by, signoff_reason=check.signoff_reason)
    return item


def export_yaml(session: Session, *, portfolio_id: str) -> str:
    """The whole portfolio as a YAML document that ``import_yaml`` reads back."""
    found, use_cases = _portfolio_rows(session, portfolio_id)
    document: dict[str, Any] = {
        "format": FORMAT,
        "portfolio": {"name": found.name, **{name: getattr(found, name) for name in _SETTINGS}},
        "use_cases": [],
    }
    for use_case in use_cases:
        entry: dict[str, Any] = {"key": use_case.key, **canvas.snapshot(use_case)}
        if entry["roi"] is None:
            del entry["roi"]
        if use_case.selection != "auto":
            entry["selection"] = use_case.selection
        entry["votes"] = _votes_of(session, use_case)
        entry["checks"] = [_check_of(c) for c in redflags.list_checks(session, use_case_id=use_case.id)]
        entry["kpis"] = []
        for kpi in kpis.list_kpis(session, use_case_id=use_case.id):
            values = kpis.kpi_values(session, use_case_id=use_case.id, kpi_id=kpi.id)
            item = {name: getattr(kpi, name) for name in ("name", "unit", "target", "direction")}
            if kpi.endpoint:
                item.update(endpoint=kpi.endpoint, metric=kpi.metric)
            item["values"] = [
                {"value": v.value, "observed_at": v.observed_at.isoformat(), "note": v.note} for v in values
            ]
            entry["kpis"].append(item)
        document["use_cases"].append(entry)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def csv_columns(session: Session, use_cases: list[UseCase]) -> tuple[list[str], list[str]]:
    vote_columns = sorted(
        {
            f"{row.dimension}@{row.voter}"
            for row in session.scalars(
                select(UseCaseScore).where(UseCaseScore.use_case_id.in_([u.id for u in use_cases]))
            )
        }
    )
    return [*_CSV_CANVAS, *(f"roi_{name}" for name in (*ROI_INPUTS, "period", "currency"))], vote_columns


def export_csv(session: Session, *, portfolio_id: str) -> str:
    """One row per use case: canvas, ROI inputs and one column per voter and dimension."""
    _, use_cases = _portfolio_rows(session, portfolio_id)
    columns, vote_columns = csv_columns(session, use_cases)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns + vote_columns, lineterminator="\n")
    writer.writeheader()
    for use_case in use_cases:
        row: dict[str, Any] = {"key": use_case.key, **canvas.snapshot(use_case)}
        for name in _CSV_LISTS:
            row[name] = "; ".join(row[name])
        roi = row.pop("roi") or {}
        row.update({f"roi_{name}": roi.get(name, "") for name in (*ROI_INPUTS, "period", "currency")})
        for voter, scores in _votes_of(session, use_case).items():
            for dimension, entry in scores.items():
                row[f"{dimension}@{voter}"] = entry["score"] if isinstance(entry, dict) else entry
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# -- import -----------------------------------------------------------------------------------------
def _check_size(text: str) -> None:
    if not isinstance(text, str):
        raise InvalidParameterError("content must be text", field="content")
    if len(text) > MAX_IMPORT_CHARS:
        raise InvalidParameterError(
            f"content is {len(text)} characters long; the limit is {MAX_IMPORT_CHARS}", field="content"
        )


def parse_yaml(text: str) -> tuple[dict[str, Any], yaml.Node | None]:
    """The YAML document and its node tree (for line numbers); errors name the line and column."""
    _check_size(text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise InvalidParameterError(
            f"YAML {where}: {exc.problem or exc.context or 'cannot be parsed'}", field="content"
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidParameterError(f"YAML cannot be parsed: {exc}", field="content") from None
    if not isinstance(data, dict):
        raise InvalidParameterError(
            "YAML must be a mapping with 'portfolio' and 'use_cases' (see 'shipyard usecases example')",
            field="content",
        )
    return data, node


def _line_of(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """The 1-based line of the node at ``path`` (or of its deepest existing ancestor)."""
    line = None
    for step in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


def _mapping(value: Any, *, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameterError(f"{field} must be a mapping", field=field)
    return value


def _sequence(value: Any, *, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameterError(f"{field} must be a list", field=field)
    return value


def _observed_at(value: Any, *, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidParameterError(
                f"{field} must be an ISO 8601 time; got {value!r}", field=field
            ) from None
    if not isinstance(value, datetime):
        raise InvalidParameterError(f"{field} must be an ISO 8601 time; got {value!r}", field=field)
    return value


def _import_use_case(
    session: Session, *, actor: Principal, portfolio_id: str, entry: Any, prefix: str, counts: dict[str, int]
) -> None:
    entry = dict(_mapping(entry, field=prefix))
    key = entry.pop("key", None)
    choice = entry.pop("selection", "auto")
    votes = _mapping(entry.pop("votes", None), field=f"{prefix}.votes")
    checks = _sequence(entry.pop("checks", None), field=f"{prefix}.checks")
    kpi_entries = _sequence(entry.pop("kpis", None), field=f"{prefix}.kpis")
    if key is not None and not isinstance(key, str):
        raise InvalidParameterError(f"{prefix}.key must be text", field=f"{prefix}.key")
    fields = canvas.check_canvas(entry, prefix=f"{prefix}.")
    use_case = canvas.create_use_case(session, actor=actor, portfolio_id=portfolio_id, values=fields, key=key)
    if choice != "auto":
        portfolio.set_choice(session, actor=actor, use_case_id=use_case.id, choice=choice)
    for voter, scores in votes.items():
        if not isinstance(voter, str):
            raise InvalidParameterError(f"{prefix}.votes: voter names must be text; got {voter!r}")
        try:
            scoring.cast_votes(session, actor=actor, use_case_id=use_case.id, voter=voter, scores=scores)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{prefix}.votes.{voter}: {exc.message}", field=exc.field) from None
        counts["votes"] += len(scores)
    # Items matching the standard checklist (same area and question) fill it in; others are added.
    standard = {
        (c.category, c.stakeholder, c.phase, c.question): c
        for c in redflags.list_checks(session, use_case_id=use_case.id)
    }
    for index, item in enumerate(checks):
        where = f"{prefix}.checks[{index}]"
        item = dict(_mapping(item, field=where))
        signed_by, reason = item.pop("signed_off_by", None), item.pop("signoff_reason", None)
        fields = redflags.check_fields(item, prefix=f"{where}.")
        signed = fields["status"] == "signed_off"
        if signed:
            if not actor.can(Role.APPROVER):
                raise PermissionDeniedError(
                    f"{where} is signed off; importing sign-offs needs the approver role",
                    field=f"{where}.status",
                )
            if not isinstance(reason, str) or not reason.strip():
                raise InvalidParameterError(
                    f"{where}.signoff_reason is required for a signed-off item",
                    field=f"{where}.signoff_reason",
                )
            fields["status"] = "open"
        match = standard.pop(
            (fields["category"], fields["stakeholder"], fields["phase"], fields["question"]), None
        )
        if match is None:
            check = redflags.add_check(session, actor=actor, use_case_id=use_case.id, values=fields)
        else:
            changes = {name: fields[name] for name in ("answer", "owner", "status", "red_flag")}
            check = redflags.update_check(
                session, actor=actor, use_case_id=use_case.id, check_id=match.id, changes=changes
            )
        if signed:
            redflags.sign_off(session, actor=actor, use_case_id=use_case.id, check_id=check.id, reason=reason)
            if isinstance(signed_by, str) and signed_by.strip():
                check.signed_off_by = signed_by.strip()[:200]
        counts["checks"] += 1
    for index, item in enumerate(kpi_entries):
        where = f"{prefix}.kpis[{index}]"
        item = dict(_mapping(item, field=where))
        values = _sequence(item.pop("values", None), field=f"{where}.values")
        kpi = kpis.add_kpi(
            session, actor=actor, use_case_id=use_case.id, values=kpis.check_kpi(item, prefix=f"{where}.")
        )
        for value_index, observation in enumerate(values):
            vwhere = f"{where}.values[{value_index}]"
            observation = _mapping(observation, field=vwhere)
            try:
                kpis.record_kpi_value(
                    session,
                    actor=actor,
                    use_case_id=use_case.id,
                    kpi_id=kpi.id,
                    value=observation.get("value"),  # type: ignore[arg-type]
                    observed_at=_observed_at(observation.get("observed_at"), field=f"{vwhere}.observed_at"),
                    note=observation.get("note") or "",
                )
            except InvalidParameterError as exc:
                if exc.message.startswith(vwhere):
                    raise
                raise InvalidParameterError(
                    f"{vwhere}.{exc.message}", field=f"{vwhere}.{exc.field}"
                ) from None
        counts["kpis"] += 1
    counts["use_cases"] += 1


def import_yaml(session: Session, *, actor: Principal, text: str, name: str | None = None) -> ImportResult:
    """Create a portfolio from a YAML document (``name`` overrides the document's name).

    Runs in the caller's session: when anything is wrong, nothing is kept.
    """
    require_role(actor, Role.EDITOR)
    data, node = parse_yaml(text)
    path: list[str | int] = []
    try:
        unknown = sorted(set(data) - {"format", "portfolio", "use_cases"})
        if unknown:
            path = [unknown[0]]
            raise InvalidParameterError(f"{unknown[0]}: unknown top-level key", field=unknown[0])
        path = ["portfolio"]
        settings = dict(_mapping(data.get("portfolio"), field="portfolio"))
        portfolio_name = name or settings.pop("name", None)
        settings.pop("name", None)
        if not portfolio_name:
            raise InvalidParameterError("portfolio.name is missing (or pass a name)", field="portfolio.name")
        checked = canvas.check_portfolio_settings(settings, prefix="portfolio.")
        found = canvas.create_portfolio(session, actor=actor, name=str(portfolio_name), **checked)
        entries = _sequence(data.get("use_cases"), field="use_cases")
        if len(entries) > MAX_USE_CASES:
            raise InvalidParameterError(
                f"use_cases holds more than {MAX_USE_CASES} entries", field="use_cases"
            )
        counts = dict.fromkeys(("use_cases", "votes", "checks", "kpis"), 0)
        for index, entry in enumerate(entries):
            path = ["use_cases", index]
            key = entry.get("key") if isinstance(entry, dict) else None
            prefix = f"use_cases[{index}]" + (f" ({key})" if key else "")
            try:
                _import_use_case(
                    session, actor=actor, portfolio_id=found.id, entry=entry, prefix=prefix, counts=counts
                )
            except ShipyardError as exc:
                field = (exc.field or "").split(".")
                path = ["use_cases", index, *(part for part in field[1:2] if part)]
                raise
    except ShipyardError as exc:
        if path and path[0] == "portfolio" and exc.field and exc.field.startswith("portfolio."):
            path = ["portfolio", exc.field.split(".")[1]]
        line = _line_of(node, path)
        message = f"YAML line {line}: {exc.message}" if line else exc.message
        raise type(exc)(message, field=exc.field) from None
    return _finish(session, actor=actor, found=found, counts=counts, source="yaml")


def _finish(
    session: Session, *, actor: Principal, found: Portfolio, counts: dict[str, int], source: str
) -> ImportResult:
    audit.record(
        session,
        actor=actor,
        action="usecase.portfolio.import",
        object_type="portfolio",
        object_id=found.id,
        after={"name": found.name, "format": source, **counts},
    )
    logger.info("portfolio %s imported from %s by %s: %s", found.name, source, actor.name, counts)
    return ImportResult(portfolio=found, **counts)


def _csv_number(cell: str, *, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InvalidParameterError(f"{where}: expected a number; got {cell!r}", field="content") from None
    if not math.isfinite(value):
        raise InvalidParameterError(f"{where}: expected a finite number; got {cell!r}", field="content")
    return value


def import_csv(session: Session, *, actor: Principal, text: str, name: str, **settings: Any) -> ImportResult:
    """Create portfolio ``name`` from a CSV sheet (one row per use case; see the module docstring)."""
    require_role(actor, Role.EDITOR)
    _check_size(text)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InvalidParameterError(f"CSV row 1: {exc}", field="content") from None
    roi_columns = {f"roi_{n}": n for n in (*ROI_INPUTS, "period", "currency")}
    if "title" not in header:
        raise InvalidParameterError("CSV row 1: the header has no 'title' column", field="content")
    votes_by_column: dict[str, tuple[str, str]] = {}
    for column in header:
        if column in _CSV_CANVAS or column in roi_columns:
            continue
        dimension, at, voter = (column or "").partition("@")
        if not at or not voter.strip():
            raise InvalidParameterError(
                f"CSV row 1, column {column!r}: unknown column; expected canvas columns, roi_<input> or "
                "<dimension>@<voter>",
                field="content",
            )
        scoring.check_dimension(dimension, field=f"CSV row 1, column {column!r}")
        votes_by_column[column] = (dimension, voter.strip())
    if len(set(header)) != len(header):
        raise InvalidParameterError("CSV row 1: a column name appears twice", field="content")
    found = canvas.create_portfolio(session, actor=actor, name=name, **settings)
    counts = dict.fromkeys(("use_cases", "votes", "checks", "kpis"), 0)
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):
            if None in row:
                raise InvalidParameterError(f"CSV row {row_number}: more cells than columns", field="content")
            if not any((cell or "").strip() for cell in row.values()):
                continue
            _import_csv_row(
                session,
                actor=actor,
                portfolio_id=found.id,
                row=row,
                row_number=row_number,
                roi_columns=roi_columns,
                votes_by_column=votes_by_column,
                counts=counts,
            )
    except csv.Error as exc:
        raise InvalidParameterError(f"CSV row {row_number + 1}: {exc}", field="content") from None
    return _finish(session, actor=actor, found=found, counts=counts, source="csv")


def _import_csv_row(
    session: Session,
    *,
    actor: Principal,
    portfolio_id: str,
    row: Mapping[str, str | None],
    row_number: int,
    roi_columns: dict[str, str],
    votes_by_column: dict[str, tuple[str, str]],
    counts: dict[str, int],
) -> None:
    values: dict[str, Any] = {}
    for column in _CSV_CANVAS:
        if column in row and column != "key" and (column != "status" or (row[column] or "").strip()):
            cell = row[column] or ""
            values[column] = (
                [p.strip() for p in cell.split(";") if p.strip()] if column in _CSV_LISTS else cell
            )
    roi: dict[str, Any] = {}
    for column, input_name in roi_columns.items():
        cell = (row.get(column) or "").strip()
        if cell:
            where = f"CSV row {row_number}, column {column!r}"
            roi[input_name] = cell if input_name in ("period", "currency") else _csv_number(cell, where=where)
    if roi:
        values["roi"] = roi
    try:
        fields = canvas.check_canvas(values)
    except InvalidParameterError as exc:
        column = (exc.field or "").split(".")[0]
        column = (
            f"roi_{exc.field.split('.')[1]}" if column == "roi" and exc.field and "." in exc.field else column
        )
        raise InvalidParameterError(
            f"CSV row {row_number}, column {column!r}: {exc.message}", field="content"
        ) from None
    key = (row.get("key") or "").strip() or None
    try:
        use_case = canvas.create_use_case(
            session, actor=actor, portfolio_id=portfolio_id, values=fields, key=key
        )
    except InvalidParameterError as exc:
        raise InvalidParameterError(
            f"CSV row {row_number}, column {exc.field or 'key'!r}: {exc.message}", field="content"
        ) from None
    except ShipyardError as exc:
        raise type(exc)(f"CSV row {row_number}: {exc.message}", field="content") from None
    by_voter: dict[str, dict[str, float]] = {}
    for column, (dimension, voter) in votes_by_column.items():
        cell = (row.get(column) or "").strip()
        if not cell:
            continue
        where = f"CSV row {row_number}, column {column!r}"
        score = _csv_number(cell, where=where)
        scoring.check_score(score, field=where)
        by_voter.setdefault(voter, {})[dimension] = score
    for voter, scores in by_voter.items():
        try:
            scoring.cast_votes(session, actor=actor, use_case_id=use_case.id, voter=voter, scores=scores)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"CSV row {row_number}: {exc.message}", field="content") from None
        counts["votes"] += len(scores)
    counts["use_cases"] += 1
