from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from shipyard.core import auth
from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.database import utcnow
from shipyard.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidParameterError,
    PermissionDeniedError,
)
from shipyard.core.platform import Platform
from shipyard.core.tables import Token
from tests import live_http


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_role_order() -> None:
    assert [r.rank for r in Role] == [0, 1, 2, 3]
    approver = Principal("p", Role.APPROVER)
    assert approver.can(Role.EDITOR) and approver.can(Role.APPROVER) and not approver.can(Role.ADMIN)


def test_token_secret_is_stored_hashed(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        token, secret = auth.create_token(session, actor=LOCAL_ADMIN, name="ci", role="editor")
    assert secret.startswith("shp_") and len(secret) > 40
    with platform.database.session() as session:
        stored = session.get(Token, token.id)
        assert stored is not None and secret not in (stored.secret_hash, stored.prefix)
        assert auth.authenticate(session, secret) == Principal("ci", Role.EDITOR, token.id)


def test_token_service_rules(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        auth.create_token(session, actor=LOCAL_ADMIN, name="dup", role="viewer")
    with pytest.raises(ConflictError), platform.database.session(write=True) as session:
        auth.create_token(session, actor=LOCAL_ADMIN, name="dup", role="viewer")
    with pytest.raises(InvalidParameterError, match="role"), platform.database.session(write=True) as session:
        auth.create_token(session, actor=LOCAL_ADMIN, name="x", role="root")
    with pytest.raises(PermissionDeniedError), platform.database.session(write=True) as session:
        auth.create_token(session, actor=Principal("e", Role.EDITOR), name="y", role="admin")


def test_expired_token_is_rejected(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        token, secret = auth.create_token(
            session, actor=LOCAL_ADMIN, name="short", role="viewer", expires_in_days=1
        )
    with platform.database.session(write=True) as session:
        session.execute(
            update(Token).where(Token.id == token.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(AuthenticationError, match="expired"), platform.database.session() as session:
        auth.authenticate(session, secret)


def test_no_token_is_401_and_public_probes_stay_open(auth_server_url: str) -> None:
    assert live_http.get(f"{auth_server_url}/health").status_code == 200
    assert live_http.get(f"{auth_server_url}/ready").status_code == 200
    response = live_http.get(f"{auth_server_url}/api/v1/audit")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert live_http.get(f"{auth_server_url}/api/v1/audit", headers=bearer("shp_wrong")).status_code == 401
    assert (
        live_http.get(f"{auth_server_url}/api/v1/audit", headers={"Authorization": "Basic YTpi"}).status_code
        == 401
    )


def test_roles_over_http(auth_server_url: str, tokens: dict[str, str]) -> None:
    url = f"{auth_server_url}/api/v1"
    assert live_http.get(f"{url}/audit", headers=bearer(tokens["viewer"])).status_code == 200
    assert live_http.get(f"{url}/tokens", headers=bearer(tokens["approver"])).status_code == 403
    created = live_http.post(
        f"{url}/tokens", json={"name": "new", "role": "viewer"}, headers=bearer(tokens["admin"])
    )
    assert created.status_code == 201
    assert live_http.get(f"{url}/audit", headers=bearer(created.json()["secret"])).status_code == 200


def test_revoked_token_is_rejected_at_once(auth_server_url: str, tokens: dict[str, str]) -> None:
    url = f"{auth_server_url}/api/v1"
    admin = bearer(tokens["admin"])
    created = live_http.post(f"{url}/tokens", json={"name": "temp", "role": "editor"}, headers=admin).json()
    secret, token_id = created["secret"], created["token"]["id"]
    assert live_http.get(f"{url}/audit", headers=bearer(secret)).status_code == 200
    revoked = live_http.delete(f"{url}/tokens/{token_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = live_http.get(f"{url}/audit", headers=bearer(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    listed = live_http.get(f"{url}/tokens", headers=admin).json()["tokens"]
    assert token_id not in [t["id"] for t in listed]
    listed_all = live_http.get(f"{url}/tokens", params={"include_revoked": True}, headers=admin).json()[
        "tokens"
    ]
    assert token_id in [t["id"] for t in listed_all]
    assert all("secret" not in t and "secret_hash" not in t for t in listed_all)


def test_unknown_token_revoke_is_404(auth_server_url: str, tokens: dict[str, str]) -> None:
    response = live_http.delete(
        f"{auth_server_url}/api/v1/tokens/{'0' * 32}", headers=bearer(tokens["admin"])
    )
    assert response.status_code == 404
    assert response.json()["field"] == "token_id"
