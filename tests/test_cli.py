"""The ``shipyard`` command as users run it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core.platform import Platform


def shipyard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k.startswith("SHIPYARD_TEST")
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args], capture_output=True, text=True, env=full_env, timeout=120
    )


@pytest.fixture
def local_env(settings, platform: Platform) -> dict[str, str]:
    return {
        "SHIPYARD_HOME": str(settings.home),
        "SHIPYARD_DATABASE_URL": settings.database_url,
        "SHIPYARD_ARTIFACT_ROOT": settings.artifact_root,
    }


def test_token_lifecycle_against_the_local_store(local_env: dict[str, str]) -> None:
    created = shipyard("token", "create", "--role", "admin", "--name", "ops", "--json", env=local_env)
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["secret"].startswith("shp_") and token["token"]["role"] == "admin"
    listed = json.loads(shipyard("token", "list", "--json", env=local_env).stdout)
    assert [t["name"] for t in listed] == ["ops"] and "secret" not in listed[0]
    assert shipyard("token", "revoke", token["token"]["id"], env=local_env).returncode == 0
    assert json.loads(shipyard("token", "list", "--json", env=local_env).stdout) == []
    events = json.loads(shipyard("audit", "--json", "--action", "token.*", env=local_env).stdout)
    assert [e["action"] for e in events] == ["token.revoke", "token.create"]
    assert all(e["actor"] == "local" for e in events)
    table = shipyard("audit", env=local_env)
    assert table.returncode == 0 and "token.create" in table.stdout


def test_bad_input_exits_non_zero_with_one_line(local_env: dict[str, str]) -> None:
    bad_role = shipyard("token", "create", "--role", "overlord", env=local_env)
    assert bad_role.returncode == 1
    assert (
        bad_role.stderr.strip()
        == "error: role must be one of viewer, editor, approver, admin; got 'overlord'"
    )
    unknown = shipyard("token", "revoke", "nope", env=local_env)
    assert (
        unknown.returncode == 1 and "does not exist" in unknown.stderr and "Traceback" not in unknown.stderr
    )
    bad_option = shipyard("audit", "--limit", "0", env=local_env)
    assert bad_option.returncode == 2 and "Traceback" not in bad_option.stderr


def test_db_check_and_upgrade(settings, tmp_path: Path) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path / "fresh")}
    pending = shipyard("db", "check", env=env)
    assert pending.returncode == 1 and "migrations pending" in pending.stdout
    assert shipyard("db", "upgrade", env=env).returncode == 0
    ok = shipyard("db", "check", "--json", env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["up_to_date"] is True


def test_remote_commands_use_the_token(auth_server_url: str, tokens: dict[str, str], tmp_path: Path) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_TRACKING_URI": auth_server_url}
    denied = shipyard("audit", env=env)
    assert denied.returncode == 1 and "missing bearer token" in denied.stderr
    viewer = shipyard("token", "list", env={**env, "SHIPYARD_TOKEN": tokens["viewer"]})
    assert viewer.returncode == 1 and "needs the admin role" in viewer.stderr
    admin = shipyard("--token", tokens["admin"], "token", "list", "--json", env=env)
    assert admin.returncode == 0
    assert sorted(t["role"] for t in json.loads(admin.stdout)) == ["admin", "approver", "editor", "viewer"]
    assert not (tmp_path / "shipyard.db").exists(), "a remote command must not touch a local store"
