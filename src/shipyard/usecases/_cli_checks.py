"""``shipyard usecases`` commands for checklists, red flags, ROI and KPIs (registered in ``cli.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.core.cli import JsonOption, open_client
from shipyard.core.console import console, error_console, print_json, print_table
from shipyard.usecases._cli_common import Text, UseCaseArg, dump

__all__ = ["answer", "checks", "flag", "kpi_app", "promotion_check", "roi", "signoff"]

kpi_app = typer.Typer(help="KPIs of a use case: add, record a value, list.", no_args_is_help=True)


# -- checklists and red flags -----------------------------------------------------------------------
def checks(
    ctx: typer.Context,
    use_case: UseCaseArg,
    red_flags: Annotated[bool, typer.Option("--red-flags", help="Only red flags.")] = False,
    json: JsonOption = False,
) -> None:
    """The checklist of a use case (regulation and ethics, cybersecurity, human aspect, stakeholders)."""
    with open_client(ctx) as client:
        found = client.list_checks(use_case, red_flags_only=red_flags)
    if json:
        print_json(dump(found))
        return
    rows = [
        [
            str(c.id),
            c.category + (f" / {c.stakeholder} / {c.phase}" if c.stakeholder else ""),
            ("RED FLAG " if c.red_flag else "") + c.question,
            c.answer,
            c.owner,
            c.status,
        ]
        for c in found
    ]
    print_table("Checklist", ["item", "area", "question", "answer", "owner", "status"], rows)


def flag(
    ctx: typer.Context,
    use_case: UseCaseArg,
    category: Annotated[
        str, typer.Option(help="regulation_ethics, cybersecurity, human_aspect, stakeholders")
    ],
    question: Annotated[str, typer.Option(help="What is wrong or unclear.")],
    owner: Annotated[str, typer.Option(help="Who resolves it.")] = "",
    stakeholder: Text = None,
    phase: Text = None,
    json: JsonOption = False,
) -> None:
    """Raise a red flag: it blocks promotion to champion until an approver signs it off."""
    with open_client(ctx) as client:
        created = client.add_check(
            use_case, category, question, owner=owner, stakeholder=stakeholder, phase=phase, red_flag=True
        )
    if json:
        print_json(dump(created))
    else:
        console.print(f"raised red flag {created.id} on use case {use_case}")


def answer(
    ctx: typer.Context,
    use_case: UseCaseArg,
    item: int,
    text: Annotated[str | None, typer.Option("--answer", help="The answer.")] = None,
    owner: Text = None,
    status: Annotated[str | None, typer.Option(help="open, answered or not_applicable")] = None,
    json: JsonOption = False,
) -> None:
    """Answer or assign a checklist item."""
    with open_client(ctx) as client:
        changed = client.update_check(use_case, item, answer=text, owner=owner, status=status)
    if json:
        print_json(dump(changed))
    else:
        console.print(f"item {changed.id}: {changed.status}")


def signoff(
    ctx: typer.Context,
    use_case: UseCaseArg,
    item: int,
    reason: Annotated[str, typer.Option(help="Why the flag may be accepted (required).")],
    json: JsonOption = False,
) -> None:
    """Sign a red flag off with a reason (approver role); it stops blocking promotion."""
    with open_client(ctx) as client:
        signed = client.sign_off(use_case, item, reason)
    if json:
        print_json(dump(signed))
    else:
        console.print(f"item {signed.id} signed off by {signed.signed_off_by}")


def promotion_check(ctx: typer.Context, use_case: UseCaseArg, json: JsonOption = False) -> None:
    """Exit 0 when no open red flag blocks promotion to champion, else print them and exit 1."""
    with open_client(ctx) as client:
        result = client.promotion_check(use_case)
    if json:
        print_json(dump(result))
    elif result.allowed:
        console.print(f"[green]{result.message}[/]")
    else:
        error_console.print(
            f"[red]blocked: {result.message}[/]", markup=True, highlight=False, soft_wrap=True
        )
    if not result.allowed:
        raise typer.Exit(1)


# -- ROI and KPIs -----------------------------------------------------------------------------------
def roi(ctx: typer.Context, use_case: UseCaseArg, json: JsonOption = False) -> None:
    """ROI, payback period and net value over the horizon."""
    with open_client(ctx) as client:
        result = client.roi(use_case)
    if json:
        print_json(dump(result))
        return
    c, p = result.currency, result.period
    rows = [
        ["benefit per " + p, f"{result.benefit_per_period:,.0f} {c}"],
        ["net per " + p, f"{result.net_per_period:,.0f} {c}"],
        [f"total cost over {result.horizon} {p}s", f"{result.total_cost:,.0f} {c}"],
        [f"net value over {result.horizon} {p}s", f"{result.net_value:,.0f} {c}"],
        ["ROI", "-" if result.roi is None else f"{result.roi * 100:.0f} %"],
        ["payback", "never" if result.payback_periods is None else f"{result.payback_periods:.1f} {p}s"],
    ]
    print_table("ROI", ["measure", "value"], rows)


@kpi_app.command("add")
def kpi_add(
    ctx: typer.Context,
    use_case: UseCaseArg,
    name: str,
    unit: str = "",
    target: Annotated[float | None, typer.Option()] = None,
    direction: Annotated[str, typer.Option(help="increase or decrease")] = "increase",
    endpoint: Annotated[str | None, typer.Option(help="Endpoint whose metric feeds this KPI later.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric name on that endpoint.")] = None,
    json: JsonOption = False,
) -> None:
    """Add a KPI (optionally bound to an endpoint metric)."""
    with open_client(ctx) as client:
        created = client.add_kpi(
            use_case, name, unit=unit, target=target, direction=direction, endpoint=endpoint, metric=metric
        )
    if json:
        print_json(dump(created))
    else:
        console.print(f"added KPI {created.name} ({created.id})")


@kpi_app.command("record")
def kpi_record(
    ctx: typer.Context, use_case: UseCaseArg, kpi: int, value: float, note: str = "", json: JsonOption = False
) -> None:
    """Record a KPI value observed now."""
    with open_client(ctx) as client:
        row = client.record_kpi_value(use_case, kpi, value, note=note)
    if json:
        print_json(dump(row))
    else:
        console.print(f"recorded {row.value:g} at {row.observed_at:%Y-%m-%d %H:%M:%S} UTC")


@kpi_app.command("list")
def kpi_list(ctx: typer.Context, use_case: UseCaseArg, json: JsonOption = False) -> None:
    """KPIs of a use case with their latest value."""
    with open_client(ctx) as client:
        found = client.list_kpis(use_case)
    if json:
        print_json(dump(found))
        return
    rows = [
        [
            str(k.id),
            k.name,
            k.unit,
            "-" if k.target is None else f"{k.target:g}",
            k.direction,
            f"{k.endpoint}:{k.metric}" if k.endpoint else "",
            "-" if k.latest is None else f"{k.latest.value:g}",
        ]
        for k in found
    ]
    print_table("KPIs", ["id", "name", "unit", "target", "direction", "bound to", "latest"], rows)
