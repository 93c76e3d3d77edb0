"""Endpoint configuration in the store: create, read, change, delete (each audited).

An endpoint names what it serves by a model URI of this server (``models:/NAME@ALIAS``,
``models:/NAME/VERSION``, ``models:/NAME/latest`` or ``runs:/RUN/PATH``); the URI must resolve when
the endpoint is created or changed, so a typo is a 400 at once rather than a failed load later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal
from shipyard.core.database import utcnow
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.serving.manager import EndpointSpec
from shipyard.serving.tables import ServingEndpoint

__all__ = [
    "ENDPOINT_FIELDS",
    "check_endpoint_name",
    "check_model_uri",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "list_endpoints",
    "spec_of",
    "update_endpoint",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_URI = re.compile(
    r"^(models:/[^/@\s]+(/[0-9]+|/latest|@[A-Za-z0-9_.-]+)|models:/m-[0-9a-f]{32}|runs:/[0-9a-f]{32}/\S+)$"
)
ENDPOINT_FIELDS = (
    "model_uri",
    "description",
    "log_predictions",
    "sample_rate",
    "redact",
    "max_batch_rows",
    "max_delay_ms",
)


def check_endpoint_name(name: object) -> str:
    """A safe endpoint name: it appears in URLs, metric labels and prediction-log folders.

    >>> check_endpoint_name("churn-v2")
    'churn-v2'
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidParameterError(
            f"endpoint name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    return name


def check_model_uri(uri: object) -> str:
    """A model URI of this server; file paths and other schemes are refused.

    >>> check_model_uri("models:/churn@champion")
    'models:/churn@champion'
    """
    if not isinstance(uri, str) or not _URI.match(uri):
        raise InvalidParameterError(
            f"model_uri {uri!r} must be models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest, "
            "models:/m-<id> or runs:/<run_id>/<path> (a model of this server; paths are refused)",
            field="model_uri",
        )
    return uri


def _check_fields(values: dict[str, Any]) -> dict[str, Any]:
    if "model_uri" in values:
        check_model_uri(values["model_uri"])
    rate = values.get("sample_rate")
    if rate is not None and not (0.0 <= float(rate) <= 1.0):
        raise InvalidParameterError("sample_rate must be between 0 and 1", field="sample_rate")
    rows = values.get("max_batch_rows")
    if rows is not None and not (1 <= int(rows) <= 4096):
        raise InvalidParameterError("max_batch_rows must be between 1 and 4096", field="max_batch_rows")
    delay = values.get("max_delay_ms")
    if delay is not None and not (0.0 <= float(delay) <= 1000.0):
        raise InvalidParameterError("max_delay_ms must be between 0 and 1000", field="max_delay_ms")
    redact = values.get("redact")
    if redact is not None:
        if not isinstance(redact, list | tuple) or not all(isinstance(c, str) and c for c in redact):
            raise InvalidParameterError("redact must be a list of column names", field="redact")
        values["redact"] = sorted(set(redact))
    return values


def _snapshot(endpoint: ServingEndpoint) -> dict[str, Any]:
    return {name: getattr(endpoint, name) for name in ENDPOINT_FIELDS}


def get_endpoint(session: Session, name: str) -> ServingEndpoint:
    found = session.get(ServingEndpoint, check_endpoint_name(name))
    if found is None:
        raise NotFoundError(f"endpoint {name!r} does not exist", field="name")
    return found


def list_endpoints(session: Session) -> Sequence[ServingEndpoint]:
    return session.scalars(select(ServingEndpoint).order_by(ServingEndpoint.name)).all()


def create_endpoint(session: Session, *, actor: Principal, name: str, **values: Any) -> ServingEndpoint:
    check_endpoint_name(name)
    if "model_uri" not in values:
        raise InvalidParameterError("model_uri is required", field="model_uri")
    _check_fields(values)
    if session.get(ServingEndpoint, name) is not None:
        raise ConflictError(f"endpoint {name!r} already exists", field="name")
    now = utcnow()
    defaults = {"description": "", "log_predictions": True, "sample_rate": 1.0, "redact": []}
    defaults |= {"max_batch_rows": 64, "max_delay_ms": 10.0}
    endpoint = ServingEndpoint(
        name=name, created_by=actor.name, created_at=now, updated_at=now, **(defaults | values)
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="endpoint.create",
        object_type="endpoint",
        object_id=name,
        after=_snapshot(endpoint),
    )
    return endpoint


def update_endpoint(session: Session, *, actor: Principal, name: str, **values: Any) -> ServingEndpoint:
    endpoint = get_endpoint(session, name)
    unknown = sorted(set(values) - set(ENDPOINT_FIELDS))
    if unknown:
        raise InvalidParameterError(f"unknown endpoint field(s) {', '.join(unknown)}", field=unknown[0])
    _check_fields(values)
    before = _snapshot(endpoint)
    for key, value in values.items():
        setattr(endpoint, key, value)
    endpoint.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="endpoint.update",
        object_type="endpoint",
        object_id=name,
        before=before,
        after=_snapshot(endpoint),
    )
    return endpoint


def delete_endpoint(session: Session, *, actor: Principal, name: str) -> None:
    endpoint = get_endpoint(session, name)
    before = _snapshot(endpoint)
    session.delete(endpoint)
    audit.record(
        session, actor=actor, action="endpoint.delete", object_type="endpoint", object_id=name, before=before
    )


def spec_of(endpoint: ServingEndpoint) -> EndpointSpec:
    return EndpointSpec(
        name=endpoint.name,
        model_uri=endpoint.model_uri,
        log_predictions=endpoint.log_predictions,
        sample_rate=endpoint.sample_rate,
        redact=tuple(endpoint.redact or ()),
        max_batch_rows=endpoint.max_batch_rows,
        max_delay_ms=endpoint.max_delay_ms,
    )
