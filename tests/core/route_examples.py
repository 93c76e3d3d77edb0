"""Example calls, one per mutating core route, for the common audit check in test_routes_common."""

from __future__ import annotations

import httpx

__all__ = ["MUTATION_EXAMPLES"]


def _revoke(client: httpx.Client) -> httpx.Response:
    created = client.post("/api/v1/tokens", json={"name": "to-revoke", "role": "viewer"}).json()
    return client.delete(f"/api/v1/tokens/{created['token']['id']}")


MUTATION_EXAMPLES = {
    "POST /api/v1/tokens": lambda c: c.post("/api/v1/tokens", json={"name": "example", "role": "editor"}),
    "DELETE /api/v1/tokens/{token_id}": _revoke,
    "POST /api/v1/blobs": lambda c: c.post("/api/v1/blobs", content=b"example bytes"),
}


def _webhook(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/api/v1/webhooks", json={"name": "ex", "url": "http://127.0.0.1:9/hook", "events": ["*"]}
    )


def _webhook_deleted(client: httpx.Client) -> httpx.Response:
    return client.delete(f"/api/v1/webhooks/{_webhook(client).json()['webhook']['id']}")


MUTATION_EXAMPLES.update(
    {
        "POST /api/v1/webhooks": _webhook,
        "DELETE /api/v1/webhooks/{webhook_id}": _webhook_deleted,
    }
)
