"""Monitors through REST, both SDK clients and the CLI, against a live server on each database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shipyard._client.embedded import EmbeddedClient
from shipyard._client.remote import RemoteClient
from shipyard.core.config import Settings
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from tests import live_http
from tests.monitoring.monitor_data import (
    START,
    LogSpec,
    open_log,
    reference_frame,
    upload_reference,
    write_log,
)

SPEC = LogSpec(windows=6, rows_per_second=10, drift_from=3)


@pytest.fixture
def logged_url(platform: Platform, settings: Settings) -> Iterator[str]:
    """A live server whose prediction log already holds SPEC's traffic (written before it took the folder)."""
    log = open_log(Path(settings.prediction_log_dir))
    try:
        write_log(log, SPEC)
    finally:
        log.close()
    with live_server(create_app(platform=platform)) as url:
        yield url


@pytest.fixture
def reference_uri(platform: Platform) -> str:
    return upload_reference(platform, reference_frame())


def test_rest_and_sdk_clients_agree(platform: Platform, logged_url: str, reference_uri: str) -> None:
    settings = {"window_size": 60, "target_column": "y", "enabled": False}
    with RemoteClient(logged_url) as remote:
        monitor = remote.create_monitor("churn", "remote", reference_uri, **settings)
        assert monitor.reference_columns == ["x1", "x2", "c", "y"] and not monitor.enabled
        rule = remote.create_alert_rule(monitor.id, "drift_share", ">=", 0.5, consecutive=2)
        assert rule.state == "ok" and rule.name == "drift_share >= 0.5"
        run = remote.run_monitor(monitor.id, max_windows=SPEC.windows)
        assert [r.dataset_drift for r in run.results] == [w >= SPEC.drift_from for w in range(SPEC.windows)]
        assert [e.to_state for e in run.alert_events] == ["firing"]
        assert run.alert_events[0].window_end == START + timedelta(minutes=SPEC.drift_from + 2)
        assert remote.list_alert_rules(monitor.id)[0].state == "firing"
        first = remote.monitor_results(monitor.id, limit=4)
        assert len(first.results) == 4 and first.next_before_id is not None
        rest = remote.monitor_results(monitor.id, limit=4, before_id=first.next_before_id)
        assert len(rest.results) == 2 and rest.next_before_id is None
        ranged = remote.monitor_results(
            monitor.id, since=START + timedelta(minutes=2), until=START + timedelta(minutes=4)
        )
        assert [r.window_end for r in ranged.results] == [START + timedelta(minutes=m) for m in (3, 2)]
        events = remote.alert_events(monitor.id)
        assert [(e.from_state, e.to_state) for e in events.events] == [("ok", "firing")]
        remote_shares = [r.drift_share for r in reversed(first.results + rest.results)]
        updated = remote.update_monitor(monitor.id, drift_share=0.3, features=None)
        assert updated.drift_share == 0.3 and updated.features is None
        assert remote.update_alert_rule(monitor.id, rule.id, consecutive=3).consecutive == 3
    embedded = EmbeddedClient(platform, owns_platform=False)
    local = embedded.create_monitor("churn", "embedded", reference_uri, **settings)
    # The embedded client reads the folder the server is writing: the same windows, the same numbers.
    embedded_run = embedded.run_monitor(local.id, max_windows=SPEC.windows)
    assert [r.drift_share for r in embedded_run.results] == remote_shares
    assert {m.name for m in embedded.list_monitors(endpoint="churn")} == {"remote", "embedded"}
    embedded.delete_alert_rule(monitor.id, rule.id)
    embedded.delete_monitor(local.id)
    with pytest.raises(NotFoundError):
        embedded.get_monitor(local.id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference_uri": "/etc/passwd"}, "reference_uri"),
        ({"reference_uri": "s3://bucket/train.csv"}, "reference_uri"),
        ({"window_kind": "weekly"}, "window_kind"),
        ({"window_size": 0}, "window_size"),
        ({"features": ["nope"]}, "features"),
        ({"stattest": "nope"}, "stattest"),
        ({"target_column": "nope"}, "target_column"),
        ({"drift_share": 2}, "drift_share"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_monitors_are_refused_naming_the_field(
    server_url: str, reference_uri: str, body: dict[str, object], field: str
) -> None:
    full = {"endpoint": "churn", "name": "bad", "reference_uri": reference_uri, **body}
    response = live_http.post(f"{server_url}/api/v1/monitors", json=full, timeout=30)
    assert response.status_code in (400, 422), response.text
    assert response.json()["field"] == field, response.text


def test_embedded_client_refuses_what_rest_refuses(platform: Platform, reference_uri: str) -> None:
    client = EmbeddedClient(platform, owns_platform=False)
    with pytest.raises(InvalidParameterError) as caught:
        client.create_monitor("churn", "bad", reference_uri, window_kind="weekly")
    assert caught.value.field == "window_kind"
    monitor = client.create_monitor("churn", "ok", reference_uri)
    with pytest.raises(InvalidParameterError) as caught:
        client.create_alert_rule(monitor.id, "accuracy", "<", 0.8, cooldown_seconds=-5)
    assert caught.value.field == "cooldown_seconds"
    with pytest.raises(NotFoundError):
        client.update_alert_rule(monitor.id, 12345, consecutive=2)


def test_unknown_ids_are_404(server_url: str) -> None:
    with live_http.Client(base_url=server_url) as client:
        for path in (
            "/api/v1/monitors/abc",
            "/api/v1/monitors/abc/results",
            "/api/v1/monitors/abc/alerts/events",
        ):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["field"] == "monitor_id"


def shipyard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_") or k.startswith("SHIPYARD_TEST")
    }
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_monitors_commands(logged_url: str, reference_uri: str) -> None:
    url = ["--url", logged_url]
    created = shipyard(
        *url,
        "monitors",
        "create",
        "churn",
        "cli",
        "-r",
        reference_uri,
        "--window",
        "time:60",
        "--target",
        "y",
        "--stattest",
        "x1=ks",
        "--disabled",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    monitor_id = json.loads(created.stdout)["id"]
    added = shipyard(*url, "monitors", "alerts", "add", monitor_id, "column:x1:drifted", ">=", "1", "--json")
    assert added.returncode == 0, added.stderr
    ran = shipyard(*url, "monitors", "run", monitor_id, "--max-windows", str(SPEC.windows))
    assert ran.returncode == 0, ran.stderr
    assert "Scored 6 windows" in ran.stdout and "firing" in ran.stdout
    results = json.loads(shipyard(*url, "monitors", "results", monitor_id, "--json").stdout)["results"]
    assert [r["columns"][0]["stattest"] for r in results] == ["ks"] * SPEC.windows
    assert [r["columns"][0]["drifted"] for r in reversed(results)] == [w >= SPEC.drift_from for w in range(6)]
    events = json.loads(shipyard(*url, "monitors", "alerts", "events", monitor_id, "--json").stdout)["events"]
    assert [e["to_state"] for e in events] == ["firing"]
    listed = shipyard(*url, "monitors", "list")
    assert listed.returncode == 0 and "cli" in listed.stdout and "time:60" in listed.stdout
    bad = shipyard(*url, "monitors", "create", "churn", "bad", "-r", "/etc/passwd")
    assert bad.returncode == 1 and "runs:/<run_id>/<path>" in bad.stderr and "Traceback" not in bad.stderr
