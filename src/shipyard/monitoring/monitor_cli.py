"""``shipyard monitors …``: monitors on endpoints, their results and alerts (local store or --url)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, print_json, print_table
from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.cli import parse_assignments
from shipyard.monitoring.schemas import AlertEventPublic, AlertRulePublic, MonitorPublic, MonitorResultPublic

__all__ = ["alerts_app", "monitors_app"]

monitors_app = typer.Typer(help="Monitors on endpoints: drift, performance with delayed labels, alerts.")
alerts_app = typer.Typer(help="Alert rules of a monitor and their state changes.", no_args_is_help=True)
monitors_app.add_typer(alerts_app, name="alerts")

ReferenceOption = Annotated[
    str | None,
    typer.Option("--reference", "-r", help="runs:/<run_id>/<path> of a CSV or Parquet training set."),
]
WindowOption = Annotated[
    str | None, typer.Option("--window", "-w", help="time:SECONDS or count:ROWS (default time:3600).")
]
ScheduleOption = Annotated[
    int | None, typer.Option("--schedule", help="Run every SECONDS (default: the window).")
]
FeaturesOption = Annotated[
    str | None, typer.Option("--features", help="Comma-separated columns (default: all).")
]
StattestOption = Annotated[
    list[str] | None, typer.Option("--stattest", help="NAME for all columns or COLUMN=NAME (repeatable).")
]
ThresholdOption = Annotated[
    list[str] | None, typer.Option("--threshold", help="VALUE for all columns or COLUMN=VALUE (repeatable).")
]


def _window(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    kind, _, size = text.partition(":")
    if kind not in ("time", "count") or not size.isdigit():
        raise InvalidParameterError(
            f"--window expects time:SECONDS or count:ROWS; got {text!r}", field="--window"
        )
    return {"window_kind": kind, "window_size": int(size)}


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidParameterError(f"{option} expects a number; got {text!r}", field=option) from None


def _settings(
    window: str | None,
    schedule: int | None,
    features: str | None,
    stattest: list[str] | None,
    threshold: list[str] | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    values: dict[str, Any] = {**_window(window), **{k: v for k, v in extra.items() if v is not None}}
    if schedule is not None:
        values["schedule_seconds"] = schedule
    if features is not None:
        values["features"] = [f.strip() for f in features.split(",") if f.strip()]
    every, per_column = parse_assignments(stattest, "--stattest")
    if every is not None:
        values["stattest"] = every
    if per_column:
        values["stattests"] = per_column
    every_limit, per_limit = parse_assignments(threshold, "--threshold")
    if every_limit is not None:
        values["threshold"] = _number(every_limit, "--threshold")
    if per_limit:
        values["thresholds"] = {k: _number(v, "--threshold") for k, v in per_limit.items()}
    return values


def _show_monitor(monitor: MonitorPublic, json: bool) -> None:
    if json:
        print_json(monitor.model_dump(mode="json"))
        return
    rows = [
        ["id", monitor.id],
        [
            "endpoint",
            monitor.endpoint + (f" (version {monitor.model_version})" if monitor.model_version else ""),
        ],
        ["name", monitor.name],
        ["reference", monitor.reference_uri],
        ["features", ", ".join(monitor.features) if monitor.features else "all"],
        ["window", f"{monitor.window_kind}:{monitor.window_size}"],
        ["schedule", f"every {monitor.schedule_seconds} s" + ("" if monitor.enabled else " (disabled)")],
        ["label delay", f"{monitor.label_delay_seconds} s"],
        ["scored up to", str(monitor.cursor_at or "-")],
        ["last error", monitor.last_error or "-"],
    ]
    print_table(f"Monitor {monitor.name}", ["setting", "value"], rows)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _result_rows(results: list[MonitorResultPublic]) -> list[list[str]]:
    rows = []
    for r in results:
        perf = r.performance
        key = "accuracy" if "accuracy" in perf else "rmse" if "rmse" in perf else None
        rows.append(
            [
                f"{r.window_start:%Y-%m-%d %H:%M:%S}",
                str(r.rows),
                "-" if r.dataset_drift is None else ("yes" if r.dataset_drift else "no"),
                _fmt(r.drift_share, 3),
                r.drift_type or "-",
                "-" if key is None else f"{key} {_fmt(perf[key])}",
                _fmt(r.label_coverage, 3),
                _fmt(r.latency_p99_ms),
                _fmt(r.throughput_rps),
            ]
        )
    return rows


RESULT_COLUMNS = [
    "window start",
    "rows",
    "drift",
    "share",
    "type",
    "performance",
    "labels",
    "p99 ms",
    "rows/s",
]


@monitors_app.command("create")
def create(
    ctx: typer.Context,
    endpoint: str,
    name: str,
    reference: ReferenceOption = None,
    window: WindowOption = None,
    schedule: ScheduleOption = None,
    features: FeaturesOption = None,
    stattest: StattestOption = None,
    threshold: ThresholdOption = None,
    target: Annotated[str | None, typer.Option(help="The reference's target column.")] = None,
    label_delay: Annotated[
        int | None, typer.Option(help="Score windows this many seconds after they end (labels arrive late).")
    ] = None,
    model_version: Annotated[str | None, typer.Option(help="Score only this model version's rows.")] = None,
    task: Annotated[
        str | None, typer.Option(help="classification or regression (default: inferred).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create without scheduling it.")] = False,
    json: JsonOption = False,
) -> None:
    """Create a monitor of ENDPOINT named NAME against a reference training set."""
    if reference is None:
        raise InvalidParameterError("--reference runs:/<run_id>/<path> is required", field="--reference")
    extra = {
        "target_column": target,
        "model_version": model_version,
        "task": task,
        "label_delay_seconds": label_delay,
        "enabled": not disabled,
    }
    values = _settings(window, schedule, features, stattest, threshold, extra)
    with open_client(ctx) as client:
        _show_monitor(client.create_monitor(endpoint, name, reference, **values), json)


@monitors_app.command("update")
def update(
    ctx: typer.Context,
    monitor_id: str,
    reference: ReferenceOption = None,
    window: WindowOption = None,
    schedule: ScheduleOption = None,
    features: FeaturesOption = None,
    stattest: StattestOption = None,
    threshold: ThresholdOption = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Schedule it or not.")] = None,
    json: JsonOption = False,
) -> None:
    """Change a monitor's settings."""
    values = _settings(
        window, schedule, features, stattest, threshold, {"reference_uri": reference, "enabled": enabled}
    )
    with open_client(ctx) as client:
        _show_monitor(client.update_monitor(monitor_id, **values), json)


@monitors_app.command("list")
def list_command(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's monitors.")] = None,
    json: JsonOption = False,
) -> None:
    """Monitors and where each stands."""
    with open_client(ctx) as client:
        found = client.list_monitors(endpoint=endpoint)
    if json:
        print_json([m.model_dump(mode="json") for m in found])
        return
    rows = [
        [
            m.id,
            m.endpoint,
            m.name,
            f"{m.window_kind}:{m.window_size}",
            "on" if m.enabled else "off",
            str(m.cursor_at or "-"),
            m.last_error or "",
        ]
        for m in found
    ]
    print_table("Monitors", ["id", "endpoint", "name", "window", "scheduled", "scored up to", "error"], rows)


@monitors_app.command("show")
def show(ctx: typer.Context, monitor_id: str, json: JsonOption = False) -> None:
    """One monitor's settings."""
    with open_client(ctx) as client:
        _show_monitor(client.get_monitor(monitor_id), json)


@monitors_app.command("delete")
def delete(ctx: typer.Context, monitor_id: str) -> None:
    """Delete a monitor with its results and alerts."""
    with open_client(ctx) as client:
        client.delete_monitor(monitor_id)
    console.print(f"Deleted monitor {monitor_id}")


@monitors_app.command("run")
def run(
    ctx: typer.Context,
    monitor_id: str,
    max_windows: Annotated[int, typer.Option(min=1, max=1000, help="Most windows to score now.")] = 100,
    json: JsonOption = False,
) -> None:
    """Score the complete windows not scored yet, now, and evaluate the alert rules."""
    with open_client(ctx) as client:
        outcome = client.run_monitor(monitor_id, max_windows=max_windows)
    if json:
        print_json(outcome.model_dump(mode="json"))
        return
    print_table(f"Scored {len(outcome.results)} windows", RESULT_COLUMNS, _result_rows(outcome.results))
    for event in outcome.alert_events:
        console.print(
            f"[{'red' if event.to_state == 'firing' else 'green'}]{event.to_state}[/]: {event.message}"
        )


@monitors_app.command("results")
def results(
    ctx: typer.Context,
    monitor_id: str,
    since: Annotated[
        datetime | None, typer.Option(help="Windows ending at or after (UTC if no zone).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Windows ending before (UTC if no zone).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json: JsonOption = False,
) -> None:
    """Window results, newest first."""
    from datetime import UTC

    since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    until = until.replace(tzinfo=UTC) if until is not None and until.tzinfo is None else until
    with open_client(ctx) as client:
        page = client.monitor_results(monitor_id, since=since, until=until, limit=limit)
    if json:
        print_json(page.model_dump(mode="json"))
        return
    print_table("Window results", RESULT_COLUMNS, _result_rows(page.results))


def _rule_rows(rules: list[AlertRulePublic]) -> list[list[str]]:
    return [
        [
            str(r.id),
            r.name,
            f"{r.metric} {r.comparison} {r.threshold:g}",
            str(r.consecutive),
            f"{r.cooldown_seconds} s",
            r.state + ("" if r.enabled else " (disabled)"),
            _fmt(r.last_value),
        ]
        for r in rules
    ]


@alerts_app.command("list")
def alerts_list(ctx: typer.Context, monitor_id: str, json: JsonOption = False) -> None:
    """A monitor's alert rules and their states."""
    with open_client(ctx) as client:
        rules = client.list_alert_rules(monitor_id)
    if json:
        print_json([r.model_dump(mode="json") for r in rules])
        return
    columns = ["id", "name", "condition", "windows", "cooldown", "state", "last value"]
    print_table("Alert rules", columns, _rule_rows(rules))


@alerts_app.command("add")
def alerts_add(
    ctx: typer.Context,
    monitor_id: str,
    metric: Annotated[
        str, typer.Argument(help="e.g. drift_share, accuracy, latency_p99_ms, column:age:score")
    ],
    comparison: Annotated[str, typer.Argument(help="> >= < <=")],
    threshold: float,
    consecutive: Annotated[int, typer.Option(min=1, help="Breaching windows in a row to fire.")] = 1,
    cooldown: Annotated[int, typer.Option(min=0, help="Least seconds between two firings.")] = 0,
    name: Annotated[str | None, typer.Option(help="Default: the condition.")] = None,
    json: JsonOption = False,
) -> None:
    """Alert when METRIC COMPARISON THRESHOLD holds for --consecutive windows."""
    settings: dict[str, Any] = {"consecutive": consecutive, "cooldown_seconds": cooldown}
    if name is not None:
        settings["name"] = name
    with open_client(ctx) as client:
        rule = client.create_alert_rule(monitor_id, metric, comparison, threshold, **settings)
    if json:
        print_json(rule.model_dump(mode="json"))
        return
    print_table(
        "Alert rule",
        ["id", "name", "condition", "windows", "cooldown", "state", "last value"],
        _rule_rows([rule]),
    )


@alerts_app.command("delete")
def alerts_delete(ctx: typer.Context, monitor_id: str, rule_id: int) -> None:
    """Delete an alert rule and its events."""
    with open_client(ctx) as client:
        client.delete_alert_rule(monitor_id, rule_id)
    console.print(f"Deleted alert rule {rule_id}")


def _event_rows(events: list[AlertEventPublic]) -> list[list[str]]:
    return [
        [
            f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
            str(e.rule_id),
            f"{e.from_state} → {e.to_state}",
            _fmt(e.value),
            e.message,
        ]
        for e in events
    ]


@alerts_app.command("events")
def alerts_events(
    ctx: typer.Context,
    monitor_id: str,
    rule_id: Annotated[int | None, typer.Option(help="Only this rule's events.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json: JsonOption = False,
) -> None:
    """Alert state changes, newest first."""
    with open_client(ctx) as client:
        page = client.alert_events(monitor_id, rule_id=rule_id, limit=limit)
    if json:
        print_json(page.model_dump(mode="json"))
        return
    print_table("Alert events", ["at", "rule", "change", "value", "message"], _event_rows(page.events))
