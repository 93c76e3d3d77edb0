"""The ``shipyard`` command. Each stage contributes a sub-command group; errors print one red line.

Exit codes: 0 success, 1 a failed operation (``ShipyardError``), 2 bad usage or configuration.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from typing import Annotated

import typer

from shipyard._version import __version__
from shipyard.core import cli as core_cli
from shipyard.core.console import console, error_console
from shipyard.core.errors import ConfigurationError, ShipyardError
from shipyard.monitoring.cli import drift_command
from shipyard.monitoring.monitor_cli import monitors_app
from shipyard.registry import cli as registry_cli
from shipyard.serving import cli as serving_cli
from shipyard.tracking import cli as tracking_cli
from shipyard.usecases import cli as usecases_cli

__all__ = ["app", "main"]

app = typer.Typer(
    name="shipyard",
    help="Shipyard: the ML lifecycle, from use-case canvas to monitored, self-improving model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_state = {"debug": False}


@app.callback()
def _global_options(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(envvar="SHIPYARD_TRACKING_URI", help="Talk to this server instead of the local store."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="SHIPYARD_TOKEN", help="Bearer token for --url.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    ctx.obj = {"url": url, "token": token}
    _state["debug"] = debug


@app.command("version")
def version() -> None:
    """Print Shipyard's version."""
    console.print(f"shipyard {__version__}")


@app.command("server")
def server(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 7400).")] = None,
    auth: Annotated[
        bool | None, typer.Option("--auth/--no-auth", help="Require bearer tokens (needed off loopback).")
    ] = None,
) -> None:
    """Run the server: REST API (with the MLflow-compatible API), web UI, hosted endpoints and monitors."""
    import uvicorn

    from shipyard.core.config import is_loopback, load_settings
    from shipyard.core.logs import configure_logging
    from shipyard.core.platform import Platform
    from shipyard.server import create_app

    overrides = {k: v for k, v in {"host": host, "port": port, "auth_enabled": auth}.items() if v is not None}
    settings = load_settings(**overrides)
    if not settings.auth_enabled and not is_loopback(settings.host):
        raise ConfigurationError(
            f"SHIPYARD_HOST: refusing to listen on {settings.host} without auth; other machines could reach "
            "an open server. Enable auth (--auth or SHIPYARD_AUTH_ENABLED=true) and create a token with "
            "'shipyard token create --role admin', or bind to 127.0.0.1",
            field="host",
        )
    configure_logging(settings.log_level, settings.log_format)
    platform = Platform.open(settings)
    try:
        if settings.auth_enabled:
            _warn_without_admin(platform)
        console.print(
            f"Shipyard {__version__} on http://{settings.host}:{settings.port} "
            f"(auth {'on' if settings.auth_enabled else 'off'})"
        )
        # uvicorn drains in-flight requests on SIGTERM/SIGINT, then re-raises the signal; this no-op
        # handler lets the command return normally instead, so the store is closed and the exit is 0.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: None)
        application = create_app(platform=platform)
        # What startup built (modules, routes, SQLAlchemy's metadata and caches) lives as long as the
        # process. Frozen, it is left out of the collector's full passes, which otherwise walk all of it
        # every few hundred requests (a pause of tens of milliseconds in the middle of a search).
        gc.collect()
        gc.freeze()
        uvicorn.run(
            application,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=30,
        )
    finally:
        platform.close()
    console.print("Shipyard stopped")


def _warn_without_admin(platform: object) -> None:
    from shipyard.core import auth
    from shipyard.core.platform import Platform

    assert isinstance(platform, Platform)
    with platform.database.session() as session:
        if not any(t.role == auth.Role.ADMIN for t in auth.list_tokens(session)):
            error_console.print(
                "[yellow]auth is on but no admin token exists: create one with "
                "'shipyard token create --role admin'[/]"
            )


app.command("config")(core_cli.config_command)
app.command("audit")(core_cli.audit_command)
app.command("drift")(drift_command)
app.command("serve")(serving_cli.serve_command)
app.command("predict")(serving_cli.predict_command)
app.add_typer(core_cli.db_app, name="db")
app.add_typer(core_cli.token_app, name="token")
app.add_typer(registry_cli.registry_app, name="registry")
app.add_typer(tracking_cli.runs_app, name="runs")
app.add_typer(usecases_cli.app, name="usecases")
app.add_typer(serving_cli.endpoints_app, name="endpoints")
app.add_typer(monitors_app, name="monitors")


def main() -> None:
    logging.getLogger("shipyard").addHandler(logging.NullHandler())
    try:
        app()
    except ConfigurationError as exc:
        _report(exc, exit_code=2)
    except ShipyardError as exc:
        _report(exc, exit_code=1)
    except KeyboardInterrupt:
        sys.exit(130)


def _report(exc: ShipyardError, *, exit_code: int) -> None:
    if _state["debug"]:
        console.print_exception()
    error_console.print(f"[red]error: {exc.message}[/]", markup=True, highlight=False, soft_wrap=True)
    sys.exit(exit_code)
