"""``shipyard usecases``: portfolios, canvases, votes, matrix, selection, red flags, ROI, KPIs, workshop I/O.

Commands talk to the local store unless ``--url`` names a server; heavy imports happen inside commands.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, error_console, print_json, print_table
from shipyard.usecases import _cli_checks
from shipyard.usecases._cli_common import PortfolioArg, Text, UseCaseArg, dump

if TYPE_CHECKING:
    from shipyard._client.base import BaseClient

__all__ = ["app"]

app = typer.Typer(
    help="Use-case portfolio: canvas, scoring, matrix, selection, red flags, ROI, KPIs.", no_args_is_help=True
)


def _pairs(items: list[str], *, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise typer.BadParameter(f"{what} must look like name=value; got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _number(text: str, *, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"{what} must be a number; got {text!r}") from None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# -- portfolios -------------------------------------------------------------------------------------
@app.command("portfolios")
def portfolios(ctx: typer.Context, json: JsonOption = False) -> None:
    """List portfolios."""
    with open_client(ctx) as client:
        found = client.list_portfolios()
    if json:
        print_json(dump(found))
        return
    rows = [[p.id, p.name, f"{p.value_threshold:g}/{p.ease_threshold:g}", f"{p.ease_floor:g}"] for p in found]
    print_table("Portfolios", ["id", "name", "thresholds value/ease", "ease floor"], rows)


@app.command("new-portfolio")
def new_portfolio(
    ctx: typer.Context,
    name: str,
    description: Text = None,
    value_threshold: Annotated[float | None, typer.Option(help="Default 2.5.")] = None,
    ease_threshold: Annotated[float | None, typer.Option(help="Default 2.5.")] = None,
    ease_floor: Annotated[float | None, typer.Option(help="Least ease to be proposed (default 2).")] = None,
    weight: Annotated[list[str], typer.Option(help="dimension=weight, e.g. economic_value=2")] = [],  # noqa: B006
    json: JsonOption = False,
) -> None:
    """Create an empty portfolio."""
    from shipyard.usecases.dimensions import AXES

    weights: dict[str, dict[str, float]] = {}
    for dimension, value in _pairs(weight, what="--weight").items():
        axis = next((a for a, dims in AXES.items() if dimension in dims), "value")
        weights.setdefault(axis, {})[dimension] = _number(value, what=f"--weight {dimension}")
    with open_client(ctx) as client:
        created = client.create_portfolio(
            name,
            description=description,
            weights=weights or None,
            value_threshold=value_threshold,
            ease_threshold=ease_threshold,
            ease_floor=ease_floor,
        )
    if json:
        print_json(dump(created))
    else:
        console.print(f"created portfolio [bold]{created.name}[/] ({created.id})")


# -- use cases --------------------------------------------------------------------------------------
@app.command("list")
def list_use_cases(
    ctx: typer.Context,
    portfolio: Annotated[str | None, typer.Option(help="Portfolio id or name.")] = None,
    status: Text = None,
    json: JsonOption = False,
) -> None:
    """List use cases."""
    with open_client(ctx) as client:
        found = client.list_use_cases(portfolio_id=portfolio, status=status)
    if json:
        print_json(dump(found))
        return
    rows = [[u.id, u.key, u.title, u.status, u.business_unit, str(u.version)] for u in found]
    print_table("Use cases", ["id", "key", "title", "status", "business unit", "version"], rows)


def _canvas_options(**values: Any) -> dict[str, Any]:
    fields = {name: value for name, value in values.items() if value is not None}
    for name in ("decision_makers", "users", "people_affected", "input_data"):
        if name in fields:
            fields[name] = [part.strip() for part in fields[name].split(";") if part.strip()]
    return fields


@app.command("create")
def create(
    ctx: typer.Context,
    portfolio: PortfolioArg,
    title: str,
    key: Annotated[str | None, typer.Option(help="Short id (default: from the title).")] = None,
    owner: Text = None,
    business_unit: Text = None,
    product: Text = None,
    ai_capability: Text = None,
    what: Text = None,
    why: Text = None,
    input_data: Annotated[str | None, typer.Option(help="Sources separated by ';'.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a use case (with the standard checklist)."""
    fields = _canvas_options(
        owner=owner,
        business_unit=business_unit,
        product=product,
        ai_capability=ai_capability,
        what=what,
        why=why,
        input_data=input_data,
    )
    with open_client(ctx) as client:
        created = client.create_use_case(portfolio, title, key=key, **fields)
    if json:
        print_json(dump(created))
    else:
        console.print(f"created use case [bold]{created.title}[/] ({created.id})")


@app.command("update")
def update(
    ctx: typer.Context,
    use_case: UseCaseArg,
    title: Text = None,
    status: Annotated[str | None, typer.Option(help="idea, assessed, selected, in_development, …")] = None,
    owner: Text = None,
    business_unit: Text = None,
    product: Text = None,
    ai_capability: Text = None,
    what: Text = None,
    why: Text = None,
    challenges: Text = None,
    evaluation: Text = None,
    integration: Text = None,
    input_data: Annotated[str | None, typer.Option(help="Sources separated by ';'.")] = None,
    decision_makers: Text = None,
    users: Text = None,
    people_affected: Text = None,
    roi: Annotated[list[str], typer.Option(help="ROI input name=value, e.g. build_cost=50000")] = [],  # noqa: B006
    json: JsonOption = False,
) -> None:
    """Change canvas fields, status or ROI inputs (each change is a new version)."""
    fields = _canvas_options(
        title=title,
        status=status,
        owner=owner,
        business_unit=business_unit,
        product=product,
        ai_capability=ai_capability,
        what=what,
        why=why,
        challenges=challenges,
        evaluation=evaluation,
        integration=integration,
        input_data=input_data,
        decision_makers=decision_makers,
        users=users,
        people_affected=people_affected,
    )
    with open_client(ctx) as client:
        if roi:
            inputs: dict[str, Any] = dict(client.get_use_case(use_case).roi or {})
            for name, value in _pairs(roi, what="--roi").items():
                inputs[name] = (
                    value if name in ("period", "currency") else _number(value, what=f"--roi {name}")
                )
            if "horizon" in inputs:
                inputs["horizon"] = int(inputs["horizon"])
            fields["roi"] = inputs
        if not fields:
            raise typer.BadParameter("nothing to change: give at least one option")
        changed = client.update_use_case(use_case, **fields)
    if json:
        print_json(dump(changed))
    else:
        console.print(f"use case {changed.title} is at version {changed.version} ({changed.status})")


@app.command("show")
def show(ctx: typer.Context, use_case: UseCaseArg, json: JsonOption = False) -> None:
    """Show a use case's canvas."""
    with open_client(ctx) as client:
        found = client.get_use_case(use_case)
    if json:
        print_json(dump(found))
        return
    values = found.modeldump(mode="json")
    print_table(
        f"{found.title} (v{found.version})", ["field", "value"], [[k, str(v)] for k, v in values.items()]
    )


@app.command("history")
def history(ctx: typer.Context, use_case: UseCaseArg, json: JsonOption = False) -> None:
    """Every version of a use case's canvas."""
    with open_client(ctx) as client:
        versions = client.use_case_history(use_case)
    if json:
        print_json(dump(versions))
        return
    rows = [
        [
            str(v.version),
            v.changed_at.strftime("%Y-%m-%d %H:%M:%S"),
            v.changed_by,
            ", ".join(v.changed_fields),
        ]
        for v in versions
    ]
    print_table("History", ["version", "when (UTC)", "by", "changed"], rows)


@app.command("vote")
def vote(
    ctx: typer.Context,
    use_case: UseCaseArg,
    scores: Annotated[list[str], typer.Argument(help="dimension=score (0-5), e.g. economic_value=4")],
    voter: Annotated[str | None, typer.Option(help="Who votes (default: the token's name).")] = None,
    comment: Annotated[list[str], typer.Option(help="dimension=comment")] = [],  # noqa: B006
    json: JsonOption = False,
) -> None:
    """Cast or update one voter's scores; a second vote on a dimension replaces the first."""
    comments = _pairs(comment, what="--comment")
    entries: dict[str, Any] = {}
    for dimension, value in _pairs(scores, what="a score").items():
        score = _number(value, what=f"score of {dimension}")
        entries[dimension] = (
            {"score": score, "comment": comments.pop(dimension)} if dimension in comments else score
        )
    if comments:
        raise typer.BadParameter(f"--comment for {', '.join(comments)} has no score")
    with open_client(ctx) as client:
        rows = client.vote(use_case, entries, voter=voter)
    if json:
        print_json(dump(rows))
    else:
        console.print(f"recorded {len(rows)} score(s) by {rows[0].voter}")


# -- matrix and selection ---------------------------------------------------------------------------
@app.command("matrix")
def matrix(ctx: typer.Context, portfolio: PortfolioArg, json: JsonOption = False) -> None:
    """The ranking with value, ease, voter spread, quadrant and disagreement."""
    with open_client(ctx) as client:
        found = client.matrix(portfolio)
    if json:
        print_json(dump(found))
        return
    rows = [
        [
            str(p.rank or "-"),
            p.title,
            _fmt(p.value.mean),
            f"{_fmt(p.value.low)}..{_fmt(p.value.high)}",
            _fmt(p.ease.mean),
            f"{_fmt(p.ease.low)}..{_fmt(p.ease.high)}",
            (p.quadrant or "not scored").replace("_", " "),
            "yes" if p.disagreement else "",
        ]
        for p in found.points
    ]
    print_table(
        f"Prioritisation matrix: {found.portfolio_name}",
        ["rank", "use case", "value", "spread", "ease", "spread", "quadrant", "disagree"],
        rows,
    )


@app.command("clusters")
def clusters(ctx: typer.Context, portfolio: PortfolioArg, json: JsonOption = False) -> None:
    """Groups of use cases that share input data, AI capability or product."""
    with open_client(ctx) as client:
        found = client.clusters(portfolio)
        titles = {u.id: u.title for u in client.list_use_cases(portfolio_id=portfolio)}
    if json:
        print_json(dump(found))
        return
    rows = [[c.kind, c.label, ", ".join(titles.get(i, i) for i in c.use_case_ids)] for c in found]
    print_table("Clusters", ["shared", "label", "use cases"], rows)


@app.command("select")
def select(
    ctx: typer.Context,
    portfolio: PortfolioArg,
    lock: Annotated[bool, typer.Option("--lock", help="Freeze the current proposal.")] = False,
    unlock: Annotated[
        bool, typer.Option("--unlock", help="Let the proposal follow the scores again.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """The proposed portfolio (2-3 clusters, 3-6 use cases) and why; --lock / --unlock it."""
    if lock and unlock:
        raise typer.BadParameter("--lock and --unlock exclude each other")
    with open_client(ctx) as client:
        if lock:
            found = client.lock_selection(portfolio)
        elif unlock:
            found = client.unlock_selection(portfolio)
        else:
            found = client.selection(portfolio)
    if json:
        print_json(dump(found))
        return
    state = f"locked by {found.locked_by}" if found.locked else "proposal (follows the scores)"
    console.print(f"[bold]Selection[/] - {state}")
    for line in found.explanation:
        console.print(f" • {line}", markup=False, highlight=False)


@app.command("choose")
def choose(
    ctx: typer.Context,
    use_case: UseCaseArg,
    choice: Annotated[str, typer.Argument(help="include, exclude or auto")],
) -> None:
    """Override the proposal for one use case."""
    with open_client(ctx) as client:
        changed = client.set_selection_choice(use_case, choice)
    console.print(f"{changed.title}: {changed.selection}")


# -- workshop I/O -----------------------------------------------------------------------------------
@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[Path | None, typer.Argument(help="A .yaml/.yml or .csv file.", dir_okay=False)] = None,
    example: Annotated[bool, typer.Option("--example", help="Import the bundled example portfolio.")] = False,
    name: Annotated[str | None, typer.Option(help="Portfolio name (required for CSV).")] = None,
    json: JsonOption = False,
) -> None:
    """Import a portfolio; all or nothing (a bad row names its line or row and column)."""
    from shipyard.usecases.workshop import example_portfolio

    if (source is None) == (not example):
        raise typer.BadParameter("give a file or --example (not both)")
    if source is not None:
        try:
            content = source.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {source}: {exc}") from None
        fmt = "csv" if source.suffix.lower() == ".csv" else "yaml"
    else:
        content, fmt = example_portfolio(), "yaml"
    with open_client(ctx) as client:
        result = client.import_portfolio(content, format=fmt, name=name)
    if json:
        print_json(dump(result))
    else:
        console.print(
            f"imported portfolio [bold]{result.portfolio.name}[/] ({result.portfolio.id}): "
            f"{result.use_cases} use cases, {result.votes} scores, {result.checks} checklist items, "
            f"{result.kpis} KPIs"
        )


@app.command("export")
def export(
    ctx: typer.Context,
    portfolio: PortfolioArg,
    format: Annotated[str, typer.Option(help="yaml or csv")] = "yaml",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Export a portfolio as YAML (everything) or CSV (canvas, ROI, scores)."""
    with open_client(ctx) as client:
        text = client.export_portfolio(portfolio, format=format)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def _write_report(client: BaseClient, portfolio: str, out: Path) -> list[Path]:
    from shipyard.core.errors import UnsupportedMediaTypeError

    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for fmt in ("png", "svg"):
            (out / f"matrix.{fmt}").write_bytes(client.matrix_image(portfolio, format=fmt))
            written.append(out / f"matrix.{fmt}")
    except UnsupportedMediaTypeError as exc:
        error_console.print(f"[yellow]{exc.message}; the report has no picture[/]")
    for fmt, name in (("markdown", "report.md"), ("html", "report.html")):
        (out / name).write_text(client.portfolio_report(portfolio, format=fmt), encoding="utf-8")
        written.append(out / name)
    return written


@app.command("report")
def report(
    ctx: typer.Context,
    portfolio: Annotated[
        str | None, typer.Argument(help="Portfolio id or name (default: the example).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.md, report.html, matrix.png/.svg.")] = Path(
        "usecase-report"
    ),
) -> None:
    """Write the workshop report: matrix picture, ranking, chosen clusters, red flags, ROI.

    Without a portfolio it reports on the bundled example, imported into a throw-away store.
    """
    if portfolio is not None:
        with open_client(ctx) as client:
            written = _write_report(client, portfolio, out)
    else:
        from shipyard._client.embedded import EmbeddedClient
        from shipyard.core.config import Settings
        from shipyard.core.platform import Platform
        from shipyard.usecases.workshop import example_portfolio

        with tempfile.TemporaryDirectory() as home:
            settings = Settings(
                home=Path(home),
                database_url=f"sqlite:///{home}/example.db",
                artifact_root=f"{home}/artifacts",
            )
            with EmbeddedClient(Platform.open(settings)) as client:
                imported = client.import_portfolio(example_portfolio())
                written = _write_report(client, imported.portfolio.id, out)
    for path in written:
        console.print(f"wrote {path}")


app.command("checks")(_cli_checks.checks)
app.command("flag")(_cli_checks.flag)
app.command("answer")(_cli_checks.answer)
app.command("signoff")(_cli_checks.signoff)
app.command("promotion-check")(_cli_checks.promotion_check)
app.command("roi")(_cli_checks.roi)
app.add_typer(_cli_checks.kpi_app, name="kpi")
