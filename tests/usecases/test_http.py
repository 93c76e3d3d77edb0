"""The use-case API over a real server: roles, bad input as 4xx naming the field, promotion check."""

from __future__ import annotations

import httpx
import pytest

from shipyard.core.platform import Platform
from shipyard.usecases import redflags, workshop
from tests import live_http


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(server_url: str) -> httpx.Client:
    with live_http.Client(base_url=server_url, timeout=30) as client:
        yield client


@pytest.fixture
def use_case(api: httpx.Client) -> dict:
    portfolio = api.post("/api/v1/portfolios", json={"name": "http"}).json()
    response = api.post(
        "/api/v1/usecases",
        json={
            "portfolio_id": "http",
            "title": "Invoice matching",
            "input_data": ["ERP invoices"],
            "roi": {
                "minutes_saved_per_task": 4,
                "tasks_per_period": 4000,
                "hourly_cost": 45,
                "build_cost": 35000,
            },
        },
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "portfolio": portfolio}


def test_canvas_votes_matrix_and_history_over_http(api: httpx.Client, use_case: dict) -> None:
    use_case_id = use_case["id"]
    patched = api.patch(f"/api/v1/usecases/{use_case_id}", json={"status": "assessed", "owner": "Deniz"})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    for voter, score in (("ana", 4), ("ben", 2), ("ana", 5)):
        response = api.put(
            f"/api/v1/usecases/{use_case_id}/votes",
            json={
                "voter": voter,
                "scores": {"economic_value": score, "know_how": {"score": 3, "comment": "SAP team"}},
            },
        )
        assert response.status_code == 200, response.text
    votes = api.get(f"/api/v1/usecases/{use_case_id}/votes").json()["votes"]
    assert [(v["voter"], v["dimension"], v["score"]) for v in votes] == [
        ("ana", "economic_value", 5.0),
        ("ana", "know_how", 3.0),
        ("ben", "economic_value", 2.0),
        ("ben", "know_how", 3.0),
    ]
    point = api.get(f"/api/v1/portfolios/{use_case['portfolio']['id']}/matrix").json()["points"][0]
    assert point["value"] == {"mean": 3.5, "low": 2.0, "high": 5.0} and point["disagreement"] is True
    assert point["quadrant"] == "quick_win" and point["rank"] == 1
    history = api.get(f"/api/v1/usecases/{use_case_id}/history").json()["versions"]
    assert [v["changed_fields"] for v in history][1] == ["owner", "status"]
    roi = api.get(f"/api/v1/usecases/{use_case_id}/roi").json()
    assert roi["benefit_per_period"] == pytest.approx(12_000) and roi["payback_periods"] == pytest.approx(
        35 / 12
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("PUT", "votes", {"voter": "a", "scores": {"economic_value": 6}}, 422, "scores.economic_value.score"),
        ("PUT", "votes", {"voter": "a", "scores": {"beauty": 3}}, 400, "scores.beauty"),
        ("PUT", "votes", {"voter": "a", "scores": {"economic_value": "high"}}, 422, "scores.economic_value"),
        ("PUT", "votes", {"voter": "", "scores": {"economic_value": 1}}, 422, "voter"),
        ("PATCH", "", {"status": "in_production"}, 400, "status"),
        ("PATCH", "", {"status": "launched"}, 422, "status"),
        ("PATCH", "", {"title": "a\u0000b"}, 422, "title"),
        ("PATCH", "", {"roi": {"build_cost": -1}}, 422, "roi.build_cost"),
        ("PATCH", "", {"flavour": "x"}, 422, "flavour"),
        ("POST", "checks", {"category": "ethics", "question": "q"}, 422, "category"),
        ("POST", "checks", {"category": "stakeholders", "question": "q"}, 400, "stakeholder"),
        ("POST", "kpis", {"name": "k", "metric": "m"}, 400, "metric"),
        ("PUT", "selection", {"choice": "maybe"}, 422, "choice"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    api: httpx.Client, use_case: dict, method: str, path: str, body: dict, status: int, field: str
) -> None:
    url = f"/api/v1/usecases/{use_case['id']}" + (f"/{path}" if path else "")
    response = api.request(method, url, json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field and field in response.json()["message"]
    assert api.get(f"/api/v1/usecases/{use_case['id']}").json()["version"] == 1


def test_import_is_all_or_nothing_over_http(api: httpx.Client, platform: Platform) -> None:
    bad = workshop.example_portfolio().replace("know_how: 4}", "know_how: 9}", 1)
    response = api.post("/api/v1/portfolios/import", json={"format": "yaml", "content": bad})
    assert response.status_code == 400
    assert "know_how must be between 0 and 5; got 9" in response.json()["message"]
    assert "YAML line" in response.json()["message"]
    assert api.get("/api/v1/portfolios").json()["portfolios"] == []
    csv_bad = api.post("/api/v1/portfolios/import", json={"format": "csv", "content": "title\nA\n"})
    assert csv_bad.status_code == 400 and csv_bad.json()["field"] == "name"
    good = api.post("/api/v1/portfolios/import", json={"content": workshop.example_portfolio()})
    assert good.status_code == 201 and good.json()["use_cases"] == 12
    portfolio_id = good.json()["portfolio"]["id"]
    exported = api.get(f"/api/v1/portfolios/{portfolio_id}/export", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv") and exported.text.startswith("key,title")
    image = api.get(f"/api/v1/portfolios/{portfolio_id}/matrix/image")
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
    svg = api.get(f"/api/v1/portfolios/{portfolio_id}/matrix/image", params={"format": "svg"})
    assert "Churn early warning" in svg.text
    html = api.get(f"/api/v1/portfolios/{portfolio_id}/report", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text
    selection = api.get(f"/api/v1/portfolios/{portfolio_id}/selection").json()
    assert 2 <= len(selection["clusters"]) <= 3 and 3 <= len(selection["use_case_ids"]) <= 6


def test_roles_over_http(auth_server_url: str, tokens: dict[str, str], auth_platform: Platform) -> None:
    with live_http.Client(base_url=auth_server_url, timeout=30) as client:
        editor, viewer, approver = (bearer(tokens[r]) for r in ("editor", "viewer", "approver"))
        assert client.post("/api/v1/portfolios", json={"name": "r"}, headers=viewer).status_code == 403
        assert client.post("/api/v1/portfolios", json={"name": "r"}, headers=editor).status_code == 201
        case = client.post(
            "/api/v1/usecases", json={"portfolio_id": "r", "title": "T"}, headers=editor
        ).json()
        base = f"/api/v1/usecases/{case['id']}"
        vote = client.put(f"{base}/votes", json={"scores": {"economic_value": 3}}, headers=editor)
        assert vote.status_code == 200 and vote.json()["votes"][0]["voter"] == "test-editor"
        assert client.get(f"{base}/votes", headers=viewer).status_code == 200
        flag = client.post(
            f"{base}/checks",
            json={"category": "cybersecurity", "question": "Open S3 bucket?", "red_flag": True},
            headers=editor,
        ).json()
        blocked = client.get(f"{base}/promotion-check", headers=viewer).json()
        assert blocked["allowed"] is False and [f["id"] for f in blocked["open_red_flags"]] == [flag["id"]]
        assert "Open S3 bucket?" in blocked["message"]
        signoff = f"{base}/checks/{flag['id']}/signoff"
        denied = client.post(signoff, json={"reason": "fixed"}, headers=editor)
        assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"
        assert client.post(signoff, json={"reason": ""}, headers=approver).status_code == 422
        signed = client.post(signoff, json={"reason": "Bucket is private since 2026-11-20"}, headers=approver)
        assert signed.status_code == 200 and signed.json()["signed_off_by"] == "test-approver"
        assert client.get(f"{base}/promotion-check", headers=viewer).json()["allowed"] is True
    with auth_platform.database.session() as session:
        redflags.assert_promotion_allowed(session, use_case_id=case["id"])
