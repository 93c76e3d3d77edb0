"""Example calls, one per mutating tracking route, for the common audit check."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.compat.route_examples import logged_model, run

__all__ = ["MUTATION_EXAMPLES"]


def _log(client: httpx.Client) -> httpx.Response:
    _, run_id = run(client)
    return client.post(
        f"/api/v1/runs/{run_id}/log",
        json={
            "metrics": {"key": ["loss", "loss"], "value": [0.5, "NaN"], "step": [0, 1], "timestamp": [1, 2]},
            "params": {"lr": "0.1"},
            "tags": {"team": "risk"},
        },
    )


def _upload(client: httpx.Client) -> httpx.Response:
    _, run_id = run(client)
    return client.put(f"/api/v1/runs/{run_id}/artifacts", params={"path": "notes/a.txt"}, content=b"note")


def _upload_logged_model_file(client: httpx.Client) -> httpx.Response:
    _, model_id = logged_model(client)
    return client.put(
        f"/api/v1/logged-models/{model_id}/artifacts", params={"path": "MLmodel"}, content=b"flavors: {}"
    )


MUTATION_EXAMPLES: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "POST /api/v1/runs/{run_id}/log": _log,
    "PUT /api/v1/runs/{owner_id}/artifacts": _upload,
    "PUT /api/v1/logged-models/{owner_id}/artifacts": _upload_logged_model_file,
}
