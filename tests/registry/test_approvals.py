from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shipyard import Client
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.errors import ConflictError, InvalidParameterError, PermissionDeniedError
from shipyard.core.platform import Platform
from shipyard.registry import aliases, models, versions
from shipyard.tracking import runs

EDITOR = Principal("eve", Role.EDITOR)
APPROVER = Principal("ada", Role.APPROVER)
VIEWER = Principal("vic", Role.VIEWER)


def seed(platform: Platform, name: str = "churn", count: int = 2) -> None:
    with platform.database.session(write=True) as session:
        models.create_registered_model(session, actor=LOCAL_ADMIN, name=name)
        for index in range(count):
            run = runs.create_run(session, actor=LOCAL_ADMIN)
            runs.log_batch(
                session,
                actor=LOCAL_ADMIN,
                run_id=run.id,
                metrics=[runs.MetricPoint("auc", 0.8 + index / 10, 1)],
            )
            versions.create_model_version(
                session, actor=LOCAL_ADMIN, name=name, source=f"runs:/{run.id}/model"
            )


def test_editor_request_then_approval_moves_the_alias(platform: Platform) -> None:
    seed(platform)
    with platform.database.session(write=True) as session:
        change = aliases.set_alias(session, actor=EDITOR, name="churn", alias="champion", version=2)
        assert not change.applied and change.request is not None
        with pytest.raises(ConflictError, match="still pending"):
            aliases.request_alias(session, actor=EDITOR, name="churn", alias="champion", version=1)
        with pytest.raises(PermissionDeniedError):
            aliases.decide_request(
                session, actor=EDITOR, request_id=change.request.id, approve=True, reason="x"
            )
        with pytest.raises(InvalidParameterError, match="reason"):
            aliases.decide_request(
                session, actor=APPROVER, request_id=change.request.id, approve=True, reason=" "
            )
        aliases.decide_request(
            session, actor=APPROVER, request_id=change.request.id, approve=True, reason="auc 0.9 beats 0.8"
        )
        assert aliases.get_version_by_alias(session, "churn", "champion").version == 2
        with pytest.raises(ConflictError, match="already approved"):
            aliases.decide_request(
                session, actor=APPROVER, request_id=change.request.id, approve=False, reason="no"
            )
        (event,) = aliases.alias_history(session, name="churn")
        assert (event.version, event.requested_by, event.approved_by) == (2, "eve", "ada")
        assert event.metrics == {"auc": pytest.approx(0.9)}


def test_rejection_cancellation_and_roles(platform: Platform) -> None:
    seed(platform)
    with platform.database.session(write=True) as session:
        with pytest.raises(PermissionDeniedError):
            aliases.request_alias(session, actor=VIEWER, name="churn", alias="champion", version=1)
        first = aliases.request_alias(session, actor=EDITOR, name="churn", alias="champion", version=1)
        aliases.decide_request(session, actor=APPROVER, request_id=first.id, approve=False, reason="too weak")
        second = aliases.request_alias(session, actor=EDITOR, name="churn", alias="champion", version=2)
        with pytest.raises(PermissionDeniedError, match="requester"):
            aliases.cancel_request(session, actor=Principal("other", Role.EDITOR), request_id=second.id)
        aliases.cancel_request(session, actor=EDITOR, request_id=second.id)
        assert [r.status for r in aliases.list_requests(session, status=None)] == ["cancelled", "rejected"]
        with pytest.raises(InvalidParameterError, match="not found"):
            aliases.get_version_by_alias(session, "churn", "champion")
        # an approver moves a protected alias directly, and deleting it needs an approver too
        assert aliases.set_alias(session, actor=APPROVER, name="churn", alias="champion", version=1).applied
        with pytest.raises(PermissionDeniedError):
            aliases.delete_alias(session, actor=EDITOR, name="churn", alias="champion")
        aliases.delete_alias(session, actor=APPROVER, name="churn", alias="champion")
        assert [e.version for e in aliases.alias_history(session, name="churn")] == [1, None]


def test_lifecycle_rules(platform: Platform) -> None:
    seed(platform, count=1)
    with platform.database.session(write=True) as session:
        with pytest.raises(InvalidParameterError, match="cannot become deprecated"):
            versions.set_lifecycle(session, actor=EDITOR, name="churn", version=1, lifecycle="deprecated")
        for state in ("published", "deprecated", "published", "archived"):
            assert (
                versions.set_lifecycle(
                    session, actor=EDITOR, name="churn", version=1, lifecycle=state
                ).lifecycle
                == state
            )
        with pytest.raises(InvalidParameterError, match="allowed: none"):
            versions.set_lifecycle(session, actor=EDITOR, name="churn", version=1, lifecycle="published")


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, platform: Platform, server_url: str):
    if request.param == "embedded":
        with EmbeddedClient(platform, owns_platform=False) as embedded:
            yield embedded
    else:
        with Client(server_url) as remote:
            yield remote


def test_sdk_approval_flow(client, platform: Platform) -> None:
    seed(platform)
    request = client.request_promotion("churn", "champion", 2, reason="better auc")
    assert [r.id for r in client.list_approvals()] == [request.id]
    decided = client.approve(request.id, reason="looks good")
    assert decided.status == "approved" and decided.decided_by in ("local", "anonymous")
    history = client.alias_history("churn")
    assert [(e.alias, e.version) for e in history] == [("champion", 2)]
    assert client.set_version_lifecycle("churn", 2, "published").lifecycle == "published"
    with pytest.raises(InvalidParameterError):
        client.set_version_lifecycle("churn", 2, "draft")
    assert client.list_approvals(status="all")[0].decision_reason == "looks good"


def test_cli_history_and_queue(settings, platform: Platform) -> None:
    seed(platform)
    with platform.database.session(write=True) as session:
        aliases.request_alias(session, actor=EDITOR, name="churn", alias="champion", version=2, reason="r")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.update(
        {
            "SHIPYARD_HOME": str(settings.home),
            "SHIPYARD_DATABASE_URL": settings.database_url,
            "SHIPYARD_ARTIFACT_ROOT": settings.artifact_root,
        }
    )

    def shipyard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipyard", "registry", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    queue = json.loads(shipyard("requests", "--json").stdout)
    assert [(r["name"], r["alias"], r["version"]) for r in queue] == [("churn", "champion", 2)]
    approved = shipyard("approve", str(queue[0]["id"]), "--reason", "ok")
    assert approved.returncode == 0 and "now points at v2" in approved.stdout
    history = json.loads(shipyard("history", "churn", "--json").stdout)
    assert [(h["alias"], h["version"], h["requested_by"]) for h in history] == [("champion", 2, "eve")]
    again = shipyard("approve", str(queue[0]["id"]), "--reason", "ok")
    assert again.returncode == 1 and "already approved" in again.stderr
    table = shipyard("history", "churn")
    assert table.returncode == 0 and "champion" in table.stdout
