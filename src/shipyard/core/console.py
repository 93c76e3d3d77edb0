"""Terminal output for the CLI: rich tables on a terminal, plain text when piped, JSON on request."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

__all__ = ["console", "error_console", "print_json", "print_table"]

console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    if not rows:
        console.print(f"{title}: nothing to show")
        return
    console.print(table)
