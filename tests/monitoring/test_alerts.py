"""Alert rules: threshold, consecutive windows, cooldown, ok → firing → resolved, audit and webhooks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.core import audit, webhooks
from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.monitoring import alerts, monitors, runner
from shipyard.monitoring.tables import AlertRule, MonitorResult
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


def new_monitor(platform: Platform) -> str:
    uri = upload_reference(platform, reference_frame())
    with platform.database.session(write=True) as session:
        return monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="m",
            reference_uri=uri,
            window_kind="time",
            window_size=60,
        ).id


def add_rule(platform: Platform, monitor_id: str, **settings: object) -> int:
    with platform.database.session(write=True) as session:
        return alerts.create_rule(session, actor=LOCAL_ADMIN, monitor_id=monitor_id, **settings).id  # type: ignore[arg-type]


def feed(platform: Platform, monitor_id: str, shares: list[float | None]) -> list[tuple[int, str]]:
    """Store one result per share (one minute apart) and evaluate the rules; returns (window, new state)."""
    changes = []
    for index, share in enumerate(shares):
        with platform.database.session(write=True) as session:
            monitor = monitors.get_monitor(session, monitor_id)
            row = MonitorResult(
                monitor_id=monitor_id,
                window_start=START + timedelta(minutes=index),
                window_end=START + timedelta(minutes=index + 1),
                rows=10,
                drift_share=share,
            )
            session.add(row)
            session.flush()
            for event in alerts.evaluate_rules(session, actor=LOCAL_ADMIN, monitor=monitor, result=row):
                changes.append((index, event.to_state))
    return changes


def test_consecutive_windows_then_resolve(platform: Platform) -> None:
    monitor_id = new_monitor(platform)
    add_rule(platform, monitor_id, metric="drift_share", comparison=">=", threshold=0.5, consecutive=3)
    shares = [0.0, 0.6, 0.7, 0.1, 0.6, 0.6, None, 0.9, 0.8, 0.2, 0.0]
    # window 3 breaks the first run of two; a missing value (window 6) neither counts nor resets.
    assert feed(platform, monitor_id, shares) == [(7, "firing"), (9, "resolved")]
    with platform.database.session() as session:
        events = alerts.list_events(session, monitor_id)
        assert [(e.from_state, e.to_state) for e in events] == [("firing", "resolved"), ("ok", "firing")]
        assert events[1].value == 0.9 and events[1].threshold == 0.5
        trail = audit.list_events(session, action="monitor.alert.*").events
        assert [e.action for e in trail] == ["monitor.alert.resolved", "monitor.alert.firing"]


def test_cooldown_spaces_firings_in_window_time(platform: Platform) -> None:
    monitor_id = new_monitor(platform)
    add_rule(platform, monitor_id, metric="drift_share", comparison=">", threshold=0.5, cooldown_seconds=300)
    add_rule(platform, monitor_id, metric="drift_share", comparison=">", threshold=0.5, name="no cooldown")
    shares = [0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9, 0.9]
    changes = feed(platform, monitor_id, shares)
    with platform.database.session() as session:
        rules = {r.name: r.id for r in alerts.list_rules(session, monitor_id)}
        by_rule = {
            name: [
                (e.window_end, e.to_state)
                for e in reversed(alerts.list_events(session, monitor_id, rule_id=rule))
            ]
            for name, rule in rules.items()
        }
    minute = timedelta(minutes=1)
    # Fired at the end of window 0; window 2 ends 2 minutes later (< 5): held back; window 6 is past it.
    assert by_rule["drift_share > 0.5"] == [
        (START + minute, "firing"),
        (START + 2 * minute, "resolved"),
        (START + 7 * minute, "firing"),
    ]
    assert [state for _, state in by_rule["no cooldown"]] == [
        "firing",
        "resolved",
        "firing",
        "resolved",
        "firing",
    ]
    assert len(changes) == 8


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"metric": "nope", "comparison": ">", "threshold": 1}, "metric"),
        ({"metric": "column:x1", "comparison": ">", "threshold": 1}, "metric"),
        ({"metric": "f1", "comparison": "=>", "threshold": 1}, "comparison"),
        ({"metric": "f1", "comparison": "<", "threshold": float("nan")}, "threshold"),
        ({"metric": "f1", "comparison": "<", "threshold": 0.5, "consecutive": 0}, "consecutive"),
        ({"metric": "f1", "comparison": "<", "threshold": 0.5, "cooldown_seconds": -1}, "cooldown_seconds"),
    ],
)
def test_bad_rules_name_the_field(platform: Platform, rule: dict[str, object], field: str) -> None:
    monitor_id = new_monitor(platform)
    with pytest.raises(InvalidParameterError) as caught:
        add_rule(platform, monitor_id, **rule)
    assert caught.value.field == field


@dataclass
class Receiver:
    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"received {len(self.received)} of {count}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def hook(request: Request) -> Response:
        state.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    with live_server(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        state.url = f"{url}/hook"
        yield state


def test_drift_alert_fires_and_resolves_over_a_real_log_with_signed_webhooks(
    platform: Platform, receiver: Receiver, tmp_path: Path
) -> None:
    spec = LogSpec(windows=8, drift_from=2, drift_until=5, rows_per_second=10)
    with platform.database.session(write=True) as session:
        _, secret = webhooks.create_webhook(
            session, actor=LOCAL_ADMIN, name="alerts", url=receiver.url, events=["monitor.alert"]
        )
    monitor_id = new_monitor(platform)
    rule_id = add_rule(
        platform, monitor_id, metric="drift_share", comparison=">=", threshold=0.5, consecutive=2
    )
    add_rule(platform, monitor_id, metric="column:x1:drifted", comparison=">=", threshold=1)
    log = open_log(tmp_path / "predictions")
    try:
        write_log(log, spec)
        outcome = runner.run_monitor(platform, log, monitor_id, now=START + timedelta(minutes=spec.windows))
    finally:
        log.close()
    assert len(outcome.result_ids) == spec.windows and len(outcome.event_ids) == 4
    with live_http.Client() as client:
        for _ in range(3):
            webhooks.deliver_due(platform.database, client)
    receiver.wait_for(4)
    bodies = [orjson.loads(body) for _, body in receiver.received]
    for headers, body in receiver.received:
        assert headers["x-shipyard-event"] == "monitor.alert"
        assert headers["x-shipyard-signature"] == webhooks.sign(
            secret, int(headers["x-shipyard-timestamp"]), body
        )
    share = [b["data"] for b in bodies if b["data"]["rule_id"] == rule_id]
    # Windows 2, 3, 4 drift: two in a row fire at window 3; window 5 resolves.
    assert [(d["state"], d["window_start"]) for d in share] == [
        ("firing", (START + timedelta(minutes=3)).isoformat()),
        ("resolved", (START + timedelta(minutes=5)).isoformat()),
    ]
    with platform.database.session() as session:
        rule = session.scalar(select(AlertRule).where(AlertRule.id == rule_id))
        assert rule is not None and rule.state == "resolved" and rule.breaches == 0
