"""Use-case portfolio: portfolios, use cases and their history, votes, checklists, KPIs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def _use_case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["use_case_id"], ["uc_use_case.id"], name=f"fk_{table}_use_case_id_uc_use_case", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "uc_portfolio",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("weights", JSON, nullable=False),
        sa.Column("value_threshold", sa.Float(), nullable=False),
        sa.Column("ease_threshold", sa.Float(), nullable=False),
        sa.Column("disagreement_range", sa.Float(), nullable=False),
        sa.Column("ease_floor", sa.Float(), nullable=False),
        sa.Column("locked_selection", JSON, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_portfolio"),
        sa.UniqueConstraint("name", name="uq_uc_portfolio_name"),
    )
    op.create_table(
        "uc_use_case",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("portfolio_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("business_unit", sa.String(200), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("ai_capability", sa.String(100), nullable=False),
        sa.Column("canvas", JSON, nullable=False),
        sa.Column("roi", JSON, nullable=True),
        sa.Column("selection", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_use_case"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["uc_portfolio.id"],
            name="fk_uc_use_case_portfolio_id_uc_portfolio",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("portfolio_id", "key", name="uq_uc_use_case_portfolio_id_key"),
    )
    op.create_index("ix_uc_use_case_portfolio_id", "uc_use_case", ["portfolio_id"])
    op.create_table(
        "uc_use_case_version",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("use_case_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("changed_fields", JSON, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_use_case_version"),
        _use_case_fk("uc_use_case_version"),
        sa.UniqueConstraint("use_case_id", "version", name="uq_uc_use_case_version_use_case_id_version"),
    )
    op.create_index("ix_uc_use_case_version_use_case_id", "uc_use_case_version", ["use_case_id"])
    op.create_table(
        "uc_score",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("use_case_id", sa.String(32), nullable=False),
        sa.Column("voter", sa.String(200), nullable=False),
        sa.Column("dimension", sa.String(50), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_score"),
        _use_case_fk("uc_score"),
        sa.UniqueConstraint(
            "use_case_id", "voter", "dimension", name="uq_uc_score_use_case_id_voter_dimension"
        ),
    )
    op.create_index("ix_uc_score_use_case_id", "uc_score", ["use_case_id"])
    op.create_table(
        "uc_check",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("use_case_id", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("stakeholder", sa.String(32), nullable=True),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("red_flag", sa.Boolean(), nullable=False),
        sa.Column("signed_off_by", sa.String(200), nullable=True),
        sa.Column("signed_off_at", TIMESTAMP, nullable=True),
        sa.Column("signoff_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_check"),
        _use_case_fk("uc_check"),
    )
    op.create_index("ix_uc_check_use_case_id", "uc_check", ["use_case_id"])
    op.create_table(
        "uc_kpi",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("use_case_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(50), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=True),
        sa.Column("metric", sa.String(200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_kpi"),
        _use_case_fk("uc_kpi"),
        sa.UniqueConstraint("use_case_id", "name", name="uq_uc_kpi_use_case_id_name"),
    )
    op.create_index("ix_uc_kpi_use_case_id", "uc_kpi", ["use_case_id"])
    op.create_table(
        "uc_kpi_value",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("kpi_id", BIGINT_KEY, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uc_kpi_value"),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["uc_kpi.id"], name="fk_uc_kpi_value_kpi_id_uc_kpi", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_uc_kpi_value_kpi_id", "uc_kpi_value", ["kpi_id"])


def downgrade() -> None:
    op.drop_table("uc_kpi_value")
    op.drop_table("uc_kpi")
    op.drop_table("uc_check")
    op.drop_table("uc_score")
    op.drop_table("uc_use_case_version")
    op.drop_table("uc_use_case")
    op.drop_table("uc_portfolio")
