"""Shared pieces of the ``shipyard usecases`` commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["PortfolioArg", "Text", "UseCaseArg", "dump"]

PortfolioArg = Annotated[str, typer.Argument(help="Portfolio id or name.")]
UseCaseArg = Annotated[str, typer.Argument(help="Use case id.")]
Text = Annotated[str | None, typer.Option()]


def dump(value: Any) -> Any:
    """JSON-ready form of a schema or a list of schemas."""
    if isinstance(value, list):
        return [item.model_dump(mode="json") for item in value]
    return value.model_dump(mode="json")
