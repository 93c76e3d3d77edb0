"""Example calls, one per mutating monitors route, for the common audit check."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.compat.route_examples import ARTIFACTS, run

__all__ = ["MUTATION_EXAMPLES", "monitor", "reference"]

API = "/api/v1/monitors"
CSV = b"x1,x2,c,y\n" + b"".join(
    f"{i * 0.37 % 5:.3f},{i % 7},{'abc'[i % 3]},{i % 2}\n".encode() for i in range(60)
)


def reference(client: httpx.Client, content: bytes = CSV) -> str:
    """Upload a training set as a run's artifact through the MLflow artifact API; returns its URI."""
    experiment_id, run_id = run(client)
    path = f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/data/train.csv"
    client.put(path, content=content).raise_for_status()
    return f"runs:/{run_id}/data/train.csv"


def _create(client: httpx.Client) -> httpx.Response:
    body = {"endpoint": "churn", "name": f"m-{uuid.uuid4().hex[:8]}", "reference_uri": reference(client)}
    return client.post(API, json={**body, "window_size": 60, "enabled": False})


def monitor(client: httpx.Client) -> str:
    response = _create(client)
    response.raise_for_status()
    return str(response.json()["id"])


def rule(client: httpx.Client) -> tuple[str, int]:
    monitor_id = monitor(client)
    body = {"metric": "drift_share", "comparison": ">=", "threshold": 0.5}
    response = client.post(f"{API}/{monitor_id}/alerts/rules", json=body)
    response.raise_for_status()
    return monitor_id, int(response.json()["id"])


def _update_rule(client: httpx.Client) -> httpx.Response:
    monitor_id, rule_id = rule(client)
    return client.patch(f"{API}/{monitor_id}/alerts/rules/{rule_id}", json={"consecutive": 2})


def _delete_rule(client: httpx.Client) -> httpx.Response:
    monitor_id, rule_id = rule(client)
    return client.delete(f"{API}/{monitor_id}/alerts/rules/{rule_id}")


MUTATION_EXAMPLES: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    f"POST {API}": _create,
    f"PATCH {API}/{{monitor_id}}": lambda c: c.patch(f"{API}/{monitor(c)}", json={"drift_share": 0.3}),
    f"DELETE {API}/{{monitor_id}}": lambda c: c.delete(f"{API}/{monitor(c)}"),
    f"POST {API}/{{monitor_id}}/run": lambda c: c.post(f"{API}/{monitor(c)}/run"),
    f"POST {API}/{{monitor_id}}/alerts/rules": lambda c: c.post(
        f"{API}/{monitor(c)}/alerts/rules", json={"metric": "f1", "comparison": "<", "threshold": 0.8}
    ),
    f"PATCH {API}/{{monitor_id}}/alerts/rules/{{rule_id}}": _update_rule,
    f"DELETE {API}/{{monitor_id}}/alerts/rules/{{rule_id}}": _delete_rule,
}
