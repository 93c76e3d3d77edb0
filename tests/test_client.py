"""The SDK: embedded and remote clients share one method set and behave the same."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard import Client
from shipyard._client.base import BaseClient
from shipyard._client.embedded import EmbeddedClient
from shipyard._client.remote import RemoteClient
from shipyard.core.errors import (
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
)
from shipyard.core.platform import Platform


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_embedded_and_remote_share_one_method_set() -> None:
    base, embedded, remote = (public_methods(cls) for cls in (BaseClient, EmbeddedClient, RemoteClient))
    assert set(base) == set(embedded) == set(remote)
    for name, signature in base.items():
        assert embedded[name] == signature, f"EmbeddedClient.{name}{embedded[name]} != {signature}"
        assert remote[name] == signature, f"RemoteClient.{name}{remote[name]} != {signature}"


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, platform: Platform, server_url: str) -> Iterator[BaseClient]:
    if request.param == "embedded":
        with EmbeddedClient(platform, owns_platform=False) as embedded:
            yield embedded
    else:
        with Client(server_url) as remote:
            yield remote


def test_round_trips(client: BaseClient, tmp_path: Path) -> None:
    assert client.health().status == "ok"
    assert client.ready().status == "ready"
    created = client.create_token("sdk", "editor", expires_in_days=30)
    assert created.token.role == "editor" and created.token.expires_at is not None
    assert [t.name for t in client.list_tokens()] == ["sdk"]
    assert client.revoke_token(created.token.id).revoked_at is not None
    assert client.list_tokens() == [] and len(client.list_tokens(include_revoked=True)) == 1
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01" * 50_000)
    blob = client.upload_blob(source)
    assert client.upload_blob(source.read_bytes()).digest == blob.digest
    assert client.read_blob(blob.digest) == source.read_bytes()
    actions = [e.action for e in client.iter_audit()]
    assert actions[:3] == ["blob.upload", "blob.upload", "token.revoke"]


def test_errors_are_the_same_classes(client: BaseClient, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        client.revoke_token("0" * 32)
    with pytest.raises(NotFoundError):
        client.download_blob("0" * 64, tmp_path / "x")
    with pytest.raises(InvalidParameterError):
        client.download_blob("not-a-digest", tmp_path / "x")
    with pytest.raises(InvalidParameterError):
        client.create_token("x", "overlord")
    assert not (tmp_path / "x").exists()


def test_remote_auth_errors(auth_server_url: str, tokens: dict[str, str]) -> None:
    with Client(auth_server_url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.list_audit()
    with Client(auth_server_url, token=tokens["viewer"]) as viewer:
        assert viewer.list_audit().events is not None
        with pytest.raises(PermissionDeniedError):
            viewer.upload_blob(b"x")


def test_client_without_url_is_embedded(tmp_path: Path) -> None:
    with Client(home=tmp_path) as client:
        assert isinstance(client, EmbeddedClient)
        assert client.version().name == "shipyard"
    assert (tmp_path / "shipyard.db").exists()
