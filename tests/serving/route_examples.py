"""Example calls, one per mutating endpoint-configuration route, for the common audit check.

The data plane's feedback route is not here: labels are data, not configuration, and arrive by
the thousands; they are kept in the prediction log's feedback store rather than the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.compat.route_examples import model_version

__all__ = ["MUTATION_EXAMPLES"]

API = "/api/v1/endpoints"


def _endpoint(client: httpx.Client) -> str:
    name, version = model_version(client)
    endpoint = f"ep-{uuid.uuid4().hex[:8]}"
    client.post(API, json={"name": endpoint, "model_uri": f"models:/{name}/{version}"}).raise_for_status()
    return endpoint


def _create(client: httpx.Client) -> httpx.Response:
    name, version = model_version(client)
    return client.post(
        API, json={"name": f"ep-{uuid.uuid4().hex[:8]}", "model_uri": f"models:/{name}/{version}"}
    )


MUTATION_EXAMPLES: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    f"POST {API}": _create,
    f"PATCH {API}/{{name}}": lambda c: c.patch(f"{API}/{_endpoint(c)}", json={"sample_rate": 0.5}),
    f"DELETE {API}/{{name}}": lambda c: c.delete(f"{API}/{_endpoint(c)}"),
}
