"""Lookups shared by the stage's services: a portfolio or a use case by id (or key), else 404."""

from __future__ import annotations

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from shipyard.core.errors import ConflictError, NotFoundError
from shipyard.usecases.tables import Portfolio, UseCase

__all__ = [
    "get_portfolio",
    "get_use_case",
]


def get_portfolio(session: Session, portfolio_id: str) -> Portfolio:
    """A portfolio by id or by name."""
    portfolio = session.get(Portfolio, portfolio_id) if len(portfolio_id) <= 32 else None
    if portfolio is None:
        portfolio = session.scalar(select(Portfolio).where(Portfolio.name == portfolio_id))
    if portfolio is None:
        raise NotFoundError(
            f"portfolio {portfolio_id!r} does not exist; list them with 'shipyard usecases portfolios'",
            field="portfolio_id",
        )
    return portfolio


def get_use_case(session: Session, use_case_id: str) -> UseCase:
    use_case = session.get(UseCase, use_case_id) if len(use_case_id) <= 32 else None
    if use_case is None:
        raise NotFoundError(f"use case {use_case_id!r} does not exist", field="use_case_id")
    return use_case


def flush_or_conflict(session: Session, message: str, *, field: str) -> None:
    """Flush, turning a unique-constraint race (two writers, PostgreSQL) into a ``ConflictError``."""
    try:
        session.flush()
    except exc.IntegrityError:
        raise ConflictError(message, field=field) from None
