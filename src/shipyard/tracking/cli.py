"""``shipyard runs …``: inspect runs, download their files, print how to reproduce them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, print_json, print_table

__all__ = ["runs_app"]

runs_app = typer.Typer(help="Tracked runs: show, reproduce, download files.", no_args_is_help=True)


@runs_app.command("show")
def show(ctx: typer.Context, run_id: str, json: JsonOption = False) -> None:
    """A run's status, params, latest metrics and tags."""
    with open_client(ctx) as client:
        run = client.get_run(run_id)
    if json:
        print_json(run.model_dump(mode="json"))
        return
    started = datetime.fromtimestamp(run.start_time / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    console.print(
        f"run {run.run_id} ({run.name}) in experiment {run.experiment_id}: {run.status}, started {started}"
    )
    rows = [["param", k, v] for k, v in sorted(run.params.items())]
    rows += [["metric", k, f"{v:.6g}"] for k, v in sorted(run.metrics.items())]
    rows += [["tag", k, v] for k, v in sorted(run.tags.items())]
    print_table("Run data", ["kind", "key", "value"], rows)


@runs_app.command("reproduce")
def reproduce(ctx: typer.Context, run_id: str) -> None:
    """Print the exact steps to run RUN_ID again: code version, environment, command."""
    from shipyard.tracking.reproducibility import reproduce_steps

    with open_client(ctx) as client:
        run = client.get_run(run_id)
    for step in reproduce_steps(run.tags, run.run_id):
        console.print(step, markup=False, highlight=False, soft_wrap=True)


@runs_app.command("download")
def download(
    ctx: typer.Context,
    run_id: str,
    path: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write (default: the name).")
    ] = None,
) -> None:
    """Download one file of a run (verified against its hash)."""
    destination = output or Path(Path(path).name)
    with open_client(ctx) as client:
        written = client.download_run_file(run_id, path, destination)
    console.print(f"wrote {written}")
