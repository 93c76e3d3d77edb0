"""Core commands: ``config``, ``db``, ``token`` and ``audit``.

Commands talk to the local store unless ``--url``/``SHIPYARD_TRACKING_URI`` names a server.
Imports of the ORM and web stack happen inside commands, so ``shipyard --help`` stays fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.core.console import console, print_json, print_table

if TYPE_CHECKING:
    from shipyard._client.base import BaseClient

__all__ = ["audit_command", "config_command", "db_app", "open_client", "token_app"]

db_app = typer.Typer(help="Metadata store schema: upgrade and check.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def open_client(ctx: typer.Context) -> BaseClient:
    from shipyard.client import Client

    options = ctx.obj or {}
    return Client(options.get("url"), token=options.get("token"))


def config_command(json: JsonOption = False) -> None:
    """Print the effective settings (secrets masked) and where they came from."""
    from shipyard.core.config import load_settings, masked_settings

    values = masked_settings(load_settings())
    if json:
        print_json(values)
    else:
        print_table("Shipyard settings", ["setting", "value"], [[k, str(v)] for k, v in values.items()])


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the configured database."""
    from shipyard.core import migrate
    from shipyard.core.config import load_settings, mask_url
    from shipyard.core.platform import Platform

    settings = load_settings()
    with Platform.open(settings, upgrade_schema=False) as platform:
        status = migrate.upgrade(platform.database)
    console.print(f"[green]database {mask_url(settings.database_url)} is at revision {status.current}[/]")


@db_app.command("check")
def db_check(json: JsonOption = False) -> None:
    """Report the schema revision; exit 1 when migrations are pending."""
    from shipyard.core import migrate
    from shipyard.core.config import load_settings, mask_url
    from shipyard.core.platform import Platform

    settings = load_settings()
    with Platform.open(settings, upgrade_schema=False) as platform:
        status = migrate.schema_status(platform.database)
    values = {
        "database": mask_url(settings.database_url),
        "current": status.current,
        "head": status.head,
        "up_to_date": status.up_to_date,
    }
    if json:
        print_json(values)
    else:
        state = "[green]up to date[/]" if status.up_to_date else "[yellow]migrations pending[/]"
        console.print(f"{values['database']}: revision {status.current} (head {status.head}) {state}")
    if not status.up_to_date:
        raise typer.Exit(1)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="viewer, editor, approver or admin")],
    name: Annotated[str, typer.Option(help="A name that says who or what uses the token.")] = "",
    expires_in_days: Annotated[int | None, typer.Option(help="Days until the token stops working.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a token and print its secret once."""
    name = name or f"{role}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    with open_client(ctx) as client:
        created = client.create_token(name, role, expires_in_days=expires_in_days)
    if json:
        print_json(created.model_dump(mode="json"))
        return
    console.print(
        f"created token [bold]{created.token.name}[/] ({created.token.role}), id {created.token.id}"
    )
    console.print("secret (shown only now; store it safely):")
    console.print(created.secret, markup=False, highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    json: JsonOption = False,
) -> None:
    """List tokens (never their secrets)."""
    with open_client(ctx) as client:
        tokens = client.list_tokens(include_revoked=all_)
    if json:
        print_json([token.model_dump(mode="json") for token in tokens])
        return
    rows = [
        [
            t.id,
            t.name,
            t.role.value,
            t.prefix + "…",
            _when(t.created_at),
            _when(t.expires_at),
            "revoked " + _when(t.revoked_at) if t.revoked_at else "active",
        ]
        for t in tokens
    ]
    print_table("Tokens", ["id", "name", "role", "prefix", "created", "expires", "state"], rows)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str, json: JsonOption = False) -> None:
    """Revoke a token; requests bearing it fail from now on."""
    with open_client(ctx) as client:
        token = client.revoke_token(token_id)
    if json:
        print_json(token.model_dump(mode="json"))
    else:
        console.print(f"revoked token {token.name} ({token.id})")


def audit_command(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="Only this actor (token name).")] = None,
    action: Annotated[str | None, typer.Option(help="Exact action, or a prefix like 'token.*'.")] = None,
    object_type: Annotated[str | None, typer.Option(help="Only this object type.")] = None,
    object_id: Annotated[str | None, typer.Option(help="Only this object id.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this UTC time on.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this UTC time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many events.")] = 50,
    json: JsonOption = False,
) -> None:
    """List the audit log, newest first."""
    from datetime import UTC

    filters: dict[str, Any] = {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "since": since.replace(tzinfo=since.tzinfo or UTC) if since else None,
        "until": until.replace(tzinfo=until.tzinfo or UTC) if until else None,
    }
    with open_client(ctx) as client:
        events = list(client.iter_audit(max_events=limit, **filters))
    if json:
        print_json([event.model_dump(mode="json") for event in events])
        return
    rows = [
        [
            str(e.id),
            _when(e.occurred_at),
            f"{e.actor} ({e.actor_role})",
            e.action,
            f"{e.object_type}:{e.object_id}",
            _summary(e.before, e.after),
        ]
        for e in events
    ]
    print_table("Audit log", ["#", "when (UTC)", "actor", "action", "object", "change"], rows)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    def fmt(values: dict[str, Any] | None) -> str:
        return ", ".join(f"{k}={v}" for k, v in (values or {}).items())

    if before and after:
        return f"{fmt(before)} → {fmt(after)}"
    return fmt(after or before)
