from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shipyard._version import __version__
from shipyard.core import migrate
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from tests import live_http


def test_health_ready_version(server_url: str) -> None:
    assert live_http.get(f"{server_url}/health").json() == {"status": "ok"}
    ready = live_http.get(f"{server_url}/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["schema_revision"] == migrate.head_revision()
    version = live_http.get(f"{server_url}/version").json()
    assert version["version"] == __version__ and version["name"] == "shipyard"


def test_not_ready_while_migrations_pending(platform: Platform) -> None:
    migrate.downgrade(platform.database, "base")
    with live_server(create_app(platform=platform)) as url:
        response = live_http.get(f"{url}/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "migrations pending"


def test_error_shape_and_request_id(server_url: str) -> None:
    response = live_http.get(f"{server_url}/no/such/route", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json() == {
        "error_code": "ENDPOINT_NOT_FOUND",
        "message": "no route for GET /no/such/route",
        "field": None,
        "request_id": "abc-123",
    }


def test_unsafe_request_id_is_replaced(server_url: str) -> None:
    response = live_http.get(f"{server_url}/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


def test_validation_error_names_the_field(server_url: str) -> None:
    response = live_http.post(f"{server_url}/api/v1/tokens", json={"name": "x", "role": "overlord"})
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert body["field"] == "role"
    assert "role" in body["message"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"Content-Type": "application/json"}),
        (b"", {"Content-Type": "application/json"}),
        (b"name=x", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_malformed_bodies_are_4xx(server_url: str, content: bytes, headers: dict[str, str]) -> None:
    response = live_http.post(f"{server_url}/api/v1/tokens", content=content, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.json()["error_code"]


def test_oversized_json_is_413(server_url: str) -> None:
    body = b"[" + b"0," * (17 * 1024 * 1024) + b"0]"  # 34 MiB, over the 32 MiB JSON limit
    response = live_http.post(
        f"{server_url}/api/v1/tokens", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def test_method_not_allowed_has_the_error_shape(server_url: str) -> None:
    response = live_http.put(f"{server_url}/health")
    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_openapi_document(server_url: str) -> None:
    document = live_http.get(f"{server_url}/openapi.json").json()
    assert document["info"]["title"] == "Shipyard"
    assert "/api/v1/tokens" in document["paths"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.org"])  # noqa: S104
def test_non_loopback_bind_without_auth_refuses_to_start(tmp_path, host: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "shipyard", "server", "--host", host, "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"refusing to listen on {host} without auth" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "shipyard.db").exists(), "nothing may be created before the refusal"


def test_nul_bytes_are_rejected_with_the_field_named(server_url: str) -> None:
    """Found by schemathesis: PostgreSQL cannot store NUL, so it must be refused at the edge."""
    body = live_http.post(f"{server_url}/api/v1/tokens", json={"name": "a\u0000b", "role": "viewer"})
    assert body.status_code == 422
    assert body.json()["field"] == "name" and "control characters" in body.json()["message"]
    query = live_http.get(f"{server_url}/api/v1/audit?actor=a%00b")
    assert query.status_code == 400
    assert query.json()["field"] == "actor"
