"""Example calls, one per mutating use-case route, for the common audit check in test_routes_common."""

from __future__ import annotations

import uuid

import httpx

__all__ = ["MUTATION_EXAMPLES"]


def _portfolio(client: httpx.Client) -> str:
    response = client.post("/api/v1/portfolios", json={"name": f"examples-{uuid.uuid4().hex[:8]}"})
    response.raise_for_status()
    return str(response.json()["id"])


def _use_case(client: httpx.Client) -> str:
    body = {"portfolio_id": _portfolio(client), "title": "Ticket routing", "input_data": ["Tickets"]}
    response = client.post("/api/v1/usecases", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def _check(client: httpx.Client, use_case_id: str) -> int:
    body = {"category": "cybersecurity", "question": "Prompt injection?", "red_flag": True}
    response = client.post(f"/api/v1/usecases/{use_case_id}/checks", json=body)
    response.raise_for_status()
    return int(response.json()["id"])


def _kpi(client: httpx.Client, use_case_id: str) -> int:
    response = client.post(f"/api/v1/usecases/{use_case_id}/kpis", json={"name": "Misrouted", "unit": "%"})
    response.raise_for_status()
    return int(response.json()["id"])


def _locked(client: httpx.Client) -> str:
    portfolio_id = _portfolio(client)
    client.post(f"/api/v1/portfolios/{portfolio_id}/selection/lock").raise_for_status()
    return portfolio_id


def _update_check(client: httpx.Client) -> httpx.Response:
    use_case_id = _use_case(client)
    check_id = _check(client, use_case_id)
    return client.patch(f"/api/v1/usecases/{use_case_id}/checks/{check_id}", json={"answer": "Filtered."})


def _sign_off(client: httpx.Client) -> httpx.Response:
    use_case_id = _use_case(client)
    check_id = _check(client, use_case_id)
    return client.post(
        f"/api/v1/usecases/{use_case_id}/checks/{check_id}/signoff", json={"reason": "Input is filtered."}
    )


def _record_kpi(client: httpx.Client) -> httpx.Response:
    use_case_id = _use_case(client)
    kpi_id = _kpi(client, use_case_id)
    return client.post(f"/api/v1/usecases/{use_case_id}/kpis/{kpi_id}/values", json={"value": 12.5})


_YAML = """
portfolio: {name: imported-%s}
use_cases:
  - {key: a, title: A, votes: {ana: {economic_value: 4}}}
"""

MUTATION_EXAMPLES = {
    "POST /api/v1/portfolios": lambda c: c.post("/api/v1/portfolios", json={"name": f"p-{uuid.uuid4().hex}"}),
    "POST /api/v1/portfolios/import": lambda c: c.post(
        "/api/v1/portfolios/import", json={"format": "yaml", "content": _YAML % uuid.uuid4().hex}
    ),
    "PATCH /api/v1/portfolios/{portfolio_id}": lambda c: c.patch(
        f"/api/v1/portfolios/{_portfolio(c)}", json={"ease_floor": 1.5}
    ),
    "POST /api/v1/portfolios/{portfolio_id}/selection/lock": lambda c: c.post(
        f"/api/v1/portfolios/{_portfolio(c)}/selection/lock"
    ),
    "DELETE /api/v1/portfolios/{portfolio_id}/selection/lock": lambda c: c.delete(
        f"/api/v1/portfolios/{_locked(c)}/selection/lock"
    ),
    "POST /api/v1/usecases": lambda c: c.post(
        "/api/v1/usecases", json={"portfolio_id": _portfolio(c), "title": "Demand forecast"}
    ),
    "PATCH /api/v1/usecases/{use_case_id}": lambda c: c.patch(
        f"/api/v1/usecases/{_use_case(c)}", json={"owner": "Chloe", "status": "assessed"}
    ),
    "PUT /api/v1/usecases/{use_case_id}/selection": lambda c: c.put(
        f"/api/v1/usecases/{_use_case(c)}/selection", json={"choice": "include"}
    ),
    "PUT /api/v1/usecases/{use_case_id}/votes": lambda c: c.put(
        f"/api/v1/usecases/{_use_case(c)}/votes", json={"voter": "ana", "scores": {"economic_value": 4}}
    ),
    "POST /api/v1/usecases/{use_case_id}/checks": lambda c: c.post(
        f"/api/v1/usecases/{_use_case(c)}/checks", json={"category": "human_aspect", "question": "Trust?"}
    ),
    "PATCH /api/v1/usecases/{use_case_id}/checks/{check_id}": _update_check,
    "POST /api/v1/usecases/{use_case_id}/checks/{check_id}/signoff": _sign_off,
    "POST /api/v1/usecases/{use_case_id}/kpis": lambda c: c.post(
        f"/api/v1/usecases/{_use_case(c)}/kpis", json={"name": "Handling time", "unit": "min"}
    ),
    "POST /api/v1/usecases/{use_case_id}/kpis/{kpi_id}/values": _record_kpi,
}
