"""Example calls, one per mutating registry route, for the common audit check."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.compat.route_examples import model_version

__all__ = ["MUTATION_EXAMPLES"]

API = "/api/v1/registry"


def _pending(client: httpx.Client) -> int:
    name, version = model_version(client)
    response = client.post(
        f"{API}/approvals",
        json={"name": name, "alias": "champion", "version": int(version), "reason": "better recall"},
    )
    response.raise_for_status()
    return int(response.json()["id"])


def _decided(verb: str) -> Callable[[httpx.Client], httpx.Response]:
    def example(client: httpx.Client) -> httpx.Response:
        return client.post(f"{API}/approvals/{_pending(client)}/{verb}", json={"reason": "reviewed"})

    return example


def _lifecycle(client: httpx.Client) -> httpx.Response:
    name, version = model_version(client)
    return client.post(f"{API}/models/{name}/versions/{version}/lifecycle", json={"lifecycle": "published"})


MUTATION_EXAMPLES: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    f"POST {API}/approvals": lambda c: c.post(
        f"{API}/approvals",
        json={"name": (mv := model_version(c))[0], "alias": "champion", "version": int(mv[1])},
    ),
    f"POST {API}/approvals/{{request_id}}/approve": _decided("approve"),
    f"POST {API}/approvals/{{request_id}}/reject": _decided("reject"),
    f"POST {API}/approvals/{{request_id}}/cancel": lambda c: c.post(f"{API}/approvals/{_pending(c)}/cancel"),
    f"POST {API}/models/{{name}}/versions/{{version}}/lifecycle": _lifecycle,
}
