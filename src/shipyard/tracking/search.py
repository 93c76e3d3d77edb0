"""MLflow's search grammar for runs: ``metrics.acc > 0.9 AND params.lr = '0.01'``, order_by, pages.

Clauses are AND-ed. Each becomes an ``IN (subquery)`` over an indexed table (``latest_metric``,
``param``, ``run_tag``, ``run_input``), so a selective filter over 100,000 runs reads only the
matching index entries instead of probing every run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from shipyard.core.errors import InvalidParameterError
from shipyard.tracking.experiments import decode_offset, encode_offset, experiment_id_of, view_stages
from shipyard.tracking.records import RUN_INFO_COLUMNS, RunInfo
from shipyard.tracking.runs import RunRecord, load_records
from shipyard.tracking.tables import Dataset, LatestMetric, Param, Run, RunInput, RunTag

__all__ = [
    "AttributeClause",
    "Clause",
    "OrderKey",
    "attribute_condition",
    "parse_attribute_filter",
    "parse_filter",
    "parse_order_by",
    "search_run_rows",
    "search_runs",
]

MAX_RESULTS = 50_000
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<paren>[(),])
      | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|"[^"]+"|[\w.\-:/]+))
    )""",
    re.VERBOSE,
)
_ENTITIES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
_ATTRIBUTES = {
    "run_id": Run.id,
    "run_name": Run.name,
    "status": Run.status,
    "start_time": Run.start_time,
    "created": Run.start_time,
    "end_time": Run.end_time,
    "user_id": Run.user_id,
    "artifact_uri": Run.artifact_uri,
    "lifecycle_stage": Run.lifecycle_stage,
}
_NUMERIC_ATTRIBUTES = {"start_time", "created", "end_time"}
_DATASET_FIELDS = {"name": Dataset.name, "digest": Dataset.digest, "context": RunInput.context}
_COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class Clause:
    entity: str  # metric, param, tag, attribute, dataset
    key: str
    op: str  # = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL
    value: Any
    text: str


@dataclass(frozen=True)
class OrderKey:
    entity: str
    key: str
    ascending: bool


class _Problem(Exception):
    """A parse problem; ``parse_filter`` reports it with the clause it was reading."""


def _invalid(text: str, problem: str) -> InvalidParameterError:
    return InvalidParameterError(f"Invalid clause(s) in filter string: '{text}': {problem}", field="filter")


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"`":
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _split_identifier(raw: str) -> tuple[str, str]:
    prefix, dot, rest = raw.partition(".")
    if dot and prefix.lower() in _ENTITIES:
        entity, key = _ENTITIES[prefix.lower()], _unquote(rest)
    else:
        entity, key = "attribute", _unquote(raw)
    if entity == "attribute" and key not in _ATTRIBUTES:
        raise _Problem(f"unknown attribute {key!r}; expected one of {', '.join(sorted(_ATTRIBUTES))}")
    if entity == "dataset" and key not in _DATASET_FIELDS:
        raise _Problem(f"unknown dataset field {key!r}; expected name, digest or context")
    if not key:
        raise _Problem("empty key")
    return entity, key


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, raw text, start, end) of each token."""
    position, tokens = 0, []
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _invalid(text, f"cannot read {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind), match.end(kind)))
        position = match.end()
    return tokens


class _FilterParser:
    """Recursive-descent reader of ``clause (AND clause)*`` over the token list."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.start = 0

    def take(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise _Problem("the filter ends in the middle of a clause")
        kind, raw, _, _ = self.tokens[self.index]
        self.index += 1
        return kind, raw

    def fragment(self) -> str:
        """The user's own text of the clause read so far."""
        last = min(max(self.index, self.start + 1), len(self.tokens)) - 1
        return self.text[self.tokens[self.start][2] : self.tokens[last][3]]

    def parse(self) -> list[Clause]:
        clauses = []
        while self.index < len(self.tokens):
            self.start = self.index
            try:
                clauses.append(self.clause())
                if self.index < len(self.tokens):
                    _, joiner = self.take()
                    if joiner.upper() != "AND":
                        raise _Problem(f"clauses must be joined by AND, got {joiner!r}")
                    if self.index >= len(self.tokens):
                        raise _Problem("the filter ends with AND")
            except _Problem as problem:
                raise _invalid(self.fragment(), str(problem)) from None
        return clauses

    def clause(self) -> Clause:
        kind, raw = self.take()
        if kind not in ("ident", "string") or (kind == "string" and raw[0] != '"'):
            raise _Problem(f"expected an identifier such as metrics.acc, got {raw!r}")
        entity, key = _split_identifier(_unquote(raw) if kind == "string" else raw)
        kind, word = self.take()
        upper = word.upper()
        value: Any = None
        if kind == "op":
            op = "!=" if word == "<>" else word
            value = _value(*self.take())
        elif upper in ("LIKE", "ILIKE"):
            op = upper
            value = _value(*self.take())
        elif upper == "IS":
            nxt = self.take()[1].upper()
            op = "IS NULL"
            if nxt == "NOT":
                op, nxt = "IS NOT NULL", self.take()[1].upper()
            if nxt != "NULL":
                raise _Problem("expected NULL after IS")
        elif upper in ("IN", "NOT"):
            if upper == "NOT" and self.take()[1].upper() != "IN":
                raise _Problem("expected IN after NOT")
            op = "IN" if upper == "IN" else "NOT IN"
            if self.take()[1] != "(":
                raise _Problem(f"expected '(' after {op}")
            value = []
            while True:
                value.append(_value(*self.take()))
                separator = self.take()[1]
                if separator == ")":
                    break
                if separator != ",":
                    raise _Problem("expected ',' or ')' in the IN list")
        else:
            raise _Problem(f"unknown comparator {word!r}")
        return _checked(Clause(entity, key, op, value, self.fragment()))


def parse_filter(text: str | None) -> list[Clause]:
    """Parse an MLflow filter string into AND-ed clauses.

    >>> [(c.entity, c.key, c.op, c.value) for c in parse_filter("metrics.acc > 0.9 and params.lr = '0.1'")]
    [('metric', 'acc', '>', 0.9), ('param', 'lr', '=', '0.1')]
    """
    if not text or not text.strip():
        return []
    return _FilterParser(text).parse()


def _value(kind: str, raw: str) -> Any:
    if kind == "string":
        return _unquote(raw)
    if kind == "number":
        return float(raw)
    raise _Problem(f"expected a value, got {raw!r}")


def _checked(clause: Clause) -> Clause:
    numeric = clause.entity == "metric" or (
        clause.entity == "attribute" and clause.key in _NUMERIC_ATTRIBUTES
    )
    if clause.op in _COMPARISONS:
        if numeric and not isinstance(clause.value, float):
            raise _Problem(f"{clause.entity} {clause.key!r} must be compared with a number")
        if not numeric and not isinstance(clause.value, str):
            raise _Problem(f"{clause.entity} {clause.key!r} must be compared with a quoted string")
        if not numeric and clause.op not in ("=", "!="):
            raise _Problem(f"{clause.entity} values support =, !=, LIKE, ILIKE; not {clause.op}")
    elif clause.op in ("LIKE", "ILIKE"):
        if numeric or not isinstance(clause.value, str):
            raise _Problem(f"{clause.op} needs a string {clause.entity} and a quoted pattern")
    elif clause.op in ("IN", "NOT IN"):
        if not (clause.entity == "attribute" and clause.key == "run_id") and clause.entity != "dataset":
            raise _Problem(f"{clause.op} is supported for attributes.run_id and datasets only")
        if not all(isinstance(v, str) for v in clause.value):
            raise _Problem(f"{clause.op} needs quoted strings")
    elif clause.op in ("IS NULL", "IS NOT NULL") and clause.entity not in ("param", "tag", "metric"):
        raise _Problem(f"{clause.op} is supported for metrics, params and tags")
    return clause


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return func.lower(column).like(value.lower())
    if op == "IN":
        return column.in_(value)
    return column.not_in(value)


def _matching_runs(clause: Clause) -> tuple[Select[Any], Any, bool] | None:
    """(run ids matching the clause, the subquery's run-id column, negated) for entity clauses."""
    if clause.entity == "dataset":
        matching = select(RunInput.run_id).join(Dataset, Dataset.id == RunInput.dataset_id)
        condition = _compare(_DATASET_FIELDS[clause.key], clause.op, clause.value)
        return matching.where(condition), RunInput.run_id, False
    if clause.entity == "attribute":
        return None
    table, value_column = {
        "metric": (LatestMetric, LatestMetric.value),
        "param": (Param, Param.value),
        "tag": (RunTag, RunTag.value),
    }[clause.entity]
    having_key = select(table.run_id).where(table.key == clause.key)
    if clause.op in ("IS NULL", "IS NOT NULL"):
        return having_key, table.run_id, clause.op == "IS NULL"
    condition = _compare(value_column, clause.op, clause.value)
    if clause.entity == "metric":
        condition = and_(condition, LatestMetric.is_nan.is_(False))
    return having_key.where(condition), table.run_id, False


DRIVING_PROBE_CAP = 20_000


def _conditions(session: Session, clauses: list[Clause]) -> list[ColumnElement[bool]]:
    """SQL for the clauses: the most selective one drives (``run.id IN (…)``), the rest are probes.

    A planner cannot know which of several ``IN`` lists is smallest without statistics, so each
    positive candidate is counted first (through its index, capped); the smallest becomes the
    driving ``IN`` list and every other clause becomes a correlated ``EXISTS`` checked only for the
    runs it yields.
    """
    conditions: list[ColumnElement[bool]] = []
    candidates: list[tuple[Select[Any], Any]] = []
    for clause in clauses:
        matching = _matching_runs(clause)
        if matching is None:
            conditions.append(_compare(_ATTRIBUTES[clause.key], clause.op, clause.value))
        elif matching[2]:
            conditions.append(Run.id.not_in(matching[0]))
        else:
            candidates.append((matching[0], matching[1]))
    if len(candidates) > 1:
        sizes = [
            session.scalar(select(func.count()).select_from(subquery.limit(DRIVING_PROBE_CAP).subquery()))
            or 0
            for subquery, _ in candidates
        ]
        candidates.insert(0, candidates.pop(sizes.index(min(sizes))))
    for position, (subquery, run_column) in enumerate(candidates):
        if position == 0:
            conditions.append(Run.id.in_(subquery))
        else:
            conditions.append(exists(subquery.where(run_column == Run.id)))
    return conditions


def parse_order_by(order_by: Sequence[str] | None) -> list[OrderKey]:
    keys = []
    for raw in order_by or []:
        text = raw.strip()
        direction = "ASC"
        upper = text.upper()
        for suffix in (" ASC", " DESC"):
            if upper.endswith(suffix):
                direction, text = suffix.strip(), text[: -len(suffix)].strip()
                break
        try:
            entity, key = _split_identifier(text)
        except _Problem:
            raise InvalidParameterError(f"Invalid order_by clause '{raw}'", field="order_by") from None
        if entity == "dataset":
            raise InvalidParameterError(
                f"Invalid order_by clause '{raw}': cannot order by datasets", field="order_by"
            )
        keys.append(OrderKey(entity, key, direction == "ASC"))
    return keys


def _apply_order(query: Select[Any], keys: list[OrderKey]) -> Select[Any]:
    ordering: list[Any] = []
    for position, key in enumerate(keys):
        if key.entity == "attribute":
            column: Any = _ATTRIBUTES[key.key]
        else:
            table = {"metric": LatestMetric, "param": Param, "tag": RunTag}[key.entity]
            alias = aliased(table, name=f"order_{position}")
            query = query.outerjoin(alias, and_(alias.run_id == Run.id, alias.key == key.key))
            column = alias.value
        # Runs without the value come last in either direction, as in MLflow.
        ordering.append(case((column.is_(None), 1), else_=0))
        ordering.append(column.asc() if key.ascending else column.desc())
    if not any(k.entity == "attribute" and k.key in ("start_time", "created") for k in keys):
        ordering.append(Run.start_time.desc())
    ordering.append(Run.id)
    return query.order_by(*ordering)


def _search_statement(
    session: Session,
    *,
    experiment_ids: Sequence[int | str],
    filter_string: str | None,
    run_view_type: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    rows: bool,
) -> tuple[Select[Any] | None, int]:
    """The SELECT of a search (``Run`` objects, or plain run rows when ``rows``) and its offset;
    None when there are no experiments to search."""
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results' supplied: it must be between 1 and "
            f"{MAX_RESULTS}",
            field="max_results",
        )
    ids = [experiment_id_of(e, "experiment_ids") for e in experiment_ids]
    # Keyed by the arguments as given: a hit skips parsing, and every check below passed the first time.
    cache_key = (
        rows,
        tuple(ids),
        filter_string or "",
        tuple(order_by or ()),
        run_view_type,
        page_token,
        max_results,
    )
    query = _QUERIES.get(cache_key)
    if query is not None:
        return query, decode_offset(page_token)
    clauses = parse_filter(filter_string)
    keys = parse_order_by(order_by)
    if not ids:
        decode_offset(page_token)  # a forged token is refused even when there is nothing to page
        return None, 0
    stages = view_stages(run_view_type)
    offset = decode_offset(page_token)
    query = select(*RUN_INFO_COLUMNS) if rows else select(Run)
    query = query.where(Run.experiment_id.in_(ids), Run.lifecycle_stage.in_(stages))
    for condition in _conditions(session, clauses):
        query = query.where(condition)
    query = _apply_order(query, keys).offset(offset).limit(max_results + 1)
    if sum(1 for clause in clauses if clause.entity != "attribute") <= 1:
        _remember(cache_key, query)
    return query, offset


def search_run_rows(
    session: Session,
    *,
    experiment_ids: Sequence[int | str],
    filter_string: str | None = None,
    run_view_type: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[Run], str | None]:
    """The runs of ``search_runs`` alone, as ``Run`` objects, for callers that need no params, tags
    or metrics."""
    query, offset = _search_statement(
        session,
        experiment_ids=experiment_ids,
        filter_string=filter_string,
        run_view_type=run_view_type,
        max_results=max_results,
        order_by=order_by,
        page_token=page_token,
        rows=False,
    )
    if query is None:
        return [], None
    runs = list(session.scalars(query))
    token = encode_offset(offset + max_results) if len(runs) > max_results else None
    return runs[:max_results], token


def search_runs(
    session: Session,
    *,
    experiment_ids: Sequence[int | str],
    filter_string: str | None = None,
    run_view_type: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[RunRecord], str | None]:
    """Runs of the experiments matching the filter, ordered, one page at a time.

    Runs and what they carry are read as plain rows (``RunInfo``): hydrating an ORM object per run
    cost as much as the search itself.
    """
    query, offset = _search_statement(
        session,
        experiment_ids=experiment_ids,
        filter_string=filter_string,
        run_view_type=run_view_type,
        max_results=max_results,
        order_by=order_by,
        page_token=page_token,
        rows=True,
    )
    if query is None:
        return [], None
    runs = [RunInfo(*row) for row in session.connection().execute(query).all()]
    token = encode_offset(offset + max_results) if len(runs) > max_results else None
    return load_records(session, runs[:max_results]), token


# Built statements of recent searches. A client polling the same search (a dashboard, a sweep
# waiting for its runs) spent more time building and hashing the SQL than running it. Only
# searches whose SQL depends on nothing but their arguments are kept: with several entity clauses
# the driving one is chosen from live counts.
_QUERIES: dict[tuple[Any, ...], Select[Any]] = {}
_MAX_QUERIES = 256
_QUERIES_LOCK = threading.Lock()  # requests run in a thread pool; eviction iterates the dict


def _remember(key: tuple[Any, ...], query: Select[Any]) -> None:
    with _QUERIES_LOCK:
        if len(_QUERIES) >= _MAX_QUERIES:
            _QUERIES.pop(next(iter(_QUERIES)))
        _QUERIES[key] = query


@dataclass(frozen=True)
class AttributeClause:
    key: str
    op: str  # =, !=, LIKE, ILIKE
    value: str


_ATTRIBUTE_CLAUSE = re.compile(
    r"^\s*(?:attributes?\.)?(?P<key>\w+)\s*(?P<op>=|!=|LIKE|ILIKE)\s*(?P<q>['\"])(?P<value>(?:(?!(?P=q))[^\\]|\\.)*)(?P=q)\s*$",
    re.IGNORECASE,
)


def parse_attribute_filter(text: str | None, allowed: set[str]) -> list[AttributeClause]:
    """``name LIKE 'x%' AND status = 'READY'``: the attribute-only grammar of experiment and model searches.

    >>> parse_attribute_filter("name LIKE 'churn%'", {"name"})
    [AttributeClause(key='name', op='LIKE', value='churn%')]
    """
    clauses = []
    for part in re.split(r"\s+AND\s+", text or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        match = _ATTRIBUTE_CLAUSE.match(part)
        if match is None or match.group("key") not in allowed:
            raise InvalidParameterError(
                f"Invalid clause(s) in filter string: '{part.strip()}': expected <attribute> =|!=|LIKE|ILIKE "
                f"'<value>' with an attribute among {', '.join(sorted(allowed))}",
                field="filter",
            )
        clauses.append(
            AttributeClause(
                match.group("key"),
                match.group("op").upper(),
                _unquote(match.group("q") + match.group("value") + match.group("q")),
            )
        )
    return clauses


def attribute_condition(column: Any, clause: AttributeClause) -> ColumnElement[bool]:
    return _compare(column, clause.op, clause.value)
