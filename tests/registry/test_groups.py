from __future__ import annotations

import httpx

from tests.compat.route_examples import model_version


def test_groups_and_use_case_links(server_url: str) -> None:
    api = f"{server_url}/api/v1/registry"
    with httpx.Client(base_url=server_url) as client:
        north, _ = model_version(client)
        south, _ = model_version(client)
    created = httpx.post(f"{api}/groups", json={"name": "churn-by-region", "use_case_id": "uc-42"})
    assert created.status_code == 201
    group_id = created.json()["id"]
    for name in (north, south, north):  # adding twice is harmless
        assert httpx.put(f"{api}/groups/{group_id}/models/{name}").status_code == 200
    (group,) = httpx.get(f"{api}/groups").json()["groups"]
    assert group["models"] == sorted([north, south]) and group["use_case_id"] == "uc-42"
    assert httpx.delete(f"{api}/groups/{group_id}/models/{south}").json()["models"] == [north]
    missing = httpx.delete(f"{api}/groups/{group_id}/models/{south}")
    assert missing.status_code == 404 and missing.json()["field"] == "model_name"
    assert httpx.post(f"{api}/groups", json={"name": "churn-by-region"}).status_code == 409
    assert httpx.put(f"{api}/groups/{group_id}/models/nope").status_code == 404
    linked = httpx.put(f"{api}/models/{north}/use-case", json={"use_case_id": "uc-42"})
    assert linked.status_code == 200
    events = httpx.get(
        f"{server_url}/api/v1/audit", params={"action": "registered_model.link_use_case"}
    ).json()
    assert events["events"][0]["after"] == {"use_case_id": "uc-42"}
