from __future__ import annotations

from tests import live_http
from tests.compat.route_examples import model_version
from tests.usecases.route_examples import _check, _use_case


def test_groups_and_use_case_links(server_url: str) -> None:
    api = f"{server_url}/api/v1/registry"
    with live_http.Client(base_url=server_url) as client:
        north, _ = model_version(client)
        south, _ = model_version(client)
        use_case_id = _use_case(client)
    created = live_http.post(f"{api}/groups", json={"name": "churn-by-region", "use_case_id": use_case_id})
    assert created.status_code == 201
    group_id = created.json()["id"]
    for name in (north, south, north):  # adding twice is harmless
        assert live_http.put(f"{api}/groups/{group_id}/models/{name}").status_code == 200
    (group,) = live_http.get(f"{api}/groups").json()["groups"]
    assert group["models"] == sorted([north, south]) and group["use_case_id"] == use_case_id
    assert live_http.delete(f"{api}/groups/{group_id}/models/{south}").json()["models"] == [north]
    missing = live_http.delete(f"{api}/groups/{group_id}/models/{south}")
    assert missing.status_code == 404 and missing.json()["field"] == "model_name"
    assert live_http.post(f"{api}/groups", json={"name": "churn-by-region"}).status_code == 409
    assert live_http.put(f"{api}/groups/{group_id}/models/nope").status_code == 404
    unknown = live_http.put(f"{api}/models/{north}/use-case", json={"use_case_id": "0" * 32})
    assert unknown.status_code == 404
    assert (
        live_http.put(f"{api}/models/{north}/use-case", json={"use_case_id": use_case_id}).status_code == 200
    )
    events = live_http.get(
        f"{server_url}/api/v1/audit", params={"action": "registered_model.link_use_case"}
    ).json()
    assert events["events"][0]["after"] == {"use_case_id": use_case_id}


def test_open_red_flag_blocks_champion_until_signed_off(server_url: str) -> None:
    """The scoping stage's red flags guard the registry's promotion path."""
    with live_http.Client(base_url=server_url) as client:
        name, version = model_version(client)
        use_case_id = _use_case(client)
        check_id = _check(client, use_case_id)  # an open cybersecurity red flag
        client.put(
            f"/api/v1/registry/models/{name}/use-case", json={"use_case_id": use_case_id}
        ).raise_for_status()
        alias = {"name": name, "alias": "champion", "version": version}
        blocked = client.post("/api/2.0/mlflow/registered-models/alias", json=alias)
        assert blocked.status_code == 409, blocked.text
        assert "red flag" in blocked.json()["message"] and "Prompt injection" in blocked.json()["message"]
        assert (
            client.post(
                "/api/2.0/mlflow/registered-models/alias", json={**alias, "alias": "challenger"}
            ).status_code
            == 200
        ), "unprotected aliases move"
        client.post(
            f"/api/v1/usecases/{use_case_id}/checks/{check_id}/signoff",
            json={"reason": "inputs are filtered"},
        ).raise_for_status()
        assert client.post("/api/2.0/mlflow/registered-models/alias", json=alias).status_code == 200
        history = client.get(
            f"/api/v1/registry/models/{name}/alias-history", params={"alias": "champion"}
        ).json()
        assert [e["version"] for e in history["events"]] == [int(version)]
