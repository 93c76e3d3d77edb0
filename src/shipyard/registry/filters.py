"""The registry's search grammar: ``name LIKE 'churn%' AND tags.`team` = 'risk'``.

Attribute clauses compare a column; tag clauses match on the tag table. As in MLflow, ``tags.k != 'v'``
also keeps models that do not carry the tag at all (the client appends
``tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search and expects ordinary models back).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from shipyard.core.errors import InvalidParameterError

__all__ = ["RegistryClause", "parse_registry_filter", "registry_condition"]

_CLAUSE = re.compile(
    r"""^\s*(?:(?P<entity>tags?|attributes?)\.)?(?P<key>`[^`]+`|"[^"]+"|[\w.]+)\s*
        (?P<op>=|!=|<>|LIKE|ILIKE|IN)\s*
        (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+|\((?:\s*'[^']*'\s*,?)+\))\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class RegistryClause:
    entity: str  # "attribute" or "tag"
    key: str
    op: str
    value: Any


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def parse_registry_filter(text: str | None, *, attributes: set[str]) -> list[RegistryClause]:
    """AND-ed clauses over ``attributes`` and tags.

    >>> [(c.entity, c.key, c.op, c.value) for c in
    ...  parse_registry_filter("name = 'a' AND tags.`x.y` != 'true'", attributes={"name"})]
    [('attribute', 'name', '=', 'a'), ('tag', 'x.y', '!=', 'true')]
    """
    clauses = []
    for part in re.split(r"\s+AND\s+", text or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        match = _CLAUSE.match(part)
        problem = None
        if match is None:
            problem = "expected <name> =|!=|LIKE|ILIKE '<value>'"
        else:
            entity = "tag" if (match.group("entity") or "").lower().startswith("tag") else "attribute"
            key, op, raw = _unquote(match.group("key")), match.group("op").upper(), match.group("value")
            if entity == "attribute" and key not in attributes:
                known = ", ".join(sorted(attributes))
                problem = f"unknown attribute {key!r}; expected one of {known} or tags.<key>"
            elif op == "IN" and not raw.startswith("("):
                problem = "IN needs a list like ('a', 'b')"
            else:
                value: Any = (
                    [_unquote(v.strip()) for v in raw[1:-1].split(",") if v.strip()]
                    if op == "IN"
                    else (int(raw) if raw.lstrip("-").isdigit() else _unquote(raw))
                )
                clauses.append(RegistryClause(entity, key, "!=" if op == "<>" else op, value))
        if problem:
            raise InvalidParameterError(
                f"Invalid clause(s) in filter string: '{part.strip()}': {problem}", field="filter"
            )
    return clauses


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "LIKE":
        return column.like(str(value))
    if op == "ILIKE":
        return func.lower(column).like(str(value).lower())
    return column.in_(value)


def registry_condition(
    clause: RegistryClause, owner: Any, tag_table: Any, tag_owner: Sequence[Any], columns: dict[str, Any]
) -> ColumnElement[bool]:
    """SQL for one clause; ``owner`` (a column or ``tuple_``) is what ``tag_owner`` columns point at."""
    if clause.entity == "attribute":
        return _compare(columns[clause.key], clause.op, clause.value)
    with_key = select(*tag_owner).where(tag_table.key == clause.key)
    owner_key = owner
    if clause.op == "!=":
        return owner_key.not_in(with_key.where(tag_table.value == str(clause.value)))
    return owner_key.in_(with_key.where(_compare(tag_table.value, clause.op, clause.value)))
