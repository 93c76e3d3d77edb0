"""``shipyard registry …``: the approval queue, alias history and version lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, print_json, print_table

__all__ = ["registry_app"]

registry_app = typer.Typer(help="Model registry: approvals, alias history, lifecycle.", no_args_is_help=True)
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded with the decision).")]


def _when(epoch_ms: int | None) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if epoch_ms else "-"


def _metrics(values: dict[str, object]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(values.items())
    )


@registry_app.command("history")
def history(
    ctx: typer.Context,
    name: str,
    alias: Annotated[str | None, typer.Option(help="Only this alias.")] = None,
    json: JsonOption = False,
) -> None:
    """Which version held each alias, from when, who asked, who approved, and the metrics then."""
    with open_client(ctx) as client:
        events = client.alias_history(name, alias=alias)
    if json:
        print_json([e.model_dump(mode="json") for e in events])
        return
    rows = [
        [
            _when(e.occurred_at),
            e.alias,
            "removed" if e.version is None else f"v{e.version}",
            f"v{e.previous_version}" if e.previous_version else "-",
            e.requested_by,
            e.approved_by or "-",
            e.reason or "",
            _metrics(e.metrics),
        ]
        for e in events
    ]
    print_table(
        f"Alias history of {name}",
        ["when (UTC)", "alias", "now", "before", "asked by", "approved by", "reason", "metrics then"],
        rows,
    )


@registry_app.command("requests")
def requests(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="pending, approved, rejected, cancelled or all.")] = "pending",
    model: Annotated[str | None, typer.Option(help="Only this registered model.")] = None,
    json: JsonOption = False,
) -> None:
    """The approval queue."""
    with open_client(ctx) as client:
        found = client.list_approvals(status=status, name=model)
    if json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    rows = [
        [
            f"#{r.id}",
            r.name,
            r.alias,
            f"v{r.version}",
            r.status,
            r.requested_by,
            _when(r.requested_at),
            r.reason or "",
            _metrics(r.metrics),
        ]
        for r in found
    ]
    print_table(
        "Approval requests",
        ["id", "model", "alias", "version", "status", "asked by", "asked at", "reason", "metrics"],
        rows,
    )


@registry_app.command("request")
def request(
    ctx: typer.Context,
    name: str,
    alias: str,
    version: int,
    reason: Annotated[str | None, typer.Option(help="Why this version should hold the alias.")] = None,
) -> None:
    """Ask an approver to point ALIAS of NAME at VERSION."""
    with open_client(ctx) as client:
        created = client.request_promotion(name, alias, version, reason=reason)
    console.print(f"filed request #{created.id}: {name}@{alias} -> v{version} (waiting for an approver)")


@registry_app.command("approve")
def approve(ctx: typer.Context, request_id: int, reason: ReasonOption) -> None:
    """Approve request REQUEST_ID: the alias moves now."""
    with open_client(ctx) as client:
        decided = client.approve(request_id, reason=reason)
    console.print(f"approved #{decided.id}: {decided.name}@{decided.alias} now points at v{decided.version}")


@registry_app.command("reject")
def reject(ctx: typer.Context, request_id: int, reason: ReasonOption) -> None:
    """Reject request REQUEST_ID."""
    with open_client(ctx) as client:
        decided = client.reject(request_id, reason=reason)
    console.print(f"rejected #{decided.id} ({decided.name}@{decided.alias} -> v{decided.version})")


@registry_app.command("cancel")
def cancel(ctx: typer.Context, request_id: int) -> None:
    """Withdraw request REQUEST_ID."""
    with open_client(ctx) as client:
        decided = client.cancel_approval(request_id)
    console.print(f"cancelled #{decided.id}")


@registry_app.command("lifecycle")
def lifecycle(ctx: typer.Context, name: str, version: int, state: str) -> None:
    """Move VERSION of NAME to STATE (draft, published, deprecated, archived)."""
    with open_client(ctx) as client:
        found = client.set_version_lifecycle(name, version, state)
    console.print(f"{found.name} v{found.version} is now {found.lifecycle}")
