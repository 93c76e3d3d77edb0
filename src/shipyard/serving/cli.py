"""``shipyard serve``, ``shipyard predict`` and ``shipyard endpoints …``."""

from __future__ import annotations

import gc
import json as jsonlib
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, print_json, print_table
from shipyard.core.errors import ConfigurationError, ConflictError, InvalidParameterError

__all__ = ["endpoints_app", "predict_command", "serve_command"]

endpoints_app = typer.Typer(help="Serving endpoints hosted by the server.", no_args_is_help=True)
ModelOption = Annotated[
    str, typer.Option("--model", "-m", help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/…")
]


def _local_platform() -> Any:
    from shipyard.core.config import load_settings
    from shipyard.core.platform import Platform

    return Platform.open(load_settings())


def serve_command(
    ctx: typer.Context,
    model_uri: Annotated[
        str, typer.Argument(help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN/PATH")
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 7500,
    name: Annotated[str | None, typer.Option(help="Protocol name (default: the registered model's).")] = None,
    prediction_log: Annotated[
        bool, typer.Option("--prediction-log/--no-prediction-log", help="Log requests and responses.")
    ] = True,
    max_batch_rows: Annotated[int, typer.Option(min=1, max=4096, help="Most rows in one model call.")] = 64,
    max_delay_ms: Annotated[
        float, typer.Option(min=0, max=1000, help="Longest added wait for a batch.")
    ] = 10.0,
    auth: Annotated[
        bool | None, typer.Option("--auth/--no-auth", help="Require tokens (needed off loopback).")
    ] = None,
    model_process: Annotated[
        bool,
        typer.Option(
            "--model-process/--no-model-process",
            help="Predict in a worker process of the model's own (on another core, no GIL shared with HTTP).",
        ),
    ] = True,
) -> None:
    """Serve one model on every protocol (Open Inference V2, MLflow /invocations, native), like
    ``mlflow models serve -m``; an alias URI follows the alias, swapping versions without failed requests."""
    import uvicorn

    from shipyard._client.remote import RemoteClient
    from shipyard.core import auth as auth_module
    from shipyard.core.config import is_loopback, load_settings
    from shipyard.core.logs import configure_logging
    from shipyard.core.platform import Platform
    from shipyard.serving.app import create_serving_app, with_fast_path
    from shipyard.serving.endpoints import check_endpoint_name, check_model_uri
    from shipyard.serving.manager import EndpointSpec
    from shipyard.serving.sources import ClientSource, PlatformSource
    from shipyard.serving.wire import inference_protocol

    check_model_uri(model_uri)
    overrides = {"auth_enabled": auth} if auth is not None else {}
    settings = load_settings(**overrides)
    url = (ctx.obj or {}).get("url")
    if not is_loopback(host) and (url or not settings.auth_enabled):
        raise ConfigurationError(
            f"--host: refusing to serve on {host} without auth; enable it (--auth, with the local store: "
            "tokens are checked against it) and give clients a token, or bind to 127.0.0.1",
            field="host",
        )
    configure_logging(settings.log_level, settings.log_format)
    platform = None if url else Platform.open(settings)
    try:
        if platform is None:
            client = RemoteClient(url, token=(ctx.obj or {}).get("token"))
            source = ClientSource(client, Path(settings.model_cache_dir))
        else:
            source = PlatformSource(platform)
        ref = source.resolve(model_uri)  # a typo fails here, before anything listens
        spec = EndpointSpec(
            name=check_endpoint_name(name or ref.name),
            model_uri=model_uri,
            log_predictions=prediction_log,
            max_batch_rows=max_batch_rows,
            max_delay_ms=max_delay_ms,
        )

        def token_check(secret: str | None) -> auth_module.Principal:
            assert platform is not None
            with platform.database.session() as session:
                return auth_module.authenticate(session, secret)

        if prediction_log:
            _check_log_free(Path(settings.prediction_log_dir))
        app = create_serving_app(
            source=source,
            specs=[spec],
            predlog_root=Path(settings.prediction_log_dir) if prediction_log else None,
            max_body_bytes=settings.serving_max_body_bytes,
            poll_interval=settings.serving_poll_seconds,
            token_check=token_check if settings.auth_enabled and platform is not None else None,
            hourly_price=settings.serving_hourly_price,
            log_retention_days=settings.prediction_log_retention_days,
            log_fsync=settings.prediction_log_fsync,
            model_processes=model_process,
            on_ready=_freeze_what_startup_built,
        )
        console.print(
            f"Serving {model_uri} (version {ref.version}) as [bold]{spec.name}[/] on http://{host}:{port} "
            f"(V2 /v2/models/{spec.name}/infer, /invocations, /endpoints/{spec.name}/predict; "
            f"prediction log {'on' if prediction_log else 'off'}, "
            f"auth {'on' if settings.auth_enabled else 'off'})"
        )
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: None)
        fast_app = with_fast_path(app, max_body_bytes=settings.serving_max_body_bytes)
        _freeze_what_startup_built()
        uvicorn.run(
            fast_app,
            host=host,
            port=port,
            loop="uvloop",
            http=inference_protocol(fast_app),  # uvicorn's httptools, inference POSTs without ASGI
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # X-Forwarded-* rewriting per request; nothing here reads the client address
            timeout_graceful_shutdown=30,
        )
    finally:
        if platform is not None:
            platform.close()


def _freeze_what_startup_built() -> None:
    """What start-up imported and built lives as long as the process: frozen, the collector's full
    passes skip it. Called before the server starts (pandas, scikit-learn, pyarrow, the app; unfrozen,
    a forest at 64 connections had a p99 of 165 ms, 17-20 ms frozen) and again once the model is
    loaded and warm: a full pass then walked ~57,000 objects, 30 ms each (the pipeline at 64
    connections: 29 full passes in 10 s, p99 24 ms)."""
    gc.collect()
    gc.freeze()


def _check_log_free(root: Path) -> None:
    """Fail before listening when another process (say ``shipyard server`` on this home) holds the log."""
    from shipyard.serving.predlog import check_root_free

    try:
        check_root_free(root)
    except ConflictError:
        raise ConfigurationError(
            f"prediction log: {root} is in use by another Shipyard process (a `shipyard server` on the "
            "same home?); give this one its own folder with SHIPYARD_PREDICTION_LOG_DIR, "
            "or --no-prediction-log",
            field="prediction_log_dir",
        ) from None


def predict_command(
    model_uri: Annotated[
        str, typer.Argument(help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN/PATH")
    ],
    input_file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file to score.", exists=True, dir_okay=False)
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet file to write.")],
    chunk_rows: Annotated[int, typer.Option(min=1, max=10_000_000, help="Rows scored at a time.")] = 50_000,
    probabilities: Annotated[
        bool, typer.Option(help="Add proba_<class> columns when the model has them.")
    ] = True,
    keep_inputs: Annotated[bool, typer.Option(help="Copy the input columns into the output.")] = True,
) -> None:
    """Score a file in chunks with a progress bar (batch scoring; nothing is logged)."""
    from shipyard.serving.batch import score_file

    if output.suffix.lower() != ".parquet":
        raise InvalidParameterError("--output must be a .parquet file", field="output")
    platform = _local_platform()
    try:
        summary = score_file(
            platform,
            model_uri,
            input_file,
            output,
            chunk_rows=chunk_rows,
            probabilities=probabilities,
            keep_inputs=keep_inputs,
        )
    finally:
        platform.close()
    console.print(
        f"Scored {summary.rows:,} rows with {summary.model} version {summary.version} "
        f"in {summary.seconds:.2f} s "
        f"({summary.rows / max(summary.seconds, 1e-9):,.0f} rows/s) → {output}"
    )


def _settings(
    description: str | None,
    log: bool | None,
    sample_rate: float | None,
    redact: list[str] | None,
    max_batch_rows: int | None,
    max_delay_ms: float | None,
) -> dict[str, Any]:
    values = {
        "description": description,
        "log_predictions": log,
        "sample_rate": sample_rate,
        "redact": redact or None,
        "max_batch_rows": max_batch_rows,
        "max_delay_ms": max_delay_ms,
    }
    return {k: v for k, v in values.items() if v is not None}


DescriptionOption = Annotated[str | None, typer.Option(help="What the endpoint is for.")]
LogOption = Annotated[bool | None, typer.Option("--log/--no-log", help="Prediction logging on or off.")]
SampleOption = Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Share of requests logged.")]
RedactOption = Annotated[
    list[str] | None, typer.Option("--redact", help="Input column never logged (repeat).")
]
BatchOption = Annotated[int | None, typer.Option(min=1, max=4096, help="Most rows in one model call.")]
DelayOption = Annotated[
    float | None, typer.Option(min=0, max=1000, help="Longest added wait for a batch (ms).")
]


def _show(endpoint: Any, json: bool) -> None:
    if json:
        print_json(endpoint.model_dump(mode="json"))
        return
    status = endpoint.status
    serving = f"v{status.version}" if status.version else "-"
    print_table(
        f"Endpoint {endpoint.name}",
        ["field", "value"],
        [
            ["model", endpoint.model_uri],
            ["state", status.state + (f" ({status.error})" if status.error else "")],
            ["serving", serving],
            ["logging", f"{'on' if endpoint.log_predictions else 'off'}, sample {endpoint.sample_rate:g}"],
            ["redacted", ", ".join(endpoint.redact) or "-"],
            ["batching", f"≤ {endpoint.max_batch_rows} rows, ≤ {endpoint.max_delay_ms:g} ms"],
            ["predict", endpoint.urls["predict"]],
        ],
    )


@endpoints_app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    model: ModelOption,
    description: DescriptionOption = None,
    log: LogOption = None,
    sample_rate: SampleOption = None,
    redact: RedactOption = None,
    max_batch_rows: BatchOption = None,
    max_delay_ms: DelayOption = None,
    json: JsonOption = False,
) -> None:
    """Serve a model URI as endpoint NAME (an alias URI follows the alias)."""
    settings = _settings(description, log, sample_rate, redact, max_batch_rows, max_delay_ms)
    with open_client(ctx) as client:
        _show(client.create_endpoint(name, model, **settings), json)


@endpoints_app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    model: Annotated[str | None, typer.Option("--model", "-m")] = None,
    description: DescriptionOption = None,
    log: LogOption = None,
    sample_rate: SampleOption = None,
    redact: RedactOption = None,
    max_batch_rows: BatchOption = None,
    max_delay_ms: DelayOption = None,
    json: JsonOption = False,
) -> None:
    """Change an endpoint (a new --model swaps versions without failed requests)."""
    settings = _settings(description, log, sample_rate, redact, max_batch_rows, max_delay_ms)
    if model is not None:
        settings["model_uri"] = model
    with open_client(ctx) as client:
        _show(client.update_endpoint(name, **settings), json)


@endpoints_app.command("list")
def list_command(ctx: typer.Context, json: JsonOption = False) -> None:
    """Endpoints and what each serves."""
    with open_client(ctx) as client:
        found = client.list_endpoints()
    if json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    rows = [
        [
            e.name,
            e.model_uri,
            e.status.state,
            f"v{e.status.version}" if e.status.version else "-",
            "on" if e.log_predictions else "off",
        ]
        for e in found
    ]
    print_table("Endpoints", ["name", "model", "state", "serving", "log"], rows)


@endpoints_app.command("show")
def show(ctx: typer.Context, name: str, json: JsonOption = False) -> None:
    """One endpoint and its serving status."""
    with open_client(ctx) as client:
        _show(client.get_endpoint(name), json)


@endpoints_app.command("delete")
def delete(ctx: typer.Context, name: str) -> None:
    """Stop serving and delete the endpoint (in-flight requests finish first)."""
    with open_client(ctx) as client:
        client.delete_endpoint(name)
    console.print(f"Deleted endpoint {name}")


@endpoints_app.command("predict")
def predict(
    ctx: typer.Context,
    name: str,
    data: Annotated[
        str, typer.Argument(help='JSON: {"columns": {...}} , {"rows": [...]} or a list of row objects')
    ],
) -> None:
    """Send one prediction request to an endpoint and print the response."""
    try:
        parsed = jsonlib.loads(data)
    except ValueError as exc:
        raise InvalidParameterError(f"data is not JSON: {exc}", field="data") from None
    if isinstance(parsed, dict) and "rows" in parsed:
        parsed = parsed["rows"]
    elif isinstance(parsed, dict) and "columns" in parsed:
        parsed = parsed["columns"]
    with open_client(ctx) as client:
        print_json(client.predict(name, parsed))
